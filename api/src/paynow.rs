//! Fee payments through Paynow: the office (later the parent portal) starts one for an invoice
//! and sends the payer to Paynow; Paynow posts the outcome to `POST /paynow/result`. That update
//! is believed only with its hash right under the integration key, and is applied to the one
//! transaction its reference names, once, by `finance.apply_paynow_update` (the update comes
//! with no user, so the function, not the request, holds the rights): the same update delivered
//! twice, even at once, records one payment; a forged one changes nothing.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use oneclass_core::ids::{LearnerId, SchoolId};
use oneclass_core::types::Role;
use oneclass_paynow::{NewPayment, PaynowError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::state::{AppState, PaynowGateway};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(start)).routes(routes!(result))
}

const PAYERS: &[Role] = &[Role::Bursar, Role::SchoolHead, Role::Parent];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaynowStart {
    /// The learner's invoice to pay (Paynow is paid in the invoice's currency).
    pub invoice_id: Uuid,
    /// To the cent (a string: `"45.50"`).
    #[schema(value_type = String)]
    pub amount: Decimal,
}

impl Validate for PaynowStart {
    fn validate(&self) -> Vec<FieldError> {
        if self.amount > Decimal::ZERO
            && self.amount <= Decimal::from(100_000)
            && self.amount.round_dp(2) == self.amount
        {
            Vec::new()
        } else {
            vec![FieldError::new("amount", "must be above 0, at most 100,000, to the cent")]
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaynowStarted {
    /// Our reference for the transaction.
    pub reference: String,
    /// Where to send the payer.
    pub browser_url: String,
}

fn gateway(state: &AppState) -> ApiResult<&Arc<PaynowGateway>> {
    state.paynow.as_ref().ok_or_else(|| ApiError::QueryLimit {
        // As if the route were not there: this deployment offers no Paynow.
        status: StatusCode::NOT_FOUND,
        kind: "paynow-not-configured",
        detail: "payments through Paynow are not set up on this server".into(),
    })
}

/// This server's address as Paynow and payers should use it.
fn public_base(gateway: &PaynowGateway, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(url) = &gateway.public_url {
        return Ok(url.as_str().trim_end_matches('/').to_owned());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| ApiError::BadRequest("no Host header".into()))?;
    Ok(format!("http://{host}"))
}

/// Starts a Paynow payment of an invoice: the answer says where to send the payer. The payment
/// is recorded when Paynow reports it paid.
#[utoipa::path(post, path = "/learners/{id}/paynow", tag = "fees", request_body = PaynowStart,
    params(("id" = Uuid, Path, description = "learner id")),
    responses((status = 201, body = PaynowStarted), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem),
              (status = 502, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn start(
    State(state): State<AppState>,
    user: AuthUser,
    Path(learner): Path<LearnerId>,
    headers: HeaderMap,
    ValidJson(req): ValidJson<PaynowStart>,
) -> ApiResult<(StatusCode, Json<PaynowStarted>)> {
    // The school's bursar or head, or a parent for their own learner (RLS: `parent_pays`).
    user.require(PAYERS)?;
    let gateway = gateway(&state)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let invoice = sqlx::query!(
        r#"SELECT school_id AS "school_id: SchoolId", currency, academic_year, term
           FROM finance.invoices WHERE id = $1 AND learner_id = $2"#,
        req.invoice_id,
        learner as LearnerId,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::field("invoice_id", "not an invoice of this learner"))?;
    let id = Uuid::now_v7();
    let reference = format!("OC-{}", id.simple());
    let base = public_base(gateway, &headers)?;
    let started = gateway
        .client
        .initiate(&NewPayment {
            reference: reference.clone(),
            amount: req.amount,
            additional_info: format!(
                "School fees, {} term {}",
                invoice.academic_year, invoice.term
            ),
            return_url: if user.role == Role::Parent {
                format!("{base}/portal/children/{learner}")
            } else {
                format!("{base}/app/learners/{learner}")
            },
            result_url: format!("{base}/api/v1/paynow/result"),
            auth_email: None,
        })
        .await
        .map_err(|e| match e {
            PaynowError::Refused(reason) => ApiError::QueryLimit {
                status: StatusCode::BAD_GATEWAY,
                kind: "paynow-refused",
                detail: format!("Paynow refused the payment: {reason}"),
            },
            other => ApiError::QueryLimit {
                status: StatusCode::BAD_GATEWAY,
                kind: "paynow-unreachable",
                detail: format!("Paynow could not be asked: {other}"),
            },
        })?;
    sqlx::query!(
        "INSERT INTO finance.paynow_transactions (id, school_id, learner_id, invoice_id, reference,
             currency, amount, poll_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        id,
        invoice.school_id as SchoolId,
        learner as LearnerId,
        req.invoice_id,
        reference,
        invoice.currency,
        req.amount,
        started.poll_url,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(PaynowStarted { reference, browser_url: started.browser_url })))
}

/// Paynow's status update (posted by Paynow, not by users): applied only with its hash right,
/// once per transaction.
#[utoipa::path(post, path = "/paynow/result", tag = "fees",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "received"), (status = 400, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn result(State(state): State<AppState>, body: Bytes) -> ApiResult<&'static str> {
    let gateway = gateway(&state)?;
    let update = gateway.client.check_update(&body).map_err(|e| match e {
        PaynowError::BadHash => {
            tracing::warn!("a Paynow update with a wrong hash was refused");
            ApiError::Forbidden
        }
        other => ApiError::BadRequest(other.to_string()),
    })?;
    let outcome = apply_update(&state.pool, &update).await?;
    tracing::info!(reference = %update.reference, status = update.status.as_str(), outcome, "Paynow update");
    match outcome.as_str() {
        "unknown" => Err(ApiError::NotFound),
        "mismatch" => Err(ApiError::BadRequest("the amount is not the transaction's".into())),
        _ => Ok("OK"),
    }
}

/// Applies a status update Paynow signed (posted to the result URL, or the answer to a poll):
/// once per transaction, by `finance.apply_paynow_update`. The outcome: `applied`, `recorded`,
/// `already applied`, `unknown` or `mismatch`.
pub async fn apply_update(
    pool: &sqlx::PgPool,
    update: &oneclass_paynow::Update,
) -> sqlx::Result<String> {
    sqlx::query_scalar!(
        r#"SELECT finance.apply_paynow_update($1, $2, $3, $4, $5) AS "outcome!""#,
        update.reference,
        update.paynow_reference,
        update.amount,
        update.status.as_str(),
        update.status.is_paid(),
    )
    .fetch_one(pool)
    .await
}
