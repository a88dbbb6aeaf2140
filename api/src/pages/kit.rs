//! What every staff page shares: rendering, how errors show, and reading a field error list.

use askama::Template;
use axum::http::StatusCode;
use std::time::Duration;

use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};

use crate::auth::SESSION_COOKIE;
use crate::error::{ApiError, FieldError};

pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
    }
}

/// Pages answer a missing or expired session with the sign-in form, and other errors with the
/// API's problem responses (404 for what the user may not see).
pub fn page_error(e: ApiError) -> Response {
    match e {
        ApiError::Unauthorized(_) => Redirect::to("/app/login").into_response(),
        other => other.into_response(),
    }
}

/// Field errors as one line for a form's error box ("amount: must be above 0; …").
pub fn problem_text(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; ")
}

/// What a form's failed submission shows: a field list for a 422, the message of a conflict, and
/// `None` for errors that are answered as the API answers them (404, 403, 500).
pub fn form_problem(e: &ApiError) -> Option<String> {
    match e {
        ApiError::Validation(errors) => Some(problem_text(errors)),
        ApiError::Conflict(message) => Some(message.clone()),
        _ => None,
    }
}

/// An empty optional form field is absent.
pub fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `HttpOnly` keeps the token from scripts, `SameSite=Strict` keeps other sites' forms from
/// posting with it (our CSRF defence), `Secure` keeps it off plain-HTTP networks (browsers treat
/// localhost as secure, so the demo works).
pub fn session_cookie(token: String, max_age: Duration) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(i64::try_from(max_age.as_secs()).unwrap_or(0)))
        .build()
}
