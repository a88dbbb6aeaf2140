//! The parents' portal under `/portal`: sign-in with a code sent by SMS (or a phone number and
//! password), each child's attendance, marks, report cards and fees, paying through Paynow, the
//! school's announcements, and setting a password. Plain HTML forms, like the staff pages.

use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::FromRequestParts;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use chrono::{Datelike, Utc};
use oneclass_core::ids::LearnerId;
use oneclass_core::types::{Phone, Role};
use oneclass_i18n::Lang;
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use super::kit::{form_problem, page_error, render, session_cookie, sign_out};
use crate::academic::{self, Term};
use crate::announcements::{self, Announcement, AnnouncementQuery};
use crate::auth::{self, AuthUser, ClientAddr};
use crate::error::ApiError;
use crate::extract::PageLang;
use crate::extract::{ValidJson, Validate};
use crate::paynow::{self, PaynowStart};
use crate::portal::{self, Child, ChildRecord, CodeCheck, CodeRequest, NewPortalPassword};
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/portal", get(|| async { Redirect::permanent("/portal/") }))
        .route("/portal/", get(home))
        .route("/portal/login", get(login_page).post(password_login))
        .route("/portal/code", post(send_code))
        .route("/portal/verify", post(verify))
        .route("/portal/logout", post(logout))
        .route("/portal/children/{id}", get(child_page))
        .route("/portal/children/{id}/pay", post(pay))
        .route("/portal/password", get(password_page).post(password_set))
}

/// Portal pages answer a missing session with the portal's own sign-in.
pub(super) fn portal_error(e: ApiError) -> Response {
    match e {
        ApiError::Unauthorized(_) | ApiError::Forbidden => {
            Redirect::to("/portal/login").into_response()
        }
        other => page_error(other),
    }
}

/// The signed-in parent of a portal page; anyone else is sent to the portal's sign-in.
pub(super) struct Parent(pub(super) AuthUser);

impl FromRequestParts<AppState> for Parent {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let user = AuthUser::from_request_parts(parts, state).await.map_err(portal_error)?;
        user.require(&[Role::Parent]).map_err(portal_error)?;
        Ok(Parent(user))
    }
}

#[derive(Template)]
#[template(path = "portal_login.html")]
struct LoginPage {
    lang: Lang,
    /// The phone a code was sent to: the page asks for the code.
    code_sent_to: Option<String>,
    phone: String,
    error: Option<String>,
}

async fn login_page(PageLang(lang): PageLang) -> Response {
    let page = LoginPage { lang, code_sent_to: None, phone: String::new(), error: None };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct PhoneForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

/// The sign-in page again, with the message `error` (a key) in the page's language.
fn login_again(
    lang: Lang,
    phone: &str,
    code_sent_to: Option<String>,
    status: StatusCode,
    error: &str,
) -> Response {
    let page =
        LoginPage { lang, code_sent_to, phone: phone.to_owned(), error: Some(lang.t(error)) };
    render(status, &page)
}

/// Sends a code (the answer is the same for any phone: it tells no one who is a parent here).
async fn send_code(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    client: ClientAddr,
    Form(form): Form<PhoneForm>,
) -> Response {
    let Ok(phone) = Phone::parse(form.phone.trim()) else {
        return login_again(
            lang,
            &form.phone,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "portal-not-a-phone",
        );
    };
    let shown = phone.as_str().to_owned();
    match portal::request_code(
        State(state),
        client,
        PageLang(lang),
        ValidJson(CodeRequest { phone }),
    )
    .await
    {
        Ok(_) => render(
            StatusCode::OK,
            &LoginPage { lang, code_sent_to: Some(shown.clone()), phone: shown, error: None },
        ),
        Err(ApiError::TooManyRequests) => login_again(
            lang,
            &form.phone,
            None,
            StatusCode::TOO_MANY_REQUESTS,
            "portal-too-many-codes",
        ),
        Err(e) => page_error(e),
    }
}

async fn verify(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    client: ClientAddr,
    jar: CookieJar,
    Form(form): Form<PhoneForm>,
) -> Response {
    let Ok(phone) = Phone::parse(form.phone.trim()) else {
        return Redirect::to("/portal/login").into_response();
    };
    let shown = phone.as_str().to_owned();
    let check = CodeCheck { phone, code: form.code.clone() };
    if !check.validate().is_empty() {
        return login_again(
            lang,
            &shown,
            Some(shown.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "portal-code-format",
        );
    }
    match portal::verify_code(State(state.clone()), client, ValidJson(check)).await {
        Ok(answer) => signed_in(jar, answer.0.access_token, state.jwt.ttl),
        Err(ApiError::Unauthorized(_)) => login_again(
            lang,
            &shown,
            Some(shown.clone()),
            StatusCode::UNAUTHORIZED,
            "portal-wrong-code",
        ),
        Err(ApiError::TooManyRequests) => {
            login_again(lang, &shown, None, StatusCode::TOO_MANY_REQUESTS, "portal-too-many-tries")
        }
        Err(e) => page_error(e),
    }
}

fn signed_in(jar: CookieJar, token: String, ttl: Duration) -> Response {
    (jar.add(session_cookie(token, ttl)), Redirect::to("/portal/")).into_response()
}

/// The phone number and password, once the parent has set one.
async fn password_login(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    client: ClientAddr,
    jar: CookieJar,
    Form(form): Form<PhoneForm>,
) -> Response {
    match auth::authenticate(&state, client.0, &form.phone, &form.password, None).await {
        Ok(user) if user.role == Role::Parent => match auth::issue(&state.jwt, &user) {
            Ok(token) => signed_in(jar, token, state.jwt.ttl),
            Err(e) => e.into_response(),
        },
        Ok(_) => Redirect::to("/app/login").into_response(),
        Err(ApiError::TooManyRequests) => {
            login_again(lang, &form.phone, None, StatusCode::TOO_MANY_REQUESTS, "too-many-attempts")
        }
        Err(_) => {
            login_again(lang, &form.phone, None, StatusCode::UNAUTHORIZED, "portal-wrong-password")
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    user: Result<AuthUser, ApiError>,
    jar: CookieJar,
) -> Response {
    sign_out(&state, user, jar, "/portal/login").await
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct HomePage {
    lang: Lang,
    children: Vec<Child>,
    announcements: Vec<Announcement>,
}

async fn home(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Parent(user): Parent,
) -> Response {
    let children = match portal::children(State(state.clone()), user.clone()).await {
        Ok(c) => c.0,
        Err(e) => return portal_error(e),
    };
    let q = AnnouncementQuery { school_id: None, limit: Some(5), after: None };
    let announcements = match announcements::list_announcements(State(state), user, Query(q)).await
    {
        Ok(page) => page.0.items,
        Err(e) => return portal_error(e),
    };
    render(StatusCode::OK, &HomePage { lang, children, announcements })
}

#[derive(Template)]
#[template(path = "portal_child.html")]
struct ChildPage {
    lang: Lang,
    record: ChildRecord,
    cards: Vec<Term>,
    error: Option<String>,
}

impl ChildPage {
    /// "Present on 18 of 20 school days …" (late counts as present).
    fn present_text(&self) -> String {
        let present = self
            .record
            .attendance
            .iter()
            .filter(|d| d.status == "present" || d.status == "late")
            .count();
        let days = self.record.attendance.len();
        self.lang
            .t_args("present-days", &[("present", present.to_string()), ("days", days.to_string())])
    }

    /// A mark's name in the page's language.
    fn status_text(&self, status: &str) -> String {
        self.lang.t(&format!("status-{status}"))
    }

    fn term_text(&self, t: &Term) -> String {
        let (term, year) = (t.term.to_string(), t.academic_year.to_string());
        self.lang.t_args("term-of-year", &[("term", term), ("year", year)])
    }
}

async fn child_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Parent(user): Parent,
    Path(id): Path<LearnerId>,
) -> Response {
    show_child(&state, lang, user, id, None, StatusCode::OK).await
}

async fn show_child(
    state: &AppState,
    lang: Lang,
    user: AuthUser,
    id: LearnerId,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let record = match portal::child(State(state.clone()), user.clone(), Path(id)).await {
        Ok(r) => r.0,
        Err(e) => return portal_error(e),
    };
    let today = Utc::now().date_naive();
    let q = academic::TermQuery { year: Some(today.year()) };
    let cards = match academic::list_terms(State(state.clone()), user, Query(q)).await {
        Ok(terms) => terms.0.into_iter().filter(|t| t.start_date <= today).collect(),
        Err(e) => return portal_error(e),
    };
    render(status, &ChildPage { lang, record, cards, error })
}

#[derive(Deserialize)]
struct PayForm {
    invoice_id: Uuid,
    amount: String,
}

/// Starts a Paynow payment and sends the parent to Paynow's page.
async fn pay(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Parent(user): Parent,
    headers: HeaderMap,
    Path(id): Path<LearnerId>,
    Form(form): Form<PayForm>,
) -> Response {
    if state.paynow.is_none() {
        let msg = lang.t("paynow-not-set-up");
        return show_child(&state, lang, user, id, Some(msg), StatusCode::SERVICE_UNAVAILABLE)
            .await;
    }
    let amount = form.amount.trim().replace(',', "").parse::<Decimal>();
    let started = match amount {
        Ok(amount) => {
            let start = PaynowStart { invoice_id: form.invoice_id, amount };
            let errors = start.validate();
            if errors.is_empty() {
                paynow::start(
                    State(state.clone()),
                    user.clone(),
                    Path(id),
                    headers,
                    ValidJson(start),
                )
                .await
            } else {
                Err(ApiError::Validation(errors))
            }
        }
        Err(_) => Err(ApiError::field("amount", "must be an amount such as 20.00")),
    };
    match started {
        Ok((_, started)) => Redirect::to(&started.0.browser_url).into_response(),
        Err(e) => match form_problem(&e) {
            Some(msg) => {
                show_child(&state, lang, user, id, Some(msg), StatusCode::UNPROCESSABLE_ENTITY)
                    .await
            }
            None => portal_error(e),
        },
    }
}

#[derive(Template)]
#[template(path = "portal_password.html")]
struct PasswordPage {
    lang: Lang,
    done: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
struct PasswordParams {
    done: Option<u8>,
}

async fn password_page(
    PageLang(lang): PageLang,
    _parent: Parent,
    Query(p): Query<PasswordParams>,
) -> Response {
    render(StatusCode::OK, &PasswordPage { lang, done: p.done.is_some(), error: None })
}

#[derive(Deserialize)]
struct PasswordForm {
    new_password: String,
}

async fn password_set(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Parent(user): Parent,
    Form(form): Form<PasswordForm>,
) -> Response {
    let new = NewPortalPassword { new_password: form.new_password };
    let errors = new.validate();
    let set = if errors.is_empty() {
        portal::set_password(State(state), user, ValidJson(new)).await
    } else {
        Err(ApiError::Validation(errors))
    };
    match set {
        Ok(_) => Redirect::to("/portal/password?done=1").into_response(),
        Err(e) => match form_problem(&e) {
            Some(msg) => render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordPage { lang, done: false, error: Some(msg) },
            ),
            None => portal_error(e),
        },
    }
}
