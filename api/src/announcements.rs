//! Announcements: a notice from a school to the whole school, one grade, one class, or only the
//! parents of a class. Heads and deputies announce to any of them; a teacher to the classes they
//! teach. With `sms`, every guardian with a phone of a learner concerned gets it by SMS, queued in
//! the outbox in the same transaction (a guardian of two learners gets it once).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use oneclass_core::ids::{ClassId, SchoolId};
use oneclass_core::types::{Grade, Role};
use oneclass_i18n::Lang;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::pagination::{Page, PageQuery};
use crate::register::visible_class;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_announcements, announce))
}

/// Who may announce (a teacher only to a class they teach).
pub(crate) const ANNOUNCERS: &[Role] = &[Role::SchoolHead, Role::Deputy, Role::Teacher];
/// Staff read their schools'; parents those to their children's school, grade and class (RLS).
const READERS: &[Role] =
    &[Role::SchoolHead, Role::Deputy, Role::Teacher, Role::Registrar, Role::Bursar, Role::Parent];
pub(crate) const AUDIENCES: [&str; 4] = ["school", "grade", "class", "class_parents"];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnnouncement {
    /// The school; the user's only school when absent.
    pub school_id: Option<SchoolId>,
    /// `school`, `grade`, `class` or `class_parents` (only the parents of the class).
    pub audience: String,
    /// The grade, for `grade`.
    pub grade: Option<Grade>,
    /// The class, for `class` and `class_parents`.
    pub class_id: Option<ClassId>,
    pub title: String,
    pub body: String,
    /// Also send it by SMS to the guardians of the learners concerned.
    #[serde(default)]
    pub sms: bool,
}

impl Validate for NewAnnouncement {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !AUDIENCES.contains(&self.audience.as_str()) {
            e.push(FieldError::new("audience", format!("must be one of {}", AUDIENCES.join(", "))));
        }
        let for_class = matches!(self.audience.as_str(), "class" | "class_parents");
        match (self.audience == "grade", self.grade.is_some()) {
            (true, false) => {
                e.push(FieldError::new("grade", "required for a grade's announcement"))
            }
            (false, true) => e.push(FieldError::new("grade", "only for a grade's announcement")),
            _ => {}
        }
        match (for_class, self.class_id.is_some()) {
            (true, false) => e.push(FieldError::new("class_id", "required for a class")),
            (false, true) => e.push(FieldError::new("class_id", "only for a class")),
            _ => {}
        }
        let title = self.title.trim().chars().count();
        if !(1..=120).contains(&title) {
            e.push(FieldError::new("title", "must be 1 to 120 characters"));
        }
        let body = self.body.trim().chars().count();
        if !(1..=1000).contains(&body) {
            e.push(FieldError::new("body", "must be 1 to 1000 characters"));
        }
        e
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Announcement {
    pub id: Uuid,
    pub school_id: SchoolId,
    pub audience: String,
    pub grade: Option<String>,
    pub class_id: Option<ClassId>,
    /// The class's name, for a class's announcement.
    pub class_name: Option<String>,
    pub title: String,
    pub body: String,
    /// SMS messages queued for guardians when it was sent.
    pub sms_queued: i32,
    pub created_at: DateTime<Utc>,
}

impl Announcement {
    /// Who it is for, in words.
    pub fn audience_text(&self) -> String {
        self.audience_in(&Lang::En)
    }

    /// Who it is for, in words of `lang`.
    pub fn audience_in(&self, lang: &Lang) -> String {
        match (self.audience.as_str(), &self.grade, &self.class_name) {
            ("grade", Some(g), _) => lang.t1("audience-grade", "grade", g),
            ("class", _, Some(c)) => lang.t1("audience-class", "class", c),
            ("class_parents", _, Some(c)) => lang.t1("audience-class-parents", "class", c),
            _ => lang.t("audience-school"),
        }
    }
}

/// Sends an announcement (and, with `sms`, queues it for the guardians concerned).
#[utoipa::path(post, path = "/announcements", tag = "comms", request_body = NewAnnouncement,
    responses((status = 201, body = Announcement), (status = 403, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn announce(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(new): ValidJson<NewAnnouncement>,
) -> ApiResult<(StatusCode, Json<Announcement>)> {
    user.require(ANNOUNCERS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let school = match new.class_id {
        Some(class_id) => {
            // A class the user may mark: in their schools and, for a teacher, one they teach.
            let class = visible_class(&mut tx, &user, class_id)
                .await
                .map_err(|_| ApiError::field("class_id", "not a class you may announce to"))?;
            if new.school_id.is_some_and(|s| s != class.school_id) {
                return Err(ApiError::field("class_id", "not a class of that school"));
            }
            class.school_id
        }
        None if user.role == Role::Teacher => {
            return Err(ApiError::field("audience", "a teacher announces to a class they teach"));
        }
        None => user.school_for_write(new.school_id)?,
    };
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO comms.announcements (id, school_id, audience, grade, class_id, title, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        id,
        school as SchoolId,
        new.audience,
        new.grade.map(|g| g.as_str()),
        new.class_id as Option<ClassId>,
        new.title.trim(),
        new.body.trim(),
    )
    .execute(&mut *tx)
    .await?;
    if new.sms {
        let phones = sqlx::query_scalar!(
            r#"SELECT DISTINCT g.phone AS "phone!"
               FROM sis.enrolments e
               JOIN sis.learner_guardians lg ON lg.learner_id = e.learner_id
               JOIN sis.guardians g ON g.id = lg.guardian_id
               WHERE e.school_id = $1 AND e.end_date IS NULL AND g.phone IS NOT NULL
                 AND ($2::text IS NULL OR e.grade = $2)
                 AND ($3::uuid IS NULL OR e.class_id = $3)
               ORDER BY 1"#,
            school as SchoolId,
            new.grade.map(|g| g.as_str()),
            new.class_id as Option<ClassId>,
        )
        .fetch_all(&mut *tx)
        .await?;
        let school_name = sqlx::query_scalar!(
            "SELECT name FROM platform.schools WHERE id = $1",
            school as SchoolId
        )
        .fetch_one(&mut *tx)
        .await?;
        let text = format!("{school_name}: {}. {}", new.title.trim(), new.body.trim());
        for phone in &phones {
            crate::access::enqueue(&mut tx, "sms", phone, new.title.trim(), &text, "announcement")
                .await?;
        }
        let queued = i32::try_from(phones.len()).unwrap_or(i32::MAX);
        sqlx::query!("UPDATE comms.announcements SET sms_queued = $2 WHERE id = $1", id, queued)
            .execute(&mut *tx)
            .await?;
    }
    let created = announcements_of(&mut tx, None, Some(id), None, 1).await?;
    tx.commit().await?;
    let created = created.into_iter().next().ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// A school's announcements, newest first, up to `limit`, from before `before` (an id).
pub(crate) async fn announcements_of(
    conn: &mut sqlx::PgConnection,
    school: Option<SchoolId>,
    only: Option<Uuid>,
    before: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<Announcement>> {
    Ok(sqlx::query_as!(
        Announcement,
        r#"SELECT a.id, a.school_id AS "school_id: SchoolId", a.audience, a.grade,
                  a.class_id AS "class_id: ClassId", c.name AS "class_name?", a.title, a.body,
                  a.sms_queued, a.created_at
           FROM comms.announcements a
           LEFT JOIN academic.classes c ON c.id = a.class_id
           WHERE ($1::uuid IS NULL OR a.school_id = $1) AND ($2::uuid IS NULL OR a.id = $2)
             AND ($3::uuid IS NULL OR a.id < $3)
           ORDER BY a.id DESC LIMIT $4"#,
        school as Option<SchoolId>,
        only,
        before,
        limit,
    )
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AnnouncementQuery {
    /// Only this school's.
    pub school_id: Option<SchoolId>,
    pub limit: Option<i64>,
    /// The last id of the previous page (the list runs newest first).
    pub after: Option<Uuid>,
}

/// The announcements of your schools, newest first (keyset paginated).
#[utoipa::path(get, path = "/announcements", tag = "comms", params(AnnouncementQuery),
    responses((status = 200, body = Page<Announcement>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list_announcements(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<AnnouncementQuery>,
) -> ApiResult<Json<Page<Announcement>>> {
    user.require(READERS)?;
    let limit = PageQuery { limit: q.limit, after: q.after }.limit()?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = announcements_of(&mut tx, q.school_id, None, q.after, limit + 1).await?;
    tx.commit().await?;
    Ok(Json(Page::from_rows(rows, limit, |a| a.id)))
}
