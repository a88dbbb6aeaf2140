//! Schools: every signed-in user reads the list; a platform admin registers schools.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use oneclass_core::ids::SchoolId;
use oneclass_core::types::{Location, Ownership, PROVINCES, Role, SchoolLevel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_schools, create_school))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct School {
    pub id: SchoolId,
    pub emis_code: String,
    pub name: String,
    pub province: String,
    pub district: String,
    pub level: String,
    pub ownership: String,
    pub location: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSchool {
    pub emis_code: String,
    pub name: String,
    pub province: String,
    pub district: String,
    pub level: SchoolLevel,
    pub ownership: Ownership,
    pub location: Location,
}

impl Validate for NewSchool {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let emis = self.emis_code.trim();
        if emis.len() < 4 || emis.len() > 10 || !emis.chars().all(|c| c.is_ascii_digit()) {
            e.push(FieldError::new("emis_code", "must be 4 to 10 digits"));
        }
        if self.name.trim().is_empty() || self.name.len() > 200 {
            e.push(FieldError::new("name", "must be 1 to 200 characters"));
        }
        if !PROVINCES.contains(&self.province.as_str()) {
            e.push(FieldError::new(
                "province",
                format!("must be one of: {}", PROVINCES.join(", ")),
            ));
        }
        if self.district.trim().is_empty() || self.district.len() > 100 {
            e.push(FieldError::new("district", "must be 1 to 100 characters"));
        }
        e
    }
}

/// List schools (keyset paginated by id).
#[utoipa::path(get, path = "/schools", tag = "schools", params(PageQuery),
    responses((status = 200, body = Page<School>), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn list_schools(
    State(state): State<AppState>,
    user: AuthUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<School>>> {
    let limit = page.limit()?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = sqlx::query_as!(
        School,
        r#"SELECT id AS "id: SchoolId", emis_code, name, province, district, level, ownership,
                  location
           FROM platform.schools WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2"#,
        page.after,
        limit + 1,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(Page::from_rows(rows, limit, |s| s.id.as_uuid())))
}

/// Register a school (platform admin).
#[utoipa::path(post, path = "/schools", tag = "schools", request_body = NewSchool,
    responses((status = 201, body = School), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_school(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(new): ValidJson<NewSchool>,
) -> ApiResult<(StatusCode, Json<School>)> {
    user.require(&[Role::PlatformAdmin])?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let school = sqlx::query_as!(
        School,
        r#"INSERT INTO platform.schools
               (id, emis_code, name, province, district, level, ownership, location)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           RETURNING id AS "id: SchoolId", emis_code, name, province, district, level, ownership,
                     location"#,
        SchoolId::new() as SchoolId,
        new.emis_code.trim(),
        new.name.trim(),
        new.province,
        new.district.trim(),
        new.level.as_str(),
        new.ownership.as_str(),
        new.location.as_str(),
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(school)))
}
