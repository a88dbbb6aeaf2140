//! The audit: who created, changed or deleted what (recorded by triggers in PostgreSQL for every
//! write an API request makes) and who read which learner record. Heads and deputies query it
//! for their schools, platform admins for all; row-level security decides, and nobody through
//! the API may change or delete an audit row.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use oneclass_core::ids::{LearnerId, SchoolId, UserId};
use oneclass_core::types::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, Problem};
use crate::learners::audit_reads;
use crate::pagination::{Page, PageQuery};
use crate::state::{AppState, RequestId};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_events)).routes(routes!(learner_history))
}

const AUDITORS: &[Role] = &[Role::SchoolHead, Role::Deputy, Role::PlatformAdmin];

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub user_id: Option<UserId>,
    pub username: Option<String>,
    /// The role the user acted in.
    pub role: Option<String>,
    pub school_id: Option<SchoolId>,
    /// `insert`, `update`, `delete`, or for learner records `read`, `list`, `history`.
    pub action: String,
    /// The table, as `schema.table`.
    pub entity: String,
    pub entity_id: Option<Uuid>,
    pub request_id: Option<String>,
    /// An insert's values; an update's changed columns as `{"column": {"old": …, "new": …}}`.
    #[schema(value_type = Option<Object>)]
    pub changes: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Items per page (1–500, default 50), newest first.
    pub limit: Option<i64>,
    /// The last id of the previous page.
    pub after: Option<Uuid>,
    pub school_id: Option<SchoolId>,
    /// A table, e.g. `sis.learners`.
    pub entity: Option<String>,
    pub entity_id: Option<Uuid>,
    pub user_id: Option<UserId>,
    pub action: Option<String>,
}

/// The audit of your schools (all schools for platform admins), newest first.
#[utoipa::path(get, path = "/audit", tag = "access", params(AuditQuery),
    responses((status = 200, body = Page<AuditEvent>), (status = 403, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_events(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    user.require(AUDITORS)?;
    let limit = PageQuery { limit: q.limit, after: q.after }.limit()?;
    if q.entity.as_ref().is_some_and(|e| e.len() > 100) {
        return Err(ApiError::field("entity", "at most 100 characters"));
    }
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = events(&mut tx, &q, None, limit + 1).await?;
    tx.commit().await?;
    Ok(Json(Page::from_rows(rows, limit, |e| e.id)))
}

/// Audit events, newest first, filtered as `q` says; with `learner`, the history of that
/// learner's record (the record, its enrolments, every read) whatever the other filters.
async fn events(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    q: &AuditQuery,
    learner: Option<LearnerId>,
    limit: i64,
) -> ApiResult<Vec<AuditEvent>> {
    Ok(sqlx::query_as!(
        AuditEvent,
        r#"SELECT e.id, e.at, e.user_id AS "user_id: UserId", u.username AS "username?",
                  e.role, e.school_id AS "school_id: SchoolId", e.action, e.entity, e.entity_id,
                  e.request_id, e.changes
           FROM audit.events e LEFT JOIN platform.users u ON u.id = e.user_id
           WHERE ($1::uuid IS NULL OR e.id < $1)
             AND ($2::uuid IS NULL OR e.school_id = $2)
             AND ($3::text IS NULL OR e.entity = $3)
             AND ($4::uuid IS NULL OR e.entity_id = $4)
             AND ($5::uuid IS NULL OR e.user_id = $5)
             AND ($6::text IS NULL OR e.action = $6)
             AND ($8::uuid IS NULL OR e.entity_id = $8
                  OR (e.entity = 'sis.enrolments' AND e.changes ->> 'learner_id' = $8::text)
                  OR (e.entity = 'sis.enrolments' AND e.entity_id IN (
                        SELECT id FROM sis.enrolments WHERE learner_id = $8)))
           ORDER BY e.id DESC LIMIT $7"#,
        q.after,
        q.school_id as Option<SchoolId>,
        q.entity,
        q.entity_id,
        q.user_id as Option<UserId>,
        q.action,
        limit,
        learner as Option<LearnerId>,
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// The full history of a learner's record: every change to it, its enrolments, and every read,
/// newest first. Reading the history is itself audited.
#[utoipa::path(get, path = "/learners/{id}/history", tag = "learners",
    params(("id" = Uuid, Path, description = "learner id"), PageQuery),
    responses((status = 200, body = Page<AuditEvent>), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn learner_history(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(id): Path<LearnerId>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    user.require(AUDITORS)?;
    let limit = page.limit()?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let school = sqlx::query_scalar!(
        r#"SELECT school_id AS "school_id: SchoolId" FROM sis.learners WHERE id = $1"#,
        id as LearnerId,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    let only = AuditQuery {
        limit: None,
        after: page.after,
        school_id: None,
        entity: None,
        entity_id: None,
        user_id: None,
        action: None,
    };
    let rows = events(&mut tx, &only, Some(id), limit + 1).await?;
    audit_reads(&mut tx, &user, &request_id, "history", &[(id.as_uuid(), school.as_uuid())])
        .await?;
    tx.commit().await?;
    Ok(Json(Page::from_rows(rows, limit, |e| e.id)))
}
