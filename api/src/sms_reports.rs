//! Delivery reports from the SMS provider: after a message was handed over (`sent`), the
//! provider posts whether it reached the phone. The route is open only when a report token is
//! configured (`ONECLASS_SMS_REPORT_TOKEN`), and the provider must send it as a bearer token;
//! the message is found by the provider's own id for it (what the gateway answered when sending).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(delivery_report))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryReport {
    /// The provider's id for the message (its answer when the message was sent).
    pub id: String,
    /// `delivered`, or `undelivered` (also `failed` or `expired`, read as undelivered).
    pub status: String,
    /// The provider's reason, if any (at most 500 characters are kept).
    pub detail: Option<String>,
}

impl Validate for DeliveryReport {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.id.trim().is_empty() || self.id.len() > 200 {
            e.push(FieldError::new("id", "must be 1 to 200 characters"));
        }
        if !["delivered", "undelivered", "failed", "expired"].contains(&self.status.as_str()) {
            e.push(FieldError::new("status", "must be delivered, undelivered, failed or expired"));
        }
        e
    }
}

/// Records a provider's delivery report for a message it was given.
#[utoipa::path(post, path = "/sms/delivery-reports", tag = "messages",
    request_body = DeliveryReport,
    responses((status = 204, description = "recorded"), (status = 401, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delivery_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    ValidJson(report): ValidJson<DeliveryReport>,
) -> ApiResult<StatusCode> {
    let Some(token) = state.sms_report_token.as_ref() else {
        return Err(ApiError::NotFound);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same(given.as_bytes(), token.expose_secret().as_bytes()) {
        return Err(ApiError::Unauthorized("the SMS provider's report token is required"));
    }
    let found = sqlx::query_scalar!(
        r#"SELECT comms.record_delivery($1, $2, $3) AS "found!""#,
        report.id.trim(),
        report.status == "delivered",
        report.detail.as_deref(),
    )
    .fetch_one(&state.pool)
    .await?;
    if found { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::NotFound) }
}

/// Equal bytes, compared in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
