//! Announcements: the school's latest, and a form to send one to the whole school, a grade, a
//! class or the parents of a class (a teacher: the classes they teach), by SMS too if ticked.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use oneclass_core::ids::ClassId;
use oneclass_core::types::{Grade, Role};
use oneclass_i18n::Lang;
use serde::Deserialize;

use super::kit::{Staff, form_problem, page_error, render};
use crate::announcements::{self, Announcement, AnnouncementQuery, NewAnnouncement};
use crate::auth::AuthUser;
use crate::error::{ApiError, FieldError};
use crate::extract::PageLang;
use crate::extract::{ValidJson, Validate};
use crate::register::{self, Class};
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/app/announcements", get(announcements_page).post(send))
}

#[derive(Template)]
#[template(path = "page_announce.html")]
struct AnnouncePage {
    lang: Lang,
    /// The audiences this user may choose, as (value, label).
    audiences: Vec<(String, String)>,
    announcements: Vec<Announcement>,
    form: AnnounceForm,
    sent: Option<i32>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AnnounceForm {
    /// `school`, `grade:G4`, `class:<id>` or `class_parents:<id>`.
    #[serde(default)]
    audience: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    /// A checkbox: present when ticked.
    sms: Option<String>,
}

#[derive(Deserialize)]
struct Params {
    /// SMS queued by the announcement just sent.
    sent: Option<i32>,
}

/// The choices of audience, in the page's language: the school and its grades for heads and
/// deputies, and each class the user may mark, with its parents.
fn audiences(lang: Lang, role: Role, classes: &[Class]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if role != Role::Teacher {
        out.push(("school".to_owned(), lang.t("choice-school")));
        let mut grades: Vec<&str> = classes.iter().map(|c| c.grade.as_str()).collect();
        grades.dedup();
        for g in grades {
            out.push((format!("grade:{g}"), lang.t1("choice-grade", "grade", g)));
        }
    }
    for c in classes {
        out.push((format!("class:{}", c.id), lang.t1("choice-class", "class", &c.name)));
        out.push((format!("class_parents:{}", c.id), lang.t1("choice-parents", "class", &c.name)));
    }
    out
}

async fn announcements_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    Query(p): Query<Params>,
) -> Response {
    show(&state, lang, user, AnnounceForm::default(), p.sent, None).await
}

async fn show(
    state: &AppState,
    lang: Lang,
    user: AuthUser,
    form: AnnounceForm,
    sent: Option<i32>,
    error: Option<String>,
) -> Response {
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    if let Err(e) = user.require(announcements::ANNOUNCERS) {
        return page_error(e);
    }
    let year = chrono::Datelike::year(&chrono::Utc::now().date_naive());
    let classes = match register::visible_classes(state, &user, Some(year)).await {
        Ok(c) => c,
        Err(e) => return page_error(e),
    };
    let q = AnnouncementQuery { school_id: None, limit: Some(20), after: None };
    let listed = announcements::list_announcements(State(state.clone()), user.clone(), Query(q));
    let announcements = match listed.await {
        Ok(page) => page.0.items,
        Err(e) => return page_error(e),
    };
    let page = AnnouncePage {
        lang,
        audiences: audiences(lang, user.role, &classes),
        announcements,
        form,
        sent,
        error,
    };
    render(status, &page)
}

/// The form as the API's announcement, or what is wrong with it.
fn announcement_of(form: &AnnounceForm) -> Result<NewAnnouncement, Vec<FieldError>> {
    let (kind, target) = form.audience.split_once(':').unwrap_or((form.audience.as_str(), ""));
    let mut new = NewAnnouncement {
        school_id: None,
        audience: kind.to_owned(),
        grade: None,
        class_id: None,
        title: form.title.clone(),
        body: form.body.clone(),
        sms: form.sms.is_some(),
    };
    let bad = || vec![FieldError::new("audience", "choose who it is for")];
    match kind {
        "school" if target.is_empty() => {}
        "grade" => new.grade = Some(target.parse::<Grade>().map_err(|_| bad())?),
        "class" | "class_parents" => {
            new.class_id = Some(target.parse::<ClassId>().map_err(|_| bad())?)
        }
        _ => return Err(bad()),
    }
    let errors = new.validate();
    if errors.is_empty() { Ok(new) } else { Err(errors) }
}

async fn send(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    Form(form): Form<AnnounceForm>,
) -> Response {
    let sent = match announcement_of(&form) {
        Ok(new) => {
            announcements::announce(State(state.clone()), user.clone(), ValidJson(new)).await
        }
        Err(errors) => Err(ApiError::Validation(errors)),
    };
    match sent {
        Ok((_, a)) => {
            Redirect::to(&format!("/app/announcements?sent={}", a.0.sms_queued)).into_response()
        }
        Err(e) => match form_problem(&e) {
            Some(msg) => show(&state, lang, user, form, None, Some(msg)).await,
            None => page_error(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audience_choice_becomes_the_apis_audience() {
        let form = |audience: &str| AnnounceForm {
            audience: audience.into(),
            title: "Sports day".into(),
            body: "Friday from 8.".into(),
            sms: Some("1".into()),
        };
        let a = announcement_of(&form("grade:G4")).expect("valid");
        assert_eq!((a.audience.as_str(), a.grade, a.sms), ("grade", Some(Grade::G4), true));
        let id = ClassId::new();
        let a = announcement_of(&form(&format!("class_parents:{id}"))).expect("valid");
        assert_eq!((a.audience.as_str(), a.class_id), ("class_parents", Some(id)));
        for bad in ["", "grade:G9", "class:nope", "everyone"] {
            let errors = announcement_of(&form(bad)).expect_err(bad);
            assert_eq!(errors[0].field, "audience", "{bad}");
        }
    }
}
