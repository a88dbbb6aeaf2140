//! Entering marks: a class's assessments (and a form to set a new one), and an assessment's mark
//! sheet, one number box per learner, saved all at once through the API's `save_results`.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{NaiveDate, Utc};
use oneclass_core::grading::Exam;
use oneclass_core::ids::{ClassId, LearnerId};
use oneclass_core::types::Grade;
use oneclass_i18n::Lang;
use serde::Deserialize;
use uuid::Uuid;

use super::kit::{Staff, form_problem, page_error, render};
use crate::assessment::{
    self, Assessment, NewAssessment, ResultLine, Results, Sheet, Subject, SubjectQuery, TermQuery,
};
use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, FieldError};
use crate::extract::PageLang;
use crate::extract::{ValidJson, Validate};
use crate::register::visible_class;
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/app/classes/{id}/marks", get(class_marks_page).post(new_assessment))
        .route("/app/assessments/{id}", get(sheet_page).post(save_sheet))
}

#[derive(Template)]
#[template(path = "page_marks.html")]
struct MarksPage {
    lang: Lang,
    class_id: ClassId,
    class_name: String,
    assessments: Vec<Assessment>,
    subjects: Vec<Subject>,
    today: NaiveDate,
    error: Option<String>,
    /// What was typed, shown again after an error.
    form: AssessmentForm,
}

#[derive(Debug, Default, Deserialize)]
struct AssessmentForm {
    #[serde(default)]
    subject_code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    max_score: String,
    held_on: Option<NaiveDate>,
}

async fn class_marks_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    Path(class_id): Path<ClassId>,
) -> Response {
    show_marks(&state, lang, user, class_id, None, AssessmentForm::default()).await
}

async fn show_marks(
    state: &AppState,
    lang: Lang,
    user: AuthUser,
    class_id: ClassId,
    error: Option<String>,
    form: AssessmentForm,
) -> Response {
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let class = async {
        let mut tx = begin_scoped(&state.pool, &user).await?;
        let class = visible_class(&mut tx, &user, class_id).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(class)
    };
    let class = match class.await {
        Ok(c) => c,
        Err(e) => return page_error(e),
    };
    // The learning areas of the class's level (none for ECD, which is not assessed).
    let level =
        class.grade.parse::<Grade>().ok().and_then(Exam::for_grade).map(|e| e.subject_level());
    let subjects = match level {
        Some(level) => {
            let q = SubjectQuery { level: Some(level.to_owned()) };
            match assessment::list_subjects(State(state.clone()), user.clone(), Query(q)).await {
                Ok(list) => list.0,
                Err(e) => return page_error(e),
            }
        }
        None => Vec::new(),
    };
    let assessments = match assessment::list_assessments(
        State(state.clone()),
        user,
        Path(class_id),
        Query(TermQuery { term: None }),
    )
    .await
    {
        Ok(list) => list.0,
        Err(e) => return page_error(e),
    };
    let page = MarksPage {
        lang,
        class_id,
        class_name: class.name,
        assessments,
        subjects,
        today: Utc::now().date_naive(),
        error,
        form,
    };
    render(status, &page)
}

/// Sets a new assessment for the class, then opens its mark sheet.
async fn new_assessment(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    Path(class_id): Path<ClassId>,
    Form(form): Form<AssessmentForm>,
) -> Response {
    let max_score = form.max_score.trim().parse::<f64>();
    let new = match (&max_score, form.held_on) {
        (Ok(max), Some(held_on)) => NewAssessment {
            subject_code: form.subject_code.clone(),
            name: form.name.clone(),
            max_score: *max,
            weight: None,
            held_on,
        },
        _ => {
            let mut errors = Vec::new();
            if max_score.is_err() {
                errors.push(FieldError::new("max_score", "must be a number such as 50"));
            }
            if form.held_on.is_none() {
                errors.push(FieldError::new("held_on", "a day is required"));
            }
            let msg = super::kit::problem_text(&errors);
            return show_marks(&state, lang, user, class_id, Some(msg), form).await;
        }
    };
    let errors = new.validate();
    let created = if errors.is_empty() {
        assessment::create_assessment(
            State(state.clone()),
            user.clone(),
            Path(class_id),
            ValidJson(new),
        )
        .await
    } else {
        Err(ApiError::Validation(errors))
    };
    match created {
        Ok((_, created)) => {
            Redirect::to(&format!("/app/assessments/{}", created.0.id)).into_response()
        }
        Err(e) => match form_problem(&e) {
            Some(msg) => show_marks(&state, lang, user, class_id, Some(msg), form).await,
            None => page_error(e),
        },
    }
}

#[derive(Template)]
#[template(path = "page_sheet.html")]
struct SheetPage {
    lang: Lang,
    sheet: Sheet,
    saved: Option<u64>,
    error: Option<String>,
    /// What was typed, by learner, shown again after an error.
    typed: HashMap<LearnerId, String>,
}

impl SheetPage {
    /// "MAT, 4 Msasa, out of 40".
    fn detail(&self) -> String {
        let a = &self.sheet.assessment;
        self.lang.t_args(
            "sheet-detail",
            &[
                ("subject", a.subject_code.clone()),
                ("class", self.sheet.class_name.clone()),
                ("max", a.max_score.to_string()),
            ],
        )
    }

    /// The value of a learner's box: what was typed, else the score recorded.
    fn value_of(&self, learner: &LearnerId, score: &Option<f64>) -> String {
        match self.typed.get(learner) {
            Some(typed) => typed.clone(),
            None => score.map(|s| format!("{s}")).unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
struct SheetParams {
    saved: Option<u64>,
}

async fn sheet_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    Path(id): Path<Uuid>,
    Query(q): Query<SheetParams>,
) -> Response {
    show_sheet(&state, lang, user, id, q.saved, None, HashMap::new()).await
}

async fn show_sheet(
    state: &AppState,
    lang: Lang,
    user: AuthUser,
    id: Uuid,
    saved: Option<u64>,
    error: Option<String>,
    typed: HashMap<LearnerId, String>,
) -> Response {
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    match assessment::sheet(State(state.clone()), user, Path(id)).await {
        Ok(sheet) => render(status, &SheetPage { lang, sheet: sheet.0, saved, error, typed }),
        Err(e) => page_error(e),
    }
}

/// Reads the sheet: one `s.<learner id>` box per learner; empty boxes are left as they were.
fn parse_sheet(form: &HashMap<String, String>) -> (Vec<ResultLine>, Vec<FieldError>) {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (key, value) in form {
        let Some(id) = key.strip_prefix("s.") else { continue };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match (id.parse::<LearnerId>(), value.replace(',', ".").parse::<f64>()) {
            (Ok(learner_id), Ok(score)) if score.is_finite() && score >= 0.0 => {
                lines.push(ResultLine { learner_id, score });
            }
            _ => errors.push(FieldError::new(key.clone(), "must be a number from 0")),
        }
    }
    lines.sort_by_key(|l| l.learner_id);
    (lines, errors)
}

async fn save_sheet(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    Path(id): Path<Uuid>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let typed: HashMap<LearnerId, String> = form
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("s.")?.parse().ok()?, v.clone())))
        .collect();
    let (results, mut errors) = parse_sheet(&form);
    let body = Results { results };
    if errors.is_empty() {
        errors = body.validate();
    }
    let saved = if errors.is_empty() {
        assessment::save_results(State(state.clone()), user.clone(), Path(id), ValidJson(body))
            .await
    } else {
        Err(ApiError::Validation(errors))
    };
    match saved {
        Ok(saved) => {
            Redirect::to(&format!("/app/assessments/{id}?saved={}", saved.0.saved)).into_response()
        }
        Err(e) => match form_problem(&e) {
            Some(msg) => show_sheet(&state, lang, user, id, None, Some(msg), typed).await,
            None => page_error(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_skips_empty_boxes_and_names_bad_ones() {
        let (a, b) = (LearnerId::new(), LearnerId::new());
        let mut form = HashMap::new();
        form.insert(format!("s.{a}"), "12,5".to_string());
        form.insert(format!("s.{b}"), " ".to_string());
        let (lines, errors) = parse_sheet(&form);
        assert!(errors.is_empty());
        assert_eq!(lines.len(), 1);
        assert_eq!((lines[0].learner_id, lines[0].score), (a, 12.5));
        form.insert(format!("s.{b}"), "-3".to_string());
        form.insert("s.nobody".to_string(), "4".to_string());
        let (_, errors) = parse_sheet(&form);
        let mut fields: Vec<String> = errors.into_iter().map(|e| e.field).collect();
        fields.sort();
        assert_eq!(fields, vec![format!("s.{b}"), "s.nobody".to_string()]);
    }
}
