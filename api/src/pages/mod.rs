//! Staff pages under `/app`: a sign-in form that sets a session cookie, the teacher's classes,
//! and the class register as a plain HTML form (no scripts, a few KB a page, for phones on 2G).
//! The pages call the same functions as the JSON API, so rules and scoping are the API's.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::{NaiveDate, Utc};
use oneclass_core::ids::{ClassId, LearnerId, SchoolId};
use oneclass_core::types::{AttendanceStatus, Role};
use serde::Deserialize;

use crate::auth::{self, AuthUser, SESSION_COOKIE};
use crate::error::{ApiError, FieldError};
use crate::extract::Validate;
use crate::register::{self, Class, Mark, RegisterLine, RegisterMarks};
use crate::state::{AppState, RequestId};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/app", get(|| async { Redirect::permanent("/app/") }))
        .route("/app/", get(classes_page))
        .route("/app/login", get(login_page).post(login_submit))
        .route("/app/logout", axum::routing::post(logout))
        .route("/app/classes/{id}/register", get(register_page).post(register_submit))
        .route("/app/catalog", get(catalog_page))
        .route("/app/attention", get(attention_page))
}

#[derive(Template)]
#[template(path = "page_catalog.html")]
struct CatalogPage {
    catalog: crate::catalog::Catalog,
}

/// The analyst's catalog as a page (the same as `GET /api/v1/sql/catalog`).
async fn catalog_page(State(state): State<AppState>, user: Result<AuthUser, ApiError>) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e),
    };
    match crate::catalog::catalog_of(&state, &user).await {
        Ok(catalog) => render(StatusCode::OK, &CatalogPage { catalog }),
        Err(e) => page_error(e),
    }
}

#[derive(Template)]
#[template(path = "page_attention.html")]
struct AttentionPage {
    list: crate::attention::Attention,
}

#[derive(Deserialize)]
struct AttentionParams {
    /// The school; the user's only school when absent.
    school: Option<SchoolId>,
}

/// The learners of the head's school who need attention today, with their reasons (audited).
async fn attention_page(
    State(state): State<AppState>,
    user: Result<AuthUser, ApiError>,
    request_id: RequestId,
    Query(q): Query<AttentionParams>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e),
    };
    let school = match user.school_for_write(q.school) {
        Ok(school) => school,
        Err(e) => return page_error(e),
    };
    let today = Utc::now().date_naive();
    match crate::attention::attention(&state, &user, &request_id, school, today).await {
        Ok(list) => render(StatusCode::OK, &AttentionPage { list }),
        Err(e) => page_error(e),
    }
}

#[derive(Template)]
#[template(path = "page_login.html")]
struct LoginPage<'a> {
    error: Option<&'a str>,
    username: &'a str,
}

#[derive(Template)]
#[template(path = "page_classes.html")]
struct ClassesPage {
    classes: Vec<Class>,
    /// What else this user may open from here, as (address, title).
    links: Vec<(&'static str, &'static str)>,
}

/// The pages a role reaches from `/app/` besides its classes.
fn links_for(role: Role) -> Vec<(&'static str, &'static str)> {
    let mut links = vec![("/dash/", "Dashboards")];
    match role {
        Role::SchoolHead | Role::Deputy => {
            links.push(("/app/attention", "Learners who need attention"));
        }
        Role::Analyst => links.push(("/app/catalog", "What you can query (SQL catalog)")),
        _ => {}
    }
    links
}

#[derive(Template)]
#[template(path = "page_register.html")]
struct RegisterPage {
    date: NaiveDate,
    learners: Vec<RegisterLine>,
    statuses: Vec<&'static str>,
    saved: Option<u64>,
    error: Option<String>,
}

fn render(status: StatusCode, page: &impl Template) -> Response {
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
fn page_error(e: ApiError) -> Response {
    match e {
        ApiError::Unauthorized(_) => Redirect::to("/app/login").into_response(),
        other => other.into_response(),
    }
}

async fn login_page() -> Response {
    render(StatusCode::OK, &LoginPage { error: None, username: "" })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

/// `HttpOnly` keeps the token from scripts, `SameSite=Strict` keeps other sites' forms from
/// posting with it (our CSRF defence), `Secure` keeps it off plain-HTTP networks (browsers treat
/// localhost as secure, so the demo works).
fn session_cookie(token: String, max_age: Duration) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(i64::try_from(max_age.as_secs()).unwrap_or(0)))
        .build()
}

async fn login_submit(
    State(state): State<AppState>,
    client: auth::ClientAddr,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    match auth::authenticate(&state, client.0, &form.username, &form.password, None).await {
        Ok(user) => match auth::issue(&state.jwt, &user) {
            Ok(token) => (jar.add(session_cookie(token, state.jwt.ttl)), Redirect::to("/app/"))
                .into_response(),
            Err(e) => e.into_response(),
        },
        Err(ApiError::Unauthorized(_)) => render(
            StatusCode::UNAUTHORIZED,
            &LoginPage { error: Some("Wrong username or password."), username: &form.username },
        ),
        Err(ApiError::TooManyRequests) => render(
            StatusCode::TOO_MANY_REQUESTS,
            &LoginPage {
                error: Some("Too many attempts: wait a few minutes and try again."),
                username: &form.username,
            },
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
    if let Ok(user) = user
        && let Err(e) =
            crate::access::revoke(&state.pool, user.id, Some(user.session), user.id).await
    {
        return ApiError::from(e).into_response();
    }
    (jar.add(session_cookie(String::new(), Duration::ZERO)), Redirect::to("/app/login"))
        .into_response()
}

async fn classes_page(State(state): State<AppState>, user: Result<AuthUser, ApiError>) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e),
    };
    let links = links_for(user.role);
    match register::visible_classes(&state, &user, None).await {
        Ok(classes) => render(StatusCode::OK, &ClassesPage { classes, links }),
        Err(ApiError::Forbidden) => {
            render(StatusCode::OK, &ClassesPage { classes: Vec::new(), links })
        }
        Err(e) => page_error(e),
    }
}

#[derive(Deserialize)]
struct RegisterParams {
    date: Option<NaiveDate>,
    saved: Option<u64>,
}

async fn register_page(
    State(state): State<AppState>,
    user: Result<AuthUser, ApiError>,
    Path(class_id): Path<ClassId>,
    Query(q): Query<RegisterParams>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e),
    };
    let date = q.date.unwrap_or_else(|| Utc::now().date_naive());
    show_register(&state, &user, class_id, date, q.saved, None, StatusCode::OK).await
}

async fn show_register(
    state: &AppState,
    user: &AuthUser,
    class_id: ClassId,
    date: NaiveDate,
    saved: Option<u64>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    match register::load_register(state, user, class_id, date).await {
        Ok(reg) => render(
            status,
            &RegisterPage {
                date,
                learners: reg.learners,
                statuses: AttendanceStatus::ALL.iter().map(|s| s.as_str()).collect(),
                saved,
                error,
            },
        ),
        Err(e) => page_error(e),
    }
}

/// Reads the form: `date` and one `m.<learner id>` = status per learner.
fn parse_register_form(form: &HashMap<String, String>) -> Result<RegisterMarks, Vec<FieldError>> {
    let mut errors = Vec::new();
    let date = form.get("date").and_then(|d| d.parse::<NaiveDate>().ok());
    if date.is_none() {
        errors.push(FieldError::new("date", "a day is required (YYYY-MM-DD)"));
    }
    let mut marks = Vec::new();
    for (key, value) in form {
        let Some(id) = key.strip_prefix("m.") else { continue };
        match (id.parse::<LearnerId>(), value.parse::<AttendanceStatus>()) {
            (Ok(learner_id), Ok(status)) => marks.push(Mark { learner_id, status }),
            _ => errors.push(FieldError::new(key.clone(), "not a learner and a known mark")),
        }
    }
    marks.sort_by_key(|m| m.learner_id);
    match date {
        Some(date) if errors.is_empty() => Ok(RegisterMarks { date, marks }),
        _ => Err(errors),
    }
}

async fn register_submit(
    State(state): State<AppState>,
    user: Result<AuthUser, ApiError>,
    Path(class_id): Path<ClassId>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e),
    };
    let fallback = Utc::now().date_naive();
    let body = parse_register_form(&form).and_then(|b| {
        let errors = b.validate();
        if errors.is_empty() { Ok(b) } else { Err(errors) }
    });
    let problem = |errors: Vec<FieldError>| {
        errors.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; ")
    };
    match body {
        Ok(body) => match register::save_marks(&state, &user, class_id, &body).await {
            Ok(saved) => Redirect::to(&format!(
                "/app/classes/{class_id}/register?date={}&saved={saved}",
                body.date
            ))
            .into_response(),
            Err(ApiError::Validation(errors)) => {
                let msg = problem(errors);
                show_register(
                    &state,
                    &user,
                    class_id,
                    body.date,
                    None,
                    Some(msg),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => page_error(e),
        },
        Err(errors) => {
            let date = form.get("date").and_then(|d| d.parse().ok()).unwrap_or(fallback);
            let msg = problem(errors);
            show_register(
                &state,
                &user,
                class_id,
                date,
                None,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_form_is_parsed_and_bad_fields_named() {
        let id = LearnerId::new();
        let mut form = HashMap::new();
        form.insert("date".to_string(), "2026-11-20".to_string());
        form.insert(format!("m.{id}"), "absent".to_string());
        let parsed = parse_register_form(&form).expect("valid");
        assert_eq!(parsed.marks.len(), 1);
        assert_eq!(parsed.marks[0].status, AttendanceStatus::Absent);
        form.insert("m.not-a-uuid".to_string(), "present".to_string());
        form.insert("date".to_string(), "yesterday".to_string());
        let errors = parse_register_form(&form).expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"date") && fields.contains(&"m.not-a-uuid"));
    }
}
