//! What staff do for a learner the attention list or the early-warning model points to, and what
//! came of it. The model only ranks learners; a head or deputy decides what to do and records it
//! here, and the list shows it beside the learner (the Cyber and Data Protection Act: no
//! decision about a person by automated processing alone). Kept in the school's database only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use oneclass_core::ids::LearnerId;
use oneclass_core::types::Role;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, Transaction};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(record_action)).routes(routes!(record_outcome))
}

/// Who decides and records what is done for a learner: the school's leaders, who read the
/// attention list.
pub(crate) const DECIDERS: &[Role] = &[Role::SchoolHead, Role::Deputy];

const MAX_TEXT: usize = 500;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupportAction {
    pub id: Uuid,
    pub learner_id: LearnerId,
    pub action: String,
    pub outcome: Option<String>,
    /// The early-warning model version whose score prompted it, if one did.
    pub model_version: Option<i32>,
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it (their display name).
    pub recorded_by: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSupportAction {
    /// What was done or decided (1–500 characters).
    pub action: String,
    /// What came of it, if already known.
    pub outcome: Option<String>,
    /// The model version whose score prompted it.
    pub model_version: Option<i32>,
}

fn check_text(field: &'static str, text: &str, e: &mut Vec<FieldError>) {
    let length = text.trim().chars().count();
    if length == 0 {
        e.push(FieldError::new(field, "must not be empty"));
    } else if length > MAX_TEXT {
        e.push(FieldError::new(field, format!("at most {MAX_TEXT} characters")));
    }
}

impl Validate for NewSupportAction {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_text("action", &self.action, &mut e);
        if let Some(outcome) = &self.outcome {
            check_text("outcome", outcome, &mut e);
        }
        if self.model_version.is_some_and(|v| v <= 0) {
            e.push(FieldError::new("model_version", "must be a model version (1 or more)"));
        }
        e
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// What came of the action (1–500 characters).
    pub outcome: String,
}

impl Validate for Outcome {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_text("outcome", &self.outcome, &mut e);
        e
    }
}

/// Records what was done for a learner of the reader's school.
#[utoipa::path(post, path = "/learners/{id}/support-actions", tag = "learners",
    params(("id" = Uuid, Path, description = "learner id")),
    request_body = NewSupportAction,
    responses((status = 201, body = SupportAction), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn record_action(
    State(state): State<AppState>,
    user: AuthUser,
    Path(learner): Path<LearnerId>,
    ValidJson(body): ValidJson<NewSupportAction>,
) -> ApiResult<(StatusCode, Json<SupportAction>)> {
    Ok((StatusCode::CREATED, Json(record(&state, &user, learner, body).await?)))
}

/// Records an action for `learner` (checked again here: the page's form comes this way too).
pub(crate) async fn record(
    state: &AppState,
    user: &AuthUser,
    learner: LearnerId,
    body: NewSupportAction,
) -> ApiResult<SupportAction> {
    user.require(DECIDERS)?;
    let errors = body.validate();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut tx = begin_scoped(&state.pool, user).await?;
    let school = sqlx::query_scalar!(
        "SELECT school_id FROM sis.learners WHERE id = $1",
        learner as LearnerId
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO sis.support_actions (id, school_id, learner_id, action, outcome, model_version)
         VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        school,
        learner as LearnerId,
        body.action.trim(),
        body.outcome.as_deref().map(str::trim),
        body.model_version,
    )
    .execute(&mut *tx)
    .await?;
    let action = one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(action)
}

/// Records what came of an action.
#[utoipa::path(patch, path = "/support-actions/{id}", tag = "learners",
    params(("id" = Uuid, Path, description = "support action id")),
    request_body = Outcome,
    responses((status = 200, body = SupportAction), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn record_outcome(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    ValidJson(body): ValidJson<Outcome>,
) -> ApiResult<Json<SupportAction>> {
    user.require(DECIDERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let updated = sqlx::query!(
        "UPDATE sis.support_actions SET outcome = $2, updated_by = platform.current_user_id()
         WHERE id = $1",
        id,
        body.outcome.trim(),
    )
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    let action = one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(action))
}

async fn one(tx: &mut Transaction<'static, Postgres>, id: Uuid) -> ApiResult<SupportAction> {
    let mut found = of(tx, None, Some(id)).await?;
    found.pop().ok_or(ApiError::NotFound)
}

/// The actions recorded for `learners` (newest first), as the reader may see them.
pub(crate) async fn for_learners(
    tx: &mut Transaction<'static, Postgres>,
    learners: &[Uuid],
) -> ApiResult<Vec<SupportAction>> {
    of(tx, Some(learners), None).await
}

async fn of(
    tx: &mut Transaction<'static, Postgres>,
    learners: Option<&[Uuid]>,
    id: Option<Uuid>,
) -> ApiResult<Vec<SupportAction>> {
    let rows = sqlx::query!(
        r#"SELECT a.id, a.learner_id, a.action, a.outcome, a.model_version, a.created_at,
                  u.display_name AS "recorded_by?"
           FROM sis.support_actions a
           LEFT JOIN platform.users u ON u.id = a.created_by
           WHERE ($1::uuid[] IS NULL OR a.learner_id = ANY($1)) AND ($2::uuid IS NULL OR a.id = $2)
           ORDER BY a.created_at DESC, a.id DESC"#,
        learners,
        id,
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SupportAction {
            id: r.id,
            learner_id: LearnerId::from(r.learner_id),
            action: r.action,
            outcome: r.outcome,
            model_version: r.model_version,
            recorded_at: r.created_at,
            recorded_by: r.recorded_by,
        })
        .collect())
}
