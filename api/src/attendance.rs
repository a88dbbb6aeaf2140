//! Attendance beyond the day's register: per-learner and per-class summaries for a date range
//! (present, late, absent and excused, and the rate), and the corrections made to marks, each
//! with who changed what and when (from the audit).

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, NaiveDate, Utc};
use oneclass_core::ids::{ClassId, LearnerId, SchoolId};
use oneclass_core::types::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, Problem};
use crate::learners::{audit_reads, visible_learner_school};
use crate::register::visible_class;
use crate::state::{AppState, RequestId};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(learner_attendance))
        .routes(routes!(class_attendance))
        .routes(routes!(corrections))
}

const READERS: &[Role] = &[Role::Teacher, Role::SchoolHead, Role::Deputy, Role::Registrar];
/// The longest range a summary covers.
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Deserialize, IntoParams)]
pub struct Range {
    /// The first day (YYYY-MM-DD).
    pub from: NaiveDate,
    /// The last day, at most 366 days after `from`.
    pub to: NaiveDate,
}

impl Range {
    fn check(&self) -> ApiResult<()> {
        if self.to < self.from {
            return Err(ApiError::field("to", "must not be before from"));
        }
        if (self.to - self.from).num_days() >= MAX_DAYS {
            return Err(ApiError::field("to", "the range is at most 366 days"));
        }
        Ok(())
    }
}

#[derive(Debug, Default, Serialize, ToSchema, PartialEq)]
pub struct Summary {
    pub marked: i64,
    pub present: i64,
    pub late: i64,
    pub absent: i64,
    pub excused: i64,
    /// (present + late) ÷ marked × 100, one decimal; absent when nothing was marked.
    pub rate: Option<f64>,
}

impl Summary {
    fn of(marked: i64, present: i64, late: i64, absent: i64, excused: i64) -> Summary {
        let rate =
            (marked > 0).then(|| (1000.0 * (present + late) as f64 / marked as f64).round() / 10.0);
        Summary { marked, present, late, absent, excused, rate }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Day {
    pub date: NaiveDate,
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LearnerAttendance {
    pub learner_id: LearnerId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: Vec<Day>,
    pub summary: Summary,
}

/// A learner's marks day by day over a range, and their summary. A teacher sees the learners of
/// the classes they teach. Audited.
#[utoipa::path(get, path = "/learners/{id}/attendance", tag = "attendance",
    params(("id" = Uuid, Path, description = "learner id"), Range),
    responses((status = 200, body = LearnerAttendance), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn learner_attendance(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(id): Path<LearnerId>,
    Query(range): Query<Range>,
) -> ApiResult<Json<LearnerAttendance>> {
    user.require(READERS)?;
    range.check()?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let school = visible_learner_school(&mut tx, &user, id).await?;
    let days = sqlx::query_as!(
        Day,
        "SELECT date, status FROM attendance.daily_marks
         WHERE learner_id = $1 AND date BETWEEN $2 AND $3 ORDER BY date",
        id as LearnerId,
        range.from,
        range.to,
    )
    .fetch_all(&mut *tx)
    .await?;
    let count = |s: &str| days.iter().filter(|d| d.status == s).count() as i64;
    let summary = Summary::of(
        days.len() as i64,
        count("present"),
        count("late"),
        count("absent"),
        count("excused"),
    );
    audit_reads(&mut tx, &user, &request_id, "read", &[(id.as_uuid(), school.as_uuid())]).await?;
    tx.commit().await?;
    Ok(Json(LearnerAttendance { learner_id: id, from: range.from, to: range.to, days, summary }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LearnerLine {
    pub learner_id: LearnerId,
    pub first_name: String,
    pub last_name: String,
    pub summary: Summary,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClassAttendance {
    pub class_id: ClassId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The class's learners (open enrolments), by name.
    pub learners: Vec<LearnerLine>,
    pub total: Summary,
}

/// A class's attendance over a range: each learner's summary and the class's. Audited as a read
/// of each learner's record.
#[utoipa::path(get, path = "/classes/{id}/attendance", tag = "attendance",
    params(("id" = Uuid, Path, description = "class id"), Range),
    responses((status = 200, body = ClassAttendance), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn class_attendance(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(class_id): Path<ClassId>,
    Query(range): Query<Range>,
) -> ApiResult<Json<ClassAttendance>> {
    user.require(READERS)?;
    range.check()?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    visible_class(&mut tx, &user, class_id).await?;
    let rows = sqlx::query!(
        r#"SELECT l.id AS "id: LearnerId", l.school_id AS "school_id: SchoolId", l.first_name,
                  l.last_name,
                  count(m.id) AS "marked!",
                  count(m.id) FILTER (WHERE m.status = 'present') AS "present!",
                  count(m.id) FILTER (WHERE m.status = 'late') AS "late!",
                  count(m.id) FILTER (WHERE m.status = 'absent') AS "absent!",
                  count(m.id) FILTER (WHERE m.status = 'excused') AS "excused!"
           FROM sis.enrolments e
           JOIN sis.learners l ON l.id = e.learner_id
           LEFT JOIN attendance.daily_marks m
             ON m.learner_id = l.id AND m.date BETWEEN $2 AND $3
           WHERE e.class_id = $1 AND e.end_date IS NULL
           GROUP BY l.id, l.school_id, l.first_name, l.last_name
           ORDER BY l.last_name, l.first_name, l.id"#,
        class_id as ClassId,
        range.from,
        range.to,
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut total = [0i64; 5];
    let learners = rows
        .iter()
        .map(|r| {
            for (t, v) in total.iter_mut().zip([r.marked, r.present, r.late, r.absent, r.excused]) {
                *t += v;
            }
            LearnerLine {
                learner_id: r.id,
                first_name: r.first_name.clone(),
                last_name: r.last_name.clone(),
                summary: Summary::of(r.marked, r.present, r.late, r.absent, r.excused),
            }
        })
        .collect();
    let read: Vec<(Uuid, Uuid)> =
        rows.iter().map(|r| (r.id.as_uuid(), r.school_id.as_uuid())).collect();
    audit_reads(&mut tx, &user, &request_id, "list", &read).await?;
    tx.commit().await?;
    Ok(Json(ClassAttendance {
        class_id,
        from: range.from,
        to: range.to,
        learners,
        total: Summary::of(total[0], total[1], total[2], total[3], total[4]),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Correction {
    pub at: DateTime<Utc>,
    pub username: Option<String>,
    pub learner_id: Option<LearnerId>,
    pub date: Option<NaiveDate>,
    /// The status before and after.
    pub old_status: Option<String>,
    pub new_status: Option<String>,
}

/// The corrections made to a class's marks over a range (a mark changed after it was first
/// recorded), newest first, with who made each. For heads and deputies, who read the audit.
#[utoipa::path(get, path = "/classes/{id}/attendance/corrections", tag = "attendance",
    params(("id" = Uuid, Path, description = "class id"), Range),
    responses((status = 200, body = Vec<Correction>), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn corrections(
    State(state): State<AppState>,
    user: AuthUser,
    Path(class_id): Path<ClassId>,
    Query(range): Query<Range>,
) -> ApiResult<Json<Vec<Correction>>> {
    user.require(&[Role::SchoolHead, Role::Deputy])?;
    range.check()?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    visible_class(&mut tx, &user, class_id).await?;
    let rows = sqlx::query_as!(
        Correction,
        r#"SELECT e.at, u.username AS "username?", m.learner_id AS "learner_id?: LearnerId",
                  m.date AS "date?", e.changes -> 'status' ->> 'old' AS old_status,
                  e.changes -> 'status' ->> 'new' AS new_status
           FROM audit.events e
           JOIN attendance.daily_marks m ON m.id = e.entity_id
           LEFT JOIN platform.users u ON u.id = e.user_id
           WHERE e.entity = 'attendance.daily_marks' AND e.action = 'update'
             AND e.changes ? 'status' AND m.class_id = $1 AND m.date BETWEEN $2 AND $3
           ORDER BY e.id DESC LIMIT 1000"#,
        class_id as ClassId,
        range.from,
        range.to,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_count_late_as_attended() {
        // 20 marked: 15 present, 2 late, 2 absent, 1 excused → 17 ÷ 20 = 85 %.
        assert_eq!(Summary::of(20, 15, 2, 2, 1).rate, Some(85.0));
        assert_eq!(Summary::of(3, 1, 0, 2, 0).rate, Some(33.3));
        assert_eq!(Summary::of(0, 0, 0, 0, 0).rate, None);
    }
}
