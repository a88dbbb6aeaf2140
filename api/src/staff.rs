//! Staff records: who works at the school, in which post, trained or not, from when to when,
//! their Public Service (EC) number and the account they sign in with: the data PTR and PQTR
//! are computed from. Heads and deputies keep them; the office reads them.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use oneclass_core::ids::{SchoolId, UserId};
use oneclass_core::types::{Role, Sex};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_staff, create_staff)).routes(routes!(update_staff))
}

const KEEPERS: &[Role] = &[Role::SchoolHead, Role::Deputy];
const READERS: &[Role] = &[Role::SchoolHead, Role::Deputy, Role::Registrar, Role::Bursar];
pub const POSTS: [&str; 7] =
    ["head", "deputy", "teacher", "ecd_teacher", "bursar", "clerk", "ancillary"];
const TEACHING: [&str; 4] = ["head", "deputy", "teacher", "ecd_teacher"];

#[derive(Debug, Serialize, ToSchema)]
pub struct Staff {
    pub id: Uuid,
    pub school_id: SchoolId,
    pub full_name: Option<String>,
    pub ec_number: Option<String>,
    pub user_id: Option<UserId>,
    pub sex: String,
    pub post: String,
    /// `trained` or `untrained` for teaching posts; absent for the others.
    pub qualification: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    /// The most lessons a week and a day the timetable may give them (absent: the school's
    /// defaults, 36 and 8).
    pub max_lessons_week: Option<i16>,
    pub max_lessons_day: Option<i16>,
}

fn check_post(e: &mut Vec<FieldError>, post: &str, qualification: Option<&str>) {
    if !POSTS.contains(&post) {
        e.push(FieldError::new("post", format!("must be one of {}", POSTS.join(", "))));
    } else if TEACHING.contains(&post) != qualification.is_some() {
        e.push(FieldError::new(
            "qualification",
            "trained or untrained for a teaching post, absent for the others",
        ));
    }
    if qualification.is_some_and(|q| q != "trained" && q != "untrained") {
        e.push(FieldError::new("qualification", "must be trained or untrained"));
    }
}

fn check_ec(e: &mut Vec<FieldError>, ec: Option<&str>) {
    if let Some(ec) = ec {
        let (digits, letter) =
            ec.split_at(ec.find(|c: char| !c.is_ascii_digit()).unwrap_or(ec.len()));
        let ok = (5..=8).contains(&digits.len())
            && (letter.is_empty()
                || (letter.len() == 1 && letter.bytes().all(|b| b.is_ascii_uppercase())));
        if !ok {
            e.push(FieldError::new(
                "ec_number",
                "must be 5 to 8 digits and an optional capital letter",
            ));
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    pub school_id: Option<SchoolId>,
    pub full_name: String,
    pub ec_number: Option<String>,
    pub user_id: Option<UserId>,
    pub sex: Sex,
    /// head, deputy, teacher, ecd_teacher, bursar, clerk or ancillary.
    pub post: String,
    pub qualification: Option<String>,
    pub start_date: NaiveDate,
}

impl Validate for NewStaff {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let n = self.full_name.trim();
        if n.is_empty()
            || n.chars().count() > 120
            || n.chars().any(|c| c.is_control() || c.is_ascii_digit())
        {
            e.push(FieldError::new("full_name", "must be 1 to 120 letters"));
        }
        check_post(&mut e, &self.post, self.qualification.as_deref());
        check_ec(&mut e, self.ec_number.as_deref());
        e
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StaffQuery {
    /// Include those who have left (default: in post only).
    pub all: Option<bool>,
}

/// The school's staff, in post unless `all=true`.
#[utoipa::path(get, path = "/staff", tag = "staff", params(StaffQuery),
    responses((status = 200, body = Vec<Staff>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_staff(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<StaffQuery>,
) -> ApiResult<Json<Vec<Staff>>> {
    user.require(READERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = sqlx::query_as!(
        Staff,
        r#"SELECT id, school_id AS "school_id: SchoolId", full_name, ec_number,
                  user_id AS "user_id: UserId", sex, post, qualification, start_date, end_date,
                  max_lessons_week, max_lessons_day
           FROM staff.staff WHERE $1 OR end_date IS NULL
           ORDER BY school_id, post, full_name, id LIMIT 2000"#,
        q.all.unwrap_or(false),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(rows))
}

/// Records a member of staff.
#[utoipa::path(post, path = "/staff", tag = "staff", request_body = NewStaff,
    responses((status = 201, body = Staff), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_staff(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(new): ValidJson<NewStaff>,
) -> ApiResult<(StatusCode, Json<Staff>)> {
    user.require(KEEPERS)?;
    let school = user.school_for_write(new.school_id)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let staff = sqlx::query_as!(
        Staff,
        r#"INSERT INTO staff.staff (id, school_id, full_name, ec_number, user_id, sex, post,
               qualification, start_date)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           RETURNING id, school_id AS "school_id: SchoolId", full_name, ec_number,
                     user_id AS "user_id: UserId", sex, post, qualification, start_date,
                     end_date, max_lessons_week, max_lessons_day"#,
        Uuid::now_v7(),
        school as SchoolId,
        new.full_name.trim(),
        new.ec_number,
        new.user_id as Option<UserId>,
        new.sex.as_str(),
        new.post,
        new.qualification,
        new.start_date,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
        true => ApiError::Conflict("someone in post already has this EC number".into()),
        false => e.into(),
    })?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(staff)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffChange {
    pub post: Option<String>,
    pub qualification: Option<String>,
    /// The last day in post (leaving, retiring, transferred).
    pub end_date: Option<NaiveDate>,
    pub ec_number: Option<String>,
    pub user_id: Option<UserId>,
    /// The most lessons a week the timetable may give them (1 to 96).
    pub max_lessons_week: Option<i16>,
    /// The most lessons a day (1 to 16).
    pub max_lessons_day: Option<i16>,
}

impl Validate for StaffChange {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if let Some(post) = &self.post {
            check_post(&mut e, post, self.qualification.as_deref());
        } else if self.qualification.as_deref().is_some_and(|q| q != "trained" && q != "untrained")
        {
            e.push(FieldError::new("qualification", "must be trained or untrained"));
        }
        check_ec(&mut e, self.ec_number.as_deref());
        if self.max_lessons_week.is_some_and(|m| !(1..=96).contains(&m)) {
            e.push(FieldError::new("max_lessons_week", "must be 1 to 96"));
        }
        if self.max_lessons_day.is_some_and(|m| !(1..=16).contains(&m)) {
            e.push(FieldError::new("max_lessons_day", "must be 1 to 16"));
        }
        e
    }
}

/// Changes a staff record: a new post (with its qualification), a qualification gained, the
/// day they left, the timetable's limits. Every change is in the audit.
#[utoipa::path(patch, path = "/staff/{id}", tag = "staff", request_body = StaffChange,
    params(("id" = Uuid, Path, description = "staff id")),
    responses((status = 200, body = Staff), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_staff(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    ValidJson(c): ValidJson<StaffChange>,
) -> ApiResult<Json<Staff>> {
    user.require(KEEPERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let current = sqlx::query!("SELECT post, start_date FROM staff.staff WHERE id = $1", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut errors = Vec::new();
    if c.end_date.is_some_and(|d| d < current.start_date) {
        errors.push(FieldError::new("end_date", "must not be before the start"));
    }
    // A qualification alone must fit the post held.
    if c.post.is_none()
        && let Some(q) = &c.qualification
    {
        check_post(&mut errors, &current.post, Some(q));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let post_changes = c.post.is_some();
    let staff = sqlx::query_as!(
        Staff,
        r#"UPDATE staff.staff SET
               post = coalesce($2, post),
               qualification = CASE WHEN $7 THEN $3 ELSE coalesce($3, qualification) END,
               end_date = coalesce($4, end_date), ec_number = coalesce($5, ec_number),
               user_id = coalesce($6, user_id),
               max_lessons_week = coalesce($8, max_lessons_week),
               max_lessons_day = coalesce($9, max_lessons_day)
           WHERE id = $1
           RETURNING id, school_id AS "school_id: SchoolId", full_name, ec_number,
                     user_id AS "user_id: UserId", sex, post, qualification, start_date,
                     end_date, max_lessons_week, max_lessons_day"#,
        id,
        c.post,
        c.qualification,
        c.end_date,
        c.ec_number,
        c.user_id as Option<UserId>,
        post_changes,
        c.max_lessons_week,
        c.max_lessons_day,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(staff))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_and_qualifications_go_together() {
        let mut e = Vec::new();
        check_post(&mut e, "teacher", Some("trained"));
        check_post(&mut e, "bursar", None);
        assert!(e.is_empty());
        check_post(&mut e, "teacher", None);
        check_post(&mut e, "clerk", Some("trained"));
        check_post(&mut e, "janitor", None);
        check_post(&mut e, "teacher", Some("graduate"));
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["qualification", "qualification", "post", "qualification"]);
    }

    #[test]
    fn ec_numbers_are_digits_and_a_letter() {
        let check = |v: &str| {
            let mut e = Vec::new();
            check_ec(&mut e, Some(v));
            e.is_empty()
        };
        assert!(check("1234567A"));
        assert!(check("55512"));
        assert!(!check("1234"));
        assert!(!check("1234567a"));
        assert!(!check("12345AB"));
    }
}
