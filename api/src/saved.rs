//! `/api/v1/sql/saved`: an analyst's saved SQL, by name, their own only. Saved SQL is checked
//! (one read-only statement) when saved, and answered like `POST /api/v1/sql` when run, with the
//! analyst's scope at the time it runs.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use oneclass_core::types::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::pagination::{Page, PageQuery};
use crate::sql::{OutputFormat, answer};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_saved_queries, save_query))
        .routes(routes!(get_saved_query, replace_saved_query, delete_saved_query))
        .routes(routes!(run_saved_query))
}

const MAX_NAME_CHARS: usize = 100;
const MAX_SQL_BYTES: usize = 100_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedQueryBody {
    /// 1 to 100 characters, unique among the analyst's saved queries.
    pub name: String,
    /// One read-only statement, checked when saved.
    pub sql: String,
}

impl Validate for SavedQueryBody {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        if self.sql.trim().is_empty() || self.sql.len() > MAX_SQL_BYTES {
            errors.push(FieldError::new("sql", "must be 1 to 100,000 bytes"));
        } else if let Err(e) = oneclass_warehouse::check_read_only(&self.sql) {
            errors.push(FieldError::new("sql", e.to_string()));
        }
        errors
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedQuery {
    pub id: Uuid,
    pub name: String,
    pub sql: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// `json`, `csv` or `arrow`; without it, `Accept` decides, as for `POST /sql`.
    #[serde(default)]
    pub format: Option<OutputFormat>,
}

impl Validate for RunBody {
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

fn analyst(user: &AuthUser) -> ApiResult<Uuid> {
    user.require(&[Role::Analyst])?;
    Ok(user.id.as_uuid())
}

/// A name already used by another of the analyst's queries is the name field's problem.
fn name_taken(e: sqlx::Error) -> ApiError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            ApiError::field("name", "another of your saved queries has this name")
        }
        _ => ApiError::Database(e),
    }
}

/// The analyst's saved queries, by creation.
#[utoipa::path(get, path = "/sql/saved", tag = "analytics", params(PageQuery),
    responses((status = 200, body = Page<SavedQuery>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_saved_queries(
    State(state): State<AppState>,
    user: AuthUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<SavedQuery>>> {
    let owner = analyst(&user)?;
    let limit = page.limit()?;
    let rows = sqlx::query_as!(
        SavedQuery,
        "SELECT id, name, sql, created_at, updated_at FROM platform.saved_queries
         WHERE user_id = $1 AND ($2::uuid IS NULL OR id > $2)
         ORDER BY id LIMIT $3",
        owner,
        page.after,
        limit + 1,
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(axum::Json(Page::from_rows(rows, limit, |q| q.id)))
}

/// Save a query under a name.
#[utoipa::path(post, path = "/sql/saved", tag = "analytics", request_body = SavedQueryBody,
    responses((status = 201, body = SavedQuery), (status = 403, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn save_query(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<SavedQueryBody>,
) -> ApiResult<(StatusCode, axum::Json<SavedQuery>)> {
    let owner = analyst(&user)?;
    let saved = sqlx::query_as!(
        SavedQuery,
        "INSERT INTO platform.saved_queries (id, user_id, name, sql) VALUES ($1, $2, $3, $4)
         RETURNING id, name, sql, created_at, updated_at",
        Uuid::now_v7(),
        owner,
        body.name.trim(),
        body.sql,
    )
    .fetch_one(&state.pool)
    .await
    .map_err(name_taken)?;
    Ok((StatusCode::CREATED, axum::Json(saved)))
}

/// One of the analyst's saved queries.
#[utoipa::path(get, path = "/sql/saved/{id}", tag = "analytics",
    responses((status = 200, body = SavedQuery), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_saved_query(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<SavedQuery>> {
    let owner = analyst(&user)?;
    sqlx::query_as!(
        SavedQuery,
        "SELECT id, name, sql, created_at, updated_at FROM platform.saved_queries
         WHERE id = $1 AND user_id = $2",
        id,
        owner,
    )
    .fetch_optional(&state.pool)
    .await?
    .map(axum::Json)
    .ok_or(ApiError::NotFound)
}

/// Change a saved query's name and SQL.
#[utoipa::path(put, path = "/sql/saved/{id}", tag = "analytics", request_body = SavedQueryBody,
    responses((status = 200, body = SavedQuery), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn replace_saved_query(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    ValidJson(body): ValidJson<SavedQueryBody>,
) -> ApiResult<axum::Json<SavedQuery>> {
    let owner = analyst(&user)?;
    sqlx::query_as!(
        SavedQuery,
        "UPDATE platform.saved_queries SET name = $3, sql = $4, updated_at = now()
         WHERE id = $1 AND user_id = $2
         RETURNING id, name, sql, created_at, updated_at",
        id,
        owner,
        body.name.trim(),
        body.sql,
    )
    .fetch_optional(&state.pool)
    .await
    .map_err(name_taken)?
    .map(axum::Json)
    .ok_or(ApiError::NotFound)
}

/// Delete a saved query.
#[utoipa::path(delete, path = "/sql/saved/{id}", tag = "analytics",
    responses((status = 204, description = "deleted"), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn delete_saved_query(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let owner = analyst(&user)?;
    let deleted = sqlx::query!(
        "DELETE FROM platform.saved_queries WHERE id = $1 AND user_id = $2",
        id,
        owner,
    )
    .execute(&state.pool)
    .await?;
    if deleted.rows_affected() == 0 { Err(ApiError::NotFound) } else { Ok(StatusCode::NO_CONTENT) }
}

/// Run a saved query, answered as `POST /sql` answers (same formats, limits and errors).
#[utoipa::path(post, path = "/sql/saved/{id}/run", tag = "analytics", request_body = RunBody,
    responses((status = 200, description = "the result rows"), (status = 404, body = Problem),
              (status = 503, description = "the query's memory limit was reached", body = Problem),
              (status = 504, description = "the query's time limit was reached", body = Problem)),
    security(("bearer" = [])))]
async fn run_saved_query(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    ValidJson(body): ValidJson<RunBody>,
) -> ApiResult<Response> {
    let owner = analyst(&user)?;
    let sql = sqlx::query_scalar!(
        "SELECT sql FROM platform.saved_queries WHERE id = $1 AND user_id = $2",
        id,
        owner,
    )
    .fetch_optional(&state.pool)
    .await?
    .ok_or(ApiError::NotFound)?;
    answer(&state, &user, &sql, body.format, &headers).await
}
