//! ZIMSEC examination entries: the office enters a candidate in the subjects of the exam their
//! grade sits, all or nothing, and downloads a school's entries as the CSV file ZIMSEC takes.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use oneclass_core::grading::Exam;
use oneclass_core::ids::{LearnerId, SchoolId};
use oneclass_core::types::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::csv_out::{csv_field, csv_response};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::learners::audit_reads;
use crate::state::{AppState, RequestId};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_exam_entries)).routes(routes!(create_exam_entries))
}

/// Who enters candidates for ZIMSEC: the office and the heads.
const EXAM_OFFICE: &[Role] = &[Role::Registrar, Role::SchoolHead, Role::Deputy];

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
    user.require_school(school)?;
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
    Ok(csv_response(out, &format!("exam-entries-{}-{}.csv", q.year, q.exam.as_str())))
}
