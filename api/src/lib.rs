//! The operational API: sign-in and access (sessions, roles at schools, invitations, password
//! resets, the audit), schools, learners and enrolments, the class register, assessment and
//! report cards, analysts' SQL,
//! OpenAPI, health and metrics. One module per area, each exporting its `router()`.
//! HTTP habits (request ids, tracing, compression, limits, timeouts) live in `with_middleware`.

pub mod academic;
pub mod access;
pub mod announcements;
pub mod assessment;
pub mod attendance;
pub mod attention;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod csv_out;
pub mod enrolment;
pub mod error;
pub mod exams;
pub mod extract;
pub mod fees;
pub mod gradebook;
pub mod guardians;
pub mod idempotency;
pub mod import;
pub mod invoicing;
pub mod learners;
pub mod live;
pub mod members;
pub mod messages;
pub mod ops;
pub mod pages;
pub mod pagination;
pub mod paynow;
pub mod portal;
pub mod register;
pub mod saved;
pub mod schools;
pub mod security;
pub mod sms_reports;
pub mod sql;
pub mod staff;
pub mod state;
pub mod support;
pub mod timetable;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;

use sqlx::PgPool;

use crate::state::REQUEST_ID;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

pub use auth::AuthUser;
pub use security::{JwtKeys, RateLimiter};
pub use state::{AppState, RequestId};

const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(OpenApi)]
#[openapi(
    info(title = "OneClass", description = "School management and education analytics for Zimbabwe."),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "access"), (name = "schools"), (name = "learners"), (name = "academic"), (name = "staff"), (name = "attendance"), (name = "assessment"), (name = "fees"), (name = "comms"), (name = "portal"), (name = "analytics"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The `/api/v1` routes and the OpenAPI document generated from them.
pub fn api_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let v1 = OpenApiRouter::new()
        .routes(utoipa_axum::routes!(auth::login))
        .merge(access::router())
        .merge(members::router())
        .merge(audit::router())
        .merge(schools::router())
        .merge(learners::router())
        .merge(guardians::router())
        .merge(import::router())
        .merge(enrolment::router())
        .merge(academic::router())
        .merge(timetable::router())
        .merge(staff::router())
        .merge(register::router())
        .merge(attendance::router())
        .merge(assessment::router())
        .merge(gradebook::router())
        .merge(exams::router())
        .merge(fees::router())
        .merge(invoicing::router())
        .merge(messages::router())
        .merge(sms_reports::router())
        .merge(paynow::router())
        .merge(announcements::router())
        .merge(portal::router())
        .merge(sql::router())
        .merge(saved::router())
        .merge(catalog::router())
        .merge(attention::router())
        .merge(support::router());
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", v1).split_for_parts()
}

/// Everything the API serves, with its state. Dashboards are merged by the caller.
pub fn router(
    pool: PgPool,
    jwt: JwtKeys,
    warehouse: Arc<oneclass_warehouse::Warehouse>,
    paynow: Option<state::PaynowGateway>,
    live: live::Live,
    sms_report_token: Option<secrecy::SecretString>,
) -> Router {
    let (api, openapi) = api_routes();
    let state = AppState {
        pool,
        jwt: Arc::new(jwt),
        warehouse,
        login_limiter: Arc::new(RateLimiter::new(10, Duration::from_secs(60))),
        address_limiter: Arc::new(RateLimiter::new(120, Duration::from_secs(60))),
        hashing: Arc::new(tokio::sync::Semaphore::new(4)),
        metrics: ops::metrics_handle(),
        openapi: Arc::new(openapi),
        paynow: paynow.map(Arc::new),
        live,
        sms_report_token: sms_report_token.map(Arc::new),
    };
    api.merge(pages::router())
        .route("/api/v1/openapi.json", get(ops::openapi_json))
        .route("/api/docs", get(ops::docs))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .with_state(state)
}

/// Production HTTP habits around any router: a request id on every request and response, a
/// tracing span carrying it, per-route metrics, compression, a body size limit and a timeout.
pub fn with_middleware(router: Router) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID);
    router
        .layer(middleware::from_fn(error::problems_for_rejections))
        .layer(middleware::from_fn(record_metrics))
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(middleware::map_request(drop_unusable_request_id))
}

/// A client's `x-request-id` is kept for tracing across services only when it looks like an
/// id (it lands in logs and audit rows); anything else is replaced by a fresh one.
async fn drop_unusable_request_id(mut req: Request) -> Request {
    let usable = req.headers().get(REQUEST_ID).is_none_or(|v| {
        v.len() <= 64
            && v.as_bytes()
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if !usable {
        req.headers_mut().remove(REQUEST_ID);
    }
    req
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("oneclass_http_requests_total", &labels).increment(1);
    metrics::histogram!("oneclass_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    /// The OpenAPI document is a contract with every client: a change to it shows up in review
    /// as a change to this snapshot (`cargo insta review`, or `INSTA_UPDATE=always` to accept).
    #[test]
    fn openapi_document_is_the_reviewed_one() {
        let (_, openapi) = super::api_routes();
        insta::assert_json_snapshot!(openapi);
    }
}
