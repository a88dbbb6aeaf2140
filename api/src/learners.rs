//! Learners and enrolments: registrars and heads admit and enrol; teachers read the learners of
//! the classes they teach. Every read of one learner's record is audited.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate, Utc};
use oneclass_core::ids::{ClassId, EnrolmentId, LearnerId, SchoolId, UserId};
use oneclass_core::types::{EntryType, Grade, NationalId, Role, Sex};
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, Transaction};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;
use crate::state::RequestId;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_learners, create_learner))
        .routes(routes!(get_learner, update_learner))
        .routes(routes!(create_enrolment))
}

const ADMISSIONS: &[Role] = &[Role::Registrar, Role::SchoolHead, Role::Deputy];
const READERS: &[Role] =
    &[Role::Registrar, Role::SchoolHead, Role::Deputy, Role::Teacher, Role::Bursar];

#[derive(Debug, Serialize, ToSchema)]
pub struct Learner {
    pub id: LearnerId,
    pub school_id: SchoolId,
    pub learner_number: String,
    pub first_name: String,
    pub last_name: String,
    pub sex: String,
    pub date_of_birth: NaiveDate,
    pub national_id: Option<String>,
    pub birth_entry_number: Option<String>,
    pub home_language: Option<String>,
    pub disability: Option<String>,
    pub is_ovc: bool,
    pub is_beam: bool,
    pub status: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLearner {
    /// Needed only when you belong to several schools.
    pub school_id: Option<SchoolId>,
    pub learner_number: String,
    pub first_name: String,
    pub last_name: String,
    pub sex: Sex,
    pub date_of_birth: NaiveDate,
    /// Checked and normalised as it is read (`NN-NNNNNN L NN`).
    pub national_id: Option<NationalId>,
    /// The birth entry number, for a child without a national ID yet (4 to 20 of digits,
    /// capital letters, `/`, `-`, spaces).
    pub birth_entry_number: Option<String>,
    pub home_language: Option<String>,
    pub disability: Option<String>,
    #[serde(default)]
    pub is_ovc: bool,
    /// BEAM pays the learner's fees.
    #[serde(default)]
    pub is_beam: bool,
}

/// What is wrong with a birth entry number, if anything.
pub(crate) fn birth_entry_problem(b: &str) -> Option<&'static str> {
    let ok = (4..=20).contains(&b.len())
        && b.bytes().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() || b"/ -".contains(&c));
    (!ok).then_some("must be 4 to 20 of digits, capital letters, '/', '-' and spaces")
}

/// What is wrong with a home language, if anything.
pub(crate) fn language_problem(l: &str) -> Option<&'static str> {
    (!(2..=40).contains(&l.trim().chars().count())).then_some("must be 2 to 40 characters")
}

/// What is wrong with a first or last name, if anything: any alphabet, apostrophes and hyphens
/// are fine, digits and control characters are not.
pub(crate) fn name_problem(value: &str) -> Option<&'static str> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > 100 {
        Some("must be 1 to 100 characters")
    } else if v.chars().any(|c| c.is_control() || c.is_ascii_digit()) {
        Some("must not contain digits or control characters")
    } else {
        None
    }
}

fn check_birth_entry(errors: &mut Vec<FieldError>, value: Option<&str>) {
    if let Some(why) = value.and_then(birth_entry_problem) {
        errors.push(FieldError::new("birth_entry_number", why));
    }
}

fn check_language(errors: &mut Vec<FieldError>, value: Option<&str>) {
    if let Some(why) = value.and_then(language_problem) {
        errors.push(FieldError::new("home_language", why));
    }
}

fn check_name(errors: &mut Vec<FieldError>, field: &str, value: &str) {
    if let Some(why) = name_problem(value) {
        errors.push(FieldError::new(field, why));
    }
}

impl Validate for NewLearner {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_name(&mut e, "first_name", &self.first_name);
        check_name(&mut e, "last_name", &self.last_name);
        let number = self.learner_number.trim();
        if number.is_empty() || number.len() > 40 {
            e.push(FieldError::new("learner_number", "must be 1 to 40 characters"));
        }
        let today = Utc::now().date_naive();
        if self.date_of_birth > today {
            e.push(FieldError::new("date_of_birth", "must not be in the future"));
        } else if today.year() - self.date_of_birth.year() > 30 {
            e.push(FieldError::new("date_of_birth", "a learner must be under 30"));
        } else if today.year() - self.date_of_birth.year() < 2 {
            e.push(FieldError::new("date_of_birth", "a learner must be at least 2 years old"));
        }
        if self.disability.as_deref().is_some_and(|d| d.trim().is_empty() || d.len() > 100) {
            e.push(FieldError::new("disability", "must be 1 to 100 characters, or absent"));
        }
        check_birth_entry(&mut e, self.birth_entry_number.as_deref());
        check_language(&mut e, self.home_language.as_deref());
        e
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LearnerQuery {
    pub limit: Option<i64>,
    pub after: Option<Uuid>,
    /// Only learners of this school.
    pub school_id: Option<SchoolId>,
    /// A search: the start of a first or last name (any case, accents as typed), or a learner
    /// number.
    pub q: Option<String>,
    /// Only learners with an open enrolment in this grade.
    pub grade: Option<Grade>,
    /// Only learners with an open enrolment in this class.
    pub class_id: Option<ClassId>,
    pub sex: Option<Sex>,
    /// `active`, `transferred`, `dropped_out`, `completed` or `deceased`.
    pub status: Option<String>,
}

/// List the learners you may see (keyset paginated).
#[utoipa::path(get, path = "/learners", tag = "learners", params(LearnerQuery),
    responses((status = 200, body = Page<Learner>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list_learners(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Query(q): Query<LearnerQuery>,
) -> ApiResult<Json<Page<Learner>>> {
    user.require(READERS)?;
    let limit = PageQuery { limit: q.limit, after: q.after }.limit()?;
    if q.q.as_ref().is_some_and(|t| t.trim().is_empty() || t.chars().count() > 60) {
        return Err(ApiError::field("q", "must be 1 to 60 characters"));
    }
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let only = Only {
        after: q.after,
        school: q.school_id,
        learner: None,
        search: q.q.as_deref().map(|t| t.trim().to_owned()),
        grade: q.grade,
        class: q.class_id,
        sex: q.sex,
        status: q.status.clone(),
    };
    let rows = visible_learners(&mut tx, &user, &only, limit + 1).await?;
    let page = Page::from_rows(rows, limit, |l| l.id.as_uuid());
    // A list is a read of every record on it: one audit row per learner shown.
    audit(&mut tx, &user, &request_id, "list", &page.items).await?;
    tx.commit().await?;
    Ok(Json(page))
}

/// One learner's record. Audited.
#[utoipa::path(get, path = "/learners/{id}", tag = "learners",
    params(("id" = Uuid, Path, description = "learner id")),
    responses((status = 200, body = Learner), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_learner(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(id): Path<LearnerId>,
) -> ApiResult<Json<Learner>> {
    user.require(READERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let only = Only { learner: Some(id), ..Only::default() };
    let learner =
        visible_learners(&mut tx, &user, &only, 1).await?.pop().ok_or(ApiError::NotFound)?;
    audit(&mut tx, &user, &request_id, "read", std::slice::from_ref(&learner)).await?;
    tx.commit().await?;
    Ok(Json(learner))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LearnerChange {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub sex: Option<Sex>,
    pub date_of_birth: Option<NaiveDate>,
    pub national_id: Option<NationalId>,
    pub birth_entry_number: Option<String>,
    pub home_language: Option<String>,
    pub disability: Option<String>,
    pub is_ovc: Option<bool>,
    pub is_beam: Option<bool>,
}

impl Validate for LearnerChange {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if let Some(n) = &self.first_name {
            check_name(&mut e, "first_name", n);
        }
        if let Some(n) = &self.last_name {
            check_name(&mut e, "last_name", n);
        }
        if self.date_of_birth.is_some_and(|d| d > Utc::now().date_naive()) {
            e.push(FieldError::new("date_of_birth", "must not be in the future"));
        }
        if self.disability.as_deref().is_some_and(|d| d.trim().is_empty() || d.len() > 100) {
            e.push(FieldError::new("disability", "must be 1 to 100 characters"));
        }
        check_birth_entry(&mut e, self.birth_entry_number.as_deref());
        check_language(&mut e, self.home_language.as_deref());
        e
    }
}

/// Corrects a learner's record: the fields given change, the others stay. Every change is in the
/// record's history (`GET /learners/{id}/history`), old and new values.
#[utoipa::path(patch, path = "/learners/{id}", tag = "learners", request_body = LearnerChange,
    params(("id" = Uuid, Path, description = "learner id")),
    responses((status = 200, body = Learner), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_learner(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<LearnerId>,
    ValidJson(c): ValidJson<LearnerChange>,
) -> ApiResult<Json<Learner>> {
    user.require(ADMISSIONS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let learner = sqlx::query_as!(
        Learner,
        r#"UPDATE sis.learners AS l SET
               first_name = coalesce($2, first_name), last_name = coalesce($3, last_name),
               sex = coalesce($4, sex), date_of_birth = coalesce($5, date_of_birth),
               national_id = coalesce($6, national_id),
               birth_entry_number = coalesce($7, birth_entry_number),
               home_language = coalesce($8, home_language), disability = coalesce($9, disability),
               is_ovc = coalesce($10, is_ovc), is_beam = coalesce($11, is_beam)
           WHERE id = $1
           RETURNING l.id AS "id: LearnerId", l.school_id AS "school_id: SchoolId",
                     l.learner_number, l.first_name, l.last_name, l.sex, l.date_of_birth,
                     l.national_id, l.birth_entry_number, l.home_language, l.disability,
                     l.is_ovc, l.is_beam, l.status"#,
        id as LearnerId,
        c.first_name.as_deref().map(str::trim),
        c.last_name.as_deref().map(str::trim),
        c.sex.map(Sex::as_str),
        c.date_of_birth,
        c.national_id.as_ref().map(NationalId::as_str),
        c.birth_entry_number.as_deref(),
        c.home_language.as_deref().map(str::trim),
        c.disability.as_deref().map(str::trim),
        c.is_ovc,
        c.is_beam,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Json(learner))
}

/// Which of the visible learners to read.
#[derive(Default)]
struct Only {
    /// Keyset pagination: ids after this one.
    after: Option<Uuid>,
    school: Option<SchoolId>,
    learner: Option<LearnerId>,
    search: Option<String>,
    grade: Option<Grade>,
    class: Option<ClassId>,
    sex: Option<Sex>,
    status: Option<String>,
}

/// The learners the user may see, in id order: RLS limits them to the user's schools, and a
/// teacher sees a learner only through an open enrolment in a class they teach.
async fn visible_learners(
    tx: &mut Transaction<'static, Postgres>,
    user: &AuthUser,
    only: &Only,
    limit: i64,
) -> ApiResult<Vec<Learner>> {
    Ok(sqlx::query_as!(
        Learner,
        r#"SELECT l.id AS "id: LearnerId", l.school_id AS "school_id: SchoolId", l.learner_number,
                  l.first_name, l.last_name, l.sex, l.date_of_birth, l.national_id,
                  l.birth_entry_number, l.home_language, l.disability, l.is_ovc, l.is_beam,
                  l.status
           FROM sis.learners l
           WHERE ($1::uuid IS NULL OR EXISTS (
                   SELECT 1 FROM sis.enrolments e
                   JOIN academic.class_teachers ct ON ct.class_id = e.class_id
                   WHERE e.learner_id = l.id AND e.end_date IS NULL AND ct.user_id = $1))
             AND ($2::uuid IS NULL OR l.id > $2)
             AND ($3::uuid IS NULL OR l.school_id = $3)
             AND ($4::uuid IS NULL OR l.id = $4)
             AND ($6::text IS NULL OR lower(l.first_name) LIKE lower($6) || '%'
                  OR lower(l.last_name) LIKE lower($6) || '%' OR l.learner_number = $6)
             AND ($7::text IS NULL AND $8::uuid IS NULL OR EXISTS (
                   SELECT 1 FROM sis.enrolments e WHERE e.learner_id = l.id
                   AND e.end_date IS NULL AND ($7::text IS NULL OR e.grade = $7)
                   AND ($8::uuid IS NULL OR e.class_id = $8)))
             AND ($9::text IS NULL OR l.sex = $9)
             AND ($10::text IS NULL OR l.status = $10)
           ORDER BY l.id LIMIT $5"#,
        user.teacher_id() as Option<UserId>,
        only.after,
        only.school as Option<SchoolId>,
        only.learner as Option<LearnerId>,
        limit,
        only.search.as_deref().map(|t| t.replace(['%', '_', '\\'], "")),
        only.grade.map(Grade::as_str),
        only.class as Option<ClassId>,
        only.sex.map(Sex::as_str),
        only.status,
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// The school of a learner the user may see (RLS: their schools; a teacher: a learner of a class
/// they teach); not found otherwise.
pub(crate) async fn visible_learner_school(
    conn: &mut sqlx::PgConnection,
    user: &AuthUser,
    id: LearnerId,
) -> ApiResult<SchoolId> {
    sqlx::query_scalar!(
        r#"SELECT l.school_id AS "school_id: SchoolId" FROM sis.learners l
           WHERE l.id = $1 AND ($2::uuid IS NULL OR EXISTS (
               SELECT 1 FROM sis.enrolments e
               JOIN academic.class_teachers ct ON ct.class_id = e.class_id
               WHERE e.learner_id = l.id AND e.end_date IS NULL AND ct.user_id = $2))"#,
        id as LearnerId,
        user.teacher_id() as Option<UserId>,
    )
    .fetch_optional(conn)
    .await?
    .ok_or(ApiError::NotFound)
}

/// One audit row per learner record shown (`action`: `read` or `list`).
async fn audit(
    tx: &mut Transaction<'static, Postgres>,
    user: &AuthUser,
    request_id: &RequestId,
    action: &str,
    learners: &[Learner],
) -> ApiResult<()> {
    let read: Vec<(Uuid, Uuid)> =
        learners.iter().map(|l| (l.id.as_uuid(), l.school_id.as_uuid())).collect();
    audit_reads(tx, user, request_id, action, &read).await
}

/// One audit row per learner record shown, given as (learner id, school id) (`action`: `read`
/// or `list`).
pub(crate) async fn audit_reads(
    tx: &mut Transaction<'static, Postgres>,
    user: &AuthUser,
    request_id: &RequestId,
    action: &str,
    learners: &[(Uuid, Uuid)],
) -> ApiResult<()> {
    let ids: Vec<Uuid> = learners.iter().map(|_| Uuid::now_v7()).collect();
    let learner_ids: Vec<Uuid> = learners.iter().map(|l| l.0).collect();
    let schools: Vec<Uuid> = learners.iter().map(|l| l.1).collect();
    sqlx::query!(
        "INSERT INTO audit.events (id, user_id, school_id, action, entity, entity_id, request_id)
         SELECT id, $1, school_id, $2, 'sis.learners', learner_id, $3
         FROM UNNEST($4::uuid[], $5::uuid[], $6::uuid[]) AS t(id, school_id, learner_id)",
        user.id as UserId,
        action,
        request_id.0,
        &ids,
        &schools,
        &learner_ids,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Admit a learner.
#[utoipa::path(post, path = "/learners", tag = "learners", request_body = NewLearner,
    responses((status = 201, body = Learner), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_learner(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(new): ValidJson<NewLearner>,
) -> ApiResult<(StatusCode, Json<Learner>)> {
    user.require(ADMISSIONS)?;
    let school_id = user.school_for_write(new.school_id)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let learner = insert_learner(&mut tx, school_id, &new).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(learner)))
}

/// Writes a new learner's record in the caller's transaction.
pub(crate) async fn insert_learner(
    tx: &mut sqlx::PgConnection,
    school_id: SchoolId,
    new: &NewLearner,
) -> ApiResult<Learner> {
    Ok(sqlx::query_as!(
        Learner,
        r#"INSERT INTO sis.learners AS l (id, school_id, learner_number, first_name, last_name, sex,
               date_of_birth, national_id, disability, is_ovc, birth_entry_number,
               home_language, is_beam)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
           RETURNING l.id AS "id: LearnerId", l.school_id AS "school_id: SchoolId",
                     l.learner_number, l.first_name, l.last_name, l.sex, l.date_of_birth,
                     l.national_id, l.birth_entry_number, l.home_language, l.disability,
                     l.is_ovc, l.is_beam, l.status"#,
        LearnerId::new() as LearnerId,
        school_id as SchoolId,
        new.learner_number.trim(),
        new.first_name.trim(),
        new.last_name.trim(),
        new.sex.as_str(),
        new.date_of_birth,
        new.national_id.as_ref().map(NationalId::as_str),
        new.disability.as_deref().map(str::trim),
        new.is_ovc,
        new.birth_entry_number.as_deref(),
        new.home_language.as_deref().map(str::trim),
        new.is_beam,
    )
    .fetch_one(tx)
    .await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnrolment {
    pub learner_id: LearnerId,
    pub academic_year: i32,
    pub grade: Grade,
    pub class_id: Option<ClassId>,
    pub entry_type: EntryType,
    pub start_date: NaiveDate,
}

impl Validate for NewEnrolment {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !(2000..=2100).contains(&self.academic_year) {
            e.push(FieldError::new("academic_year", "must be a year between 2000 and 2100"));
        }
        if (self.start_date.year() - self.academic_year).abs() > 1 {
            e.push(FieldError::new("start_date", "must fall in or next to the academic year"));
        }
        e
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolment {
    pub id: EnrolmentId,
    pub school_id: SchoolId,
    pub learner_id: LearnerId,
    pub academic_year: i32,
    pub grade: String,
    pub class_id: Option<ClassId>,
    pub entry_type: String,
    pub start_date: NaiveDate,
}

/// Enrol a learner for a year, optionally into a class of that grade.
#[utoipa::path(post, path = "/enrolments", tag = "learners", request_body = NewEnrolment,
    responses((status = 201, body = Enrolment), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_enrolment(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(new): ValidJson<NewEnrolment>,
) -> ApiResult<(StatusCode, Json<Enrolment>)> {
    user.require(ADMISSIONS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let enrolment = insert_enrolment(&mut tx, &new).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(enrolment)))
}

/// Enrols a learner (of the user's schools) in the caller's transaction.
pub(crate) async fn insert_enrolment(
    tx: &mut sqlx::PgConnection,
    new: &NewEnrolment,
) -> ApiResult<Enrolment> {
    let school_id = sqlx::query_scalar!(
        r#"SELECT school_id AS "school_id: SchoolId" FROM sis.learners WHERE id = $1"#,
        new.learner_id as LearnerId,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::field("learner_id", "no such learner in your schools"))?;
    if let Some(class_id) = new.class_id {
        let class = sqlx::query!(
            r#"SELECT school_id AS "school_id: SchoolId", academic_year, grade
               FROM academic.classes WHERE id = $1"#,
            class_id as ClassId,
        )
        .fetch_optional(&mut *tx)
        .await?;
        match class {
            Some(c)
                if c.school_id == school_id
                    && c.academic_year == new.academic_year
                    && c.grade == new.grade.as_str() => {}
            Some(_) => {
                return Err(ApiError::field(
                    "class_id",
                    "the class must be of the learner's school, year and grade",
                ));
            }
            None => return Err(ApiError::field("class_id", "no such class in your schools")),
        }
    }
    // One active enrolment per learner is a constraint (enrolments_one_active): a second
    // is refused by PostgreSQL as a conflict.
    let enrolment = sqlx::query_as!(
        Enrolment,
        r#"INSERT INTO sis.enrolments (id, school_id, learner_id, academic_year, grade, class_id,
               entry_type, start_date)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           RETURNING id AS "id: EnrolmentId", school_id AS "school_id: SchoolId",
                     learner_id AS "learner_id: LearnerId", academic_year, grade,
                     class_id AS "class_id: ClassId", entry_type, start_date"#,
        EnrolmentId::new() as EnrolmentId,
        school_id as SchoolId,
        new.learner_id as LearnerId,
        new.academic_year,
        new.grade.as_str(),
        new.class_id as Option<ClassId>,
        new.entry_type.as_str(),
        new.start_date,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
        true => ApiError::Conflict(
            "the learner already has an open enrolment: end it first (POST /enrolments/{id}/exit)"
                .into(),
        ),
        false => e.into(),
    })?;
    // Enrolled again: a learner who had left is active once more.
    sqlx::query!(
        "UPDATE sis.learners SET status = 'active' WHERE id = $1 AND status <> 'active'",
        new.learner_id as LearnerId,
    )
    .execute(&mut *tx)
    .await?;
    Ok(enrolment)
}
