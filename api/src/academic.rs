//! The academic structure of a school's year: the calendar (terms, reference data), classes and
//! their streams, class teachers, who teaches which subject to which class for how many periods
//! a week, and rooms. Heads and deputies set it up; everyone at the school reads it.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use oneclass_core::grading::Exam;
use oneclass_core::ids::{ClassId, SchoolId, UserId};
use oneclass_core::types::{Grade, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::register::{Class, visible_class};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_terms))
        .routes(routes!(create_class))
        .routes(routes!(list_teaching, assign_teaching))
        .routes(routes!(list_rooms, create_room))
}

const PLANNERS: &[Role] = &[Role::SchoolHead, Role::Deputy];
const STAFF: &[Role] =
    &[Role::SchoolHead, Role::Deputy, Role::Teacher, Role::Registrar, Role::Bursar];

#[derive(Debug, Serialize, ToSchema)]
pub struct Term {
    pub academic_year: i32,
    pub term: i32,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TermQuery {
    /// Only this school year.
    pub year: Option<i32>,
}

/// The school calendar (reference data: the ministry's terms).
#[utoipa::path(get, path = "/terms", tag = "academic", params(TermQuery),
    responses((status = 200, body = Vec<Term>)), security(("bearer" = [])))]
pub(crate) async fn list_terms(
    State(state): State<AppState>,
    _user: AuthUser,
    Query(q): Query<TermQuery>,
) -> ApiResult<Json<Vec<Term>>> {
    Ok(Json(
        sqlx::query_as!(
            Term,
            "SELECT academic_year, term, start_date, end_date FROM ref.terms
             WHERE $1::int IS NULL OR academic_year = $1 ORDER BY academic_year, term",
            q.year,
        )
        .fetch_all(&state.pool)
        .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClass {
    /// Needed only when you belong to several schools.
    pub school_id: Option<SchoolId>,
    pub academic_year: i32,
    pub grade: Grade,
    /// The class's name at the school, unique in the year (`4 Msasa`).
    pub name: String,
    /// The stream, when the grade has several.
    pub stream: Option<String>,
    /// The class's own room (`GET /rooms`), where its lessons are unless they need another kind.
    pub home_room_id: Option<Uuid>,
}

impl Validate for NewClass {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !(2000..=2100).contains(&self.academic_year) {
            e.push(FieldError::new("academic_year", "must be a year between 2000 and 2100"));
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            e.push(FieldError::new("name", "must be 1 to 60 characters"));
        }
        if self.stream.as_deref().is_some_and(|s| s.trim().is_empty() || s.chars().count() > 40) {
            e.push(FieldError::new("stream", "must be 1 to 40 characters"));
        }
        e
    }
}

/// Opens a class for a year.
#[utoipa::path(post, path = "/classes", tag = "academic", request_body = NewClass,
    responses((status = 201, body = Class), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_class(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(new): ValidJson<NewClass>,
) -> ApiResult<(StatusCode, Json<Class>)> {
    user.require(PLANNERS)?;
    let school = user.school_for_write(new.school_id)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    if let Some(room) = new.home_room_id {
        let here = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM academic.rooms WHERE id = $1 AND school_id = $2)
               AS "here!""#,
            room,
            school as SchoolId,
        )
        .fetch_one(&mut *tx)
        .await?;
        if !here {
            return Err(ApiError::field("home_room_id", "not a room of the school"));
        }
    }
    let class = sqlx::query_as!(
        Class,
        r#"INSERT INTO academic.classes (id, school_id, academic_year, grade, name, stream,
               home_room_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING id AS "id: ClassId", school_id AS "school_id: SchoolId", academic_year,
                     grade, name"#,
        ClassId::new() as ClassId,
        school as SchoolId,
        new.academic_year,
        new.grade.as_str(),
        new.name.trim(),
        new.stream.as_deref().map(str::trim),
        new.home_room_id,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
        true => ApiError::Conflict("the school already has a class of that name that year".into()),
        false => e.into(),
    })?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(class)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Teaching {
    pub id: Uuid,
    pub class_id: ClassId,
    pub subject_code: String,
    pub user_id: UserId,
    pub teacher: String,
    pub periods_per_week: i32,
    /// The kind of room the lessons need; absent: the class's own room.
    pub room_kind: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeaching {
    /// A learning area of the class's level (`GET /subjects`).
    pub subject_code: String,
    /// A teacher of the school.
    pub user_id: UserId,
    /// Lessons a week (1 to 20).
    pub periods_per_week: i32,
    /// The kind of room the lessons need (laboratory, computer_lab, workshop, hall, field or
    /// other); absent: the class's own room.
    pub room_kind: Option<String>,
}

impl Validate for NewTeaching {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !(1..=20).contains(&self.periods_per_week) {
            e.push(FieldError::new("periods_per_week", "must be 1 to 20"));
        }
        if self.room_kind.as_deref().is_some_and(|k| k == "classroom" || !ROOM_KINDS.contains(&k)) {
            e.push(FieldError::new(
                "room_kind",
                format!("must be one of {}", ROOM_KINDS[1..].join(", ")),
            ));
        }
        e
    }
}

/// Who teaches which subject to the class, and how many lessons a week.
#[utoipa::path(get, path = "/classes/{id}/teaching", tag = "academic",
    params(("id" = Uuid, Path, description = "class id")),
    responses((status = 200, body = Vec<Teaching>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn list_teaching(
    State(state): State<AppState>,
    user: AuthUser,
    Path(class_id): Path<ClassId>,
) -> ApiResult<Json<Vec<Teaching>>> {
    user.require(STAFF)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    visible_class(&mut tx, &user, class_id).await?;
    let rows = teaching_of(&mut tx, class_id).await?;
    tx.commit().await?;
    Ok(Json(rows))
}

async fn teaching_of(conn: &mut sqlx::PgConnection, class_id: ClassId) -> ApiResult<Vec<Teaching>> {
    Ok(sqlx::query_as!(
        Teaching,
        r#"SELECT t.id, t.class_id AS "class_id: ClassId", t.subject_code,
                  t.user_id AS "user_id: UserId", u.display_name AS teacher, t.periods_per_week,
                  t.room_kind
           FROM academic.teaching t JOIN platform.users u ON u.id = t.user_id
           WHERE t.class_id = $1 ORDER BY t.subject_code"#,
        class_id as ClassId,
    )
    .fetch_all(conn)
    .await?)
}

/// Gives a subject of the class to a teacher of the school (replacing whoever taught it); the
/// teacher then sees the class (its learners, register and marks).
#[utoipa::path(put, path = "/classes/{id}/teaching", tag = "academic", request_body = NewTeaching,
    params(("id" = Uuid, Path, description = "class id")),
    responses((status = 200, body = Vec<Teaching>), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn assign_teaching(
    State(state): State<AppState>,
    user: AuthUser,
    Path(class_id): Path<ClassId>,
    ValidJson(new): ValidJson<NewTeaching>,
) -> ApiResult<Json<Vec<Teaching>>> {
    user.require(PLANNERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let class = visible_class(&mut tx, &user, class_id).await?;
    let mut errors = Vec::new();
    let grade: Grade = class.grade.parse().map_err(|_| ApiError::Internal(class.grade.clone()))?;
    let level = Exam::for_grade(grade).map_or("primary", Exam::subject_level);
    let known = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM ref.subjects WHERE code = $1 AND level = $2) AS "known!""#,
        new.subject_code,
        level,
    )
    .fetch_one(&mut *tx)
    .await?;
    if !known {
        errors.push(FieldError::new("subject_code", format!("not a learning area of {level}")));
    }
    let teaches_here = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM platform.memberships
               WHERE user_id = $1 AND school_id = $2 AND role IN ('teacher', 'school_head', 'deputy'))
           AS "member!""#,
        new.user_id as UserId,
        class.school_id as SchoolId,
    )
    .fetch_one(&mut *tx)
    .await?;
    if !teaches_here {
        errors.push(FieldError::new("user_id", "not a teacher of the class's school"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    sqlx::query!(
        "INSERT INTO academic.teaching (id, school_id, class_id, subject_code, user_id,
             periods_per_week, room_kind)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (class_id, subject_code)
         DO UPDATE SET user_id = EXCLUDED.user_id, periods_per_week = EXCLUDED.periods_per_week,
                       room_kind = EXCLUDED.room_kind",
        Uuid::now_v7(),
        class.school_id as SchoolId,
        class_id as ClassId,
        new.subject_code,
        new.user_id as UserId,
        new.periods_per_week,
        new.room_kind,
    )
    .execute(&mut *tx)
    .await
    // The timetable's lessons follow the assignment to its new teacher (ON UPDATE CASCADE):
    // refused when the new teacher is busy in one of their periods.
    .map_err(|e| match e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
        true => ApiError::Conflict(
            "the new teacher already teaches in a period of these lessons: move them first".into(),
        ),
        false => e.into(),
    })?;
    sqlx::query!(
        "INSERT INTO academic.class_teachers (class_id, user_id, school_id)
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        class_id as ClassId,
        new.user_id as UserId,
        class.school_id as SchoolId,
    )
    .execute(&mut *tx)
    .await?;
    let rows = teaching_of(&mut tx, class_id).await?;
    tx.commit().await?;
    Ok(Json(rows))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Room {
    pub id: Uuid,
    pub school_id: SchoolId,
    pub name: String,
    pub kind: String,
    pub capacity: Option<i32>,
}

const ROOM_KINDS: [&str; 7] =
    ["classroom", "laboratory", "computer_lab", "workshop", "hall", "field", "other"];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoom {
    pub school_id: Option<SchoolId>,
    pub name: String,
    /// classroom (default), laboratory, computer_lab, workshop, hall, field or other.
    pub kind: Option<String>,
    pub capacity: Option<i32>,
}

impl Validate for NewRoom {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            e.push(FieldError::new("name", "must be 1 to 60 characters"));
        }
        if self.kind.as_deref().is_some_and(|k| !ROOM_KINDS.contains(&k)) {
            e.push(FieldError::new("kind", format!("must be one of {}", ROOM_KINDS.join(", "))));
        }
        if self.capacity.is_some_and(|c| !(1..=1000).contains(&c)) {
            e.push(FieldError::new("capacity", "must be 1 to 1000"));
        }
        e
    }
}

/// A school's rooms.
#[utoipa::path(get, path = "/rooms", tag = "academic",
    responses((status = 200, body = Vec<Room>)), security(("bearer" = [])))]
async fn list_rooms(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Vec<Room>>> {
    user.require(STAFF)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = sqlx::query_as!(
        Room,
        r#"SELECT id, school_id AS "school_id: SchoolId", name, kind, capacity
           FROM academic.rooms ORDER BY school_id, name LIMIT 1000"#,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(rows))
}

/// Adds a room.
#[utoipa::path(post, path = "/rooms", tag = "academic", request_body = NewRoom,
    responses((status = 201, body = Room), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_room(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(new): ValidJson<NewRoom>,
) -> ApiResult<(StatusCode, Json<Room>)> {
    user.require(PLANNERS)?;
    let school = user.school_for_write(new.school_id)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let room = sqlx::query_as!(
        Room,
        r#"INSERT INTO academic.rooms (id, school_id, name, kind, capacity)
           VALUES ($1, $2, $3, $4, $5)
           RETURNING id, school_id AS "school_id: SchoolId", name, kind, capacity"#,
        Uuid::now_v7(),
        school as SchoolId,
        new.name.trim(),
        new.kind.as_deref().unwrap_or("classroom"),
        new.capacity,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
        true => ApiError::Conflict("the school already has a room of that name".into()),
        false => e.into(),
    })?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(room)))
}
