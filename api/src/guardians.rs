//! Guardians: the adults who act for a learner (a child is under 18), their `+263` phones stored
//! as E.164, how they are related, who may collect the learner and who pays. Part of the
//! learner's record: reading them is audited as a read of the learner.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use oneclass_core::ids::{LearnerId, SchoolId};
use oneclass_core::types::{NationalId, Phone, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::learners::{audit_reads, visible_learner_school};
use crate::state::{AppState, RequestId};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_guardians, add_guardian)).routes(routes!(change_link))
}

const OFFICE: &[Role] = &[Role::Registrar, Role::SchoolHead, Role::Deputy];
const READERS: &[Role] =
    &[Role::Registrar, Role::SchoolHead, Role::Deputy, Role::Teacher, Role::Bursar];
pub(crate) const RELATIONSHIPS: [&str; 8] =
    ["mother", "father", "grandparent", "aunt", "uncle", "sibling", "guardian", "other"];

#[derive(Debug, Serialize, ToSchema)]
pub struct Guardian {
    pub guardian_id: Uuid,
    pub full_name: String,
    /// E.164 (`+263…`).
    pub phone: Option<String>,
    pub email: Option<String>,
    pub relationship: String,
    pub may_collect: bool,
    pub pays_fees: bool,
    pub is_primary: bool,
    /// Whether the guardian sees the learner on the parents' portal.
    pub portal: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGuardian {
    /// An existing guardian of your school (a sibling's): link them instead of a new record.
    pub guardian_id: Option<Uuid>,
    /// Required for a new guardian.
    pub full_name: Option<String>,
    /// `077 123 4567`, `+263 77 123 4567`, …; stored as `+263771234567`.
    pub phone: Option<Phone>,
    pub email: Option<String>,
    pub national_id: Option<NationalId>,
    /// mother, father, grandparent, aunt, uncle, sibling, guardian or other.
    pub relationship: String,
    #[serde(default = "yes")]
    pub may_collect: bool,
    #[serde(default)]
    pub pays_fees: bool,
    /// The learner's first contact (one per learner).
    #[serde(default)]
    pub is_primary: bool,
}

fn yes() -> bool {
    true
}

impl Validate for NewGuardian {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !RELATIONSHIPS.contains(&self.relationship.as_str()) {
            e.push(FieldError::new(
                "relationship",
                format!("must be one of {}", RELATIONSHIPS.join(", ")),
            ));
        }
        match (&self.guardian_id, &self.full_name) {
            (None, None) => e.push(FieldError::new("full_name", "required for a new guardian")),
            (None, Some(n))
                if n.trim().is_empty()
                    || n.chars().count() > 120
                    || n.chars().any(char::is_control) =>
            {
                e.push(FieldError::new("full_name", "must be 1 to 120 characters"))
            }
            (Some(_), Some(_)) => e.push(FieldError::new(
                "full_name",
                "give either guardian_id (an existing guardian) or the new guardian's details",
            )),
            _ => {}
        }
        if let Some(m) = &self.email
            && !(m.len() <= 254
                && m.split_once('@').is_some_and(|(a, d)| !a.is_empty() && d.contains('.')))
        {
            e.push(FieldError::new("email", "not an email address"));
        }
        e
    }
}

/// Adds a guardian to a learner: a new guardian, or one your school already has (a sibling's).
#[utoipa::path(post, path = "/learners/{id}/guardians", tag = "learners", request_body = NewGuardian,
    params(("id" = Uuid, Path, description = "learner id")),
    responses((status = 201, body = Guardian), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn add_guardian(
    State(state): State<AppState>,
    user: AuthUser,
    Path(learner): Path<LearnerId>,
    ValidJson(g): ValidJson<NewGuardian>,
) -> ApiResult<(StatusCode, Json<Guardian>)> {
    user.require(OFFICE)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let guardian_id = insert_guardian(&mut tx, learner, &g).await?;
    let added = guardians_of(&mut tx, learner).await?;
    tx.commit().await?;
    let added =
        added.into_iter().find(|a| a.guardian_id == guardian_id).ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Links a guardian (new, or one the school has) to a learner in the caller's transaction;
/// returns the guardian's id.
pub(crate) async fn insert_guardian(
    tx: &mut sqlx::PgConnection,
    learner: LearnerId,
    g: &NewGuardian,
) -> ApiResult<Uuid> {
    let school = sqlx::query_scalar!(
        r#"SELECT school_id AS "school_id: SchoolId" FROM sis.learners WHERE id = $1"#,
        learner as LearnerId,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    let guardian_id = match g.guardian_id {
        Some(id) => {
            let known = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM sis.guardians WHERE id = $1 AND school_id = $2)
                   AS "known!""#,
                id,
                school as SchoolId,
            )
            .fetch_one(&mut *tx)
            .await?;
            if !known {
                return Err(ApiError::field(
                    "guardian_id",
                    "no such guardian at the learner's school",
                ));
            }
            id
        }
        None => {
            let id = Uuid::now_v7();
            sqlx::query!(
                "INSERT INTO sis.guardians (id, school_id, full_name, phone, email, national_id)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                id,
                school as SchoolId,
                g.full_name.as_deref().map(str::trim),
                g.phone.as_ref().map(Phone::as_str),
                g.email.as_deref(),
                g.national_id.as_ref().map(NationalId::as_str),
            )
            .execute(&mut *tx)
            .await?;
            id
        }
    };
    sqlx::query!(
        "INSERT INTO sis.learner_guardians (learner_id, guardian_id, school_id, relationship,
             may_collect, pays_fees, is_primary)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        learner as LearnerId,
        guardian_id,
        school as SchoolId,
        g.relationship,
        g.may_collect,
        g.pays_fees,
        g.is_primary,
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| match e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
        true => ApiError::Conflict(
            "the guardian is already the learner's, or the learner already has a first contact"
                .into(),
        ),
        false => e.into(),
    })?;
    Ok(guardian_id)
}

async fn guardians_of(
    conn: &mut sqlx::PgConnection,
    learner: LearnerId,
) -> ApiResult<Vec<Guardian>> {
    Ok(sqlx::query_as!(
        Guardian,
        r#"SELECT g.id AS guardian_id, g.full_name, g.phone, g.email, lg.relationship,
                  lg.may_collect, lg.pays_fees, lg.is_primary, lg.portal
           FROM sis.learner_guardians lg JOIN sis.guardians g ON g.id = lg.guardian_id
           WHERE lg.learner_id = $1 ORDER BY lg.is_primary DESC, g.full_name"#,
        learner as LearnerId,
    )
    .fetch_all(conn)
    .await?)
}

/// A learner's guardians, the first contact first. Audited as a read of the learner's record.
#[utoipa::path(get, path = "/learners/{id}/guardians", tag = "learners",
    params(("id" = Uuid, Path, description = "learner id")),
    responses((status = 200, body = Vec<Guardian>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list_guardians(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(learner): Path<LearnerId>,
) -> ApiResult<Json<Vec<Guardian>>> {
    user.require(READERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    // A teacher reads the guardians of the learners they teach.
    let school = visible_learner_school(&mut tx, &user, learner).await?;
    let rows = guardians_of(&mut tx, learner).await?;
    audit_reads(&mut tx, &user, &request_id, "read", &[(learner.as_uuid(), school.as_uuid())])
        .await?;
    tx.commit().await?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkChange {
    /// Whether the guardian sees the learner on the parents' portal.
    pub portal: bool,
}

impl Validate for LinkChange {
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// Gives or withdraws a guardian's access to a learner on the parents' portal (a court order, a
/// family's request): withdrawn, the learner is gone from the guardian's portal at once.
#[utoipa::path(patch, path = "/learners/{id}/guardians/{guardian_id}", tag = "learners",
    request_body = LinkChange,
    params(("id" = Uuid, Path, description = "learner id"),
           ("guardian_id" = Uuid, Path, description = "guardian id")),
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn change_link(
    State(state): State<AppState>,
    user: AuthUser,
    Path((learner, guardian)): Path<(LearnerId, Uuid)>,
    ValidJson(change): ValidJson<LinkChange>,
) -> ApiResult<StatusCode> {
    user.require(OFFICE)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let changed = sqlx::query!(
        "UPDATE sis.learner_guardians SET portal = $3 WHERE learner_id = $1 AND guardian_id = $2",
        learner as LearnerId,
        guardian,
        change.portal,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(ApiError::NotFound);
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
