//! One's own access: sessions (list, sign out, revoke), acting in another role one holds,
//! changing one's password, and resetting a forgotten one by a one-time link. Revoking a
//! session refuses its tokens at once (`auth::session_is_live`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use oneclass_core::ids::{SessionId, UserId};
use oneclass_core::password;
use oneclass_core::types::Role;
use oneclass_i18n::Lang;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{self, AuthUser, ClientAddr, LoginResponse};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::state::AppState;

/// How long a reset link works.
pub const RESET_HOURS: i64 = 2;
/// Wrong secrets for one reset link before it is void and the account locked.
pub const MAX_RESET_TRIES: i32 = 5;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(logout))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(switch_role))
        .routes(routes!(change_password))
        .routes(routes!(request_reset))
        .routes(routes!(reset_password))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeldRole {
    pub role: Role,
    /// The school it is held at; absent for the account's own role when it is not a school's.
    pub school_id: Option<oneclass_core::ids::SchoolId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    /// The role this token acts in, and the schools it covers.
    pub role: Role,
    pub schools: Vec<oneclass_core::ids::SchoolId>,
    pub province: Option<String>,
    pub district: Option<String>,
    /// Every role the account holds (switch with `POST /auth/switch`).
    pub roles: Vec<HeldRole>,
    pub session: SessionId,
}

/// Who you are signed in as: the role you act in, its schools, and every role you hold.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = Problem)), security(("bearer" = [])))]
async fn me(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Me>> {
    let account = sqlx::query!(
        "SELECT username, display_name, role FROM platform.users WHERE id = $1",
        user.id as UserId,
    )
    .fetch_one(&state.pool)
    .await?;
    let parse = |r: &str| r.parse::<Role>().map_err(|_| ApiError::Internal(format!("role {r}")));
    let own = parse(&account.role)?;
    let held = sqlx::query!(
        r#"SELECT role, school_id AS "school_id: oneclass_core::ids::SchoolId"
           FROM platform.memberships WHERE user_id = $1 ORDER BY role, school_id"#,
        user.id as UserId,
    )
    .fetch_all(&state.pool)
    .await?;
    let mut roles = Vec::with_capacity(held.len() + 1);
    if !held.iter().any(|h| h.role == account.role) {
        roles.push(HeldRole { role: own, school_id: None });
    }
    for h in held {
        roles.push(HeldRole { role: parse(&h.role)?, school_id: Some(h.school_id) });
    }
    Ok(Json(Me {
        id: user.id,
        username: account.username,
        display_name: account.display_name,
        role: user.role,
        schools: user.schools,
        province: user.province,
        district: user.district,
        roles,
        session: user.session,
    }))
}

/// Ends the request's own session: its tokens stop working at once.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = Problem)), security(("bearer" = [])))]
async fn logout(State(state): State<AppState>, user: AuthUser) -> ApiResult<StatusCode> {
    revoke(&state.pool, user.id, Some(user.session), user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes `user`'s live sessions (one, or all when `session` is `None`); `by` is who did it.
/// Returns how many were live.
pub async fn revoke(
    pool: &PgPool,
    user: UserId,
    session: Option<SessionId>,
    by: UserId,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "UPDATE platform.sessions SET revoked_at = now(), revoked_by = $3
         WHERE user_id = $1 AND ($2::uuid IS NULL OR id = $2) AND revoked_at IS NULL",
        user as UserId,
        session.map(|s| s.as_uuid()),
        by as UserId,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// True for the session this request belongs to.
    pub current: bool,
}

/// Your live sessions, newest first.
#[utoipa::path(get, path = "/auth/sessions", tag = "auth",
    responses((status = 200, body = Vec<Session>), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn list_sessions(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Vec<Session>>> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id: SessionId", created_at, expires_at FROM platform.sessions
           WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
           ORDER BY created_at DESC LIMIT 100"#,
        user.id as UserId,
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| Session {
                id: r.id,
                created_at: r.created_at,
                expires_at: r.expires_at,
                current: r.id == user.session,
            })
            .collect(),
    ))
}

/// Signs out one of your sessions (a lost phone, a shared computer).
#[utoipa::path(delete, path = "/auth/sessions/{id}", tag = "auth",
    params(("id" = Uuid, Path, description = "session id")),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn revoke_session(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<SessionId>,
) -> ApiResult<StatusCode> {
    match revoke(&state.pool, user.id, Some(id), user.id).await? {
        0 => Err(ApiError::NotFound),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchRequest {
    /// A role you hold: your account's own, or one held at some school.
    pub role: Role,
}

impl Validate for SwitchRequest {
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// A token for the same session acting in another role you hold (a teacher who is also the
/// bursar); the schools are those where you hold it.
#[utoipa::path(post, path = "/auth/switch", tag = "auth", request_body = SwitchRequest,
    responses((status = 200, body = LoginResponse), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn switch_role(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(req): ValidJson<SwitchRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let own =
        sqlx::query_scalar!("SELECT role FROM platform.users WHERE id = $1", user.id as UserId)
            .fetch_one(&state.pool)
            .await?;
    let own: Role = own.parse().map_err(|_| ApiError::Internal(format!("user role {own}")))?;
    let (role, schools) = auth::scope_as(&state.pool, user.id, own, Some(req.role)).await?;
    let acting = AuthUser { role, schools, ..user };
    Ok(Json(auth::token_response(&state, &acting)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 10 characters.
    pub new_password: String,
}

impl Validate for PasswordChange {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.current_password.is_empty()
            || self.current_password.len() > auth::MAX_PASSWORD_BYTES
        {
            e.push(FieldError::new("current_password", "must be 1 to 256 bytes"));
        }
        if let Err(why) = password::check_new_password(&self.new_password) {
            e.push(FieldError::new("new_password", why));
        } else if self.new_password == self.current_password {
            e.push(FieldError::new("new_password", "must differ from the current password"));
        }
        e
    }
}

/// Changes your password. Your other sessions are signed out; this one stays.
#[utoipa::path(post, path = "/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem),
              (status = 429, body = Problem)),
    security(("bearer" = [])))]
async fn change_password(
    State(state): State<AppState>,
    client: ClientAddr,
    user: AuthUser,
    ValidJson(req): ValidJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let username =
        sqlx::query_scalar!("SELECT username FROM platform.users WHERE id = $1", user.id as UserId)
            .fetch_one(&state.pool)
            .await?;
    // The current password is checked as a sign-in is: limits, lockout and all.
    auth::verify_password(&state, client.0, &username, &req.current_password).await.map_err(
        |e| match e {
            ApiError::Unauthorized(_) => ApiError::field("current_password", "is not right"),
            e => e,
        },
    )?;
    set_password(&state, user.id, &req.new_password).await?;
    let others = sqlx::query!(
        "UPDATE platform.sessions SET revoked_at = now(), revoked_by = $1
         WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL",
        user.id as UserId,
        user.session as SessionId,
    )
    .execute(&state.pool)
    .await?;
    tracing::info!(user = %user.id, signed_out = others.rows_affected(), "password changed");
    Ok(StatusCode::NO_CONTENT)
}

/// Stores a new password's argon2 hash and, for analysts, its SCRAM secret (the Postgres wire).
pub async fn set_password(state: &AppState, user: UserId, new_password: &str) -> ApiResult<()> {
    let _permit = state
        .hashing
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(format!("hashing semaphore: {e}")))?;
    let pw = new_password.to_string();
    let (hash, scram) =
        tokio::task::spawn_blocking(move || (password::hash(&pw), password::scram_secret(&pw)))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    let hash = hash.map_err(|e| ApiError::Internal(e.to_string()))?;
    sqlx::query!(
        "UPDATE platform.users
         SET password_hash = $2, scram_salt = $3, scram_iterations = $4,
             scram_salted_password = $5, failed_logins = 0, locked_until = NULL,
             updated_at = now()
         WHERE id = $1",
        user as UserId,
        hash,
        &scram.salt[..],
        scram.iterations as i32,
        &scram.salted_password[..],
    )
    .execute(&state.pool)
    .await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub username: String,
}

impl Validate for ResetRequest {
    fn validate(&self) -> Vec<FieldError> {
        let n = self.username.trim().chars().count();
        if n == 0 || n > auth::MAX_USERNAME_CHARS {
            vec![FieldError::new("username", "must be 1 to 64 characters")]
        } else {
            Vec::new()
        }
    }
}

/// Asks for a password reset link. The answer is the same whether or not the account exists
/// or has an email or phone: the link goes only to the account's own address.
#[utoipa::path(post, path = "/auth/password/reset-request", tag = "auth",
    request_body = ResetRequest,
    responses((status = 202), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn request_reset(
    State(state): State<AppState>,
    client: ClientAddr,
    ValidJson(req): ValidJson<ResetRequest>,
) -> ApiResult<StatusCode> {
    let username = req.username.trim();
    let by_address = client.0.is_none_or(|ip| state.address_limiter.allow(&ip.to_string()));
    if !by_address || !state.login_limiter.allow(username) {
        return Err(ApiError::TooManyRequests);
    }
    let user = sqlx::query!(
        r#"SELECT id AS "id: UserId", email, phone, lang FROM platform.users WHERE username = $1"#,
        username,
    )
    .fetch_optional(&state.pool)
    .await?;
    let Some(user) = user else { return Ok(StatusCode::ACCEPTED) };
    let Some((channel, recipient)) =
        user.phone.map(|p| ("sms", p)).or_else(|| user.email.map(|e| ("email", e)))
    else {
        tracing::info!(user = %user.id, "a reset was asked for an account with no email or phone");
        return Ok(StatusCode::ACCEPTED);
    };
    let (secret, hash) = password::one_time_token();
    let id = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    // A new link voids the earlier ones.
    sqlx::query!(
        "UPDATE platform.password_resets SET used_at = now()
         WHERE user_id = $1 AND used_at IS NULL",
        user.id as UserId,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO platform.password_resets (id, user_id, token_hash, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(hours => $4))",
        id,
        user.id as UserId,
        &hash[..],
        RESET_HOURS as i32,
    )
    .execute(&mut *tx)
    .await?;
    let lang = user.lang.as_deref().and_then(Lang::from_code).unwrap_or_default();
    let body = lang.t_args(
        "sms-password-reset",
        &[
            ("username", username.to_owned()),
            ("link", format!("/app/reset?token={id}.{secret}")),
            ("hours", RESET_HOURS.to_string()),
        ],
    );
    enqueue(&mut tx, channel, &recipient, "Reset your OneClass password", &body, "password_reset")
        .await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

/// Adds a message to the outbox in the caller's transaction: it is sent only if that commits.
pub async fn enqueue(
    tx: &mut sqlx::PgConnection,
    channel: &str,
    recipient: &str,
    subject: &str,
    body: &str,
    kind: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO comms.outbox (id, channel, recipient, subject, body, kind)
         VALUES ($1, $2, $3, $4, $5, $6)",
        Uuid::now_v7(),
        channel,
        recipient,
        subject,
        body,
        kind,
    )
    .execute(tx)
    .await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// The token of the reset link, as sent.
    pub token: String,
    /// At least 10 characters.
    pub new_password: String,
}

impl Validate for PasswordReset {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if split_reset_token(&self.token).is_none() {
            e.push(FieldError::new("token", "is not a reset token"));
        }
        if let Err(why) = password::check_new_password(&self.new_password) {
            e.push(FieldError::new("new_password", why));
        }
        e
    }
}

/// A reset token is `<reset id>.<secret>`: the id finds the reset, the secret proves the link.
fn split_reset_token(token: &str) -> Option<(Uuid, &str)> {
    let (id, secret) = token.trim().split_once('.')?;
    let id = Uuid::parse_str(id).ok()?;
    (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())).then_some((id, secret))
}

/// Sets a new password with a reset link's token; every session of the account is signed out.
/// Wrong secrets for a link count: after five the link is void and the account locked as after
/// failed sign-ins.
#[utoipa::path(post, path = "/auth/password/reset", tag = "auth", request_body = PasswordReset,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem),
              (status = 429, body = Problem)))]
async fn reset_password(
    State(state): State<AppState>,
    client: ClientAddr,
    ValidJson(req): ValidJson<PasswordReset>,
) -> ApiResult<StatusCode> {
    let refused = ApiError::Unauthorized("the reset link is wrong, used or expired: ask again");
    if !client.0.is_none_or(|ip| state.address_limiter.allow(&ip.to_string())) {
        return Err(ApiError::TooManyRequests);
    }
    let (id, secret) = split_reset_token(&req.token).ok_or(ApiError::field("token", "invalid"))?;
    let reset = sqlx::query!(
        r#"SELECT r.user_id AS "user_id: UserId", r.token_hash, u.username,
                  (r.used_at IS NULL AND r.expires_at > now()
                   AND r.failed_tries < $2) AS "usable!",
                  coalesce(u.locked_until > now(), false) AS "locked!"
           FROM platform.password_resets r JOIN platform.users u ON u.id = r.user_id
           WHERE r.id = $1"#,
        id,
        MAX_RESET_TRIES,
    )
    .fetch_optional(&state.pool)
    .await?;
    let Some(reset) = reset else { return Err(refused) };
    if reset.locked {
        return Err(ApiError::TooManyRequests);
    }
    if !reset.usable {
        return Err(refused);
    }
    if !constant_time_eq(&password::token_hash(secret), &reset.token_hash) {
        let tries = sqlx::query_scalar!(
            "UPDATE platform.password_resets SET failed_tries = failed_tries + 1
             WHERE id = $1 RETURNING failed_tries",
            id,
        )
        .fetch_one(&state.pool)
        .await?;
        if tries >= MAX_RESET_TRIES {
            lock(&state.pool, reset.user_id).await?;
        }
        return Err(refused);
    }
    // Used once: the update only succeeds for the first of two concurrent resets.
    let claimed = sqlx::query!(
        "UPDATE platform.password_resets SET used_at = now() WHERE id = $1 AND used_at IS NULL",
        id,
    )
    .execute(&state.pool)
    .await?;
    if claimed.rows_affected() == 0 {
        return Err(refused);
    }
    set_password(&state, reset.user_id, &req.new_password).await?;
    revoke(&state.pool, reset.user_id, None, reset.user_id).await?;
    tracing::info!(user = %reset.user_id, username = %reset.username, "password reset");
    Ok(StatusCode::NO_CONTENT)
}

/// Locks an account as repeated failed sign-ins do.
async fn lock(pool: &PgPool, user: UserId) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE platform.users
         SET locked_until = now() + make_interval(mins => $2), updated_at = now()
         WHERE id = $1",
        user as UserId,
        auth::LOCKOUT_MINUTES as i32,
    )
    .execute(pool)
    .await?;
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_tokens_are_an_id_and_a_hex_secret() {
        let id = Uuid::now_v7();
        let (secret, _) = password::one_time_token();
        assert_eq!(split_reset_token(&format!("{id}.{secret}")), Some((id, secret.as_str())));
        assert_eq!(split_reset_token(&format!("{id}.{}", &secret[..10])), None);
        assert_eq!(split_reset_token(&secret), None);
        assert_eq!(split_reset_token(&format!("not-an-id.{secret}")), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
