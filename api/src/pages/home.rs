//! The landing page after sign-in (`/app/`): finding a learner, the tasks of the user's role,
//! their classes with the register and mark sheets, and the school's latest announcements; and
//! the pages reached from it that only show (the analyst's catalog, the head's attention list).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use oneclass_core::ids::{LearnerId, SchoolId};
use oneclass_core::types::Role;
use oneclass_i18n::Lang;
use serde::Deserialize;

use super::kit::{Staff, non_empty, page_error, render};
use crate::announcements::{self, Announcement};
use crate::auth::begin_scoped;
use crate::error::ApiError;
use crate::extract::PageLang;
use crate::register::{self, Class};
use crate::state::{AppState, RequestId};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/app", get(|| async { Redirect::permanent("/app/") }))
        .route("/app/", get(home_page))
        .route("/app/catalog", get(catalog_page))
        .route("/app/attention", get(attention_page))
        .route("/app/attention/actions", post(record_action))
}

/// Who may find learners (the API's readers of learner records).
const FINDERS: &[Role] =
    &[Role::Registrar, Role::SchoolHead, Role::Deputy, Role::Teacher, Role::Bursar];
/// Who marks registers and enters marks.
const MARKERS: &[Role] = &[Role::Teacher, Role::SchoolHead, Role::Deputy];
const ADMITTERS: &[Role] = &[Role::Registrar, Role::SchoolHead, Role::Deputy];

#[derive(Template)]
#[template(path = "page_home.html")]
struct HomePage {
    lang: Lang,
    role: &'static str,
    can_find: bool,
    can_mark: bool,
    classes: Vec<Class>,
    /// What else this user may open from here, as (address, the title's message key).
    links: Vec<(&'static str, &'static str)>,
    announcements: Vec<Announcement>,
}

/// The pages a role reaches from `/app/` besides its classes, as (address, message key).
fn links_for(role: Role) -> Vec<(&'static str, &'static str)> {
    let mut links = Vec::new();
    if ADMITTERS.contains(&role) {
        links.push(("/app/learners/new", "task-admit"));
    }
    if announcements::ANNOUNCERS.contains(&role) {
        links.push(("/app/announcements", "task-announce"));
    }
    match role {
        Role::SchoolHead | Role::Deputy => links.push(("/app/attention", "task-attention")),
        Role::Analyst => links.push(("/app/catalog", "task-catalog")),
        _ => {}
    }
    links.push(("/dash/", "task-dashboards"));
    links
}

async fn home_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
) -> Response {
    let classes = match register::visible_classes(&state, &user, None).await {
        Ok(classes) => classes,
        Err(ApiError::Forbidden) => Vec::new(),
        Err(e) => return page_error(e),
    };
    let announcements = if user.schools.is_empty() {
        Vec::new()
    } else {
        let latest = async {
            let mut tx = begin_scoped(&state.pool, &user).await?;
            let rows = announcements::announcements_of(&mut tx, None, None, None, 3).await?;
            tx.commit().await?;
            Ok::<_, ApiError>(rows)
        };
        match latest.await {
            Ok(rows) => rows,
            Err(e) => return page_error(e),
        }
    };
    let page = HomePage {
        lang,
        role: user.role.as_str(),
        can_find: FINDERS.contains(&user.role),
        can_mark: MARKERS.contains(&user.role),
        classes,
        links: links_for(user.role),
        announcements,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "page_catalog.html")]
struct CatalogPage {
    lang: Lang,
    catalog: crate::catalog::Catalog,
}

/// The analyst's catalog as a page (the same as `GET /api/v1/sql/catalog`).
async fn catalog_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
) -> Response {
    match crate::catalog::catalog_of(&state, &user).await {
        Ok(catalog) => render(StatusCode::OK, &CatalogPage { lang, catalog }),
        Err(e) => page_error(e),
    }
}

#[derive(Template)]
#[template(path = "page_attention.html")]
struct AttentionPage {
    lang: Lang,
    list: crate::attention::Attention,
    /// What the model is and when it scored, above its list.
    model_note: String,
}

#[derive(Deserialize)]
struct ActionForm {
    learner_id: LearnerId,
    #[serde(default)]
    action: String,
    outcome: Option<String>,
    model_version: Option<i32>,
}

/// Records what was done for a learner on the attention list, then shows the list again.
async fn record_action(
    State(state): State<AppState>,
    Staff(user): Staff,
    Form(form): Form<ActionForm>,
) -> Response {
    let body = crate::support::NewSupportAction {
        action: form.action,
        outcome: non_empty(&form.outcome).map(str::to_owned),
        model_version: form.model_version,
    };
    match crate::support::record(&state, &user, form.learner_id, body).await {
        Ok(_) => Redirect::to("/app/attention#model").into_response(),
        Err(e) => page_error(e),
    }
}

#[derive(Deserialize)]
struct AttentionParams {
    /// The school; the user's only school when absent.
    school: Option<SchoolId>,
}

/// The learners of the head's school who need attention today, with their reasons (audited).
async fn attention_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    request_id: RequestId,
    Query(q): Query<AttentionParams>,
) -> Response {
    let school = match user.school_for_write(q.school) {
        Ok(school) => school,
        Err(e) => return page_error(e),
    };
    let today = Utc::now().date_naive();
    match crate::attention::attention(&state, &user, &request_id, school, today, lang).await {
        Ok(list) => {
            let model_note = list.model.as_ref().map_or_else(String::new, |m| {
                lang.t_args(
                    "risk-explained",
                    &[("version", m.model_version.to_string()), ("day", m.scored_on.to_string())],
                )
            });
            render(StatusCode::OK, &AttentionPage { lang, list, model_note })
        }
        Err(e) => page_error(e),
    }
}
