//! Classes and the class register: a teacher marks a whole class for a day in one request.
//! All marks of a request are written in one transaction, or none.

use std::collections::HashSet;

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{NaiveDate, Utc};
use oneclass_core::ids::{ClassId, LearnerId, SchoolId, UserId};
use oneclass_core::types::{AttendanceStatus, Role};
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, Transaction};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_classes)).routes(routes!(get_register, save_register))
}

const MARKERS: &[Role] = &[Role::Teacher, Role::SchoolHead, Role::Deputy];

#[derive(Debug, Serialize, ToSchema)]
pub struct Class {
    pub id: ClassId,
    pub school_id: SchoolId,
    pub academic_year: i32,
    pub grade: String,
    pub name: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ClassQuery {
    pub academic_year: Option<i32>,
}

/// Classes you may see: a teacher's own classes, or every class of your schools.
#[utoipa::path(get, path = "/classes", tag = "attendance", params(ClassQuery),
    responses((status = 200, body = Vec<Class>)), security(("bearer" = [])))]
async fn list_classes(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<ClassQuery>,
) -> ApiResult<Json<Vec<Class>>> {
    Ok(Json(visible_classes(&state, &user, q.academic_year).await?))
}

/// The classes a user may see: a teacher's own, or every class of their schools.
pub async fn visible_classes(
    state: &AppState,
    user: &AuthUser,
    academic_year: Option<i32>,
) -> ApiResult<Vec<Class>> {
    user.require(&[Role::Teacher, Role::SchoolHead, Role::Deputy, Role::Registrar])?;
    let mut tx = begin_scoped(&state.pool, user).await?;
    let rows = sqlx::query_as!(
        Class,
        r#"SELECT c.id AS "id: ClassId", c.school_id AS "school_id: SchoolId", c.academic_year,
                  c.grade, c.name
           FROM academic.classes c
           WHERE ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM academic.class_teachers ct
                                              WHERE ct.class_id = c.id AND ct.user_id = $1))
             AND ($2::int IS NULL OR c.academic_year = $2)
           ORDER BY c.academic_year DESC, c.grade, c.name LIMIT 1000"#,
        user.teacher_id() as Option<UserId>,
        academic_year,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// The class if the user may mark it: in their schools (RLS) and, for a teacher, taught by them.
pub(crate) async fn visible_class(
    tx: &mut Transaction<'static, Postgres>,
    user: &AuthUser,
    class_id: ClassId,
) -> ApiResult<Class> {
    sqlx::query_as!(
        Class,
        r#"SELECT c.id AS "id: ClassId", c.school_id AS "school_id: SchoolId", c.academic_year,
                  c.grade, c.name
           FROM academic.classes c
           WHERE c.id = $2 AND ($1::uuid IS NULL OR EXISTS (
               SELECT 1 FROM academic.class_teachers ct
               WHERE ct.class_id = c.id AND ct.user_id = $1))"#,
        user.teacher_id() as Option<UserId>,
        class_id as ClassId,
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(ApiError::NotFound)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RegisterQuery {
    /// The day (YYYY-MM-DD); today when absent.
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterLine {
    pub learner_id: LearnerId,
    pub learner_number: String,
    pub first_name: String,
    pub last_name: String,
    /// The mark already recorded for the day, if any.
    pub status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Register {
    pub class_id: ClassId,
    pub date: NaiveDate,
    pub learners: Vec<RegisterLine>,
}

/// The register of a class for a day: its enrolled learners and their marks.
#[utoipa::path(get, path = "/classes/{id}/register", tag = "attendance",
    params(("id" = Uuid, Path, description = "class id"), RegisterQuery),
    responses((status = 200, body = Register), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_register(
    State(state): State<AppState>,
    user: AuthUser,
    Path(class_id): Path<ClassId>,
    Query(q): Query<RegisterQuery>,
) -> ApiResult<Json<Register>> {
    let date = q.date.unwrap_or_else(|| Utc::now().date_naive());
    Ok(Json(load_register(&state, &user, class_id, date).await?))
}

/// A class's register for a day, if the user may mark that class (else 404 or 403).
pub async fn load_register(
    state: &AppState,
    user: &AuthUser,
    class_id: ClassId,
    date: NaiveDate,
) -> ApiResult<Register> {
    user.require(MARKERS)?;
    let mut tx = begin_scoped(&state.pool, user).await?;
    let class = visible_class(&mut tx, user, class_id).await?;
    let learners = sqlx::query_as!(
        RegisterLine,
        r#"SELECT l.id AS "learner_id: LearnerId", l.learner_number, l.first_name, l.last_name,
                  m.status AS "status?"
           FROM sis.enrolments e
           JOIN sis.learners l ON l.id = e.learner_id
           LEFT JOIN attendance.daily_marks m ON m.learner_id = l.id AND m.date = $2
           WHERE e.class_id = $1 AND e.end_date IS NULL
           ORDER BY l.last_name, l.first_name, l.id"#,
        class.id as ClassId,
        date,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Register { class_id, date, learners })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mark {
    pub learner_id: LearnerId,
    pub status: AttendanceStatus,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterMarks {
    pub date: NaiveDate,
    pub marks: Vec<Mark>,
}

impl Validate for RegisterMarks {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.date > Utc::now().date_naive() {
            e.push(FieldError::new("date", "must not be in the future"));
        }
        if self.marks.is_empty() {
            e.push(FieldError::new("marks", "must not be empty"));
        }
        if self.marks.len() > 500 {
            e.push(FieldError::new("marks", "at most 500 marks per request"));
        }
        let mut seen = HashSet::new();
        for (i, m) in self.marks.iter().enumerate() {
            if !seen.insert(m.learner_id) {
                e.push(FieldError::new(format!("marks[{i}].learner_id"), "marked twice"));
            }
        }
        e
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterSaved {
    pub class_id: ClassId,
    pub date: NaiveDate,
    /// Marks written (new or changed).
    pub saved: u64,
}

/// Mark the class for a day. Learners must be enrolled in the class; a learner already marked
/// that day gets the new status.
#[utoipa::path(post, path = "/classes/{id}/register", tag = "attendance",
    params(("id" = Uuid, Path, description = "class id")), request_body = RegisterMarks,
    responses((status = 200, body = RegisterSaved), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn save_register(
    State(state): State<AppState>,
    user: AuthUser,
    Path(class_id): Path<ClassId>,
    ValidJson(body): ValidJson<RegisterMarks>,
) -> ApiResult<Json<RegisterSaved>> {
    let saved = save_marks(&state, &user, class_id, &body).await?;
    Ok(Json(RegisterSaved { class_id, date: body.date, saved }))
}

/// Writes a validated register in one transaction: every learner must be enrolled in the class,
/// or nothing is written. Returns the number of marks added or changed.
pub async fn save_marks(
    state: &AppState,
    user: &AuthUser,
    class_id: ClassId,
    body: &RegisterMarks,
) -> ApiResult<u64> {
    user.require(MARKERS)?;
    let mut tx = begin_scoped(&state.pool, user).await?;
    let class = visible_class(&mut tx, user, class_id).await?;
    let enrolled: HashSet<LearnerId> = sqlx::query_scalar!(
        r#"SELECT learner_id AS "learner_id: LearnerId" FROM sis.enrolments
           WHERE class_id = $1 AND end_date IS NULL"#,
        class.id as ClassId,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let errors: Vec<FieldError> = body
        .marks
        .iter()
        .enumerate()
        .filter(|(_, m)| !enrolled.contains(&m.learner_id))
        .map(|(i, _)| {
            FieldError::new(format!("marks[{i}].learner_id"), "not enrolled in this class")
        })
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let ids: Vec<Uuid> = body.marks.iter().map(|_| Uuid::now_v7()).collect();
    let learners: Vec<Uuid> = body.marks.iter().map(|m| m.learner_id.as_uuid()).collect();
    let statuses: Vec<String> = body.marks.iter().map(|m| m.status.as_str().to_owned()).collect();
    let saved = sqlx::query!(
        "INSERT INTO attendance.daily_marks AS m (id, school_id, learner_id, class_id, date, status)
         SELECT id, $1, learner_id, $2, $3, status
         FROM UNNEST($4::uuid[], $5::uuid[], $6::text[]) AS t(id, learner_id, status)
         ON CONFLICT (learner_id, date) DO UPDATE
           SET status = EXCLUDED.status, class_id = EXCLUDED.class_id
           WHERE m.status IS DISTINCT FROM EXCLUDED.status OR m.class_id IS DISTINCT FROM EXCLUDED.class_id",
        class.school_id as SchoolId,
        class.id as ClassId,
        body.date,
        &ids,
        &learners,
        &statuses,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    metrics::counter!("oneclass_attendance_marks_saved_total").increment(saved);
    Ok(saved)
}
