//! The school's price list and what is made from it: fees per grade, term and boarding status;
//! the term's invoices generated from them for every learner enrolled; corrections of an invoice
//! as new entries (never an edit); and BEAM's bulk remittances, one transfer for many learners,
//! split into one receipted payment per learner and reconciled against the amount received.
//!
//! Like every money route, writes are idempotent: generating a term's invoices twice makes them
//! once (one invoice per learner and term), and corrections and remittances need an
//! `Idempotency-Key`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use oneclass_core::ids::{LearnerId, SchoolId};
use oneclass_core::types::Grade;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::fees::{Currency, KEEPERS, RATE_RULE, READERS, money_ok, rate_ok, settles};
use crate::idempotency::{self, Claim};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(fee_structures, set_fee_structure))
        .routes(routes!(generate_invoices))
        .routes(routes!(correct_invoice))
        .routes(routes!(record_remittance))
        .routes(routes!(remittance))
}

/// At most this many learners in one BEAM remittance.
const MAX_LINES: usize = 5_000;

fn check_term(e: &mut Vec<FieldError>, year: i32, term: i32) {
    if !(2000..=2100).contains(&year) {
        e.push(FieldError::new("academic_year", "must be 2000 to 2100"));
    }
    if !(1..=3).contains(&term) {
        e.push(FieldError::new("term", "must be 1, 2 or 3"));
    }
}

// ---- Fee structures ---------------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeeStructure {
    pub academic_year: i32,
    /// 1, 2 or 3.
    pub term: i32,
    pub grade: Grade,
    /// The fee for boarders (false: day scholars). False when absent.
    #[serde(default)]
    pub boarding: bool,
    pub currency: Currency,
    /// The term's fee, to the cent (a string: `"120.00"`); 0 for a free grade.
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// When invoices made from it fall due.
    pub due_on: NaiveDate,
}

impl Validate for NewFeeStructure {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_term(&mut e, self.academic_year, self.term);
        if !(self.amount.is_zero() || money_ok(self.amount)) {
            e.push(FieldError::new("amount", "must be 0 to 1,000,000,000, to the cent"));
        }
        e
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeeStructure {
    pub id: Uuid,
    pub school_id: SchoolId,
    pub academic_year: i32,
    pub term: i32,
    pub grade: String,
    pub boarding: bool,
    pub currency: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub due_on: NaiveDate,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct YearQuery {
    /// Only this school year's fees; every year when absent.
    pub year: Option<i32>,
}

/// A school's fees per grade, term and boarding status (newest year first).
#[utoipa::path(get, path = "/schools/{id}/fee-structures", tag = "fees",
    params(("id" = Uuid, Path, description = "school id"), YearQuery),
    responses((status = 200, body = [FeeStructure]), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn fee_structures(
    State(state): State<AppState>,
    user: AuthUser,
    Path(school): Path<SchoolId>,
    Query(q): Query<YearQuery>,
) -> ApiResult<Json<Vec<FeeStructure>>> {
    user.require(READERS)?;
    user.require_school(school)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = sqlx::query_as!(
        FeeStructure,
        r#"SELECT id, school_id AS "school_id: SchoolId", academic_year, term, grade, boarding,
                  currency, amount, due_on
           FROM finance.fee_structures
           WHERE school_id = $1 AND ($2::int IS NULL OR academic_year = $2)
           ORDER BY academic_year DESC, term, grade, boarding
           LIMIT 1000"#,
        school as SchoolId,
        q.year,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(rows))
}

/// Sets the fee for a grade, term and boarding status, replacing the one set before. Invoices
/// already made keep their own amount (put right with a correction).
#[utoipa::path(post, path = "/schools/{id}/fee-structures", tag = "fees",
    request_body = NewFeeStructure,
    params(("id" = Uuid, Path, description = "school id")),
    responses((status = 200, body = FeeStructure), (status = 403, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn set_fee_structure(
    State(state): State<AppState>,
    user: AuthUser,
    Path(school): Path<SchoolId>,
    ValidJson(new): ValidJson<NewFeeStructure>,
) -> ApiResult<Json<FeeStructure>> {
    user.require(KEEPERS)?;
    user.require_school(school)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let row = sqlx::query_as!(
        FeeStructure,
        r#"INSERT INTO finance.fee_structures (id, school_id, academic_year, term, grade, boarding,
               currency, amount, due_on)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (school_id, academic_year, term, grade, boarding) DO UPDATE
             SET currency = EXCLUDED.currency, amount = EXCLUDED.amount, due_on = EXCLUDED.due_on
           RETURNING id, school_id AS "school_id: SchoolId", academic_year, term, grade, boarding,
                     currency, amount, due_on"#,
        Uuid::now_v7(),
        school as SchoolId,
        new.academic_year,
        new.term,
        new.grade.as_str(),
        new.boarding,
        new.currency.as_str(),
        new.amount,
        new.due_on,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(row))
}

// ---- Generating a term's invoices -------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateInvoices {
    pub academic_year: i32,
    pub term: i32,
    /// Today when absent.
    pub issued_on: Option<NaiveDate>,
}

impl Validate for GenerateInvoices {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_term(&mut e, self.academic_year, self.term);
        e
    }
}

/// Learners of a grade and boarding status for whom the school has set no fee.
#[derive(Debug, Serialize, ToSchema)]
pub struct WithoutFee {
    pub grade: String,
    pub boarding: bool,
    pub learners: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratedInvoices {
    pub academic_year: i32,
    pub term: i32,
    /// Invoices made now.
    pub created: i64,
    /// Learners who already had an invoice for the term at this school (left as they are; an
    /// invoice at a school they left is the other school's).
    pub already_invoiced: i64,
    /// Learners left without an invoice because no fee is set for them.
    pub without_fee: Vec<WithoutFee>,
}

/// Makes the term's invoice for every learner enrolled at the school that year (an open
/// enrolment), from the fee set for their grade and boarding status. A learner who already has
/// the term's invoice keeps it, so running it again (after admissions, or a retry) makes only
/// the missing ones. Learners whose grade has no fee are counted, not invoiced.
#[utoipa::path(post, path = "/schools/{id}/invoices/generate", tag = "fees",
    request_body = GenerateInvoices,
    params(("id" = Uuid, Path, description = "school id")),
    responses((status = 200, body = GeneratedInvoices), (status = 403, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn generate_invoices(
    State(state): State<AppState>,
    user: AuthUser,
    Path(school): Path<SchoolId>,
    ValidJson(req): ValidJson<GenerateInvoices>,
) -> ApiResult<Json<GeneratedInvoices>> {
    user.require(KEEPERS)?;
    user.require_school(school)?;
    let issued_on = req.issued_on.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let mut tx = begin_scoped(&state.pool, &user).await?;
    // One statement: who is enrolled, at which fee, the invoices made, counted per grade and
    // boarding status.
    let groups = sqlx::query!(
        r#"WITH enrolled AS (
             SELECT DISTINCT ON (e.learner_id) e.learner_id, e.grade, e.boarding
             FROM sis.enrolments e
             WHERE e.school_id = $1 AND e.academic_year = $2 AND e.end_date IS NULL
             ORDER BY e.learner_id, e.start_date DESC),
           priced AS (
             SELECT n.learner_id, f.id AS fee_id, f.currency, f.amount, f.due_on
             FROM enrolled n
             JOIN finance.fee_structures f ON f.school_id = $1 AND f.academic_year = $2
               AND f.term = $3 AND f.grade = n.grade AND f.boarding = n.boarding),
           made AS (
             INSERT INTO finance.invoices (id, school_id, learner_id, academic_year, term,
                 currency, amount, issued_on, due_on, fee_structure_id)
             SELECT platform.uuid_v7(), $1, p.learner_id, $2, $3, p.currency, p.amount, $4,
                    greatest(p.due_on, $4), p.fee_id
             FROM priced p
             ON CONFLICT (school_id, learner_id, academic_year, term) DO NOTHING
             RETURNING learner_id)
           SELECT n.grade AS "grade!", n.boarding AS "boarding!", count(*) AS "learners!",
                  count(p.learner_id) AS "priced!", count(m.learner_id) AS "created!"
           FROM enrolled n
           LEFT JOIN priced p ON p.learner_id = n.learner_id
           LEFT JOIN made m ON m.learner_id = n.learner_id
           GROUP BY 1, 2 ORDER BY 1, 2"#,
        school as SchoolId,
        req.academic_year,
        req.term,
        issued_on,
    )
    .fetch_all(&mut *tx)
    .await?;
    let created: i64 = groups.iter().map(|g| g.created).sum();
    let priced: i64 = groups.iter().map(|g| g.priced).sum();
    // A fee is set per grade and boarding status: a group is priced whole or not at all.
    let without_fee = groups
        .into_iter()
        .filter(|g| g.priced == 0)
        .map(|g| WithoutFee { grade: g.grade, boarding: g.boarding, learners: g.learners })
        .collect();
    tx.commit().await?;
    Ok(Json(GeneratedInvoices {
        academic_year: req.academic_year,
        term: req.term,
        created,
        already_invoiced: priced - created,
        without_fee,
    }))
}

// ---- Corrections ------------------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCorrection {
    /// In the invoice's currency, to the cent: positive adds to what it asks, negative takes
    /// from it (`"-20.00"`: a fee charged 20 too much).
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub reason: String,
    /// Today when absent.
    pub corrected_on: Option<NaiveDate>,
}

impl Validate for NewCorrection {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !money_ok(self.amount.abs()) {
            e.push(FieldError::new(
                "amount",
                "must not be 0, at most 1,000,000,000 either way, to the cent",
            ));
        }
        if self.reason.trim().is_empty() || self.reason.chars().count() > 500 {
            e.push(FieldError::new("reason", "must be 1 to 500 characters"));
        }
        e
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Correction {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub currency: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub corrected_on: NaiveDate,
    /// What the invoice asks now: its amount and every correction.
    #[schema(value_type = String)]
    pub invoice_total: Decimal,
    /// Owed on the invoice now (negative: in credit).
    #[schema(value_type = String)]
    pub balance: Decimal,
}

/// Corrects what an invoice asks, as a new entry beside it (the invoice is never edited). An
/// invoice cannot be corrected below zero. Needs an `Idempotency-Key`.
#[utoipa::path(post, path = "/invoices/{id}/corrections", tag = "fees",
    request_body = NewCorrection,
    params(("id" = Uuid, Path, description = "invoice id"),
           ("Idempotency-Key" = String, Header, description = "a key unique to this correction")),
    responses((status = 201, body = Correction), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn correct_invoice(
    State(state): State<AppState>,
    user: AuthUser,
    Path(invoice): Path<Uuid>,
    headers: HeaderMap,
    ValidJson(new): ValidJson<NewCorrection>,
) -> ApiResult<Response> {
    user.require(KEEPERS)?;
    let key = idempotency::key_of(&headers, "correction")?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    // Corrections of one invoice wait for each other, so two cannot both take it below zero.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('invoice:' || $1::uuid, 0))",
        invoice
    )
    .fetch_one(&mut *tx)
    .await?;
    let now = sqlx::query!(
        r#"SELECT school_id AS "school_id!: SchoolId", learner_id AS "learner_id!",
                  currency AS "currency!", invoiced AS "invoiced!", corrected AS "corrected!",
                  balance AS "balance!", issued_on AS "issued_on!"
           FROM finance.invoice_balances WHERE invoice_id = $1"#,
        invoice,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    let body = serde_json::to_vec(&new).map_err(|e| ApiError::Internal(e.to_string()))?;
    let print = idempotency::fingerprint(&[invoice.as_bytes(), &body]);
    match idempotency::claim(&mut tx, now.school_id, &key, "corrections", &print, "correction")
        .await?
    {
        Claim::Replay(answer) => {
            tx.commit().await?;
            return Ok(answer);
        }
        Claim::New => {}
    }
    // A correction follows its invoice: never dated before it (by default today, or the day of
    // issue of an invoice issued ahead).
    let today = chrono::Utc::now().date_naive();
    let corrected_on = new.corrected_on.unwrap_or_else(|| today.max(now.issued_on));
    if corrected_on < now.issued_on {
        return Err(ApiError::field(
            "corrected_on",
            format!("is before the invoice was issued ({})", now.issued_on),
        ));
    }
    let total = now.invoiced + now.corrected + new.amount;
    if total < Decimal::ZERO {
        return Err(ApiError::field(
            "amount",
            format!(
                "would take the invoice below zero: it asks {} {}",
                now.invoiced + now.corrected,
                now.currency
            ),
        ));
    }
    let correction = Correction {
        id: Uuid::now_v7(),
        invoice_id: invoice,
        currency: now.currency.clone(),
        amount: new.amount,
        corrected_on,
        invoice_total: total,
        balance: now.balance + new.amount,
    };
    sqlx::query!(
        "INSERT INTO finance.invoice_corrections (id, school_id, learner_id, invoice_id, amount,
             reason, corrected_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        correction.id,
        now.school_id as SchoolId,
        now.learner_id,
        invoice,
        correction.amount,
        new.reason.trim(),
        correction.corrected_on,
    )
    .execute(&mut *tx)
    .await?;
    idempotency::record(&mut tx, now.school_id, &key, StatusCode::CREATED, &correction).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(correction)).into_response())
}

// ---- BEAM remittances -------------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemittanceLine {
    pub learner_id: LearnerId,
    /// The learner's share, in the remittance's currency, to the cent.
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRemittance {
    /// BEAM's reference for the transfer (unique at the school).
    pub reference: String,
    pub academic_year: i32,
    pub term: i32,
    pub currency: Currency,
    /// The amount received; must equal the sum of the lines.
    #[schema(value_type = String)]
    pub total: Decimal,
    /// ZiG per US dollar: required when some learner's invoice is in the other currency.
    #[schema(value_type = Option<String>)]
    pub exchange_rate: Option<Decimal>,
    /// Today when absent.
    pub paid_on: Option<NaiveDate>,
    /// One line per learner (at most 5,000).
    pub lines: Vec<RemittanceLine>,
}

impl Validate for NewRemittance {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let reference = self.reference.trim();
        if reference.is_empty() || reference.chars().count() > 100 {
            e.push(FieldError::new("reference", "must be 1 to 100 characters"));
        }
        check_term(&mut e, self.academic_year, self.term);
        if !money_ok(self.total) {
            e.push(FieldError::new("total", "must be above 0, at most 1,000,000,000, to the cent"));
        }
        if self.exchange_rate.is_some_and(|r| !rate_ok(r)) {
            e.push(FieldError::new("exchange_rate", RATE_RULE));
        }
        if self.lines.is_empty() || self.lines.len() > MAX_LINES {
            e.push(FieldError::new("lines", format!("must hold 1 to {MAX_LINES} learners")));
        }
        let mut seen = HashSet::new();
        for (i, line) in self.lines.iter().enumerate() {
            if !money_ok(line.amount) {
                e.push(FieldError::new(
                    format!("lines[{i}].amount"),
                    "must be above 0, to the cent",
                ));
            }
            if !seen.insert(line.learner_id) {
                e.push(FieldError::new(format!("lines[{i}].learner_id"), "is named twice"));
            }
        }
        // Summed once every line is known to be a sane amount (no overflow).
        let sum: Decimal =
            if e.is_empty() { self.lines.iter().map(|l| l.amount).sum() } else { self.total };
        if sum != self.total {
            e.push(FieldError::new(
                "total",
                format!("is not the sum of the lines ({sum}): every dollar must go to a learner"),
            ));
        }
        e
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RemittancePayment {
    pub learner_id: LearnerId,
    pub invoice_id: Uuid,
    pub payment_id: Uuid,
    pub receipt_number: i64,
    /// In the remittance's currency.
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Refunded since, in the remittance's currency.
    #[schema(value_type = String)]
    pub refunded: Decimal,
    pub applied_currency: String,
    #[schema(value_type = String)]
    pub amount_applied: Decimal,
    /// Owed on the learner's invoice now (negative: in credit).
    #[schema(value_type = String)]
    pub invoice_balance: Decimal,
    /// Whether the learner's record says BEAM pays their fees.
    pub learner_on_beam: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Remittance {
    pub id: Uuid,
    pub school_id: SchoolId,
    pub reference: String,
    pub academic_year: i32,
    pub term: i32,
    pub currency: String,
    #[schema(value_type = String)]
    pub total: Decimal,
    #[schema(value_type = Option<String>)]
    pub exchange_rate: Option<Decimal>,
    pub paid_on: NaiveDate,
    pub lines: Vec<RemittancePayment>,
    /// The lines' amounts less what was refunded of them, in the remittance's currency.
    #[schema(value_type = String)]
    pub allocated: Decimal,
    /// Whether every dollar received is on a learner's account (allocated = total).
    pub reconciled: bool,
    /// Learners paid for whose record does not say BEAM pays their fees: to check with BEAM.
    pub not_on_beam: Vec<LearnerId>,
}

/// Records a BEAM transfer for many learners at once: each line becomes a payment (method
/// `beam`, with its own receipt number) against the learner's invoice for the term, all or
/// nothing. The lines must add up to the total received, and each learner must have the term's
/// invoice at the school (the error names the line). Needs an `Idempotency-Key`.
#[utoipa::path(post, path = "/schools/{id}/beam-remittances", tag = "fees",
    request_body = NewRemittance,
    params(("id" = Uuid, Path, description = "school id"),
           ("Idempotency-Key" = String, Header, description = "a key unique to this remittance")),
    responses((status = 201, body = Remittance), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn record_remittance(
    State(state): State<AppState>,
    user: AuthUser,
    Path(school): Path<SchoolId>,
    headers: HeaderMap,
    ValidJson(new): ValidJson<NewRemittance>,
) -> ApiResult<Response> {
    user.require(KEEPERS)?;
    user.require_school(school)?;
    let key = idempotency::key_of(&headers, "remittance")?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let body = serde_json::to_vec(&new).map_err(|e| ApiError::Internal(e.to_string()))?;
    let print = idempotency::fingerprint(&[school.to_string().as_bytes(), &body]);
    match idempotency::claim(&mut tx, school, &key, "beam-remittances", &print, "remittance")
        .await?
    {
        Claim::Replay(answer) => {
            tx.commit().await?;
            return Ok(answer);
        }
        Claim::New => {}
    }
    let reference = new.reference.trim();
    let taken = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM finance.beam_remittances
                          WHERE school_id = $1 AND reference = $2) AS "taken!""#,
        school as SchoolId,
        reference,
    )
    .fetch_one(&mut *tx)
    .await?;
    if taken {
        return Err(ApiError::field("reference", "a remittance with this reference is recorded"));
    }
    let learners: Vec<Uuid> = new.lines.iter().map(|l| l.learner_id.as_uuid()).collect();
    let invoices = sqlx::query!(
        "SELECT learner_id, id, currency FROM finance.invoices
         WHERE school_id = $1 AND academic_year = $2 AND term = $3 AND learner_id = ANY($4)",
        school as SchoolId,
        new.academic_year,
        new.term,
        &learners,
    )
    .fetch_all(&mut *tx)
    .await?;
    let invoice_of: std::collections::HashMap<Uuid, (Uuid, String)> =
        invoices.into_iter().map(|r| (r.learner_id, (r.id, r.currency))).collect();
    let mut errors = Vec::new();
    let (mut ids, mut invoice_ids, mut amounts, mut applied) = (vec![], vec![], vec![], vec![]);
    for (i, line) in new.lines.iter().enumerate() {
        let Some((invoice, owed)) = invoice_of.get(&line.learner_id.as_uuid()) else {
            errors.push(FieldError::new(
                format!("lines[{i}].learner_id"),
                "has no invoice for this term at this school",
            ));
            continue;
        };
        match settles(line.amount, new.currency.as_str(), owed, new.exchange_rate) {
            Ok(a) if a > Decimal::ZERO => applied.push(a),
            Ok(_) => errors.push(FieldError::new(
                format!("lines[{i}].amount"),
                "too small to settle a cent at this rate",
            )),
            // A rate given where every invoice is in the remittance's currency is harmless.
            Err(_) if owed == new.currency.as_str() => applied.push(line.amount),
            Err(reason) => {
                errors.push(FieldError::new("exchange_rate", reason));
                continue;
            }
        }
        ids.push(Uuid::now_v7());
        invoice_ids.push(*invoice);
        amounts.push(line.amount);
    }
    if !errors.is_empty() {
        errors.dedup_by(|a, b| a.field == b.field);
        return Err(ApiError::Validation(errors));
    }
    let id = Uuid::now_v7();
    let paid_on = new.paid_on.unwrap_or_else(|| chrono::Utc::now().date_naive());
    sqlx::query!(
        "INSERT INTO finance.beam_remittances (id, school_id, reference, academic_year, term,
             currency, total, exchange_rate, paid_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        id,
        school as SchoolId,
        reference,
        new.academic_year,
        new.term,
        new.currency.as_str(),
        new.total,
        new.exchange_rate,
        paid_on,
    )
    .execute(&mut *tx)
    .await?;
    // One statement for every line, each with the school's next receipt number.
    sqlx::query!(
        "INSERT INTO finance.payments (id, school_id, learner_id, invoice_id, academic_year, term,
             currency, amount, exchange_rate, amount_applied, method, paid_on, reference,
             idempotency_key, receipt_number, remittance_id)
         SELECT l.id, $1, l.learner_id, l.invoice_id, $2, $3, $4, l.amount,
                CASE WHEN i.currency = $4 THEN NULL ELSE $5::numeric END, l.applied, 'beam', $6,
                $7, 'beam:' || $8::uuid::text || ':' || l.learner_id::text, finance.next_receipt($1), $8
         FROM unnest($9::uuid[], $10::uuid[], $11::uuid[], $12::numeric[], $13::numeric[])
              WITH ORDINALITY AS l (id, learner_id, invoice_id, amount, applied, n)
         JOIN finance.invoices i ON i.id = l.invoice_id
         ORDER BY l.n",
        school as SchoolId,
        new.academic_year,
        new.term,
        new.currency.as_str(),
        new.exchange_rate,
        paid_on,
        reference,
        id,
        &ids,
        &learners,
        &invoice_ids,
        &amounts,
        &applied,
    )
    .execute(&mut *tx)
    .await?;
    let answer = read_remittance(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
    idempotency::record(&mut tx, school, &key, StatusCode::CREATED, &answer).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// A BEAM remittance and its reconciliation: each learner's payment, what was refunded of it
/// since, the learner's invoice balance now, and whether every dollar received is allocated.
#[utoipa::path(get, path = "/beam-remittances/{id}", tag = "fees",
    params(("id" = Uuid, Path, description = "remittance id")),
    responses((status = 200, body = Remittance), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn remittance(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Remittance>> {
    user.require(READERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let answer = read_remittance(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Json(answer))
}

async fn read_remittance(conn: &mut sqlx::PgConnection, id: Uuid) -> ApiResult<Option<Remittance>> {
    let Some(r) = sqlx::query!(
        r#"SELECT school_id AS "school_id: SchoolId", reference, academic_year, term, currency,
                  total, exchange_rate, paid_on
           FROM finance.beam_remittances WHERE id = $1"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let lines = sqlx::query_as!(
        RemittancePayment,
        r#"SELECT p.learner_id AS "learner_id: LearnerId", p.invoice_id, p.id AS payment_id,
                  p.receipt_number AS "receipt_number!", p.amount,
                  (SELECT coalesce(sum(x.amount), 0) FROM finance.refunds x
                   WHERE x.payment_id = p.id) AS "refunded!",
                  b.currency AS "applied_currency!", p.amount_applied,
                  b.balance AS "invoice_balance!",
                  coalesce(l.is_beam, false) AS "learner_on_beam!"
           FROM finance.payments p
           JOIN finance.invoice_balances b ON b.invoice_id = p.invoice_id
           -- A learner who has moved school since is still a line of the remittance.
           LEFT JOIN sis.learners l ON l.id = p.learner_id
           WHERE p.remittance_id = $1
           ORDER BY p.receipt_number"#,
        id
    )
    .fetch_all(&mut *conn)
    .await?;
    let allocated: Decimal = lines.iter().map(|l| l.amount - l.refunded).sum();
    let not_on_beam = lines.iter().filter(|l| !l.learner_on_beam).map(|l| l.learner_id).collect();
    Ok(Some(Remittance {
        id,
        school_id: r.school_id,
        reference: r.reference,
        academic_year: r.academic_year,
        term: r.term,
        currency: r.currency,
        total: r.total,
        exchange_rate: r.exchange_rate,
        paid_on: r.paid_on,
        reconciled: allocated == r.total,
        allocated,
        lines,
        not_on_beam,
    }))
}
