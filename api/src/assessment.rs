//! Assessment: the learning areas per level, the ZIMSEC scales, and school assessments with
//! weights, whose results are entered per assessment (all or nothing). What is computed from
//! them (gradebooks, report cards) is in `gradebook`; ZIMSEC entries in `exams`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use oneclass_core::grading::{Boundary, Exam, Scale};
use oneclass_core::ids::{ClassId, LearnerId, SchoolId};
use oneclass_core::types::{Grade, Role};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::register::visible_class;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subjects))
        .routes(routes!(list_scales))
        .routes(routes!(list_assessments, create_assessment))
        .routes(routes!(sheet, save_results))
}

pub(crate) const MARKERS: &[Role] = &[Role::Teacher, Role::SchoolHead, Role::Deputy];

#[derive(Debug, Serialize, ToSchema)]
pub struct Subject {
    pub code: String,
    /// `primary`, `o_level` or `a_level`.
    pub level: String,
    pub name: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SubjectQuery {
    /// `primary`, `o_level` or `a_level`; all when absent.
    pub level: Option<String>,
}

/// The learning areas of the Heritage-Based Curriculum per level (reference data).
#[utoipa::path(get, path = "/subjects", tag = "assessment", params(SubjectQuery),
    responses((status = 200, body = Vec<Subject>)), security(("bearer" = [])))]
pub(crate) async fn list_subjects(
    State(state): State<AppState>,
    _user: AuthUser,
    Query(q): Query<SubjectQuery>,
) -> ApiResult<Json<Vec<Subject>>> {
    let rows = sqlx::query_as!(
        Subject,
        "SELECT code, level, name FROM ref.subjects WHERE $1::text IS NULL OR level = $1
         ORDER BY level, code",
        q.level,
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(rows))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScaleOut {
    pub exam: Exam,
    /// Best first: a percentage at or above `min_percent` earns the grade.
    pub grades: Vec<Boundary>,
}

/// The ZIMSEC grading scales in force (reference data): Grade 7 units 1–9, O level A–U, A level
/// A–F with points.
#[utoipa::path(get, path = "/grading/scales", tag = "assessment",
    responses((status = 200, body = Vec<ScaleOut>)), security(("bearer" = [])))]
async fn list_scales(
    State(state): State<AppState>,
    _user: AuthUser,
) -> ApiResult<Json<Vec<ScaleOut>>> {
    let mut conn = state.pool.acquire().await?;
    let mut out = Vec::new();
    for exam in Exam::ALL {
        let scale = load_scale(&mut conn, *exam).await?;
        out.push(ScaleOut { exam: *exam, grades: scale.grades().to_vec() });
    }
    Ok(Json(out))
}

/// A scale as `ref.grade_boundaries` holds it.
pub async fn load_scale(conn: &mut PgConnection, exam: Exam) -> ApiResult<Scale> {
    let rows = sqlx::query!(
        r#"SELECT grade, min_percent::float8 AS "min_percent!", points, passes
           FROM ref.grade_boundaries WHERE scale = $1"#,
        exam.as_str(),
    )
    .fetch_all(conn)
    .await?;
    let grades = rows
        .into_iter()
        .map(|r| Boundary {
            grade: r.grade,
            min_percent: r.min_percent,
            points: r.points,
            passes: r.passes,
        })
        .collect();
    Scale::new(exam, grades).map_err(|e| ApiError::Internal(format!("ref.grade_boundaries: {e}")))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Assessment {
    pub id: Uuid,
    pub class_id: ClassId,
    pub academic_year: i32,
    pub term: i32,
    pub subject_code: String,
    pub name: String,
    pub max_score: f64,
    pub weight: f64,
    pub held_on: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssessment {
    /// A learning area of the class's level (`GET /subjects`).
    pub subject_code: String,
    pub name: String,
    pub max_score: f64,
    /// Its weight in the term mark (default 1).
    pub weight: Option<f64>,
    /// The day it was held: it must fall in a term of the class's year.
    pub held_on: NaiveDate,
}

impl Validate for NewAssessment {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            e.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        if !(self.max_score > 0.0 && self.max_score <= 1000.0) {
            e.push(FieldError::new("max_score", "must be more than 0 and at most 1000"));
        }
        if self.weight.is_some_and(|w| !(w > 0.0 && w <= 100.0)) {
            e.push(FieldError::new("weight", "must be more than 0 and at most 100"));
        }
        if self.subject_code.is_empty() || self.subject_code.len() > 6 {
            e.push(FieldError::new("subject_code", "must be a subject code such as MAT"));
        }
        e
    }
}

/// Sets an assessment for a class (a test, an exercise, the end-of-term examination).
#[utoipa::path(post, path = "/classes/{id}/assessments", tag = "assessment",
    params(("id" = Uuid, Path, description = "class id")), request_body = NewAssessment,
    responses((status = 201, body = Assessment), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn create_assessment(
    State(state): State<AppState>,
    user: AuthUser,
    Path(class_id): Path<ClassId>,
    ValidJson(new): ValidJson<NewAssessment>,
) -> ApiResult<(StatusCode, Json<Assessment>)> {
    user.require(MARKERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let class = visible_class(&mut tx, &user, class_id).await?;
    let grade: Grade = class.grade.parse().map_err(|_| ApiError::Internal(class.grade.clone()))?;
    let mut errors = Vec::new();
    match Exam::for_grade(grade) {
        None => errors.push(FieldError::new("subject_code", "ECD classes are not assessed")),
        Some(exam) => {
            let known = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM ref.subjects WHERE code = $1 AND level = $2)
                   AS "known!""#,
                new.subject_code,
                exam.subject_level(),
            )
            .fetch_one(&mut *tx)
            .await?;
            if !known {
                errors.push(FieldError::new(
                    "subject_code",
                    format!("not a learning area of {} (GET /subjects)", exam.subject_level()),
                ));
            }
        }
    }
    let term = sqlx::query_scalar!(
        "SELECT term FROM ref.terms
         WHERE academic_year = $1 AND $2::date BETWEEN start_date AND end_date",
        class.academic_year,
        new.held_on,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if term.is_none() {
        errors.push(FieldError::new("held_on", "must fall in a term of the class's year"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let row = sqlx::query!(
        r#"INSERT INTO assessment.assessments (id, school_id, class_id, academic_year, term,
               subject_code, name, max_score, weight, held_on)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::float8, $9::float8, $10)
           RETURNING id"#,
        Uuid::now_v7(),
        class.school_id as SchoolId,
        class_id as ClassId,
        class.academic_year,
        term,
        new.subject_code,
        new.name.trim(),
        new.max_score,
        new.weight.unwrap_or(1.0),
        new.held_on,
    )
    .fetch_one(&mut *tx)
    .await?;
    let created = assessments_of(&mut tx, class_id, Some(row.id), None).await?;
    tx.commit().await?;
    let created = created.into_iter().next().ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub(crate) async fn assessments_of(
    conn: &mut PgConnection,
    class_id: ClassId,
    only: Option<Uuid>,
    term: Option<i32>,
) -> ApiResult<Vec<Assessment>> {
    Ok(sqlx::query_as!(
        Assessment,
        r#"SELECT id, class_id AS "class_id: ClassId", academic_year, term, subject_code, name,
                  max_score::float8 AS "max_score!", weight::float8 AS "weight!", held_on
           FROM assessment.assessments
           WHERE class_id = $1 AND ($2::uuid IS NULL OR id = $2) AND ($3::int IS NULL OR term = $3)
           ORDER BY subject_code, held_on, id"#,
        class_id as ClassId,
        only,
        term,
    )
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TermQuery {
    /// 1, 2 or 3; every term when absent.
    pub term: Option<i32>,
}

/// A class's assessments.
#[utoipa::path(get, path = "/classes/{id}/assessments", tag = "assessment",
    params(("id" = Uuid, Path, description = "class id"), TermQuery),
    responses((status = 200, body = Vec<Assessment>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list_assessments(
    State(state): State<AppState>,
    user: AuthUser,
    Path(class_id): Path<ClassId>,
    Query(q): Query<TermQuery>,
) -> ApiResult<Json<Vec<Assessment>>> {
    user.require(MARKERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    visible_class(&mut tx, &user, class_id).await?;
    let rows = assessments_of(&mut tx, class_id, None, q.term).await?;
    tx.commit().await?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultLine {
    pub learner_id: LearnerId,
    pub score: f64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Results {
    pub results: Vec<ResultLine>,
}

impl Validate for Results {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.results.is_empty() || self.results.len() > 500 {
            e.push(FieldError::new("results", "must hold 1 to 500 results"));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, r) in self.results.iter().enumerate() {
            if r.score.is_nan() || r.score < 0.0 {
                e.push(FieldError::new(format!("results[{i}].score"), "must be 0 or more"));
            }
            if !seen.insert(r.learner_id) {
                e.push(FieldError::new(format!("results[{i}].learner_id"), "appears twice"));
            }
        }
        e
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultsSaved {
    /// Results added or changed.
    pub saved: u64,
}

/// Enters or corrects the results of an assessment, all or nothing: every learner must be in
/// the class and every score within the assessment's maximum; each bad line is named.
#[utoipa::path(put, path = "/assessments/{id}/results", tag = "assessment",
    params(("id" = Uuid, Path, description = "assessment id")), request_body = Results,
    responses((status = 200, body = ResultsSaved), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn save_results(
    State(state): State<AppState>,
    user: AuthUser,
    Path(assessment_id): Path<Uuid>,
    ValidJson(body): ValidJson<Results>,
) -> ApiResult<Json<ResultsSaved>> {
    user.require(MARKERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let a = sqlx::query!(
        r#"SELECT class_id AS "class_id: ClassId", school_id AS "school_id: SchoolId",
                  max_score::float8 AS "max_score!"
           FROM assessment.assessments WHERE id = $1"#,
        assessment_id,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    visible_class(&mut tx, &user, a.class_id).await?;
    let enrolled: std::collections::HashSet<LearnerId> = sqlx::query_scalar!(
        r#"SELECT learner_id AS "learner_id: LearnerId" FROM sis.enrolments
           WHERE class_id = $1 AND end_date IS NULL"#,
        a.class_id as ClassId,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let mut errors = Vec::new();
    for (i, r) in body.results.iter().enumerate() {
        if !enrolled.contains(&r.learner_id) {
            errors.push(FieldError::new(format!("results[{i}].learner_id"), "not in this class"));
        }
        if r.score > a.max_score {
            errors.push(FieldError::new(
                format!("results[{i}].score"),
                format!("must be at most the assessment's maximum, {}", a.max_score),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let ids: Vec<Uuid> = body.results.iter().map(|_| Uuid::now_v7()).collect();
    let learners: Vec<Uuid> = body.results.iter().map(|r| r.learner_id.as_uuid()).collect();
    let scores: Vec<f64> = body.results.iter().map(|r| r.score).collect();
    let saved = sqlx::query!(
        "INSERT INTO assessment.results (id, school_id, assessment_id, learner_id, score, max_score)
         SELECT id, $1, $2, learner_id, score, $3::float8
         FROM UNNEST($4::uuid[], $5::uuid[], $6::float8[]) AS t(id, learner_id, score)
         ON CONFLICT (assessment_id, learner_id) DO UPDATE SET score = EXCLUDED.score
           WHERE assessment.results.score IS DISTINCT FROM EXCLUDED.score",
        a.school_id as SchoolId,
        assessment_id,
        a.max_score,
        &ids,
        &learners,
        &scores,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(Json(ResultsSaved { saved }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SheetLine {
    pub learner_id: LearnerId,
    pub learner_number: String,
    pub first_name: String,
    pub last_name: String,
    /// The score recorded so far, if any.
    pub score: Option<f64>,
}

/// An assessment's mark sheet: the learners now in its class and the scores recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sheet {
    pub assessment: Assessment,
    pub class_name: String,
    pub lines: Vec<SheetLine>,
}

/// An assessment's mark sheet: every learner now in the class, with the score recorded so far.
#[utoipa::path(get, path = "/assessments/{id}/results", tag = "assessment",
    params(("id" = Uuid, Path, description = "assessment id")),
    responses((status = 200, body = Sheet), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn sheet(
    State(state): State<AppState>,
    user: AuthUser,
    Path(assessment_id): Path<Uuid>,
) -> ApiResult<Json<Sheet>> {
    user.require(MARKERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let class_id = sqlx::query_scalar!(
        r#"SELECT class_id AS "class_id: ClassId" FROM assessment.assessments WHERE id = $1"#,
        assessment_id,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    let class = visible_class(&mut tx, &user, class_id).await?;
    let assessment = assessments_of(&mut tx, class_id, Some(assessment_id), None)
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound)?;
    let lines = sqlx::query_as!(
        SheetLine,
        r#"SELECT l.id AS "learner_id: LearnerId", l.learner_number, l.first_name, l.last_name,
                  r.score::float8 AS "score?"
           FROM sis.enrolments e
           JOIN sis.learners l ON l.id = e.learner_id
           LEFT JOIN assessment.results r ON r.assessment_id = $2 AND r.learner_id = l.id
           WHERE e.class_id = $1 AND e.end_date IS NULL
           ORDER BY l.last_name, l.first_name, l.id"#,
        class_id as ClassId,
        assessment_id,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(Sheet { assessment, class_name: class.name, lines }))
}

/// The scale a class of `grade` is reported on, as reference data holds it (none for ECD).
pub(crate) async fn scale_of(conn: &mut PgConnection, grade: &str) -> ApiResult<Option<Scale>> {
    let grade: Grade = grade.parse().map_err(|_| ApiError::Internal(grade.to_owned()))?;
    match Exam::for_grade(grade) {
        Some(exam) => Ok(Some(load_scale(conn, exam).await?)),
        None => Ok(None),
    }
}
