//! Paynow's forms: ordered `application/x-www-form-urlencoded` fields ending in a `hash`.

use std::str::FromStr;

use rust_decimal::Decimal;
use sha2::{Digest, Sha512};

use crate::error::PaynowError;

/// The hash of `values` under `key`: upper-case hex SHA-512 of the values, in order, then the key.
pub fn sign<'a>(values: impl IntoIterator<Item = &'a str>, key: &str) -> String {
    let mut hasher = Sha512::new();
    for v in values {
        hasher.update(v.as_bytes());
    }
    hasher.update(key.as_bytes());
    hex::encode_upper(hasher.finalize())
}

/// A form's fields in the order they came (or will go).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn require(&self, name: &'static str) -> Result<&str, PaynowError> {
        self.get(name).ok_or(PaynowError::Missing(name))
    }

    /// Adds the hash of the fields so far, as the last field.
    pub fn signed(mut self, key: &str) -> Self {
        let hash = sign(self.0.iter().map(|(_, v)| v.as_str()), key);
        self.0.push(("hash".into(), hash));
        self
    }

    /// Whether the `hash` field matches the other fields under `key` (compared in constant time).
    pub fn verify(&self, key: &str) -> Result<(), PaynowError> {
        let given = self.require("hash")?;
        let expected = sign(
            self.0.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("hash")).map(|(_, v)| v.as_str()),
            key,
        );
        let same = given.len() == expected.len()
            && given
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a.to_ascii_uppercase() ^ b))
                == 0;
        if same { Ok(()) } else { Err(PaynowError::BadHash) }
    }

    pub fn encode(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.0).finish()
    }
}

/// A transaction's status as Paynow reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Created,
    Sent,
    Paid,
    AwaitingDelivery,
    Delivered,
    Cancelled,
    Failed,
    Disputed,
    Refunded,
}

impl Status {
    /// The money reached the merchant.
    pub fn is_paid(self) -> bool {
        matches!(self, Status::Paid | Status::AwaitingDelivery | Status::Delivered)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "Created",
            Status::Sent => "Sent",
            Status::Paid => "Paid",
            Status::AwaitingDelivery => "Awaiting Delivery",
            Status::Delivered => "Delivered",
            Status::Cancelled => "Cancelled",
            Status::Failed => "Failed",
            Status::Disputed => "Disputed",
            Status::Refunded => "Refunded",
        }
    }
}

impl FromStr for Status {
    type Err = PaynowError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let all = [
            Status::Created,
            Status::Sent,
            Status::Paid,
            Status::AwaitingDelivery,
            Status::Delivered,
            Status::Cancelled,
            Status::Failed,
            Status::Disputed,
            Status::Refunded,
        ];
        all.into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| PaynowError::Invalid { field: "status", value: s.into() })
    }
}

/// A status update (posted to the result URL, or the answer to a poll), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The merchant's reference, as sent when the transaction was initiated.
    pub reference: String,
    pub amount: Decimal,
    /// Paynow's own reference for the transaction.
    pub paynow_reference: String,
    pub poll_url: String,
    pub status: Status,
}

impl Update {
    /// The update in `body`, if its hash is right under `key`; nothing of it is trusted before.
    pub fn from_body(body: &[u8], key: &str) -> Result<Self, PaynowError> {
        let form = Form::parse(body);
        form.verify(key)?;
        let amount = form.require("amount")?;
        Ok(Self {
            reference: form.require("reference")?.to_owned(),
            amount: Decimal::from_str(amount)
                .map_err(|_| PaynowError::Invalid { field: "amount", value: amount.into() })?,
            paynow_reference: form.require("paynowreference")?.to_owned(),
            poll_url: form.require("pollurl")?.to_owned(),
            status: form.require("status")?.parse()?,
        })
    }

    /// The update as Paynow posts it, signed with `key`.
    pub fn to_form(&self, key: &str) -> Form {
        Form(vec![
            ("reference".into(), self.reference.clone()),
            ("paynowreference".into(), self.paynow_reference.clone()),
            ("amount".into(), self.amount.to_string()),
            ("status".into(), self.status.as_str().into()),
            ("pollurl".into(), self.poll_url.clone()),
        ])
        .signed(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_sha512_of_the_values_then_the_key_in_upper_case_hex() {
        // SHA-512 of "abc", the FIPS 180-2 test vector: the values "a", "b" and the key "c".
        assert_eq!(
            sign(["a", "b"], "c"),
            "DDAF35A193617ABACC417349AE20413112E6FA4E89A97EA20A9EEEE64B55D39A\
             2192992A274FC1A836BA3C23A3FEEBBD454D4423643CE80E2A9AC94FA54CA49F"
        );
    }

    #[test]
    fn an_update_is_read_only_with_its_hash_right() {
        let update = Update {
            reference: "INV-1/2026-3".into(),
            amount: Decimal::new(4550, 2),
            paynow_reference: "123456".into(),
            poll_url: "http://127.0.0.1:1/interface/poll/1".into(),
            status: Status::Paid,
        };
        let body = update.to_form("key").encode();
        assert_eq!(Update::from_body(body.as_bytes(), "key").expect("reads"), update);
        assert!(matches!(
            Update::from_body(body.as_bytes(), "another key"),
            Err(PaynowError::BadHash)
        ));
        // One value changed after signing: refused.
        let forged = body.replace("45.50", "4550.00");
        assert!(matches!(Update::from_body(forged.as_bytes(), "key"), Err(PaynowError::BadHash)));
        // No hash at all: refused.
        let unsigned = body.split("&hash=").next().expect("fields").to_owned();
        assert!(matches!(
            Update::from_body(unsigned.as_bytes(), "key"),
            Err(PaynowError::Missing("hash"))
        ));
        assert!("Awaiting Delivery".parse::<Status>().expect("status").is_paid());
        assert!(!"cancelled".parse::<Status>().expect("status").is_paid());
    }
}
