//! The parents' portal API: sign-in by a one-time code sent by SMS to a guardian's phone, then
//! each child's attendance, marks and fee balance, and setting a password. A parent's session has
//! no schools; what it reads comes through the `parent_reads` policies (migration
//! `parent_portal`): the learners it is a guardian of, where the school has not withdrawn it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use oneclass_core::ids::{ClassId, LearnerId, UserId};
use oneclass_core::password;
use oneclass_core::types::{Phone, Role};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{self, AuthUser, ClientAddr, LoginResponse, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{PageLang, ValidJson, Validate};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_code))
        .routes(routes!(verify_code))
        .routes(routes!(children))
        .routes(routes!(child))
        .routes(routes!(set_password))
}

const PARENTS: &[Role] = &[Role::Parent];
/// How long a code works, and how many wrong tries spend it.
const CODE_MINUTES: i64 = 10;
const CODE_TRIES: i32 = 5;

fn code_hash(phone: &str, code: &str) -> Vec<u8> {
    Sha256::digest(format!("{phone}:{code}").as_bytes()).to_vec()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// `077 123 4567`, `+263 77 123 4567`, …
    pub phone: Phone,
}

impl Validate for CodeRequest {
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// Sends a sign-in code by SMS to a guardian's phone (valid 10 minutes, once). The answer is the
/// same whether or not the phone is a guardian's, so it tells no one who is on the platform.
#[utoipa::path(post, path = "/auth/otp", tag = "auth", request_body = CodeRequest,
    responses((status = 202), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub(crate) async fn request_code(
    State(state): State<AppState>,
    client: ClientAddr,
    PageLang(lang): PageLang,
    ValidJson(req): ValidJson<CodeRequest>,
) -> ApiResult<StatusCode> {
    let phone = req.phone.as_str().to_owned();
    let by_address = client.0.is_none_or(|ip| state.address_limiter.allow(&ip.to_string()));
    if !by_address || !state.login_limiter.allow(&format!("otp:{phone}")) {
        return Err(ApiError::TooManyRequests);
    }
    let known =
        sqlx::query_scalar!(r#"SELECT platform.portal_phone_known($1) AS "known!""#, &phone)
            .fetch_one(&state.pool)
            .await?;
    if !known {
        tracing::info!("sign-in code asked for a phone that is no guardian's");
        return Ok(StatusCode::ACCEPTED);
    }
    let code = password::one_time_code();
    let mut tx = state.pool.begin().await?;
    sqlx::query!(
        "INSERT INTO platform.otp_codes (id, phone, code_hash, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(mins => $4))",
        Uuid::now_v7(),
        &phone,
        code_hash(&phone, &code),
        CODE_MINUTES as i32,
    )
    .execute(&mut *tx)
    .await?;
    // In the language of the page that asked (the parent's choice, else their browser's).
    let text = lang.t_args(
        "sms-sign-in-code",
        &[("code", code.clone()), ("minutes", CODE_MINUTES.to_string())],
    );
    crate::access::enqueue(&mut tx, "sms", &phone, "Sign-in code", &text, "otp").await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeCheck {
    pub phone: Phone,
    /// The six digits sent by SMS.
    pub code: String,
}

impl Validate for CodeCheck {
    fn validate(&self) -> Vec<FieldError> {
        let code = self.code.trim();
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            Vec::new()
        } else {
            vec![FieldError::new("code", "must be the six digits sent by SMS")]
        }
    }
}

/// Signs a parent in with the code sent to their phone: the portal account is made on the first
/// sign-in and linked to every guardian record with that phone.
#[utoipa::path(post, path = "/auth/otp/verify", tag = "auth", request_body = CodeCheck,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem),
              (status = 422, body = Problem), (status = 429, body = Problem)))]
pub(crate) async fn verify_code(
    State(state): State<AppState>,
    client: ClientAddr,
    ValidJson(req): ValidJson<CodeCheck>,
) -> ApiResult<Json<LoginResponse>> {
    let phone = req.phone.as_str().to_owned();
    let by_address = client.0.is_none_or(|ip| state.address_limiter.allow(&ip.to_string()));
    if !by_address {
        return Err(ApiError::TooManyRequests);
    }
    let wrong = ApiError::Unauthorized("wrong or expired code");
    let mut tx = state.pool.begin().await?;
    // The latest code sent, if it is still good; locked so two tries are counted one by one.
    let latest = sqlx::query!(
        "SELECT id, code_hash FROM platform.otp_codes
         WHERE phone = $1 AND used_at IS NULL AND expires_at > now() AND attempts < $2
         ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
        &phone,
        CODE_TRIES,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(latest) = latest else { return Err(wrong) };
    let given = code_hash(&phone, req.code.trim());
    // Digests are compared: timing tells nothing about the code.
    if given != latest.code_hash {
        sqlx::query!(
            "UPDATE platform.otp_codes SET attempts = attempts + 1 WHERE id = $1",
            latest.id
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Err(wrong);
    }
    sqlx::query!("UPDATE platform.otp_codes SET used_at = now() WHERE id = $1", latest.id)
        .execute(&mut *tx)
        .await?;
    let user =
        sqlx::query_scalar!(r#"SELECT platform.parent_account($1) AS "user_id: UserId""#, &phone,)
            .fetch_one(&mut *tx)
            .await?
            .ok_or(wrong)?;
    tx.commit().await?;
    let session = auth::start_session(&state.pool, user, state.jwt.ttl).await?;
    let parent = AuthUser {
        id: user,
        session,
        role: Role::Parent,
        schools: Vec::new(),
        province: None,
        district: None,
    };
    Ok(Json(auth::token_response(&state, &parent)?))
}

/// One of a parent's learners, at a glance.
#[derive(Debug, Serialize, ToSchema)]
pub struct Child {
    pub learner_id: LearnerId,
    pub first_name: String,
    pub last_name: String,
    pub school_name: String,
    pub grade: Option<String>,
    pub class_id: Option<ClassId>,
    pub class_name: Option<String>,
    /// Present or late, of the school days marked in the last 30 days (percent).
    pub attendance_rate: Option<f64>,
    /// Owed now, per currency (negative: in credit).
    pub balances: Vec<Owed>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Owed {
    pub currency: String,
    #[schema(value_type = String)]
    pub balance: Decimal,
}

/// The signed-in parent's learners.
#[utoipa::path(get, path = "/portal/children", tag = "portal",
    responses((status = 200, body = Vec<Child>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn children(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Vec<Child>>> {
    user.require(PARENTS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = children_of(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Json(rows))
}

async fn children_of(
    conn: &mut sqlx::PgConnection,
    only: Option<LearnerId>,
) -> ApiResult<Vec<Child>> {
    let rows = sqlx::query!(
        r#"SELECT l.id AS "learner_id: LearnerId", l.first_name, l.last_name,
                  s.name AS school_name, e.grade AS "grade?", e.class_id AS "class_id?: ClassId",
                  c.name AS "class_name?",
                  (SELECT 100.0 * count(*) FILTER (WHERE m.status IN ('present', 'late'))
                          / nullif(count(*), 0)
                   FROM attendance.daily_marks m
                   WHERE m.learner_id = l.id AND m.date > current_date - 30)::float8
                    AS "attendance_rate?"
           FROM sis.learners l
           JOIN platform.schools s ON s.id = l.school_id
           LEFT JOIN sis.enrolments e ON e.learner_id = l.id AND e.end_date IS NULL
           LEFT JOIN academic.classes c ON c.id = e.class_id
           WHERE $1::uuid IS NULL OR l.id = $1
           ORDER BY l.date_of_birth, l.id"#,
        only as Option<LearnerId>,
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let balances = crate::fees::balances_of(&mut *conn, r.learner_id)
            .await?
            .into_iter()
            .map(|b| Owed { currency: b.currency, balance: b.balance })
            .collect();
        out.push(Child {
            learner_id: r.learner_id,
            first_name: r.first_name,
            last_name: r.last_name,
            school_name: r.school_name,
            grade: r.grade,
            class_id: r.class_id,
            class_name: r.class_name,
            attendance_rate: r.attendance_rate.map(|v| (v * 10.0).round() / 10.0),
            balances,
        });
    }
    Ok(out)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayMark {
    pub date: NaiveDate,
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectMark {
    pub academic_year: i32,
    pub term: i32,
    pub subject_code: String,
    pub assessment: String,
    pub held_on: NaiveDate,
    pub score: f64,
    pub max_score: f64,
}

/// One learner of a parent's, in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildRecord {
    pub child: Child,
    /// The last 30 days' marks, newest first.
    pub attendance: Vec<DayMark>,
    /// This year's assessed work, newest first.
    pub marks: Vec<SubjectMark>,
    /// The invoices a payment may go to: (id, year, term, currency, amount).
    pub invoices: Vec<OpenInvoice>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenInvoice {
    pub id: Uuid,
    pub academic_year: i32,
    pub term: i32,
    pub currency: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

/// One of the parent's learners: attendance of the last 30 days, this year's marks, invoices.
/// Any other learner is not found.
#[utoipa::path(get, path = "/portal/children/{id}", tag = "portal",
    params(("id" = Uuid, Path, description = "learner id")),
    responses((status = 200, body = ChildRecord), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn child(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<LearnerId>,
) -> ApiResult<Json<ChildRecord>> {
    user.require(PARENTS)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let child = children_of(&mut tx, Some(id)).await?.pop().ok_or(ApiError::NotFound)?;
    let attendance = sqlx::query_as!(
        DayMark,
        "SELECT date, status FROM attendance.daily_marks
         WHERE learner_id = $1 AND date > current_date - 30 ORDER BY date DESC",
        id as LearnerId,
    )
    .fetch_all(&mut *tx)
    .await?;
    let year = chrono::Datelike::year(&Utc::now().date_naive());
    let marks = sqlx::query_as!(
        SubjectMark,
        r#"SELECT a.academic_year, a.term, a.subject_code, a.name AS assessment, a.held_on,
                  r.score::float8 AS "score!", r.max_score::float8 AS "max_score!"
           FROM assessment.results r JOIN assessment.assessments a ON a.id = r.assessment_id
           WHERE r.learner_id = $1 AND a.academic_year = $2
           ORDER BY a.held_on DESC, a.subject_code"#,
        id as LearnerId,
        year,
    )
    .fetch_all(&mut *tx)
    .await?;
    let invoices = sqlx::query_as!(
        OpenInvoice,
        "SELECT id, academic_year, term, currency, amount FROM finance.invoices
         WHERE learner_id = $1 ORDER BY academic_year DESC, term DESC",
        id as LearnerId,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(ChildRecord { child, attendance, marks, invoices }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPortalPassword {
    /// At least 10 characters.
    pub new_password: String,
}

impl Validate for NewPortalPassword {
    fn validate(&self) -> Vec<FieldError> {
        match password::check_new_password(&self.new_password) {
            Ok(()) => Vec::new(),
            Err(why) => vec![FieldError::new("new_password", why)],
        }
    }
}

/// Sets the signed-in parent's password, so that next time they may sign in with their phone
/// number and it (on the form or `POST /auth/login`) instead of a code.
#[utoipa::path(post, path = "/portal/password", tag = "portal", request_body = NewPortalPassword,
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn set_password(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(req): ValidJson<NewPortalPassword>,
) -> ApiResult<StatusCode> {
    user.require(PARENTS)?;
    crate::access::set_password(&state, user.id, &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
