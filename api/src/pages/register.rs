//! The class register as a plain HTML form: one row per learner, a radio button per mark,
//! present by default (no scripts, a few KB a page, for phones on 2G).

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{NaiveDate, Utc};
use oneclass_core::ids::{ClassId, LearnerId};
use oneclass_core::types::AttendanceStatus;
use oneclass_i18n::Lang;
use serde::Deserialize;

use super::kit::{Staff, page_error, problem_text, render};
use crate::auth::AuthUser;
use crate::error::{ApiError, FieldError};
use crate::extract::PageLang;
use crate::extract::Validate;
use crate::register::{self, Mark, RegisterLine, RegisterMarks};
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/app/classes/{id}/register", get(register_page).post(register_submit))
}

#[derive(Template)]
#[template(path = "page_register.html")]
struct RegisterPage {
    lang: Lang,
    date: NaiveDate,
    learners: Vec<RegisterLine>,
    statuses: Vec<&'static str>,
    saved: Option<u64>,
    error: Option<String>,
}

impl RegisterPage {
    /// A mark's name in the page's language (the form's values stay the API's).
    fn status_label(&self, status: &str) -> String {
        self.lang.t(&format!("status-{status}"))
    }
}

#[derive(Deserialize)]
struct RegisterParams {
    date: Option<NaiveDate>,
    saved: Option<u64>,
}

async fn register_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    Path(class_id): Path<ClassId>,
    Query(q): Query<RegisterParams>,
) -> Response {
    let date = q.date.unwrap_or_else(|| Utc::now().date_naive());
    show_register(&state, lang, &user, class_id, date, q.saved, None).await
}

async fn show_register(
    state: &AppState,
    lang: Lang,
    user: &AuthUser,
    class_id: ClassId,
    date: NaiveDate,
    saved: Option<u64>,
    error: Option<String>,
) -> Response {
    // A refused form comes back with its error, as 422.
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    match register::load_register(state, user, class_id, date).await {
        Ok(reg) => render(
            status,
            &RegisterPage {
                lang,
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
    PageLang(lang): PageLang,
    Staff(user): Staff,
    Path(class_id): Path<ClassId>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let fallback = Utc::now().date_naive();
    let body = parse_register_form(&form).and_then(|b| {
        let errors = b.validate();
        if errors.is_empty() { Ok(b) } else { Err(errors) }
    });
    let problem = |errors: Vec<FieldError>| problem_text(&errors);
    match body {
        Ok(body) => match register::save_marks(&state, &user, class_id, &body).await {
            Ok(saved) => Redirect::to(&format!(
                "/app/classes/{class_id}/register?date={}&saved={saved}",
                body.date
            ))
            .into_response(),
            Err(ApiError::Validation(errors)) => {
                let msg = problem(errors);
                show_register(&state, lang, &user, class_id, body.date, None, Some(msg)).await
            }
            Err(e) => page_error(e),
        },
        Err(errors) => {
            let date = form.get("date").and_then(|d| d.parse().ok()).unwrap_or(fallback);
            let msg = problem(errors);
            show_register(&state, lang, &user, class_id, date, None, Some(msg)).await
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
