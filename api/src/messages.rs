//! Direct messages between a school's staff and a learner's guardians, about that learner, and
//! the live feed that tells an open page of a new one (server-sent events).
//!
//! Who may: the learner's school's heads, deputies and registrars, and the teachers of the
//! learner's class; and each guardian with portal access, in their own conversation only (the
//! `parent_reads`/`parent_writes` policies). A message from staff is also announced to the
//! guardian by SMS through the outbox, in the same transaction.
//!
//! Live updates ([`crate::live`]): each open event stream is told of every message committed
//! and reads it again under its own user's scope, so a stream never carries a message its reader
//! could not read. The table is the record: a page that was closed sees every message when it
//! opens.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures::Stream;
use oneclass_core::ids::{LearnerId, SchoolId};
use oneclass_core::types::Role;
use oneclass_i18n::Lang;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::learners::visible_learner_school;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_messages, send_message)).routes(routes!(events))
}

/// The staff who write to guardians (teachers about the learners of their classes).
pub(crate) const STAFF: &[Role] = &[Role::SchoolHead, Role::Deputy, Role::Registrar, Role::Teacher];
const WRITERS: &[Role] =
    &[Role::SchoolHead, Role::Deputy, Role::Registrar, Role::Teacher, Role::Parent];
/// The newest messages of a learner a page shows.
const SHOWN: i64 = 200;
/// How long one event stream lasts before the browser reconnects (and is checked again).
const STREAM_LIFETIME: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub learner_id: LearnerId,
    pub guardian_id: Uuid,
    /// The guardian the conversation is with.
    pub guardian_name: String,
    /// Written by the guardian (else by the school).
    pub from_guardian: bool,
    /// Who wrote it: the member of staff's or the guardian's name.
    pub sender_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Staff: the guardian to write to (one of the learner's). Parents: left out (their own).
    pub guardian_id: Option<Uuid>,
    /// 1 to 2,000 characters.
    pub body: String,
}

impl Validate for NewMessage {
    fn validate(&self) -> Vec<FieldError> {
        let n = self.body.trim().chars().count();
        if n == 0 || n > 2000 {
            vec![FieldError::new("body", "must be 1 to 2,000 characters")]
        } else {
            vec![]
        }
    }
}

/// The learner's school, if the user may write about the learner (404 otherwise).
async fn school_of(
    conn: &mut sqlx::PgConnection,
    user: &AuthUser,
    learner: LearnerId,
) -> ApiResult<SchoolId> {
    user.require(WRITERS)?;
    visible_learner_school(conn, user, learner).await
}

pub(crate) async fn read_messages(
    conn: &mut sqlx::PgConnection,
    learner: LearnerId,
    only: Option<Uuid>,
) -> ApiResult<Vec<Message>> {
    let mut rows = sqlx::query_as!(
        Message,
        r#"SELECT m.id, m.learner_id AS "learner_id: LearnerId", m.guardian_id,
                  g.full_name AS guardian_name, m.from_guardian,
                  CASE WHEN m.from_guardian THEN g.full_name
                       ELSE coalesce(u.display_name, 'School') END AS "sender_name!",
                  m.body, m.created_at
           FROM comms.messages m
           JOIN sis.guardians g ON g.id = m.guardian_id
           LEFT JOIN platform.users u ON u.id = m.sender_id AND NOT m.from_guardian
           WHERE m.learner_id = $1 AND ($2::uuid IS NULL OR m.id = $2)
           ORDER BY m.created_at DESC, m.id DESC
           LIMIT $3"#,
        learner as LearnerId,
        only,
        SHOWN,
    )
    .fetch_all(conn)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// The messages about a learner the user may read, oldest first (the latest 200): a parent's own
/// conversation; every conversation for the school's staff.
#[utoipa::path(get, path = "/learners/{id}/messages", tag = "messages",
    params(("id" = Uuid, Path, description = "learner id")),
    responses((status = 200, body = [Message]), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list_messages(
    State(state): State<AppState>,
    user: AuthUser,
    Path(learner): Path<LearnerId>,
) -> ApiResult<Json<Vec<Message>>> {
    let mut tx = begin_scoped(&state.pool, &user).await?;
    school_of(&mut tx, &user, learner).await?;
    let messages = read_messages(&mut tx, learner, None).await?;
    tx.commit().await?;
    Ok(Json(messages))
}

/// Writes to a guardian about a learner (staff), or to the school (a parent). A message from
/// staff is also announced to the guardian by SMS.
#[utoipa::path(post, path = "/learners/{id}/messages", tag = "messages", request_body = NewMessage,
    params(("id" = Uuid, Path, description = "learner id")),
    responses((status = 201, body = Message), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn send_message(
    State(state): State<AppState>,
    user: AuthUser,
    Path(learner): Path<LearnerId>,
    ValidJson(new): ValidJson<NewMessage>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let message = write_message(&state, &user, learner, &new).await?;
    Ok((StatusCode::CREATED, Json(message)))
}

pub(crate) async fn write_message(
    state: &AppState,
    user: &AuthUser,
    learner: LearnerId,
    new: &NewMessage,
) -> ApiResult<Message> {
    let mut tx = begin_scoped(&state.pool, user).await?;
    let school = school_of(&mut tx, user, learner).await?;
    let parent = user.role == Role::Parent;
    // The conversation's guardian: for a parent, their own record linked to the learner.
    let guardian = sqlx::query!(
        r#"SELECT g.id, g.phone, l.first_name, s.name AS school,
                  (SELECT u.lang FROM platform.users u WHERE u.id = g.user_id) AS lang
           FROM sis.learner_guardians lg
           JOIN sis.guardians g ON g.id = lg.guardian_id
           JOIN sis.learners l ON l.id = lg.learner_id
           JOIN platform.schools s ON s.id = l.school_id
           WHERE lg.learner_id = $1 AND lg.school_id = l.school_id AND lg.portal
             AND (($2 AND g.user_id = $3) OR (NOT $2 AND g.id = $4))
           LIMIT 1"#,
        learner as LearnerId,
        parent,
        user.id.as_uuid(),
        new.guardian_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(guardian) = guardian else {
        return Err(if parent {
            ApiError::NotFound
        } else {
            ApiError::field(
                "guardian_id",
                "not a guardian of this learner at their school with access to the portal",
            )
        });
    };
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO comms.messages (id, school_id, learner_id, guardian_id, from_guardian,
             sender_id, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        id,
        school as SchoolId,
        learner as LearnerId,
        guardian.id,
        parent,
        user.id.as_uuid(),
        new.body.trim(),
    )
    .execute(&mut *tx)
    .await?;
    if let (false, Some(phone)) = (parent, guardian.phone.as_deref()) {
        // In the guardian's language, once they have chosen one on the portal.
        let lang = guardian.lang.as_deref().and_then(Lang::from_code).unwrap_or_default();
        let text = lang.t_args(
            "sms-message-waiting",
            &[("school", guardian.school.clone()), ("learner", guardian.first_name.clone())],
        );
        crate::access::enqueue(&mut tx, "sms", phone, "New message", &text, "message").await?;
    }
    let message = read_messages(&mut tx, learner, Some(id))
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal("the message just written is not readable".into()))?;
    tx.commit().await?;
    Ok(message)
}

/// Live: each new message about the learner that the user may read, as a server-sent event
/// `message` whose data is the message (JSON). Open pages use it to show new messages at once;
/// the stream ends when the server shuts down (browsers reconnect by themselves).
#[utoipa::path(get, path = "/learners/{id}/messages/events", tag = "messages",
    params(("id" = Uuid, Path, description = "learner id")),
    responses((status = 200, content_type = "text/event-stream", body = String),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn events(
    State(state): State<AppState>,
    user: AuthUser,
    Path(learner): Path<LearnerId>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let mut tx = begin_scoped(&state.pool, &user).await?;
    school_of(&mut tx, &user, learner).await?;
    tx.commit().await?;
    let mut notices = state.live.subscribe();
    let stop = state.live.stopped();
    // A stream lives at most this long: the browser reconnects, and is checked again.
    let until = tokio::time::Instant::now() + STREAM_LIFETIME;
    let stream = async_stream_of(move |yield_event| async move {
        loop {
            let notice = tokio::select! {
                _ = stop.cancelled() => return,
                // The reader went away: end now, not at the next message.
                _ = yield_event.closed() => return,
                _ = tokio::time::sleep_until(until) => return,
                n = notices.recv() => n,
            };
            let notice = match notice {
                Ok(n) if n.learner == learner.as_uuid() => n,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            // Checked again for every message: the session still live (not signed out or
            // revoked), the learner still the reader's; then read under the reader's own scope
            // (a parent's stream skips other guardians').
            let read = async {
                if !crate::auth::session_is_live(&state.pool, &user).await? {
                    return Err(ApiError::Unauthorized("the session has ended"));
                }
                let mut tx = begin_scoped(&state.pool, &user).await?;
                school_of(&mut tx, &user, learner).await?;
                let found = read_messages(&mut tx, learner, Some(notice.message)).await?;
                tx.commit().await?;
                Ok::<_, ApiError>(found)
            };
            match read.await {
                Ok(found) => {
                    for m in found {
                        let event = Event::default().event("message").json_data(&m);
                        if let Ok(event) = event
                            && yield_event.send(event).await.is_err()
                        {
                            return;
                        }
                    }
                }
                Err(ApiError::Unauthorized(_) | ApiError::NotFound | ApiError::Forbidden) => return,
                Err(error) => tracing::warn!(%error, "live updates: a message could not be read"),
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))))
}

/// A stream fed by a task: `body` is given a sender and pushes events into it; the stream ends
/// when the task does (or the reader goes away, which ends the task's next send).
fn async_stream_of<F, Fut>(body: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(body(tx));
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) })
}
