//! The API's one error type. Every error leaves as `application/problem+json` (RFC 9457);
//! a 500 carries a generic body and its cause goes to the log, never to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field of a request: its path (`sex`, `marks[2].status`) and why.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// The problem+json body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request")]
    Validation(Vec<FieldError>),
    #[error("authentication required")]
    Unauthorized(&'static str),
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many requests")]
    TooManyRequests,
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A query stopped by one of its limits: not a mistake in a field of the request, and not a
    /// fault of the server. `kind` names the limit in the problem's type.
    #[error("query limit: {detail}")]
    QueryLimit { status: StatusCode, kind: &'static str, detail: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, reason)])
    }
}

impl From<oneclass_warehouse::WarehouseError> for ApiError {
    fn from(e: oneclass_warehouse::WarehouseError) -> Self {
        use oneclass_warehouse::WarehouseError as W;
        let hint = "narrow the query (fewer rows, a shorter date range) or aggregate first";
        match e {
            W::Timeout(_) => ApiError::QueryLimit {
                status: StatusCode::GATEWAY_TIMEOUT,
                kind: "query-time-limit",
                detail: format!("{e}: {hint}"),
            },
            W::ResourcesExhausted(_) => ApiError::QueryLimit {
                status: StatusCode::SERVICE_UNAVAILABLE,
                kind: "query-memory-limit",
                detail: format!("the query needed more memory than its limit: {hint}"),
            },
            e if e.is_user_error() => ApiError::field("sql", e.to_string()),
            e => ApiError::Internal(e.to_string()),
        }
    }
}

pub fn problem(status: StatusCode, detail: Option<String>, errors: Vec<FieldError>) -> Response {
    problem_of_kind(status, "about:blank".into(), detail, errors)
}

fn problem_of_kind(
    status: StatusCode,
    kind: String,
    detail: Option<String>,
    errors: Vec<FieldError>,
) -> Response {
    let body = Problem {
        kind,
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail,
        errors,
    };
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Validation(errors) => problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("the request has invalid fields".into()),
                errors,
            ),
            ApiError::Unauthorized(why) => {
                problem(StatusCode::UNAUTHORIZED, Some(why.to_string()), vec![])
            }
            ApiError::Forbidden => {
                problem(StatusCode::FORBIDDEN, Some("your role may not do this".into()), vec![])
            }
            ApiError::NotFound => problem(StatusCode::NOT_FOUND, None, vec![]),
            ApiError::Conflict(why) => problem(StatusCode::CONFLICT, Some(why), vec![]),
            ApiError::TooManyRequests => problem(
                StatusCode::TOO_MANY_REQUESTS,
                Some("too many attempts: wait and try again".into()),
                vec![],
            ),
            ApiError::BadRequest(why) => problem(StatusCode::BAD_REQUEST, Some(why), vec![]),
            ApiError::QueryLimit { status, kind, detail } => {
                tracing::warn!(limit = kind, "a query was stopped by its limit");
                problem_of_kind(
                    status,
                    format!("urn:oneclass:problem:{kind}"),
                    Some(detail),
                    vec![],
                )
            }
            ApiError::Database(e) => {
                if e.as_database_error().is_some_and(|db| db.is_unique_violation()) {
                    return problem(
                        StatusCode::CONFLICT,
                        Some("a record with the same unique key already exists".into()),
                        vec![],
                    );
                }
                // A handler's own checks come first; these are the database's, behind them.
                if e.as_database_error().is_some_and(|db| db.is_foreign_key_violation()) {
                    tracing::warn!(error = %e, "a request named a record that does not exist");
                    return problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some("the request names a record that does not exist".into()),
                        vec![FieldError::new("request", "names a record that does not exist")],
                    );
                }
                if e.as_database_error().is_some_and(|db| db.is_check_violation()) {
                    tracing::warn!(error = %e, "a request broke a check of the database");
                    return problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some("the request has invalid fields".into()),
                        vec![FieldError::new(
                            "request",
                            "a value is outside what the record allows",
                        )],
                    );
                }
                tracing::error!(error = %e, "database error");
                problem(StatusCode::INTERNAL_SERVER_ERROR, None, vec![])
            }
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                problem(StatusCode::INTERNAL_SERVER_ERROR, None, vec![])
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The largest plain-text rejection body read to turn it into a problem.
const MAX_REJECTION_BYTES: usize = 4096;

/// Every error of `/api/…` leaves as problem+json, also those the framework answers before a
/// handler runs: a query string or path that does not parse (422 naming the parameter, as any
/// other bad input), an unknown route (404), a wrong method (405), a body too large (413) or of
/// the wrong type (415).
pub async fn problems_for_rejections(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !api || !status.is_client_error() || is_problem {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let body = axum::body::to_bytes(response.into_body(), MAX_REJECTION_BYTES).await;
    let text = body.map(|b| String::from_utf8_lossy(&b).trim().to_owned()).unwrap_or_default();
    let mut answer = if status == StatusCode::BAD_REQUEST {
        let (field, reason) = rejected_field(&text);
        problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("the request has invalid fields".into()),
            vec![FieldError::new(field, reason)],
        )
    } else {
        problem(status, (!text.is_empty()).then_some(text), vec![])
    };
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    answer
}

/// The parameter a framework rejection names, and why: `Failed to deserialize query string:
/// limit: invalid digit found in string` is the query parameter `limit`.
fn rejected_field(text: &str) -> (String, String) {
    if let Some(rest) = text.strip_prefix("Failed to deserialize query string: ") {
        return match rest.split_once(": ") {
            Some((field, reason)) if !field.contains(' ') => (field.to_owned(), reason.to_owned()),
            _ => ("query".to_owned(), rest.to_owned()),
        };
    }
    if let Some(rest) = text.strip_prefix("Invalid URL: ") {
        return ("path".to_owned(), rest.to_owned());
    }
    ("request".to_owned(), text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_rejections_name_their_parameter() {
        assert_eq!(
            rejected_field(
                "Failed to deserialize query string: limit: invalid digit found in string"
            ),
            ("limit".into(), "invalid digit found in string".into())
        );
        assert_eq!(
            rejected_field("Failed to deserialize query string: missing field `term`"),
            ("query".into(), "missing field `term`".into())
        );
        assert_eq!(
            rejected_field("Invalid URL: Cannot parse `x` to a UUID"),
            ("path".into(), "Cannot parse `x` to a UUID".into())
        );
    }
}
