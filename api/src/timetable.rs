//! The timetable: a school's periods (its bell schedule), the week's lessons, the generator that
//! builds the week from the teaching assignments, and the check every change made by hand goes
//! through. The rules live in the timetable crate ([`oneclass_timetable::check`]); this module
//! turns the school's rows into its problem and its answers into words.
//!
//! Heads and deputies build and change the week; everyone at the school reads it.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use oneclass_core::ids::{SchoolId, UserId};
use oneclass_core::types::Role;
use oneclass_timetable::{
    Clash, Demand, Fixed, Period, Placed, Problem, Reason, RoomNeed, Teacher,
};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem as ProblemDoc};
use crate::extract::{ValidJson, Validate};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_periods, set_periods))
        .routes(routes!(list_lessons, add_lesson))
        .routes(routes!(move_lesson, remove_lesson))
        .routes(routes!(generate))
        .routes(routes!(clashes))
}

const PLANNERS: &[Role] = &[Role::SchoolHead, Role::Deputy];
const STAFF: &[Role] =
    &[Role::SchoolHead, Role::Deputy, Role::Teacher, Role::Registrar, Role::Bursar];

/// A teacher's limits when their staff record sets none.
const DEFAULT_MAX_LESSONS_WEEK: u32 = 36;
const DEFAULT_MAX_LESSONS_DAY: u32 = 8;
const DAY_NAMES: [&str; 6] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

#[derive(Debug, Deserialize, IntoParams)]
pub struct SchoolQuery {
    /// Needed only when you belong to several schools.
    pub school_id: Option<SchoolId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodRow {
    pub id: Uuid,
    /// 1 = Monday … 6 = Saturday.
    pub day: i16,
    pub slot: i16,
    /// `HH:MM`.
    pub starts_at: String,
    pub ends_at: String,
}

/// The periods of the school's week, day by day.
#[utoipa::path(get, path = "/timetable/periods", tag = "academic", params(SchoolQuery),
    responses((status = 200, body = Vec<PeriodRow>), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
async fn list_periods(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<SchoolQuery>,
) -> ApiResult<Json<Vec<PeriodRow>>> {
    user.require(STAFF)?;
    let school = user.school_for_write(q.school_id)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = periods_of(&mut tx, school).await?;
    tx.commit().await?;
    Ok(Json(rows))
}

async fn periods_of(conn: &mut PgConnection, school: SchoolId) -> ApiResult<Vec<PeriodRow>> {
    Ok(sqlx::query_as!(
        PeriodRow,
        r#"SELECT id, day, slot, to_char(starts_at, 'HH24:MI') AS "starts_at!",
                  to_char(ends_at, 'HH24:MI') AS "ends_at!"
           FROM academic.periods WHERE school_id = $1 ORDER BY day, slot"#,
        school as SchoolId,
    )
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BellTime {
    /// `HH:MM`, 24-hour.
    pub starts_at: String,
    pub ends_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPeriods {
    pub school_id: Option<SchoolId>,
    /// The teaching days, 1 = Monday … 6 = Saturday.
    pub days: Vec<i16>,
    /// The day's teaching periods in order (breaks between them are simply not listed).
    pub periods: Vec<BellTime>,
}

fn parse_time(s: &str) -> Option<chrono::NaiveTime> {
    chrono::NaiveTime::parse_from_str(s, "%H:%M").ok()
}

impl Validate for NewPeriods {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let mut days = self.days.clone();
        days.sort_unstable();
        days.dedup();
        if self.days.is_empty()
            || days.len() != self.days.len()
            || days.iter().any(|d| !(1..=6).contains(d))
        {
            e.push(FieldError::new("days", "must be distinct days 1 (Monday) to 6 (Saturday)"));
        }
        if self.periods.is_empty() || self.periods.len() > 16 {
            e.push(FieldError::new("periods", "must list 1 to 16 periods"));
        }
        let mut previous_end = None;
        for (i, p) in self.periods.iter().enumerate() {
            let (Some(start), Some(end)) = (parse_time(&p.starts_at), parse_time(&p.ends_at))
            else {
                e.push(FieldError::new(format!("periods[{i}]"), "times must be HH:MM"));
                continue;
            };
            if end <= start {
                e.push(FieldError::new(format!("periods[{i}].ends_at"), "must be after starts_at"));
            }
            if previous_end.is_some_and(|prev| start < prev) {
                e.push(FieldError::new(
                    format!("periods[{i}].starts_at"),
                    "must not be before the previous period ends",
                ));
            }
            previous_end = Some(end);
        }
        e
    }
}

/// Sets the school's bell schedule: the same periods on each teaching day. Replacing it
/// removes the week's lessons (they were placed in the old periods).
#[utoipa::path(put, path = "/timetable/periods", tag = "academic", request_body = NewPeriods,
    responses((status = 200, body = Vec<PeriodRow>), (status = 403, body = ProblemDoc),
              (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
async fn set_periods(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(new): ValidJson<NewPeriods>,
) -> ApiResult<Json<Vec<PeriodRow>>> {
    user.require(PLANNERS)?;
    let school = user.school_for_write(new.school_id)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    sqlx::query!("DELETE FROM academic.periods WHERE school_id = $1", school as SchoolId)
        .execute(&mut *tx)
        .await?;
    let (mut days, mut slots, mut starts, mut ends) = (vec![], vec![], vec![], vec![]);
    for day in &new.days {
        for (i, p) in new.periods.iter().enumerate() {
            days.push(*day);
            slots.push(i as i16 + 1);
            starts.push(parse_time(&p.starts_at).ok_or(ApiError::Internal("time".into()))?);
            ends.push(parse_time(&p.ends_at).ok_or(ApiError::Internal("time".into()))?);
        }
    }
    sqlx::query!(
        "INSERT INTO academic.periods (id, school_id, day, slot, starts_at, ends_at)
         SELECT platform.uuid_v7(), $1, d, s, a, b
         FROM UNNEST($2::smallint[], $3::smallint[], $4::time[], $5::time[]) AS u(d, s, a, b)",
        school as SchoolId,
        &days,
        &slots,
        &starts,
        &ends,
    )
    .execute(&mut *tx)
    .await?;
    let rows = periods_of(&mut tx, school).await?;
    tx.commit().await?;
    Ok(Json(rows))
}

/// A school's week as the timetable crate sees it, with the ids and names to translate back.
struct Week {
    problem: Problem,
    period_ids: Vec<Uuid>,
    room_ids: Vec<Uuid>,
    /// Per demand: the teaching assignment, its subject and who teaches it.
    teaching_ids: Vec<Uuid>,
    subjects: Vec<String>,
    class_names: Vec<String>,
    teacher_names: Vec<String>,
    room_names: Vec<String>,
    /// The lessons now in the week, with their ids.
    lessons: Vec<(Uuid, Placed)>,
}

impl Week {
    async fn load(conn: &mut PgConnection, school: SchoolId, year: i32) -> ApiResult<Self> {
        let periods = sqlx::query!(
            "SELECT id, day, slot FROM academic.periods WHERE school_id = $1 ORDER BY day, slot",
            school as SchoolId,
        )
        .fetch_all(&mut *conn)
        .await?;
        let rooms = sqlx::query!(
            "SELECT id, name, kind FROM academic.rooms WHERE school_id = $1 ORDER BY name",
            school as SchoolId,
        )
        .fetch_all(&mut *conn)
        .await?;
        let teaching = sqlx::query!(
            r#"SELECT t.id, t.class_id, c.name AS class_name, c.home_room_id, t.subject_code,
                      t.user_id, u.display_name, t.periods_per_week, t.room_kind,
                      s.max_lessons_week AS "max_week?", s.max_lessons_day AS "max_day?"
               FROM academic.teaching t
               JOIN academic.classes c ON c.id = t.class_id
               JOIN platform.users u ON u.id = t.user_id
               LEFT JOIN LATERAL (
                   SELECT max_lessons_week, max_lessons_day FROM staff.staff
                   WHERE user_id = t.user_id AND school_id = t.school_id AND end_date IS NULL
                   ORDER BY start_date DESC LIMIT 1) s ON true
               WHERE t.school_id = $1 AND c.academic_year = $2
               ORDER BY c.name, t.subject_code"#,
            school as SchoolId,
            year,
        )
        .fetch_all(&mut *conn)
        .await?;
        let lessons = sqlx::query!(
            "SELECT id, teaching_id, period_id, room_id, placed_by FROM academic.lessons
             WHERE school_id = $1 ORDER BY id",
            school as SchoolId,
        )
        .fetch_all(&mut *conn)
        .await?;

        let period_ix: HashMap<Uuid, usize> =
            periods.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let room_ix: HashMap<Uuid, usize> =
            rooms.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        let mut class_ix: HashMap<Uuid, usize> = HashMap::new();
        let mut teacher_ix: HashMap<Uuid, usize> = HashMap::new();
        let mut problem = Problem {
            periods: periods
                .iter()
                .map(|p| Period { day: p.day as u8, slot: p.slot as u8 })
                .collect(),
            rooms: rooms.iter().map(|r| r.kind.clone()).collect(),
            max_per_day_of_subject: 2,
            ..Problem::default()
        };
        let mut week = Week {
            period_ids: periods.iter().map(|p| p.id).collect(),
            room_ids: rooms.iter().map(|r| r.id).collect(),
            room_names: rooms.iter().map(|r| r.name.clone()).collect(),
            teaching_ids: Vec::new(),
            subjects: Vec::new(),
            class_names: Vec::new(),
            teacher_names: Vec::new(),
            lessons: Vec::new(),
            problem: Problem::default(),
        };
        for t in &teaching {
            let class = *class_ix.entry(t.class_id).or_insert_with(|| {
                problem.classes.push(t.home_room_id.and_then(|r| room_ix.get(&r).copied()));
                week.class_names.push(t.class_name.clone());
                problem.classes.len() - 1
            });
            let teacher = *teacher_ix.entry(t.user_id).or_insert_with(|| {
                problem.teachers.push(Teacher {
                    max_per_week: t.max_week.map_or(DEFAULT_MAX_LESSONS_WEEK, |m| m as u32),
                    max_per_day: t.max_day.map_or(DEFAULT_MAX_LESSONS_DAY, |m| m as u32),
                    unavailable: Vec::new(),
                });
                week.teacher_names.push(t.display_name.clone());
                problem.teachers.len() - 1
            });
            problem.demands.push(Demand {
                class,
                teacher,
                lessons: t.periods_per_week as u32,
                room: t.room_kind.clone().map_or(RoomNeed::Home, RoomNeed::Kind),
            });
            week.teaching_ids.push(t.id);
            week.subjects.push(t.subject_code.clone());
        }
        let demand_ix: HashMap<Uuid, usize> =
            week.teaching_ids.iter().enumerate().map(|(i, t)| (*t, i)).collect();
        for l in lessons {
            let (Some(demand), Some(period)) =
                (demand_ix.get(&l.teaching_id), period_ix.get(&l.period_id))
            else {
                continue;
            };
            let room = l.room_id.and_then(|r| room_ix.get(&r).copied());
            let placed = Placed { demand: *demand, period: *period, room };
            if l.placed_by == "hand" {
                problem.fixed.push(Fixed { demand: *demand, period: *period, room });
            }
            week.lessons.push((l.id, placed));
        }
        week.problem = problem;
        Ok(week)
    }

    fn period_name(&self, p: usize) -> String {
        let period = self.problem.periods[p];
        let day = DAY_NAMES.get(usize::from(period.day).saturating_sub(1)).unwrap_or(&"?");
        format!("{day} {}", period.slot)
    }

    fn demand_name(&self, g: usize) -> String {
        let d = &self.problem.demands[g];
        format!(
            "{} {} ({})",
            self.class_names[d.class], self.subjects[g], self.teacher_names[d.teacher]
        )
    }

    fn lesson_name(&self, l: &Placed) -> String {
        format!("{} in {}", self.demand_name(l.demand), self.period_name(l.period))
    }

    /// A broken rule in words, given the lessons it refers to.
    fn describe(&self, clash: &Clash, week: &[Placed]) -> String {
        let names = |ls: &[usize]| {
            ls.iter().map(|i| self.lesson_name(&week[*i])).collect::<Vec<_>>().join(" and ")
        };
        let first = |ls: &[usize]| week[ls[0]];
        match clash {
            Clash::ClassDoubleBooked { lessons } => {
                format!("a class has two lessons at once: {}", names(lessons))
            }
            Clash::TeacherDoubleBooked { lessons } => format!(
                "{} teaches two lessons at once: {}",
                self.teacher_names[self.problem.demands[first(lessons).demand].teacher],
                names(lessons)
            ),
            Clash::RoomDoubleBooked { lessons } => format!(
                "{} holds two lessons at once: {}",
                first(lessons).room.map_or("a room", |r| self.room_names[r].as_str()),
                names(lessons)
            ),
            Clash::TeacherUnavailable { lesson } => {
                format!("the teacher cannot teach then: {}", self.lesson_name(&week[*lesson]))
            }
            Clash::TeacherDayOverLimit { lessons, limit } => format!(
                "{} has {} lessons in a day, more than their {limit}",
                self.teacher_names[self.problem.demands[first(lessons).demand].teacher],
                lessons.len()
            ),
            Clash::TeacherWeekOverLimit { lessons, limit } => format!(
                "{} has {} lessons a week, more than their {limit}",
                self.teacher_names[self.problem.demands[first(lessons).demand].teacher],
                lessons.len()
            ),
            Clash::SubjectDayOverLimit { lessons, limit } => format!(
                "{} {} times in a day, more than {limit}",
                self.demand_name(first(lessons).demand),
                lessons.len()
            ),
            Clash::MoreThanAsked { lessons, limit } => format!(
                "{} has {} lessons, more than the {limit} a week assigned",
                self.demand_name(first(lessons).demand),
                lessons.len()
            ),
            Clash::WrongRoom { lesson } => {
                let need = match &self.problem.demands[week[*lesson].demand].room {
                    RoomNeed::Kind(kind) => kind.as_str(),
                    RoomNeed::Home => "its class's",
                };
                format!("{} needs a {need} room", self.lesson_name(&week[*lesson]))
            }
        }
    }

    fn reason(&self, reason: &Reason) -> String {
        match reason {
            Reason::NoRoomOfKind { kind } => {
                format!("the school has no {kind} room that is not a class's own room")
            }
            Reason::ClassOverfull { periods } => {
                format!("the class has more lessons than the week's {periods} periods")
            }
            Reason::TeacherOverloaded { limit } => {
                format!("the teacher would have more than {limit} lessons (their limits)")
            }
            Reason::RoomOverfull { periods } => {
                format!("the classes sharing the room have more lessons than its {periods} periods")
            }
            Reason::RoomsOverbooked { kind, capacity } => {
                format!("more lessons need a {kind} room than the {capacity} periods there are")
            }
            Reason::TooManyForTheDays { limit } => {
                format!("more lessons than the {limit} the days allow for one subject")
            }
            Reason::Clashes { with } => format!(
                "cannot be placed together with {}",
                with.iter().map(|g| self.demand_name(*g)).collect::<Vec<_>>().join(", ")
            ),
            Reason::OutOfTime => "the generator ran out of time; try a longer time limit".into(),
        }
    }

    /// The broken rules that involve the lesson at `index` of `week`, in words.
    fn clashes_of(&self, week: &[Placed], index: usize) -> Vec<String> {
        oneclass_timetable::check(&self.problem, week)
            .iter()
            .filter(|c| c.lessons().contains(&index))
            .map(|c| self.describe(c, week))
            .collect()
    }
}

fn current_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LessonQuery {
    pub school_id: Option<SchoolId>,
    /// Only this class's lessons.
    pub class_id: Option<Uuid>,
    /// Only this teacher's lessons.
    pub user_id: Option<UserId>,
    /// Only this room's lessons.
    pub room_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Lesson {
    pub id: Uuid,
    pub teaching_id: Uuid,
    pub class_id: Uuid,
    pub class: String,
    pub subject_code: String,
    pub user_id: UserId,
    pub teacher: String,
    pub period_id: Uuid,
    pub day: i16,
    pub slot: i16,
    pub starts_at: String,
    pub ends_at: String,
    pub room_id: Option<Uuid>,
    pub room: Option<String>,
    /// `generator` or `hand`.
    pub placed_by: String,
}

/// The week's lessons, by day and period: a class's, a teacher's, a room's or the whole
/// school's (a week holds at most 16 periods × the school's classes, so it comes whole).
#[utoipa::path(get, path = "/timetable", tag = "academic", params(LessonQuery),
    responses((status = 200, body = Vec<Lesson>), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
async fn list_lessons(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<LessonQuery>,
) -> ApiResult<Json<Vec<Lesson>>> {
    user.require(STAFF)?;
    let school = user.school_for_write(q.school_id)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let filter = LessonFilter {
        school: Some(school),
        class: q.class_id,
        user: q.user_id,
        room: q.room_id,
        id: None,
    };
    let rows = lessons_where(&mut tx, &filter).await?;
    tx.commit().await?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLesson {
    /// The teaching assignment (class, subject, teacher).
    pub teaching_id: Uuid,
    pub period_id: Uuid,
    /// The room; by default the class's own room, or a free room of the kind the lesson needs.
    pub room_id: Option<Uuid>,
}

impl Validate for NewLesson {
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LessonMove {
    /// The period to move the lesson to (unchanged when absent).
    pub period_id: Option<Uuid>,
    /// The room to move it to (unchanged when absent).
    pub room_id: Option<Uuid>,
}

impl Validate for LessonMove {
    fn validate(&self) -> Vec<FieldError> {
        if self.period_id.is_none() && self.room_id.is_none() {
            vec![FieldError::new("period_id", "give a period_id or a room_id to move to")]
        } else {
            Vec::new()
        }
    }
}

/// The school of a teaching assignment, a period or a lesson the user can see (RLS), or 404.
async fn school_of_teaching(conn: &mut PgConnection, teaching: Uuid) -> ApiResult<SchoolId> {
    sqlx::query_scalar!(
        r#"SELECT t.school_id AS "school_id: SchoolId" FROM academic.teaching t
           JOIN academic.classes c ON c.id = t.class_id WHERE t.id = $1"#,
        teaching,
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| ApiError::field("teaching_id", "no such teaching assignment at your schools"))
}

async fn academic_year_of_teaching(conn: &mut PgConnection, teaching: Uuid) -> ApiResult<i32> {
    Ok(sqlx::query_scalar!(
        "SELECT c.academic_year FROM academic.teaching t
         JOIN academic.classes c ON c.id = t.class_id WHERE t.id = $1",
        teaching,
    )
    .fetch_one(conn)
    .await?)
}

/// Places `candidate` (replacing the lesson at `replacing`, for a move) after checking every
/// rule; a clash is a 409 naming each broken rule.
fn place_checked(
    week: &Week,
    replacing: Option<usize>,
    mut candidate: Placed,
) -> ApiResult<Placed> {
    let mut lessons: Vec<Placed> = week.lessons.iter().map(|(_, l)| *l).collect();
    if candidate.room.is_none() {
        candidate.room = default_room(week, &lessons, replacing, &candidate);
    }
    let index = match replacing {
        Some(i) => {
            lessons[i] = candidate;
            i
        }
        None => {
            lessons.push(candidate);
            lessons.len() - 1
        }
    };
    let clashes = week.clashes_of(&lessons, index);
    if clashes.is_empty() {
        Ok(candidate)
    } else {
        Err(ApiError::Conflict(format!("the lesson breaks the timetable: {}", clashes.join("; "))))
    }
}

/// The class's own room, or the first room of the needed kind free in the period.
fn default_room(
    week: &Week,
    lessons: &[Placed],
    replacing: Option<usize>,
    candidate: &Placed,
) -> Option<usize> {
    let p = &week.problem;
    match &p.demands[candidate.demand].room {
        RoomNeed::Home => p.classes[p.demands[candidate.demand].class],
        RoomNeed::Kind(kind) => p.pool(kind).into_iter().find(|r| {
            !lessons.iter().enumerate().any(|(i, l)| {
                Some(i) != replacing && l.period == candidate.period && l.room == Some(*r)
            })
        }),
    }
}

fn index_in(ids: &[Uuid], id: Uuid, field: &str) -> ApiResult<usize> {
    ids.iter()
        .position(|x| *x == id)
        .ok_or_else(|| ApiError::field(field, "not one of the school's (for the class's year)"))
}

fn unique_clash(e: sqlx::Error) -> ApiError {
    match e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
        true => {
            ApiError::Conflict("the class, the teacher or the room is already busy then".into())
        }
        false => e.into(),
    }
}

/// Places a lesson by hand, after checking it breaks no rule of the timetable (class, teacher
/// and room free, the teacher's limits, the subject's lessons a week and a day). The generator
/// keeps it where it is.
#[utoipa::path(post, path = "/timetable/lessons", tag = "academic", request_body = NewLesson,
    responses((status = 201, body = Lesson), (status = 403, body = ProblemDoc),
              (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
async fn add_lesson(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(new): ValidJson<NewLesson>,
) -> ApiResult<(StatusCode, Json<Lesson>)> {
    user.require(PLANNERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let school = school_of_teaching(&mut tx, new.teaching_id).await?;
    let year = academic_year_of_teaching(&mut tx, new.teaching_id).await?;
    lock_week(&mut tx, school).await?;
    let week = Week::load(&mut tx, school, year).await?;
    let candidate = Placed {
        demand: index_in(&week.teaching_ids, new.teaching_id, "teaching_id")?,
        period: index_in(&week.period_ids, new.period_id, "period_id")?,
        room: new.room_id.map(|r| index_in(&week.room_ids, r, "room_id")).transpose()?,
    };
    let placed = place_checked(&week, None, candidate)?;
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO academic.lessons (id, school_id, teaching_id, class_id, user_id, period_id,
             room_id, placed_by)
         SELECT $1, t.school_id, t.id, t.class_id, t.user_id, $3, $4, 'hand'
         FROM academic.teaching t WHERE t.id = $2",
        id,
        new.teaching_id,
        week.period_ids[placed.period],
        placed.room.map(|r| week.room_ids[r]),
    )
    .execute(&mut *tx)
    .await
    .map_err(unique_clash)?;
    let lesson = lesson_by_id(&mut tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(lesson)))
}

/// Which lessons to read; every filter given must hold.
#[derive(Default)]
struct LessonFilter {
    school: Option<SchoolId>,
    class: Option<Uuid>,
    user: Option<UserId>,
    room: Option<Uuid>,
    id: Option<Uuid>,
}

async fn lessons_where(conn: &mut PgConnection, f: &LessonFilter) -> ApiResult<Vec<Lesson>> {
    Ok(sqlx::query_as!(
        Lesson,
        r#"SELECT l.id, l.teaching_id, l.class_id, c.name AS class, t.subject_code,
                  l.user_id AS "user_id: UserId", u.display_name AS teacher, l.period_id,
                  p.day, p.slot, to_char(p.starts_at, 'HH24:MI') AS "starts_at!",
                  to_char(p.ends_at, 'HH24:MI') AS "ends_at!", l.room_id,
                  r.name AS "room?", l.placed_by
           FROM academic.lessons l
           JOIN academic.teaching t ON t.id = l.teaching_id
           JOIN academic.classes c ON c.id = l.class_id
           JOIN platform.users u ON u.id = l.user_id
           JOIN academic.periods p ON p.id = l.period_id
           LEFT JOIN academic.rooms r ON r.id = l.room_id
           WHERE ($1::uuid IS NULL OR l.school_id = $1) AND ($2::uuid IS NULL OR l.class_id = $2)
             AND ($3::uuid IS NULL OR l.user_id = $3) AND ($4::uuid IS NULL OR l.room_id = $4)
             AND ($5::uuid IS NULL OR l.id = $5)
           ORDER BY p.day, p.slot, c.name LIMIT 20000"#,
        f.school as Option<SchoolId>,
        f.class,
        f.user as Option<UserId>,
        f.room,
        f.id,
    )
    .fetch_all(conn)
    .await?)
}

async fn lesson_by_id(conn: &mut PgConnection, id: Uuid) -> ApiResult<Lesson> {
    let filter = LessonFilter { id: Some(id), ..LessonFilter::default() };
    lessons_where(conn, &filter).await?.pop().ok_or(ApiError::NotFound)
}

/// Two changes to one school's week wait for each other, so neither checks against a week the
/// other is changing.
async fn lock_week(conn: &mut PgConnection, school: SchoolId) -> ApiResult<()> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('timetable:' || $1::text, 0))",
        school as SchoolId
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// Moves a lesson to another period or room (it is then a lesson placed by hand), after the
/// same checks as placing one.
#[utoipa::path(patch, path = "/timetable/lessons/{id}", tag = "academic", request_body = LessonMove,
    params(("id" = Uuid, Path, description = "lesson id")),
    responses((status = 200, body = Lesson), (status = 404, body = ProblemDoc),
              (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
async fn move_lesson(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    ValidJson(change): ValidJson<LessonMove>,
) -> ApiResult<Json<Lesson>> {
    user.require(PLANNERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let current = lesson_by_id(&mut tx, id).await?;
    let school = school_of_teaching(&mut tx, current.teaching_id).await?;
    let year = academic_year_of_teaching(&mut tx, current.teaching_id).await?;
    lock_week(&mut tx, school).await?;
    let week = Week::load(&mut tx, school, year).await?;
    let index = week.lessons.iter().position(|(l, _)| *l == id).ok_or(ApiError::NotFound)?;
    let before = week.lessons[index].1;
    let period = match change.period_id {
        Some(p) => index_in(&week.period_ids, p, "period_id")?,
        None => before.period,
    };
    let room = match change.room_id {
        Some(r) => Some(index_in(&week.room_ids, r, "room_id")?),
        // A lesson moved to another period looks for a room again unless it is its class's.
        None if period != before.period => None,
        None => before.room,
    };
    let placed = place_checked(&week, Some(index), Placed { demand: before.demand, period, room })?;
    sqlx::query!(
        "UPDATE academic.lessons SET period_id = $2, room_id = $3, placed_by = 'hand'
         WHERE id = $1",
        id,
        week.period_ids[placed.period],
        placed.room.map(|r| week.room_ids[r]),
    )
    .execute(&mut *tx)
    .await
    .map_err(unique_clash)?;
    let lesson = lesson_by_id(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(lesson))
}

/// Takes a lesson out of the week.
#[utoipa::path(delete, path = "/timetable/lessons/{id}", tag = "academic",
    params(("id" = Uuid, Path, description = "lesson id")),
    responses((status = 204), (status = 404, body = ProblemDoc)),
    security(("bearer" = [])))]
async fn remove_lesson(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    user.require(PLANNERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let gone = sqlx::query!("DELETE FROM academic.lessons WHERE id = $1", id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    if gone == 0 { Err(ApiError::NotFound) } else { Ok(StatusCode::NO_CONTENT) }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    pub school_id: Option<SchoolId>,
    /// The classes of this school year (default: this calendar year).
    pub academic_year: Option<i32>,
    /// How long the generator may search, 1 to 25 seconds (default 20).
    pub time_limit_seconds: Option<u64>,
    /// The most lessons of one subject a class has in a day, 1 to 4 (default 2).
    pub max_per_day_of_subject: Option<u32>,
}

impl Validate for GenerateRequest {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.academic_year.is_some_and(|y| !(2000..=2100).contains(&y)) {
            e.push(FieldError::new("academic_year", "must be a year between 2000 and 2100"));
        }
        if self.time_limit_seconds.is_some_and(|s| !(1..=25).contains(&s)) {
            e.push(FieldError::new("time_limit_seconds", "must be 1 to 25"));
        }
        if self.max_per_day_of_subject.is_some_and(|m| !(1..=4).contains(&m)) {
            e.push(FieldError::new("max_per_day_of_subject", "must be 1 to 4"));
        }
        e
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotPlaced {
    pub teaching_id: Uuid,
    /// The class, subject and teacher, in words.
    pub lesson: String,
    /// How many of its lessons a week were left out.
    pub lessons: u32,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GenerateReport {
    /// Lessons in the week now (kept and placed).
    pub placed: usize,
    /// Lessons placed by hand, kept where they were.
    pub kept: usize,
    pub not_placed: Vec<NotPlaced>,
    pub seconds: f64,
}

/// Builds the school's week from its teaching assignments: no class, teacher or room in two
/// places at once, teachers' limits (their staff record, else 36 a week and 8 a day) and the
/// lessons a day of a subject kept. Lessons placed by hand stay; the generator's earlier lessons
/// are replaced. What cannot be placed is listed with the reason.
#[utoipa::path(post, path = "/timetable/generate", tag = "academic", request_body = GenerateRequest,
    responses((status = 200, body = GenerateReport), (status = 403, body = ProblemDoc),
              (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
async fn generate(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(req): ValidJson<GenerateRequest>,
) -> ApiResult<Json<GenerateReport>> {
    user.require(PLANNERS)?;
    let school = user.school_for_write(req.school_id)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    lock_week(&mut tx, school).await?;
    let mut week =
        Week::load(&mut tx, school, req.academic_year.unwrap_or_else(current_year)).await?;
    if week.problem.periods.is_empty() {
        return Err(ApiError::field("school_id", "the school has no periods: set them first"));
    }
    week.problem.max_per_day_of_subject = req.max_per_day_of_subject.unwrap_or(2);
    let problem = week.problem.clone();
    let limit = Duration::from_secs(req.time_limit_seconds.unwrap_or(20));
    let outcome = tokio::task::spawn_blocking(move || oneclass_timetable::solve(&problem, limit))
        .await
        .map_err(|e| ApiError::Internal(format!("the generator stopped: {e}")))?
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    let kept = week.problem.fixed.len();
    let fresh: Vec<&Placed> = outcome
        .week
        .iter()
        .filter(|l| {
            !week.problem.fixed.iter().any(|f| f.demand == l.demand && f.period == l.period)
        })
        .collect();
    sqlx::query!(
        "DELETE FROM academic.lessons WHERE school_id = $1 AND placed_by = 'generator'",
        school as SchoolId
    )
    .execute(&mut *tx)
    .await?;
    let teaching: Vec<Uuid> = fresh.iter().map(|l| week.teaching_ids[l.demand]).collect();
    let periods: Vec<Uuid> = fresh.iter().map(|l| week.period_ids[l.period]).collect();
    let rooms: Vec<Option<Uuid>> = fresh.iter().map(|l| l.room.map(|r| week.room_ids[r])).collect();
    sqlx::query!(
        "INSERT INTO academic.lessons (id, school_id, teaching_id, class_id, user_id, period_id,
             room_id, placed_by)
         SELECT platform.uuid_v7(), t.school_id, t.id, t.class_id, t.user_id, u.period, u.room,
                'generator'
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[]) AS u(teaching, period, room)
         JOIN academic.teaching t ON t.id = u.teaching",
        &teaching,
        &periods,
        &rooms as &[Option<Uuid>],
    )
    .execute(&mut *tx)
    .await
    .map_err(unique_clash)?;
    tx.commit().await?;
    let not_placed = outcome
        .unplaced
        .iter()
        .map(|u| NotPlaced {
            teaching_id: week.teaching_ids[u.demand],
            lesson: week.demand_name(u.demand),
            lessons: u.lessons,
            reason: week.reason(&u.reason),
        })
        .collect();
    Ok(Json(GenerateReport {
        placed: outcome.week.len(),
        kept,
        not_placed,
        seconds: outcome.elapsed.as_secs_f64(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ClashQuery {
    pub school_id: Option<SchoolId>,
    /// The classes of this school year (default: this calendar year).
    pub academic_year: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimetableClash {
    pub message: String,
    pub lesson_ids: Vec<Uuid>,
}

/// Every rule the week now breaks: after a teaching assignment changes its teacher or its
/// lessons a week, or a teacher's limits change, this says what to move.
#[utoipa::path(get, path = "/timetable/clashes", tag = "academic", params(ClashQuery),
    responses((status = 200, body = Vec<TimetableClash>), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
async fn clashes(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<ClashQuery>,
) -> ApiResult<Json<Vec<TimetableClash>>> {
    user.require(STAFF)?;
    let school = user.school_for_write(q.school_id)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let week = Week::load(&mut tx, school, q.academic_year.unwrap_or_else(current_year)).await?;
    tx.commit().await?;
    let lessons: Vec<Placed> = week.lessons.iter().map(|(_, l)| *l).collect();
    let found = oneclass_timetable::check(&week.problem, &lessons)
        .iter()
        .map(|c| TimetableClash {
            message: week.describe(c, &lessons),
            lesson_ids: c.lessons().iter().map(|i| week.lessons[*i].0).collect(),
        })
        .collect();
    Ok(Json(found))
}
