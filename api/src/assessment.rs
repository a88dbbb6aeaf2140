//! Assessment: the learning areas per level, the ZIMSEC scales, school assessments with weights,
//! results entered per assessment (all or nothing), a gradebook per class and subject with term
//! marks and grades, printable report cards, and ZIMSEC examination entries (CSV for ZIMSEC).

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use oneclass_core::grading::{self, Boundary, Exam, Scale, Weighted};
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
use crate::learners::audit_reads;
use crate::register::visible_class;
use crate::state::{AppState, RequestId};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subjects))
        .routes(routes!(list_scales))
        .routes(routes!(list_assessments, create_assessment))
        .routes(routes!(save_results))
        .routes(routes!(gradebook))
        .routes(routes!(report_card))
        .routes(routes!(list_exam_entries))
        .routes(routes!(create_exam_entries))
}

/// Who sets assessments and enters marks: a class's teachers, and the school's heads.
const MARKERS: &[Role] = &[Role::Teacher, Role::SchoolHead, Role::Deputy];
/// Who enters candidates for ZIMSEC: the office and the heads.
const EXAM_OFFICE: &[Role] = &[Role::Registrar, Role::SchoolHead, Role::Deputy];

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
async fn list_subjects(
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
async fn create_assessment(
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

async fn assessments_of(
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
async fn list_assessments(
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
async fn save_results(
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

/// One learner's marks in one subject for a term: the term mark and its grade.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TermMark {
    /// The weighted mean of the assessments sat, as a percentage; absent if none was sat.
    pub percent: Option<f64>,
    pub grade: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GradebookLine {
    pub learner_id: LearnerId,
    pub first_name: String,
    pub last_name: String,
    /// One per assessment, in the order of `assessments`; absent where not sat.
    pub scores: Vec<Option<f64>>,
    pub term_mark: TermMark,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Gradebook {
    pub class_id: ClassId,
    pub subject_code: String,
    pub term: i32,
    pub scale: Option<Exam>,
    pub assessments: Vec<Assessment>,
    pub learners: Vec<GradebookLine>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct GradebookQuery {
    pub subject: String,
    pub term: i32,
}

/// A class's marks in one subject for a term: every assessment, every learner, the term mark
/// (weighted mean of what was sat) and its grade on the class's ZIMSEC scale. Audited as a read
/// of each learner's record.
#[utoipa::path(get, path = "/classes/{id}/gradebook", tag = "assessment",
    params(("id" = Uuid, Path, description = "class id"), GradebookQuery),
    responses((status = 200, body = Gradebook), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn gradebook(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(class_id): Path<ClassId>,
    Query(q): Query<GradebookQuery>,
) -> ApiResult<Json<Gradebook>> {
    user.require(MARKERS)?;
    if !(1..=3).contains(&q.term) {
        return Err(ApiError::field("term", "must be 1, 2 or 3"));
    }
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let class = visible_class(&mut tx, &user, class_id).await?;
    let scale = scale_of(&mut tx, &class.grade).await?;
    let assessments: Vec<Assessment> = assessments_of(&mut tx, class_id, None, Some(q.term))
        .await?
        .into_iter()
        .filter(|a| a.subject_code == q.subject)
        .collect();
    let learners = sqlx::query!(
        r#"SELECT l.id AS "id: LearnerId", l.school_id AS "school_id: SchoolId", l.first_name,
                  l.last_name
           FROM sis.enrolments e JOIN sis.learners l ON l.id = e.learner_id
           WHERE e.class_id = $1 AND e.end_date IS NULL ORDER BY l.last_name, l.first_name, l.id"#,
        class_id as ClassId,
    )
    .fetch_all(&mut *tx)
    .await?;
    let marks = class_results(&mut tx, class_id, q.term).await?;
    let mut lines = Vec::with_capacity(learners.len());
    for l in &learners {
        let mine: Vec<&MarkRow> =
            marks.iter().filter(|m| m.learner_id == l.id && m.subject_code == q.subject).collect();
        let scores = assessments
            .iter()
            .map(|a| mine.iter().find(|m| m.assessment_id == a.id).map(|m| m.score))
            .collect();
        lines.push(GradebookLine {
            learner_id: l.id,
            first_name: l.first_name.clone(),
            last_name: l.last_name.clone(),
            scores,
            term_mark: graded(term_mark_of(&mine), scale.as_ref()),
        });
    }
    let read: Vec<(Uuid, Uuid)> =
        learners.iter().map(|l| (l.id.as_uuid(), l.school_id.as_uuid())).collect();
    audit_reads(&mut tx, &user, &request_id, "list", &read).await?;
    tx.commit().await?;
    Ok(Json(Gradebook {
        class_id,
        subject_code: q.subject,
        term: q.term,
        scale: scale.as_ref().map(|s| s.exam),
        assessments,
        learners: lines,
    }))
}

async fn scale_of(conn: &mut PgConnection, grade: &str) -> ApiResult<Option<Scale>> {
    let grade: Grade = grade.parse().map_err(|_| ApiError::Internal(grade.to_owned()))?;
    match Exam::for_grade(grade) {
        Some(exam) => Ok(Some(load_scale(conn, exam).await?)),
        None => Ok(None),
    }
}

fn graded(percent: Option<f64>, scale: Option<&Scale>) -> TermMark {
    let percent = percent.map(|p| (p * 10.0).round() / 10.0);
    TermMark { percent, grade: percent.zip(scale).map(|(p, s)| s.grade(p).grade.clone()) }
}

struct MarkRow {
    assessment_id: Uuid,
    learner_id: LearnerId,
    subject_code: String,
    score: f64,
    max_score: f64,
    weight: f64,
}

/// Every result of the class's assessments in a term.
async fn class_results(
    conn: &mut PgConnection,
    class_id: ClassId,
    term: i32,
) -> ApiResult<Vec<MarkRow>> {
    Ok(sqlx::query_as!(
        MarkRow,
        r#"SELECT a.id AS assessment_id, r.learner_id AS "learner_id: LearnerId", a.subject_code,
                  r.score::float8 AS "score!", r.max_score::float8 AS "max_score!",
                  a.weight::float8 AS "weight!"
           FROM assessment.assessments a JOIN assessment.results r ON r.assessment_id = a.id
           WHERE a.class_id = $1 AND a.term = $2"#,
        class_id as ClassId,
        term,
    )
    .fetch_all(conn)
    .await?)
}

fn term_mark_of(rows: &[&MarkRow]) -> Option<f64> {
    let weighted: Vec<Weighted> = rows
        .iter()
        .map(|m| Weighted { score: m.score, max_score: m.max_score, weight: m.weight })
        .collect();
    grading::term_mark(&weighted)
}

/// A report card's line for one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct CardLine {
    pub subject: String,
    pub assessments: usize,
    pub percent: Option<f64>,
    pub grade: Option<String>,
    pub class_average: Option<f64>,
    /// Position in the class in this subject (1 = highest term mark), of `of` learners marked.
    pub position: Option<usize>,
    pub of: usize,
}

/// A learner's report card for a term: printable HTML, no scripts, no outside assets.
#[derive(Debug, Template)]
#[template(path = "report_card.html")]
pub struct ReportCard {
    pub school: String,
    pub emis_code: String,
    pub learner: String,
    pub learner_number: String,
    pub class_name: String,
    pub grade: String,
    pub academic_year: i32,
    pub term: i32,
    pub term_dates: String,
    pub scale: String,
    pub lines: Vec<CardLine>,
    pub days_marked: i64,
    pub present: i64,
    pub late: i64,
    pub absent: i64,
    pub excused: i64,
}

impl ReportCard {
    fn attendance_rate(&self) -> String {
        if self.days_marked == 0 {
            "–".into()
        } else {
            format!("{:.1} %", 100.0 * (self.present + self.late) as f64 / self.days_marked as f64)
        }
    }
}

fn one_decimal(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |p| format!("{p:.1}"))
}

impl CardLine {
    fn percent_text(&self) -> String {
        one_decimal(self.percent)
    }

    fn average_text(&self) -> String {
        one_decimal(self.class_average)
    }

    fn grade_text(&self) -> &str {
        self.grade.as_deref().unwrap_or("–")
    }

    fn position_text(&self) -> String {
        self.position.map_or_else(|| "–".to_owned(), |p| format!("{p} of {}", self.of))
    }
}

/// The lines of a report card: per subject the learner's term mark and grade, the class
/// average of term marks, and the learner's position among those marked.
fn card_lines(
    learner: LearnerId,
    marks: &[MarkRow],
    subjects: &HashMap<String, String>,
    scale: Option<&Scale>,
) -> Vec<CardLine> {
    let mut by_subject: BTreeMap<&str, HashMap<LearnerId, Vec<&MarkRow>>> = BTreeMap::new();
    for m in marks {
        by_subject.entry(&m.subject_code).or_default().entry(m.learner_id).or_default().push(m);
    }
    let mut lines = Vec::new();
    for (code, learners) in by_subject {
        let Some(mine) = learners.get(&learner) else { continue };
        let mut all: Vec<(LearnerId, f64)> =
            learners.iter().filter_map(|(id, rows)| term_mark_of(rows).map(|p| (*id, p))).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        let own = term_mark_of(mine);
        // Equal marks share a position (two learners at 70 % are both 2nd).
        let position = own.map(|p| 1 + all.iter().filter(|(_, q)| *q > p).count());
        let average = (!all.is_empty())
            .then(|| all.iter().map(|(_, p)| p).sum::<f64>() / all.len() as f64)
            .map(|a| (a * 10.0).round() / 10.0);
        let mark = graded(own, scale);
        lines.push(CardLine {
            subject: subjects.get(code).cloned().unwrap_or_else(|| code.to_owned()),
            assessments: mine.len(),
            percent: mark.percent,
            grade: mark.grade,
            class_average: average,
            position,
            of: all.len(),
        });
    }
    lines
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CardQuery {
    pub year: i32,
    pub term: i32,
}

/// A learner's report card for a term, as printable HTML: each subject's term mark, grade on the
/// class's ZIMSEC scale, class average and position, and the term's attendance. Audited.
#[utoipa::path(get, path = "/learners/{id}/report-card", tag = "assessment",
    params(("id" = Uuid, Path, description = "learner id"), CardQuery),
    responses((status = 200, content_type = "text/html", body = String),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn report_card(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(id): Path<LearnerId>,
    Query(q): Query<CardQuery>,
) -> ApiResult<Response> {
    user.require(&[Role::SchoolHead, Role::Deputy, Role::Teacher, Role::Registrar])?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let term = sqlx::query!(
        "SELECT start_date, end_date FROM ref.terms WHERE academic_year = $1 AND term = $2",
        q.year,
        q.term,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::field("term", "no such term in the calendar"))?;
    let who = sqlx::query!(
        r#"SELECT l.school_id AS "school_id: SchoolId", l.first_name, l.last_name,
                  l.learner_number, s.name AS school, s.emis_code, e.class_id AS "class_id!: ClassId",
                  c.name AS class_name, e.grade
           FROM sis.learners l
           JOIN platform.schools s ON s.id = l.school_id
           JOIN sis.enrolments e ON e.learner_id = l.id AND e.academic_year = $2
                                 AND e.class_id IS NOT NULL
           JOIN academic.classes c ON c.id = e.class_id
           WHERE l.id = $1
           ORDER BY e.start_date DESC LIMIT 1"#,
        id as LearnerId,
        q.year,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    // A teacher sees the cards of the classes they teach.
    visible_class(&mut tx, &user, who.class_id).await.map_err(|_| ApiError::NotFound)?;
    let scale = scale_of(&mut tx, &who.grade).await?;
    let marks = class_results(&mut tx, who.class_id, q.term).await?;
    let subjects: HashMap<String, String> = sqlx::query!(
        "SELECT code, name FROM ref.subjects WHERE level = $1",
        scale.as_ref().map_or("primary", |s| s.exam.subject_level()),
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.code, r.name))
    .collect();
    let days = sqlx::query!(
        r#"SELECT count(*) AS "marked!",
                  count(*) FILTER (WHERE status = 'present') AS "present!",
                  count(*) FILTER (WHERE status = 'late') AS "late!",
                  count(*) FILTER (WHERE status = 'absent') AS "absent!",
                  count(*) FILTER (WHERE status = 'excused') AS "excused!"
           FROM attendance.daily_marks WHERE learner_id = $1 AND date BETWEEN $2 AND $3"#,
        id as LearnerId,
        term.start_date,
        term.end_date,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit_reads(&mut tx, &user, &request_id, "read", &[(id.as_uuid(), who.school_id.as_uuid())])
        .await?;
    tx.commit().await?;
    let card = ReportCard {
        school: who.school,
        emis_code: who.emis_code,
        learner: format!("{} {}", who.first_name, who.last_name),
        learner_number: who.learner_number,
        class_name: who.class_name,
        grade: who.grade,
        academic_year: q.year,
        term: q.term,
        term_dates: format!(
            "{} – {}",
            term.start_date.format("%-d %B %Y"),
            term.end_date.format("%-d %B %Y")
        ),
        scale: scale.as_ref().map_or_else(String::new, |s| scale_name(s.exam).to_owned()),
        lines: card_lines(id, &marks, &subjects, scale.as_ref()),
        days_marked: days.marked,
        present: days.present,
        late: days.late,
        absent: days.absent,
        excused: days.excused,
    };
    let html = card.render().map_err(|e| ApiError::Internal(format!("report card: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

fn scale_name(exam: Exam) -> &'static str {
    match exam {
        Exam::G7 => "Grade 7 units (1 best, 9 fail)",
        Exam::OLevel => "O level (A best; C or better passes)",
        Exam::ALevel => "A level (A 5 points … E 1; O and F fail)",
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntries {
    pub learner_id: LearnerId,
    pub academic_year: i32,
    pub exam: Exam,
    /// ZIMSEC's candidate number (4 to 12 digits).
    pub candidate_number: String,
    /// The subjects entered, codes of the exam's level (`GET /subjects`).
    pub subjects: Vec<String>,
}

impl Validate for NewEntries {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !(2000..=2100).contains(&self.academic_year) {
            e.push(FieldError::new("academic_year", "must be a year between 2000 and 2100"));
        }
        let n = &self.candidate_number;
        if !(4..=12).contains(&n.len()) || !n.bytes().all(|b| b.is_ascii_digit()) {
            e.push(FieldError::new("candidate_number", "must be 4 to 12 digits"));
        }
        if self.subjects.is_empty() || self.subjects.len() > 15 {
            e.push(FieldError::new("subjects", "must name 1 to 15 subjects"));
        }
        e
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExamEntry {
    pub learner_id: LearnerId,
    pub learner_number: String,
    pub first_name: String,
    pub last_name: String,
    pub sex: String,
    pub date_of_birth: NaiveDate,
    pub exam: String,
    pub candidate_number: String,
    pub subject_code: String,
}

/// Enters a candidate for a ZIMSEC examination in several subjects, all or nothing. The learner
/// must be enrolled that year in the grade that sits it (Grade 7, Form 4, Form 6).
#[utoipa::path(post, path = "/exam-entries", tag = "assessment", request_body = NewEntries,
    responses((status = 201), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_exam_entries(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(new): ValidJson<NewEntries>,
) -> ApiResult<StatusCode> {
    user.require(EXAM_OFFICE)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let enrolled = sqlx::query!(
        r#"SELECT e.school_id AS "school_id: SchoolId", e.grade FROM sis.enrolments e
           WHERE e.learner_id = $1 AND e.academic_year = $2 AND e.end_date IS NULL"#,
        new.learner_id as LearnerId,
        new.academic_year,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::field("learner_id", "no open enrolment that year in your schools"))?;
    let mut errors = Vec::new();
    let sits = enrolled.grade.parse().ok().and_then(Exam::sat_in);
    if sits != Some(new.exam) {
        errors.push(FieldError::new(
            "exam",
            format!("a learner in {} does not sit this examination", enrolled.grade),
        ));
    }
    let known: Vec<String> = sqlx::query_scalar!(
        "SELECT code FROM ref.subjects WHERE level = $1",
        new.exam.subject_level(),
    )
    .fetch_all(&mut *tx)
    .await?;
    for (i, s) in new.subjects.iter().enumerate() {
        if !known.contains(s) {
            errors.push(FieldError::new(format!("subjects[{i}]"), "not a subject of this exam"));
        } else if new.subjects[..i].contains(s) {
            errors.push(FieldError::new(format!("subjects[{i}]"), "appears twice"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let ids: Vec<Uuid> = new.subjects.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query!(
        "INSERT INTO assessment.exam_entries (id, school_id, learner_id, academic_year, exam,
             subject_code, candidate_number)
         SELECT id, $1, $2, $3, $4, subject, $5
         FROM UNNEST($6::uuid[], $7::text[]) AS t(id, subject)",
        enrolled.school_id as SchoolId,
        new.learner_id as LearnerId,
        new.academic_year,
        new.exam.as_str(),
        new.candidate_number,
        &ids,
        &new.subjects,
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| match e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
        true => ApiError::Conflict(
            "the learner is already entered in one of these subjects, or the candidate number \
             is another learner's"
                .into(),
        ),
        false => e.into(),
    })?;
    tx.commit().await?;
    Ok(StatusCode::CREATED)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EntriesQuery {
    pub year: i32,
    pub exam: Exam,
    /// `csv` for the file ZIMSEC takes; JSON otherwise.
    pub format: Option<String>,
}

/// A school's examination entries for a year and exam, by candidate number: JSON, or the CSV
/// file for ZIMSEC (`format=csv`). Audited as a read of each candidate's record.
#[utoipa::path(get, path = "/schools/{id}/exam-entries", tag = "assessment",
    params(("id" = Uuid, Path, description = "school id"), EntriesQuery),
    responses((status = 200, body = Vec<ExamEntry>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_exam_entries(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(school): Path<SchoolId>,
    Query(q): Query<EntriesQuery>,
) -> ApiResult<Response> {
    user.require(EXAM_OFFICE)?;
    if !user.schools.contains(&school) {
        return Err(ApiError::Forbidden);
    }
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::field("format", "must be json or csv")),
    };
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = sqlx::query_as!(
        ExamEntry,
        r#"SELECT x.learner_id AS "learner_id: LearnerId", l.learner_number, l.first_name,
                  l.last_name, l.sex, l.date_of_birth, x.exam, x.candidate_number, x.subject_code
           FROM assessment.exam_entries x JOIN sis.learners l ON l.id = x.learner_id
           WHERE x.school_id = $1 AND x.academic_year = $2 AND x.exam = $3
           ORDER BY x.candidate_number, x.subject_code
           LIMIT 100000"#,
        school as SchoolId,
        q.year,
        q.exam.as_str(),
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut read: Vec<(Uuid, Uuid)> =
        rows.iter().map(|r| (r.learner_id.as_uuid(), school.as_uuid())).collect();
    read.dedup();
    audit_reads(&mut tx, &user, &request_id, "list", &read).await?;
    tx.commit().await?;
    if !csv {
        return Ok(Json(rows).into_response());
    }
    let mut out = String::from(
        "candidate_number,learner_number,last_name,first_name,sex,date_of_birth,exam,subject_code\n",
    );
    for r in &rows {
        let fields = [
            r.candidate_number.as_str(),
            &r.learner_number,
            &r.last_name,
            &r.first_name,
            &r.sex,
            &r.date_of_birth.to_string(),
            &r.exam,
            &r.subject_code,
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
}

/// A CSV field, quoted when it must be (RFC 4180), and never read as a formula by a spreadsheet:
/// a value that starts like one gets a leading `'` (numbers and phones such as `+263…` are left
/// as they are; the importer drops such an `'` again).
pub fn csv_field(value: &str) -> String {
    let plain_number = |rest: &str| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit());
    let formula = value.starts_with(['=', '@'])
        || (value.starts_with(['+', '-']) && !plain_number(&value[1..]));
    let guarded = if formula { format!("'{value}") } else { value.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(learner: LearnerId, subject: &str, score: f64, max: f64, weight: f64) -> MarkRow {
        MarkRow {
            assessment_id: Uuid::nil(),
            learner_id: learner,
            subject_code: subject.into(),
            score,
            max_score: max,
            weight,
        }
    }

    fn o_level() -> Scale {
        let b = |g: &str, m: f64, p: bool| Boundary {
            grade: g.into(),
            min_percent: m,
            points: None,
            passes: p,
        };
        Scale::new(
            Exam::OLevel,
            vec![
                b("A", 75.0, true),
                b("B", 65.0, true),
                b("C", 50.0, true),
                b("D", 40.0, false),
                b("E", 30.0, false),
                b("U", 0.0, false),
            ],
        )
        .expect("scale")
    }

    /// Three learners, two subjects. Mathematics: a test out of 40 (weight 1) and an exam out of
    /// 100 (weight 3). Rudo 30/40 and 60/100 → (75 + 180) ÷ 4 = 63.75 → 63.8 → C (50 to 65);
    /// Tendai 20/40 and 90/100 → (50 + 270) ÷ 4 = 80 → A; Chipo missed the test, 40/100 → 40 → D.
    /// Class average (63.75 + 80 + 40) ÷ 3 = 61.25 → 61.3; Rudo is 2nd of 3.
    /// English: only Rudo and Tendai, both 70/100 → both B, both 1st of 2.
    fn fixture() -> (Vec<LearnerId>, Vec<MarkRow>) {
        let (rudo, tendai, chipo) = (LearnerId::new(), LearnerId::new(), LearnerId::new());
        let rows = vec![
            row(rudo, "MAT", 30.0, 40.0, 1.0),
            row(rudo, "MAT", 60.0, 100.0, 3.0),
            row(tendai, "MAT", 20.0, 40.0, 1.0),
            row(tendai, "MAT", 90.0, 100.0, 3.0),
            row(chipo, "MAT", 40.0, 100.0, 3.0),
            row(rudo, "ENG", 70.0, 100.0, 1.0),
            row(tendai, "ENG", 70.0, 100.0, 1.0),
        ];
        (vec![rudo, tendai, chipo], rows)
    }

    #[test]
    fn card_lines_worked_by_hand() {
        let (ids, rows) = fixture();
        let names: HashMap<String, String> = [("MAT", "Mathematics"), ("ENG", "English Language")]
            .map(|(c, n)| (c.to_owned(), n.to_owned()))
            .into();
        let scale = o_level();
        let rudo = card_lines(ids[0], &rows, &names, Some(&scale));
        assert_eq!(
            rudo,
            vec![
                CardLine {
                    subject: "English Language".into(),
                    assessments: 1,
                    percent: Some(70.0),
                    grade: Some("B".into()),
                    class_average: Some(70.0),
                    position: Some(1),
                    of: 2,
                },
                CardLine {
                    subject: "Mathematics".into(),
                    assessments: 2,
                    percent: Some(63.8),
                    grade: Some("C".into()),
                    class_average: Some(61.3),
                    position: Some(2),
                    of: 3,
                },
            ]
        );
        let chipo = card_lines(ids[2], &rows, &names, Some(&scale));
        assert_eq!(chipo.len(), 1, "no line for a subject not sat");
        assert_eq!((chipo[0].grade.as_deref(), chipo[0].position), (Some("D"), Some(3)));
    }

    #[test]
    fn report_card_renders_as_reviewed() {
        let (ids, rows) = fixture();
        let names: HashMap<String, String> = [("MAT", "Mathematics"), ("ENG", "English Language")]
            .map(|(c, n)| (c.to_owned(), n.to_owned()))
            .into();
        let card = ReportCard {
            school: "Chitungwiza High School".into(),
            emis_code: "041207".into(),
            learner: "Rudo Chiwenga-Ndlovu".into(),
            learner_number: "CHS-2023-0147".into(),
            class_name: "3 Msasa".into(),
            grade: "F3".into(),
            academic_year: 2026,
            term: 3,
            term_dates: "8 September 2026 – 8 December 2026".into(),
            scale: scale_name(Exam::OLevel).into(),
            lines: card_lines(ids[0], &rows, &names, Some(&o_level())),
            days_marked: 60,
            present: 52,
            late: 3,
            absent: 4,
            excused: 1,
        };
        insta::assert_snapshot!(card.render().expect("renders"));
    }

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("Moyo"), "Moyo");
        assert_eq!(csv_field("O'Brien, Jr"), "\"O'Brien, Jr\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("+263771234567"), "+263771234567");
        assert_eq!(csv_field("-2+3+cmd|' /C calc'!A0"), "'-2+3+cmd|' /C calc'!A0");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
    }
}
