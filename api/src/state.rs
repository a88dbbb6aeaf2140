//! The state every handler is given, and the request id extractor.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

use crate::security::{JwtKeys, RateLimiter};

/// The header that carries a request's id (set by the middleware, or sent by the client).
pub const REQUEST_ID: &str = "x-request-id";

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub jwt: Arc<JwtKeys>,
    pub warehouse: Arc<oneclass_warehouse::Warehouse>,
    /// Sign-in attempts per username.
    pub login_limiter: Arc<RateLimiter>,
    /// Sign-in attempts per client address.
    pub address_limiter: Arc<RateLimiter>,
    /// Bounds concurrent argon2 verifications (CPU- and memory-heavy by design).
    pub hashing: Arc<tokio::sync::Semaphore>,
    pub metrics: PrometheusHandle,
    pub openapi: Arc<utoipa::openapi::OpenApi>,
    /// Paynow, when configured.
    pub paynow: Option<Arc<PaynowGateway>>,
    /// New messages, for the pages open on them.
    pub live: crate::live::Live,
    /// The token the SMS provider sends with its delivery reports; None: reports are not taken.
    pub sms_report_token: Option<Arc<secrecy::SecretString>>,
}

/// Paynow as this server is configured to reach it.
pub struct PaynowGateway {
    pub client: oneclass_paynow::Client,
    /// Where Paynow and payers reach this server; None: the address the request came in by.
    pub public_url: Option<url::Url>,
}

/// The request id set by the middleware (or sent by the client), for audit rows and logs.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let id = parts
            .headers
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok(RequestId(id))
    }
}
