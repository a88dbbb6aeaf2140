//! What every staff page shares: rendering, how errors show, and reading a field error list.

use askama::Template;
use axum::http::StatusCode;
use std::time::Duration;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use oneclass_i18n::Lang;

use crate::auth::{AuthUser, SESSION_COOKIE};
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

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

/// `/lang/{code}`: keeps the choice in a cookie for a year and goes back to the page it came
/// from (a page of this site), else to the staff landing page. A signed-in user's account keeps
/// it too, so the messages sent to them (SMS) are in it.
pub async fn choose_language(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    let Some(lang) = Lang::from_code(&code) else {
        return ApiError::field("lang", "must be en, sn or nd").into_response();
    };
    if let Some(user) = crate::auth::signed_in(&state.pool, &state.jwt, &headers).await {
        let saved = sqlx::query!(
            "UPDATE platform.users SET lang = $2 WHERE id = $1",
            user.id.as_uuid(),
            lang.code()
        )
        .execute(&state.pool)
        .await;
        if let Err(error) = saved {
            tracing::warn!(%error, "the user's language was not kept");
        }
    }
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .filter(|u| {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            u.host_str().zip(host).is_some_and(|(a, b)| b.split(':').next() == Some(a))
        })
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        })
        .unwrap_or_else(|| "/app/".to_owned());
    let cookie = Cookie::build((oneclass_i18n::COOKIE, lang.code()))
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::days(365))
        .build();
    (jar.add(cookie), Redirect::to(&back)).into_response()
}

/// Signs out: the session is revoked (its token stops working everywhere), the cookie cleared,
/// and the user sent to the sign-in form at `to`.
pub async fn sign_out(
    state: &AppState,
    user: Result<AuthUser, ApiError>,
    jar: CookieJar,
    to: &str,
) -> Response {
    if let Ok(user) = user
        && let Err(e) =
            crate::access::revoke(&state.pool, user.id, Some(user.session), user.id).await
    {
        return ApiError::from(e).into_response();
    }
    (jar.add(session_cookie(String::new(), Duration::ZERO)), Redirect::to(to)).into_response()
}

/// The signed-in user of a staff page. Without a live session the page answers with the
/// sign-in form (other refusals as the API answers them), before the handler runs.
pub struct Staff(pub AuthUser);

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        AuthUser::from_request_parts(parts, state).await.map(Staff).map_err(page_error)
    }
}
