//! Messages about a learner, as pages: the staff's (`/app/learners/{id}/messages`, every
//! guardian's conversation, writing to a chosen guardian) and the parent's
//! (`/portal/children/{id}/messages`, their own). Plain forms; a few lines of script subscribe
//! to the live feed so a new message appears without reloading, and the page works without it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use oneclass_core::ids::LearnerId;
use oneclass_i18n::Lang;
use serde::Deserialize;
use uuid::Uuid;

use super::kit::{Staff, form_problem, page_error, render};
use super::portal::{Parent, portal_error};
use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageLang, Validate};
use crate::messages::{self, Message, NewMessage};
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/app/learners/{id}/messages", get(staff_page).post(staff_send))
        .route("/portal/children/{id}/messages", get(parent_page).post(parent_send))
}

#[derive(Template)]
#[template(path = "page_messages.html")]
struct StaffPage {
    lang: Lang,
    learner_id: LearnerId,
    learner_name: String,
    messages: Vec<Message>,
    /// (id, name) of the learner's guardians.
    guardians: Vec<(Uuid, String)>,
    show_guardian: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal_messages.html")]
struct ParentPage {
    lang: Lang,
    learner_id: LearnerId,
    learner_name: String,
    messages: Vec<Message>,
    show_guardian: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
struct MessageForm {
    guardian_id: Option<Uuid>,
    body: String,
}

/// What a messages page shows: the learner's name, the messages the user may read and (for
/// staff) the learner's guardians.
async fn load(
    state: &AppState,
    user: &AuthUser,
    learner: LearnerId,
) -> ApiResult<(String, Vec<Message>, Vec<(Uuid, String)>)> {
    // The same check as the API's: who may read, and 404 for anyone else.
    let messages =
        messages::list_messages(State(state.clone()), user.clone(), Path(learner)).await?.0;
    let mut tx = begin_scoped(&state.pool, user).await?;
    let name = sqlx::query_scalar!(
        "SELECT first_name || ' ' || last_name FROM sis.learners WHERE id = $1",
        learner as LearnerId
    )
    .fetch_optional(&mut *tx)
    .await?
    .flatten()
    .ok_or(ApiError::NotFound)?;
    let guardians = sqlx::query!(
        "SELECT g.id, g.full_name FROM sis.learner_guardians lg
         JOIN sis.guardians g ON g.id = lg.guardian_id
         JOIN sis.learners l ON l.id = lg.learner_id
         WHERE lg.learner_id = $1 AND lg.school_id = l.school_id AND lg.portal
         ORDER BY g.full_name",
        learner as LearnerId
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|g| (g.id, g.full_name))
    .collect();
    tx.commit().await?;
    Ok((name, messages, guardians))
}

/// Which side of the conversation a page is for: the school's (`/app`) or the guardian's
/// (`/portal`); they differ in their template, their address and their sign-in page.
#[derive(Clone, Copy)]
enum Side {
    Staff,
    Parent,
}

impl Side {
    fn page(self, learner: LearnerId) -> String {
        match self {
            Side::Staff => format!("/app/learners/{learner}/messages"),
            Side::Parent => format!("/portal/children/{learner}/messages"),
        }
    }

    fn error(self, e: ApiError) -> Response {
        match self {
            Side::Staff => page_error(e),
            Side::Parent => portal_error(e),
        }
    }
}

async fn show(
    state: &AppState,
    side: Side,
    lang: Lang,
    user: &AuthUser,
    learner: LearnerId,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (learner_name, messages, guardians) = match load(state, user, learner).await {
        Ok(loaded) => loaded,
        Err(e) => return side.error(e),
    };
    match side {
        Side::Staff => render(
            status,
            &StaffPage {
                lang,
                learner_id: learner,
                learner_name,
                messages,
                guardians,
                show_guardian: true,
                error,
            },
        ),
        Side::Parent => render(
            status,
            &ParentPage {
                lang,
                learner_id: learner,
                learner_name,
                messages,
                show_guardian: false,
                error,
            },
        ),
    }
}

/// Sends, then shows the conversation again (post, redirect, get); a bad message comes back on
/// the form.
async fn send_and_show(
    state: &AppState,
    side: Side,
    lang: Lang,
    user: &AuthUser,
    learner: LearnerId,
    form: MessageForm,
) -> Response {
    let new = NewMessage { guardian_id: form.guardian_id, body: form.body };
    let problems = new.validate();
    let sent = if problems.is_empty() {
        messages::write_message(state, user, learner, &new).await.map(|_| ())
    } else {
        Err(ApiError::Validation(problems))
    };
    match sent {
        Ok(()) => Redirect::to(&side.page(learner)).into_response(),
        Err(e) => match form_problem(&e) {
            Some(problem) => {
                let status = StatusCode::UNPROCESSABLE_ENTITY;
                show(state, side, lang, user, learner, Some(problem), status).await
            }
            None => side.error(e),
        },
    }
}

async fn staff_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    Path(learner): Path<LearnerId>,
) -> Response {
    show(&state, Side::Staff, lang, &user, learner, None, StatusCode::OK).await
}

async fn staff_send(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    Path(learner): Path<LearnerId>,
    Form(form): Form<MessageForm>,
) -> Response {
    send_and_show(&state, Side::Staff, lang, &user, learner, form).await
}

async fn parent_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Parent(user): Parent,
    Path(learner): Path<LearnerId>,
) -> Response {
    show(&state, Side::Parent, lang, &user, learner, None, StatusCode::OK).await
}

/// A parent writes as themselves: a guardian named in the form is ignored.
async fn parent_send(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Parent(user): Parent,
    Path(learner): Path<LearnerId>,
    Form(form): Form<MessageForm>,
) -> Response {
    let form = MessageForm { guardian_id: None, ..form };
    send_and_show(&state, Side::Parent, lang, &user, learner, form).await
}
