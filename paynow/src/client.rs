//! The merchant's side: initiate a transaction, poll it, check what Paynow posts back.

use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::PaynowError;
use crate::form::{Form, Update};

/// A Paynow integration: its id and key, at Paynow's base URL (or a stand-in's).
#[derive(Clone)]
pub struct Client {
    base: Url,
    integration_id: String,
    key: SecretString,
    http: reqwest::Client,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The integration key is a secret: never printed.
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("integration_id", &self.integration_id)
            .finish_non_exhaustive()
    }
}

/// A payment to initiate.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// The merchant's reference, unique per transaction.
    pub reference: String,
    pub amount: Decimal,
    pub additional_info: String,
    /// Where the payer's browser returns after paying.
    pub return_url: String,
    /// Where Paynow posts the status update.
    pub result_url: String,
    pub auth_email: Option<String>,
}

/// Paynow's answer to an initiated transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initiated {
    /// Where to send the payer.
    pub browser_url: String,
    /// Where to ask for the transaction's status.
    pub poll_url: String,
}

impl Client {
    pub fn new(base: Url, integration_id: impl Into<String>, key: SecretString) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self { base, integration_id: integration_id.into(), key, http }
    }

    async fn post(&self, url: &str, form: &Form) -> Result<Vec<u8>, PaynowError> {
        let body = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.encode())
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        Ok(body.to_vec())
    }

    /// Initiates a transaction; the answer's hash is checked.
    pub async fn initiate(&self, p: &NewPayment) -> Result<Initiated, PaynowError> {
        let mut fields = vec![
            ("id".to_owned(), self.integration_id.clone()),
            ("reference".to_owned(), p.reference.clone()),
            ("amount".to_owned(), p.amount.round_dp(2).to_string()),
            ("additionalinfo".to_owned(), p.additional_info.clone()),
            ("returnurl".to_owned(), p.return_url.clone()),
            ("resulturl".to_owned(), p.result_url.clone()),
        ];
        if let Some(email) = &p.auth_email {
            fields.push(("authemail".to_owned(), email.clone()));
        }
        fields.push(("status".to_owned(), "Message".to_owned()));
        let form = Form(fields).signed(self.key.expose_secret());
        let url = self
            .base
            .join("interface/initiatetransaction")
            .map_err(|e| PaynowError::Invalid { field: "base", value: e.to_string() })?;
        let answer = Form::parse(&self.post(url.as_str(), &form).await?);
        match answer.get("status") {
            Some(s) if s.eq_ignore_ascii_case("ok") => {
                answer.verify(self.key.expose_secret())?;
                Ok(Initiated {
                    browser_url: answer
                        .get("browserurl")
                        .ok_or(PaynowError::Missing("browserurl"))?
                        .into(),
                    poll_url: answer.get("pollurl").ok_or(PaynowError::Missing("pollurl"))?.into(),
                })
            }
            // Errors come unsigned: their text is shown, nothing else is done with them.
            _ => Err(PaynowError::Refused(answer.get("error").unwrap_or("no reason given").into())),
        }
    }

    /// Asks Paynow for a transaction's status. Only poll URLs on Paynow's own host are asked:
    /// a poll URL comes from a form, and the server must not be sent anywhere else.
    pub async fn poll(&self, poll_url: &str) -> Result<Update, PaynowError> {
        let url = Url::parse(poll_url)
            .map_err(|_| PaynowError::Invalid { field: "pollurl", value: poll_url.into() })?;
        if url.origin() != self.base.origin() {
            return Err(PaynowError::Invalid { field: "pollurl", value: poll_url.into() });
        }
        let body = self.post(url.as_str(), &Form::default()).await?;
        self.check_update(&body)
    }

    /// A status update posted to the result URL, read only if its hash is right.
    pub fn check_update(&self, body: &[u8]) -> Result<Update, PaynowError> {
        Update::from_body(body, self.key.expose_secret())
    }
}
