//! Fees as a ledger: a learner's account (invoices, payments and refunds, and the balance in each
//! currency), payments recorded by the office (cash, EcoCash, bank transfer, BEAM) with a receipt
//! numbered at the school, and refunds as new entries. Nothing is edited or removed: a mistake is
//! put right by another entry. A payment in the other currency than its invoice's records the
//! rate of the day (ZiG per US dollar) and the amount it settles in the invoice's currency.
//!
//! Every write needs an `Idempotency-Key`: the same payment sent twice, even at the same moment,
//! is recorded once. Unpaid fees block nothing else on the platform (excluding a learner for fees
//! is unlawful): no other module reads this one.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use oneclass_core::ids::{LearnerId, SchoolId};
use oneclass_core::types::Role;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::idempotency::{self, Claim};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(account))
        .routes(routes!(record_payment))
        .routes(routes!(refund))
        .routes(routes!(term_report))
}

/// Who keeps the money: bursars and heads.
pub(crate) const KEEPERS: &[Role] = &[Role::Bursar, Role::SchoolHead];
pub(crate) const READERS: &[Role] =
    &[Role::Bursar, Role::SchoolHead, Role::Deputy, Role::Registrar];
const METHODS: [&str; 4] = ["cash", "ecocash", "bank", "beam"];
const MAX_AMOUNT: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// USD or ZWG (ZiG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Currency {
    #[serde(rename = "USD")]
    Usd,
    #[serde(rename = "ZWG")]
    Zwg,
}

impl Currency {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Zwg => "ZWG",
        }
    }
}

/// `amount` in `paid` settles this much of an invoice in `owed`, at `rate` ZiG per US dollar
/// (to the cent, halves away from zero). The rate is needed exactly when the currencies differ.
pub fn settles(
    amount: Decimal,
    paid: &str,
    owed: &str,
    rate: Option<Decimal>,
) -> Result<Decimal, &'static str> {
    let applied = match (paid == owed, rate) {
        (true, None) => amount,
        (true, Some(_)) => return Err("must be absent when paying in the invoice's currency"),
        (false, None) => return Err("required when paying in another currency than the invoice's"),
        (false, Some(r)) if paid == "USD" => amount * r,
        (false, Some(r)) => amount / r,
    };
    Ok(applied.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
}

/// What a rate of the day must be.
pub(crate) const RATE_RULE: &str = "must be above 0, at most 1,000,000,000, to 4 decimal places";

/// A rate of the day (ZiG per US dollar) the ledger can hold and convert without overflow.
pub(crate) fn rate_ok(rate: Decimal) -> bool {
    rate > Decimal::ZERO && rate <= MAX_AMOUNT && rate.round_dp(4) == rate
}

pub(crate) fn money_ok(amount: Decimal) -> bool {
    amount > Decimal::ZERO && amount <= MAX_AMOUNT && amount.round_dp(2) == amount
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Balance {
    /// The invoices' currency.
    pub currency: String,
    #[schema(value_type = String)]
    pub invoiced: Decimal,
    /// Corrections of the invoices (negative: taken off).
    #[schema(value_type = String)]
    pub corrected: Decimal,
    /// Paid, in this currency (payments in the other one at their rate).
    #[schema(value_type = String)]
    pub paid: Decimal,
    #[schema(value_type = String)]
    pub refunded: Decimal,
    /// Owed now: invoiced + corrected − paid + refunded (negative: in credit).
    #[schema(value_type = String)]
    pub balance: Decimal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Entry {
    /// `invoice`, `correction`, `payment` or `refund`.
    pub kind: String,
    pub id: Uuid,
    pub on: NaiveDate,
    pub academic_year: i32,
    pub term: i32,
    /// The money's own currency and amount.
    pub currency: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// What it counts for against the invoice, in the invoice's currency.
    pub applied_currency: String,
    #[schema(value_type = String)]
    pub amount_applied: Decimal,
    #[schema(value_type = Option<String>)]
    pub exchange_rate: Option<Decimal>,
    pub method: Option<String>,
    pub receipt_number: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub learner_id: LearnerId,
    pub balances: Vec<Balance>,
    /// Oldest first.
    pub entries: Vec<Entry>,
}

/// A learner's fees: every invoice, payment and refund, and the balance in each currency.
#[utoipa::path(get, path = "/learners/{id}/account", tag = "fees",
    params(("id" = Uuid, Path, description = "learner id")),
    responses((status = 200, body = Account), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn account(
    State(state): State<AppState>,
    user: AuthUser,
    Path(learner): Path<LearnerId>,
) -> ApiResult<Json<Account>> {
    user.require(READERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let known = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM sis.learners WHERE id = $1) AS "known!""#,
        learner as LearnerId
    )
    .fetch_one(&mut *tx)
    .await?;
    if !known {
        return Err(ApiError::NotFound);
    }
    let entries = sqlx::query_as!(
        Entry,
        r#"SELECT kind AS "kind!", id AS "id!", on_date AS "on!", academic_year AS "academic_year!",
                  term AS "term!", currency AS "currency!", amount AS "amount!",
                  applied_currency AS "applied_currency!", amount_applied AS "amount_applied!",
                  exchange_rate, method, receipt_number
           FROM (
             SELECT 'invoice' AS kind, i.id, i.issued_on AS on_date, i.academic_year, i.term,
                    i.currency, i.amount, i.currency AS applied_currency,
                    i.amount AS amount_applied, NULL::numeric AS exchange_rate, NULL AS method,
                    NULL::bigint AS receipt_number, i.created_at
             FROM finance.invoices i WHERE i.learner_id = $1
             UNION ALL
             SELECT 'correction', c.id, c.corrected_on, i.academic_year, i.term, i.currency,
                    c.amount, i.currency, c.amount, NULL, NULL, NULL, c.created_at
             FROM finance.invoice_corrections c JOIN finance.invoices i ON i.id = c.invoice_id
             WHERE c.learner_id = $1
             UNION ALL
             SELECT 'payment', p.id, p.paid_on, p.academic_year, p.term, p.currency, p.amount,
                    i.currency, p.amount_applied, p.exchange_rate, p.method, p.receipt_number,
                    p.created_at
             FROM finance.payments p JOIN finance.invoices i ON i.id = p.invoice_id
             WHERE p.learner_id = $1
             UNION ALL
             SELECT 'refund', r.id, r.refunded_on, p.academic_year, p.term, r.currency, r.amount,
                    i.currency, r.amount_applied, p.exchange_rate, p.method, NULL, r.created_at
             FROM finance.refunds r JOIN finance.payments p ON p.id = r.payment_id
             JOIN finance.invoices i ON i.id = p.invoice_id
             WHERE r.learner_id = $1
           ) e
           ORDER BY on_date, created_at, id
           LIMIT 5000"#,
        learner as LearnerId
    )
    .fetch_all(&mut *tx)
    .await?;
    let balances = balances_of(&mut tx, learner).await?;
    tx.commit().await?;
    Ok(Json(Account { learner_id: learner, balances, entries }))
}

/// A learner's balances per invoice currency, from `finance.invoice_balances` (the one place
/// money is summed: the office, the term report and the parents' portal read it).
pub(crate) async fn balances_of(
    conn: &mut sqlx::PgConnection,
    learner: LearnerId,
) -> ApiResult<Vec<Balance>> {
    Ok(sqlx::query_as!(
        Balance,
        r#"SELECT currency AS "currency!", sum(invoiced) AS "invoiced!",
                  sum(corrected) AS "corrected!", sum(paid) AS "paid!",
                  sum(refunded) AS "refunded!", sum(balance) AS "balance!"
           FROM finance.invoice_balances WHERE learner_id = $1
           GROUP BY currency ORDER BY currency"#,
        learner as LearnerId
    )
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    /// The learner's invoice the payment is for.
    pub invoice_id: Uuid,
    pub currency: Currency,
    /// In `currency`, to the cent (a string: `"45.50"`).
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// ZiG per US dollar on the day: required exactly when `currency` is not the invoice's.
    #[schema(value_type = Option<String>)]
    pub exchange_rate: Option<Decimal>,
    /// cash, ecocash, bank or beam (Paynow payments are recorded by Paynow's own update).
    pub method: String,
    /// Today when absent.
    pub paid_on: Option<NaiveDate>,
    /// The payer's reference (an EcoCash or bank reference).
    pub reference: Option<String>,
}

impl Validate for NewPayment {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !money_ok(self.amount) {
            e.push(FieldError::new(
                "amount",
                "must be above 0, at most 1,000,000,000, to the cent",
            ));
        }
        if self.exchange_rate.is_some_and(|r| !rate_ok(r)) {
            e.push(FieldError::new("exchange_rate", RATE_RULE));
        }
        if !METHODS.contains(&self.method.as_str()) {
            e.push(FieldError::new("method", format!("must be one of {}", METHODS.join(", "))));
        }
        if self.reference.as_deref().is_some_and(|r| r.trim().is_empty() || r.chars().count() > 100)
        {
            e.push(FieldError::new("reference", "must be 1 to 100 characters"));
        }
        e
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Payment {
    pub id: Uuid,
    pub learner_id: LearnerId,
    pub invoice_id: Uuid,
    pub receipt_number: i64,
    pub currency: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    #[schema(value_type = Option<String>)]
    pub exchange_rate: Option<Decimal>,
    pub applied_currency: String,
    #[schema(value_type = String)]
    pub amount_applied: Decimal,
    pub method: String,
    pub paid_on: NaiveDate,
}

/// Records a payment against one of the learner's invoices and gives it the school's next
/// receipt number. Needs an `Idempotency-Key` header: the same key again (a retry, a double tap,
/// even at the same moment) answers with the first payment and records nothing more.
#[utoipa::path(post, path = "/learners/{id}/payments", tag = "fees", request_body = NewPayment,
    params(("id" = Uuid, Path, description = "learner id"),
           ("Idempotency-Key" = String, Header, description = "a key unique to this payment")),
    responses((status = 201, body = Payment), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn record_payment(
    State(state): State<AppState>,
    user: AuthUser,
    Path(learner): Path<LearnerId>,
    headers: HeaderMap,
    ValidJson(new): ValidJson<NewPayment>,
) -> ApiResult<Response> {
    user.require(KEEPERS)?;
    let key = idempotency::key_of(&headers, "payment")?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let invoice = sqlx::query!(
        r#"SELECT school_id AS "school_id: SchoolId", currency, academic_year, term
           FROM finance.invoices WHERE id = $1 AND learner_id = $2"#,
        new.invoice_id,
        learner as LearnerId,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::field("invoice_id", "not an invoice of this learner"))?;
    let body = serde_json::to_vec(&new).map_err(|e| ApiError::Internal(e.to_string()))?;
    let print = idempotency::fingerprint(&[learner.to_string().as_bytes(), &body]);
    match idempotency::claim(&mut tx, invoice.school_id, &key, "payments", &print, "payment")
        .await?
    {
        Claim::Replay(answer) => {
            tx.commit().await?;
            return Ok(answer);
        }
        Claim::New => {}
    }
    let applied = settles(new.amount, new.currency.as_str(), &invoice.currency, new.exchange_rate)
        .map_err(|reason| ApiError::field("exchange_rate", reason))?;
    if applied <= Decimal::ZERO {
        return Err(ApiError::field("amount", "too small to settle a cent at this rate"));
    }
    let receipt = sqlx::query_scalar!(
        r#"SELECT finance.next_receipt($1) AS "receipt!""#,
        invoice.school_id as SchoolId,
    )
    .fetch_one(&mut *tx)
    .await?;
    let payment = Payment {
        id: Uuid::now_v7(),
        learner_id: learner,
        invoice_id: new.invoice_id,
        receipt_number: receipt,
        currency: new.currency.as_str().into(),
        amount: new.amount,
        exchange_rate: new.exchange_rate,
        applied_currency: invoice.currency.clone(),
        amount_applied: applied,
        method: new.method.clone(),
        paid_on: new.paid_on.unwrap_or_else(|| chrono::Utc::now().date_naive()),
    };
    sqlx::query!(
        "INSERT INTO finance.payments (id, school_id, learner_id, invoice_id, academic_year, term,
             currency, amount, exchange_rate, amount_applied, method, paid_on, reference,
             idempotency_key, receipt_number)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        payment.id,
        invoice.school_id as SchoolId,
        learner as LearnerId,
        payment.invoice_id,
        invoice.academic_year,
        invoice.term,
        payment.currency,
        payment.amount,
        payment.exchange_rate,
        payment.amount_applied,
        payment.method,
        payment.paid_on,
        new.reference.as_deref().map(str::trim),
        // The column is unique across schools: the school's id keeps keys of two schools apart.
        format!("{}:{key}", invoice.school_id),
        receipt,
    )
    .execute(&mut *tx)
    .await?;
    idempotency::record(&mut tx, invoice.school_id, &key, StatusCode::CREATED, &payment).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(payment)).into_response())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRefund {
    /// In the payment's currency, at most what is left of it.
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub reason: String,
    /// Today when absent.
    pub refunded_on: Option<NaiveDate>,
}

impl Validate for NewRefund {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !money_ok(self.amount) {
            e.push(FieldError::new(
                "amount",
                "must be above 0, at most 1,000,000,000, to the cent",
            ));
        }
        if self.reason.trim().is_empty() || self.reason.chars().count() > 500 {
            e.push(FieldError::new("reason", "must be 1 to 500 characters"));
        }
        e
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Refund {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub currency: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    #[schema(value_type = String)]
    pub amount_applied: Decimal,
    pub refunded_on: NaiveDate,
}

/// Gives money back against a payment: a new entry at the payment's rate, never an edit of it.
/// Needs an `Idempotency-Key`, as payments do.
#[utoipa::path(post, path = "/payments/{id}/refunds", tag = "fees", request_body = NewRefund,
    params(("id" = Uuid, Path, description = "payment id"),
           ("Idempotency-Key" = String, Header, description = "a key unique to this refund")),
    responses((status = 201, body = Refund), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn refund(
    State(state): State<AppState>,
    user: AuthUser,
    Path(payment_id): Path<Uuid>,
    headers: HeaderMap,
    ValidJson(new): ValidJson<NewRefund>,
) -> ApiResult<Response> {
    user.require(KEEPERS)?;
    let key = idempotency::key_of(&headers, "refund")?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    // Refunds of one payment wait for each other, so two never both take its last cent (a row
    // lock would need UPDATE on payments, which the API's role does not have).
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('refund:' || $1::uuid, 0))",
        payment_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let paid = sqlx::query!(
        r#"SELECT school_id AS "school_id: SchoolId", learner_id, currency, amount, amount_applied,
                  (SELECT coalesce(sum(r.amount), 0) FROM finance.refunds r
                   WHERE r.payment_id = p.id) AS "refunded!"
           FROM finance.payments p WHERE id = $1"#,
        payment_id,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    let body = serde_json::to_vec(&new).map_err(|e| ApiError::Internal(e.to_string()))?;
    let print = idempotency::fingerprint(&[payment_id.as_bytes(), &body]);
    match idempotency::claim(&mut tx, paid.school_id, &key, "refunds", &print, "refund").await? {
        Claim::Replay(answer) => {
            tx.commit().await?;
            return Ok(answer);
        }
        Claim::New => {}
    }
    if new.amount > paid.amount - paid.refunded {
        return Err(ApiError::field(
            "amount",
            format!(
                "at most {} {} is left of the payment",
                paid.amount - paid.refunded,
                paid.currency
            ),
        ));
    }
    // At the payment's own rate: the share of the payment given back.
    let applied = (new.amount * paid.amount_applied / paid.amount)
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .max(Decimal::new(1, 2));
    let refund = Refund {
        id: Uuid::now_v7(),
        payment_id,
        currency: paid.currency.clone(),
        amount: new.amount,
        amount_applied: applied,
        refunded_on: new.refunded_on.unwrap_or_else(|| chrono::Utc::now().date_naive()),
    };
    sqlx::query!(
        "INSERT INTO finance.refunds (id, school_id, learner_id, payment_id, currency, amount,
             amount_applied, reason, refunded_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        refund.id,
        paid.school_id as SchoolId,
        paid.learner_id,
        payment_id,
        refund.currency,
        refund.amount,
        refund.amount_applied,
        new.reason.trim(),
        refund.refunded_on,
    )
    .execute(&mut *tx)
    .await?;
    idempotency::record(&mut tx, paid.school_id, &key, StatusCode::CREATED, &refund).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(refund)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TermQuery {
    pub year: i32,
    /// 1, 2 or 3.
    pub term: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MethodTotal {
    /// cash, paynow, ecocash, bank or beam.
    pub method: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CurrencyReport {
    /// The invoices' currency; every amount below is in it.
    pub currency: String,
    #[schema(value_type = String)]
    pub invoiced: Decimal,
    /// Corrections of the term's invoices (negative: taken off).
    #[schema(value_type = String)]
    pub corrected: Decimal,
    #[schema(value_type = String)]
    pub paid: Decimal,
    pub paid_by_method: Vec<MethodTotal>,
    #[schema(value_type = String)]
    pub refunded: Decimal,
    /// Still owed: invoiced + corrected − paid + refunded, over the invoices not paid in full.
    #[schema(value_type = String)]
    pub outstanding: Decimal,
    pub learners_invoiced: i64,
    pub learners_in_arrears: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TermReport {
    pub school_id: SchoolId,
    pub academic_year: i32,
    pub term: i32,
    pub currencies: Vec<CurrencyReport>,
}

/// A school's fees for a term: invoiced, paid (by method), refunded and still owed, and how many
/// learners owe, in each invoice currency.
#[utoipa::path(get, path = "/schools/{id}/fees/report", tag = "fees", params(
        ("id" = Uuid, Path, description = "school id"), TermQuery),
    responses((status = 200, body = TermReport), (status = 403, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn term_report(
    State(state): State<AppState>,
    user: AuthUser,
    Path(school): Path<SchoolId>,
    Query(q): Query<TermQuery>,
) -> ApiResult<Json<TermReport>> {
    user.require(&[Role::Bursar, Role::SchoolHead, Role::Deputy])?;
    user.require_school(school)?;
    if !(1..=3).contains(&q.term) {
        return Err(ApiError::field("term", "must be 1, 2 or 3"));
    }
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = sqlx::query!(
        r#"WITH inv AS (
             SELECT learner_id, currency, invoiced, corrected, paid, refunded, balance
             FROM finance.invoice_balances
             WHERE school_id = $1 AND academic_year = $2 AND term = $3)
           SELECT currency AS "currency!", sum(invoiced) AS "invoiced!",
                  sum(corrected) AS "corrected!", sum(paid) AS "paid!",
                  sum(refunded) AS "refunded!",
                  coalesce(sum(balance) FILTER (WHERE balance > 0), 0) AS "outstanding!",
                  count(DISTINCT learner_id) AS "learners!",
                  count(DISTINCT learner_id) FILTER (WHERE balance > 0) AS "in_arrears!"
           FROM inv GROUP BY currency ORDER BY currency"#,
        school as SchoolId,
        q.year,
        q.term,
    )
    .fetch_all(&mut *tx)
    .await?;
    let methods = sqlx::query!(
        r#"SELECT i.currency AS "currency!", p.method AS "method!",
                  sum(p.amount_applied) AS "amount!"
           FROM finance.payments p JOIN finance.invoices i ON i.id = p.invoice_id
           WHERE i.school_id = $1 AND i.academic_year = $2 AND i.term = $3
           GROUP BY 1, 2 ORDER BY 1, 2"#,
        school as SchoolId,
        q.year,
        q.term,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let currencies = rows
        .into_iter()
        .map(|r| CurrencyReport {
            paid_by_method: methods
                .iter()
                .filter(|m| m.currency == r.currency)
                .map(|m| MethodTotal { method: m.method.clone(), amount: m.amount })
                .collect(),
            currency: r.currency,
            invoiced: r.invoiced,
            corrected: r.corrected,
            paid: r.paid,
            refunded: r.refunded,
            outstanding: r.outstanding,
            learners_invoiced: r.learners,
            learners_in_arrears: r.in_arrears,
        })
        .collect();
    Ok(Json(TermReport { school_id: school, academic_year: q.year, term: q.term, currencies }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_settle_in_the_invoice_currency_to_the_cent() {
        let d = |s: &str| s.parse::<Decimal>().expect("decimal");
        assert_eq!(settles(d("10.00"), "USD", "USD", None), Ok(d("10.00")));
        // 10 US dollars at 26.5 ZiG each settle 265 ZiG; 100 ZiG settle 3.77 dollars.
        assert_eq!(settles(d("10.00"), "USD", "ZWG", Some(d("26.5"))), Ok(d("265.00")));
        assert_eq!(settles(d("100.00"), "ZWG", "USD", Some(d("26.5"))), Ok(d("3.77")));
        assert!(settles(d("1"), "USD", "USD", Some(d("2"))).is_err());
        assert!(settles(d("1"), "ZWG", "USD", None).is_err());
    }
}
