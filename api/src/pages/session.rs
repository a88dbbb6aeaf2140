//! Signing in and out of the staff pages: a form that sets the session cookie, and sign-out.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::CookieJar;
use oneclass_core::types::Role;
use oneclass_i18n::Lang;
use serde::Deserialize;

use super::kit::{render, session_cookie, sign_out};
use crate::auth::{self, AuthUser};
use crate::error::ApiError;
use crate::extract::PageLang;
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/app/login", get(login_page).post(login_submit))
        .route("/app/logout", axum::routing::post(logout))
}

#[derive(Template)]
#[template(path = "page_login.html")]
struct LoginPage<'a> {
    lang: Lang,
    error: Option<String>,
    username: &'a str,
}

async fn login_page(PageLang(lang): PageLang) -> Response {
    render(StatusCode::OK, &LoginPage { lang, error: None, username: "" })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    client: auth::ClientAddr,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    match auth::authenticate(&state, client.0, &form.username, &form.password, None).await {
        Ok(user) => match auth::issue(&state.jwt, &user) {
            Ok(token) => {
                // Parents sign in on the same form, to their portal.
                let home = if user.role == Role::Parent { "/portal/" } else { "/app/" };
                (jar.add(session_cookie(token, state.jwt.ttl)), Redirect::to(home)).into_response()
            }
            Err(e) => e.into_response(),
        },
        Err(ApiError::Unauthorized(_)) => render(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                lang,
                error: Some(lang.t("wrong-username-or-password")),
                username: &form.username,
            },
        ),
        Err(ApiError::TooManyRequests) => render(
            StatusCode::TOO_MANY_REQUESTS,
            &LoginPage { lang, error: Some(lang.t("too-many-attempts")), username: &form.username },
        ),
        Err(e) => e.into_response(),
    }
}

/// Signs out: the session is revoked (its token stops working everywhere) and the cookie
/// cleared.
async fn logout(
    State(state): State<AppState>,
    user: Result<AuthUser, ApiError>,
    jar: CookieJar,
) -> Response {
    sign_out(&state, user, jar, "/app/login").await
}
