//! Enrolment workflows: a learner's enrolment history, exit with a reason, re-entry (a new
//! enrolment, `POST /enrolments`), year-end promotion and repetition in bulk per class, and
//! transfers between two schools on the platform. One active enrolment per learner is a
//! constraint in PostgreSQL (`enrolments_one_active`), not a check here.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{Datelike, Duration, NaiveDate};
use oneclass_core::ids::{ClassId, EnrolmentId, LearnerId, SchoolId};
use oneclass_core::types::{ExitReason, Grade, Role};
use serde::{Deserialize, Serialize};
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
        .routes(routes!(history))
        .routes(routes!(exit))
        .routes(routes!(year_end))
        .routes(routes!(list_transfers, request_transfer))
        .routes(routes!(complete_transfer))
        .routes(routes!(cancel_transfer))
}

const ADMISSIONS: &[Role] = &[Role::Registrar, Role::SchoolHead, Role::Deputy];

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentSpell {
    pub id: EnrolmentId,
    pub school_id: SchoolId,
    pub school_name: String,
    pub academic_year: i32,
    pub grade: String,
    pub class_id: Option<ClassId>,
    pub entry_type: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub exit_reason: Option<String>,
}

/// A learner's enrolments, newest first, at every school on the platform: the school that holds
/// the learner now sees the years at earlier schools too.
#[utoipa::path(get, path = "/learners/{id}/enrolments", tag = "learners",
    params(("id" = Uuid, Path, description = "learner id")),
    responses((status = 200, body = Vec<EnrolmentSpell>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn history(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<LearnerId>,
) -> ApiResult<Json<Vec<EnrolmentSpell>>> {
    user.require(ADMISSIONS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = sqlx::query_as!(
        EnrolmentSpell,
        r#"SELECT e.id AS "id: EnrolmentId", e.school_id AS "school_id: SchoolId",
                  s.name AS school_name, e.academic_year, e.grade,
                  e.class_id AS "class_id: ClassId", e.entry_type, e.start_date, e.end_date,
                  e.exit_reason
           FROM sis.enrolments e JOIN platform.schools s ON s.id = e.school_id
           WHERE e.learner_id = $1 ORDER BY e.start_date DESC, e.id DESC"#,
        id as LearnerId,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    if rows.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exit {
    /// The learner's last day.
    pub date: NaiveDate,
    pub reason: ExitReason,
}

impl Validate for Exit {
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// The learner status an exit leaves behind.
fn status_after(reason: ExitReason) -> Option<&'static str> {
    match reason {
        ExitReason::Completed => Some("completed"),
        ExitReason::TransferOut => Some("transferred"),
        ExitReason::Dropout => Some("dropped_out"),
        ExitReason::Deceased => Some("deceased"),
        ExitReason::Other => None,
    }
}

/// Ends an open enrolment with a reason (dropout, transfer to a school off the platform,
/// completed, deceased, other); the learner's status follows. A learner who comes back is
/// enrolled again with `entry_type` `re_entry`.
#[utoipa::path(post, path = "/enrolments/{id}/exit", tag = "learners", request_body = Exit,
    params(("id" = Uuid, Path, description = "enrolment id")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn exit(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<EnrolmentId>,
    ValidJson(body): ValidJson<Exit>,
) -> ApiResult<StatusCode> {
    user.require(ADMISSIONS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let e = sqlx::query!(
        r#"SELECT learner_id AS "learner_id: LearnerId", start_date, end_date,
                  school_id = ANY (platform.current_school_ids()) AS "own!"
           FROM sis.enrolments WHERE id = $1 FOR UPDATE"#,
        id as EnrolmentId,
    )
    .fetch_optional(&mut *tx)
    .await?
    .filter(|e| e.own)
    .ok_or(ApiError::NotFound)?;
    if e.end_date.is_some() {
        return Err(ApiError::Conflict("the enrolment has already ended".into()));
    }
    if body.date < e.start_date {
        return Err(ApiError::field("date", "must not be before the enrolment started"));
    }
    sqlx::query!(
        "UPDATE sis.enrolments SET end_date = $2, exit_reason = $3 WHERE id = $1",
        id as EnrolmentId,
        body.date,
        body.reason.as_str(),
    )
    .execute(&mut *tx)
    .await?;
    if let Some(status) = status_after(body.reason) {
        sqlx::query!(
            "UPDATE sis.learners SET status = $2 WHERE id = $1",
            e.learner_id as LearnerId,
            status,
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What happens to a learner at the end of the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// To the next grade (`promoted`).
    Promote,
    /// The same grade again (`repeater`).
    Repeat,
    /// Leaves, having completed the school's last grade (Grade 7 at a primary school, Form 4 or 6).
    Complete,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub learner_id: LearnerId,
    pub outcome: Outcome,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YearEnd {
    /// What happens to learners not named in `decisions` (usually `promote`).
    pub default_outcome: Outcome,
    /// Exceptions, one per learner.
    #[serde(default)]
    pub decisions: Vec<Decision>,
    /// The next year's class for those promoted, of the next grade (optional).
    pub promoted_class_id: Option<ClassId>,
    /// The next year's class for repeaters, of the same grade (optional).
    pub repeat_class_id: Option<ClassId>,
}

impl Validate for YearEnd {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, d) in self.decisions.iter().enumerate() {
            if !seen.insert(d.learner_id) {
                e.push(FieldError::new(format!("decisions[{i}].learner_id"), "appears twice"));
            }
        }
        e
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct YearEndDone {
    pub promoted: usize,
    pub repeating: usize,
    pub completed: usize,
}

/// Year end for a class, in one step and all or nothing: every open enrolment of the class ends
/// (`completed`, on the last day of the year's last term) and, unless the learner completes, a
/// new one opens for the next year in the next grade (`promoted`) or the same (`repeater`).
#[utoipa::path(post, path = "/classes/{id}/year-end", tag = "learners", request_body = YearEnd,
    params(("id" = Uuid, Path, description = "class id")),
    responses((status = 200, body = YearEndDone), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn year_end(
    State(state): State<AppState>,
    user: AuthUser,
    Path(class_id): Path<ClassId>,
    ValidJson(body): ValidJson<YearEnd>,
) -> ApiResult<Json<YearEndDone>> {
    user.require(&[Role::SchoolHead, Role::Deputy, Role::Registrar])?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let class = visible_class(&mut tx, &user, class_id).await?;
    let grade: Grade = class.grade.parse().map_err(|_| ApiError::Internal(class.grade.clone()))?;
    let next_year = class.academic_year + 1;
    let dates = sqlx::query!(
        r#"SELECT (SELECT max(end_date) FROM ref.terms WHERE academic_year = $1) AS "last_day",
                  (SELECT min(start_date) FROM ref.terms WHERE academic_year = $2) AS "first_day""#,
        class.academic_year,
        next_year,
    )
    .fetch_one(&mut *tx)
    .await?;
    let Some(last_day) = dates.last_day else {
        return Err(ApiError::Conflict(format!("{} has no terms", class.academic_year)));
    };
    // The next year's first day, or (its calendar not yet in ref data) the second Tuesday of
    // January, as schools usually open.
    let first_day = dates.first_day.unwrap_or_else(|| {
        NaiveDate::from_ymd_opt(next_year, 1, 13).unwrap_or(last_day + Duration::days(30))
    });
    let open = sqlx::query!(
        r#"SELECT id AS "id: EnrolmentId", learner_id AS "learner_id: LearnerId", start_date
           FROM sis.enrolments WHERE class_id = $1 AND end_date IS NULL ORDER BY learner_id"#,
        class_id as ClassId,
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut errors = Vec::new();
    let by_learner: HashMap<LearnerId, Outcome> =
        body.decisions.iter().map(|d| (d.learner_id, d.outcome)).collect();
    for (i, d) in body.decisions.iter().enumerate() {
        if !open.iter().any(|e| e.learner_id == d.learner_id) {
            errors.push(FieldError::new(
                format!("decisions[{i}].learner_id"),
                "not enrolled in this class",
            ));
        }
    }
    let outcome_of = |l: &LearnerId| by_learner.get(l).copied().unwrap_or(body.default_outcome);
    let next_grade = grade.next();
    if next_grade.is_none() && open.iter().any(|e| outcome_of(&e.learner_id) == Outcome::Promote) {
        errors.push(FieldError::new("default_outcome", "Form 6 is the last grade: use complete"));
    }
    for (field, id, want) in [
        ("promoted_class_id", body.promoted_class_id, next_grade),
        ("repeat_class_id", body.repeat_class_id, Some(grade)),
    ] {
        let Some(id) = id else { continue };
        let c = sqlx::query!(
            "SELECT academic_year, grade FROM academic.classes WHERE id = $1",
            id as ClassId,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let fits = c.is_some_and(|c| {
            c.academic_year == next_year && Some(c.grade.as_str()) == want.map(Grade::as_str)
        });
        if !fits {
            errors.push(FieldError::new(
                field,
                format!(
                    "must be a class of your school for {next_year} in grade {}",
                    want.map_or("–", Grade::as_str)
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut done = YearEndDone::default();
    for e in &open {
        let outcome = outcome_of(&e.learner_id);
        sqlx::query!(
            "UPDATE sis.enrolments SET end_date = greatest($2, start_date), exit_reason = 'completed'
             WHERE id = $1",
            e.id as EnrolmentId,
            last_day,
        )
        .execute(&mut *tx)
        .await?;
        let (new_grade, entry, new_class) = match outcome {
            Outcome::Complete => {
                sqlx::query!(
                    "UPDATE sis.learners SET status = 'completed' WHERE id = $1",
                    e.learner_id as LearnerId,
                )
                .execute(&mut *tx)
                .await?;
                done.completed += 1;
                continue;
            }
            Outcome::Promote => {
                done.promoted += 1;
                (next_grade.unwrap_or(grade), "promoted", body.promoted_class_id)
            }
            Outcome::Repeat => {
                done.repeating += 1;
                (grade, "repeater", body.repeat_class_id)
            }
        };
        sqlx::query!(
            "INSERT INTO sis.enrolments (id, school_id, learner_id, academic_year, grade, class_id,
                 entry_type, start_date)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            EnrolmentId::new() as EnrolmentId,
            class.school_id as SchoolId,
            e.learner_id as LearnerId,
            next_year,
            new_grade.as_str(),
            new_class as Option<ClassId>,
            entry,
            first_day,
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Json(done))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Transfer {
    pub id: Uuid,
    pub learner_id: LearnerId,
    pub from_school_id: SchoolId,
    pub to_school_id: SchoolId,
    pub learner_name: String,
    pub learner_number: String,
    pub grade: String,
    pub leaving_on: NaiveDate,
    /// `pending`, `completed` or `cancelled`.
    pub status: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTransfer {
    pub learner_id: LearnerId,
    /// The receiving school, on the platform.
    pub to_school_id: SchoolId,
    /// The learner's last day at your school.
    pub leaving_on: NaiveDate,
}

impl Validate for NewTransfer {
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// Asks another school on the platform to take a learner. The learner stays yours until the
/// receiving school completes the transfer; until then it sees the name, number and grade.
#[utoipa::path(post, path = "/transfers", tag = "learners", request_body = NewTransfer,
    responses((status = 201, body = Transfer), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn request_transfer(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(new): ValidJson<NewTransfer>,
) -> ApiResult<(StatusCode, Json<Transfer>)> {
    user.require(ADMISSIONS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let l = sqlx::query!(
        r#"SELECT l.school_id AS "school_id: SchoolId", l.first_name, l.last_name,
                  l.learner_number, e.grade AS "grade?", e.start_date AS "start_date?"
           FROM sis.learners l
           LEFT JOIN sis.enrolments e ON e.learner_id = l.id AND e.end_date IS NULL
           WHERE l.id = $1"#,
        new.learner_id as LearnerId,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::field("learner_id", "no such learner in your schools"))?;
    let mut errors = Vec::new();
    let (Some(grade), Some(start)) = (l.grade, l.start_date) else {
        return Err(ApiError::field("learner_id", "the learner has no open enrolment"));
    };
    if new.leaving_on < start {
        errors.push(FieldError::new("leaving_on", "must not be before the enrolment started"));
    }
    if new.to_school_id == l.school_id {
        errors.push(FieldError::new("to_school_id", "must be another school"));
    }
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM platform.schools WHERE id = $1) AS "exists!""#,
        new.to_school_id as SchoolId,
    )
    .fetch_one(&mut *tx)
    .await?;
    if !exists {
        errors.push(FieldError::new("to_school_id", "no such school on the platform"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let t = sqlx::query_as!(
        Transfer,
        r#"INSERT INTO sis.transfers (id, learner_id, from_school_id, to_school_id, learner_name,
               learner_number, grade, leaving_on)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           RETURNING id, learner_id AS "learner_id: LearnerId",
                     from_school_id AS "from_school_id: SchoolId",
                     to_school_id AS "to_school_id: SchoolId", learner_name, learner_number,
                     grade, leaving_on, status"#,
        Uuid::now_v7(),
        new.learner_id as LearnerId,
        l.school_id as SchoolId,
        new.to_school_id as SchoolId,
        format!("{} {}", l.first_name, l.last_name),
        l.learner_number,
        grade,
        new.leaving_on,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
        true => ApiError::Conflict("a transfer of this learner is already pending".into()),
        false => e.into(),
    })?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TransferQuery {
    /// `pending` (default), `completed` or `cancelled`.
    pub status: Option<String>,
}

/// Transfers to and from your schools.
#[utoipa::path(get, path = "/transfers", tag = "learners", params(TransferQuery),
    responses((status = 200, body = Vec<Transfer>)), security(("bearer" = [])))]
async fn list_transfers(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<TransferQuery>,
) -> ApiResult<Json<Vec<Transfer>>> {
    user.require(ADMISSIONS)?;
    let status = q.status.unwrap_or_else(|| "pending".into());
    if !["pending", "completed", "cancelled"].contains(&status.as_str()) {
        return Err(ApiError::field("status", "must be pending, completed or cancelled"));
    }
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = sqlx::query_as!(
        Transfer,
        r#"SELECT id, learner_id AS "learner_id: LearnerId",
                  from_school_id AS "from_school_id: SchoolId",
                  to_school_id AS "to_school_id: SchoolId", learner_name, learner_number, grade,
                  leaving_on, status
           FROM sis.transfers WHERE status = $1 ORDER BY id DESC LIMIT 500"#,
        status,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Arrival {
    /// The grade the learner joins.
    pub grade: Grade,
    /// Their class, of that grade and year (optional).
    pub class_id: Option<ClassId>,
    /// The first day at your school (on or after the day they left).
    pub start_date: NaiveDate,
    pub academic_year: i32,
}

impl Validate for Arrival {
    fn validate(&self) -> Vec<FieldError> {
        if (self.start_date.year() - self.academic_year).abs() > 1 {
            vec![FieldError::new("start_date", "must fall in or next to the academic year")]
        } else {
            Vec::new()
        }
    }
}

/// Completes a transfer to your school: the learner's record becomes yours with their whole
/// history, the sending school's enrolment ends (`transfer_out`) and yours opens
/// (`transfer_in`), in one step.
#[utoipa::path(post, path = "/transfers/{id}/complete", tag = "learners", request_body = Arrival,
    params(("id" = Uuid, Path, description = "transfer id")),
    responses((status = 200, body = Transfer), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn complete_transfer(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    ValidJson(body): ValidJson<Arrival>,
) -> ApiResult<Json<Transfer>> {
    user.require(ADMISSIONS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let done = sqlx::query_scalar!(
        "SELECT sis.complete_transfer($1, $2, $3, $4, $5)",
        id,
        body.grade.as_str(),
        body.class_id as Option<ClassId>,
        body.start_date,
        body.academic_year,
    )
    .fetch_one(&mut *tx)
    .await;
    if let Err(e) = done {
        let code = e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned());
        return Err(match code.as_deref() {
            Some("P0002") => ApiError::NotFound,
            Some("55000") => ApiError::Conflict("the transfer is no longer pending".into()),
            Some("22023") => ApiError::field(
                "class_id",
                e.as_database_error().map(|d| d.message().to_owned()).unwrap_or_default(),
            ),
            _ => e.into(),
        });
    }
    let t = transfer(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(t))
}

async fn transfer(conn: &mut sqlx::PgConnection, id: Uuid) -> ApiResult<Transfer> {
    sqlx::query_as!(
        Transfer,
        r#"SELECT id, learner_id AS "learner_id: LearnerId",
                  from_school_id AS "from_school_id: SchoolId",
                  to_school_id AS "to_school_id: SchoolId", learner_name, learner_number, grade,
                  leaving_on, status
           FROM sis.transfers WHERE id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await?
    .ok_or(ApiError::NotFound)
}

/// Withdraws a pending transfer (either school may).
#[utoipa::path(post, path = "/transfers/{id}/cancel", tag = "learners",
    params(("id" = Uuid, Path, description = "transfer id")),
    responses((status = 200, body = Transfer), (status = 404, body = Problem),
              (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn cancel_transfer(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Transfer>> {
    user.require(ADMISSIONS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let t = transfer(&mut tx, id).await?;
    if t.status != "pending" {
        return Err(ApiError::Conflict(format!("the transfer is {}", t.status)));
    }
    sqlx::query!("UPDATE sis.transfers SET status = 'cancelled' WHERE id = $1", id)
        .execute(&mut *tx)
        .await?;
    let t = transfer(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(t))
}
