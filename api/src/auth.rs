//! Sign-in and the signed-in user: argon2id passwords, lockout after repeated failures, a
//! per-address rate limit, short-lived HS256 JWTs, and the `AuthUser` extractor that every
//! protected handler takes. `begin_scoped` opens the per-request transaction that carries the
//! user's identity and schools into PostgreSQL's row-level security.

use axum::extract::{FromRequestParts, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::{Json, http::header};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use jsonwebtoken::{Header, Validation};
use oneclass_core::ids::{SchoolId, SessionId, UserId};
use oneclass_core::types::Role;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, Transaction};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{ValidJson, Validate};
use crate::security::JwtKeys;
use crate::state::AppState;

pub const MAX_FAILED_LOGINS: i32 = 5;
/// Longer inputs are refused before any work: they are never real credentials, and hashing or
/// remembering them is how a login endpoint is made to exhaust memory and CPU.
pub const MAX_USERNAME_CHARS: usize = 64;
pub const MAX_PASSWORD_BYTES: usize = 256;
pub const LOCKOUT_MINUTES: i64 = 15;
pub const SESSION_COOKIE: &str = "oneclass_session";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: UserId,
    /// The session the token belongs to: revoking it refuses the token at once.
    sid: SessionId,
    role: String,
    #[serde(default)]
    schools: Vec<SchoolId>,
    #[serde(default)]
    province: Option<String>,
    #[serde(default)]
    district: Option<String>,
    iat: i64,
    exp: i64,
}

/// The signed-in user, decoded from a valid token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub session: SessionId,
    pub role: Role,
    pub schools: Vec<SchoolId>,
    pub province: Option<String>,
    pub district: Option<String>,
}

impl AuthUser {
    pub fn require(&self, allowed: &[Role]) -> ApiResult<()> {
        if allowed.contains(&self.role) { Ok(()) } else { Err(ApiError::Forbidden) }
    }

    /// The user must belong to `school` (403 otherwise).
    pub fn require_school(&self, school: SchoolId) -> ApiResult<()> {
        if self.schools.contains(&school) { Ok(()) } else { Err(ApiError::Forbidden) }
    }

    /// The school a write goes to: the one named (which must be one of the user's), or the
    /// user's only school.
    pub fn school_for_write(&self, requested: Option<SchoolId>) -> ApiResult<SchoolId> {
        match requested {
            Some(id) if self.schools.contains(&id) => Ok(id),
            Some(_) => Err(ApiError::field("school_id", "not one of your schools")),
            None => match self.schools.as_slice() {
                [only] => Ok(*only),
                [] => Err(ApiError::Forbidden),
                _ => Err(ApiError::field("school_id", "required: you belong to several schools")),
            },
        }
    }

    /// A teacher's reads are limited to classes they teach; other school roles see the school.
    pub fn teacher_id(&self) -> Option<UserId> {
        (self.role == Role::Teacher).then_some(self.id)
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = token_in(&parts.headers)
            .ok_or(ApiError::Unauthorized("sign in first: send `Authorization: Bearer <token>`"))?;
        let user = decode(&state.jwt, &token)?;
        if !session_is_live(&state.pool, &user).await? {
            return Err(ApiError::Unauthorized("the session has ended: sign in again"));
        }
        Ok(user)
    }
}

/// True while the user's session is neither revoked nor expired: a signed-out or revoked
/// session's tokens stop working at once, before their own expiry.
pub async fn session_is_live(pool: &PgPool, user: &AuthUser) -> sqlx::Result<bool> {
    let live = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM platform.sessions
               WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now())
           AS "live!""#,
        user.session as SessionId,
        user.id as UserId,
    )
    .fetch_one(pool)
    .await?;
    Ok(live)
}

/// The request's token: its bearer token, else its session cookie (the staff pages').
fn token_in(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    bearer.or_else(|| {
        let jar = CookieJar::from_headers(headers);
        jar.get(SESSION_COOKIE).map(|c| c.value().to_string())
    })
}

/// The user a request is signed in as, if its token is valid and its session live: for pages
/// that anyone may see but that show more to some (the dashboards).
pub async fn signed_in(pool: &PgPool, keys: &JwtKeys, headers: &HeaderMap) -> Option<AuthUser> {
    let user = decode(keys, &token_in(headers)?).ok()?;
    session_is_live(pool, &user).await.ok()?.then_some(user)
}

pub fn decode(keys: &JwtKeys, token: &str) -> ApiResult<AuthUser> {
    let data = jsonwebtoken::decode::<Claims>(token, &keys.decoding, &Validation::default())
        .map_err(|_| ApiError::Unauthorized("the token is invalid or expired: sign in again"))?;
    let c = data.claims;
    let role =
        c.role.parse().map_err(|_| ApiError::Unauthorized("the token names no known role"))?;
    Ok(AuthUser {
        id: c.sub,
        session: c.sid,
        role,
        schools: c.schools,
        province: c.province,
        district: c.district,
    })
}

pub fn issue(keys: &JwtKeys, user: &AuthUser) -> ApiResult<String> {
    let now = Utc::now().timestamp();
    let claims = Claims {
        sub: user.id,
        sid: user.session,
        role: user.role.as_str().to_string(),
        schools: user.schools.clone(),
        province: user.province.clone(),
        district: user.district.clone(),
        iat: now,
        exp: now + keys.ttl.as_secs() as i64,
    };
    jsonwebtoken::encode(&Header::default(), &claims, &keys.encoding)
        .map_err(|e| ApiError::Internal(format!("signing a token: {e}")))
}

/// Opens the request's transaction with the user's identity set for row-level security.
/// `set_config(…, true)` scopes the settings to this transaction, so a pooled connection never
/// carries one user's scope into another's request.
pub async fn begin_scoped(
    pool: &PgPool,
    user: &AuthUser,
) -> ApiResult<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    let schools = format!(
        "{{{}}}",
        user.schools.iter().map(SchoolId::to_string).collect::<Vec<_>>().join(",")
    );
    sqlx::query!(
        "SELECT set_config('app.user_id', $1, true) AS user_id,
                set_config('app.school_ids', $2, true) AS school_ids,
                set_config('app.role', $3, true) AS role",
        user.id.to_string(),
        schools,
        user.role.as_str(),
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(tx)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Sign in as another role you hold (at some school) than your account's own.
    #[serde(default)]
    pub role: Option<Role>,
}

impl Validate for LoginRequest {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.username.trim().is_empty() || self.username.chars().count() > MAX_USERNAME_CHARS {
            errors.push(FieldError::new("username", "must be 1 to 64 characters"));
        }
        if self.password.is_empty() || self.password.len() > MAX_PASSWORD_BYTES {
            errors.push(FieldError::new("password", "must be 1 to 256 bytes"));
        }
        errors
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

struct UserRow {
    id: UserId,
    password_hash: String,
    role: String,
    province: Option<String>,
    district: Option<String>,
    locked: bool,
    has_scram: bool,
}

/// A wrong password for `username` (over HTTP or the Postgres wire): counts towards its
/// lockout, [`MAX_FAILED_LOGINS`] in a row locking it for [`LOCKOUT_MINUTES`].
pub async fn count_failed_login(pool: &PgPool, username: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE platform.users
         SET failed_logins = CASE WHEN locked_until <= now() THEN 1 ELSE failed_logins + 1 END,
             locked_until = CASE WHEN locked_until <= now() THEN NULL
                                 WHEN failed_logins + 1 >= $2
                                 THEN now() + make_interval(mins => $3) END,
             updated_at = now()
         WHERE username = $1",
        username,
        MAX_FAILED_LOGINS,
        LOCKOUT_MINUTES as i32,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A right password for `username`: its count of failures starts again.
pub async fn forget_failed_logins(pool: &PgPool, username: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE platform.users SET failed_logins = 0, locked_until = NULL, updated_at = now()
         WHERE username = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)",
        username,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Signs in: checks a username and password ([`verify_password`]) and starts a session acting
/// in `requested` (a role the user holds) or the account's own role. `client` is the caller's
/// address: attempts are limited per address and per username, so neither one password tried
/// on many accounts nor many passwords on one account go fast.
pub async fn authenticate(
    state: &AppState,
    client: Option<std::net::IpAddr>,
    username: &str,
    password: &str,
    requested: Option<Role>,
) -> ApiResult<AuthUser> {
    let v = verify_password(state, client, username, password).await?;
    let (role, schools) = scope_as(&state.pool, v.id, v.own, requested).await?;
    let session = start_session(&state.pool, v.id, state.jwt.ttl).await?;
    Ok(AuthUser { id: v.id, session, role, schools, province: v.province, district: v.district })
}

/// An account whose password was just checked.
pub struct Verified {
    pub id: UserId,
    /// The account's own role.
    pub own: Role,
    pub province: Option<String>,
    pub district: Option<String>,
}

/// Checks a password as sign-in does: rate limits per address and username, lockout, the same
/// cost for unknown usernames, failures counted.
pub async fn verify_password(
    state: &AppState,
    client: Option<std::net::IpAddr>,
    username: &str,
    password: &str,
) -> ApiResult<Verified> {
    // A parent's username is their phone, in whatever form they type it.
    let phone = oneclass_core::types::Phone::parse(username.trim()).ok();
    let username = phone.as_ref().map_or_else(|| username.trim(), |p| p.as_str());
    if username.is_empty()
        || username.chars().count() > MAX_USERNAME_CHARS
        || password.len() > MAX_PASSWORD_BYTES
    {
        return Err(ApiError::Unauthorized("wrong username or password"));
    }
    // A school's staff often share one address (one router, one NAT): its budget is larger.
    let by_address = client.is_none_or(|ip| state.address_limiter.allow(&ip.to_string()));
    if !by_address || !state.login_limiter.allow(username) {
        return Err(ApiError::TooManyRequests);
    }
    // Argon2 is deliberately expensive: at most a few run at once, whoever asks.
    let _permit = state
        .hashing
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(format!("hashing semaphore: {e}")))?;
    let row = sqlx::query_as!(
        UserRow,
        r#"SELECT id AS "id: UserId", password_hash, role, province, district,
                  coalesce(locked_until > now(), false) AS "locked!",
                  scram_salt IS NOT NULL AS "has_scram!"
           FROM platform.users WHERE username = $1"#,
        username,
    )
    .fetch_optional(&state.pool)
    .await?;
    let Some(row) = row else {
        // Same cost as a real check, so timing does not reveal which usernames exist.
        let hash = oneclass_core::password::dummy_hash().to_string();
        let pw = password.to_string();
        let _ =
            tokio::task::spawn_blocking(move || oneclass_core::password::verify(&pw, &hash)).await;
        return Err(ApiError::Unauthorized("wrong username or password"));
    };
    if row.locked {
        return Err(ApiError::TooManyRequests);
    }
    let (pw, hash) = (password.to_string(), row.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || oneclass_core::password::verify(&pw, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !ok {
        count_failed_login(&state.pool, username).await?;
        return Err(ApiError::Unauthorized("wrong username or password"));
    }
    forget_failed_logins(&state.pool, username).await?;
    if !row.has_scram && row.role == Role::Analyst.as_str() {
        // An analyst account older than the Postgres-wire endpoint: this is the one moment the
        // server holds the password to derive its SCRAM secret from.
        let pw = password.to_string();
        let scram = tokio::task::spawn_blocking(move || oneclass_core::password::scram_secret(&pw))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        sqlx::query!(
            "UPDATE platform.users
             SET scram_salt = $2, scram_iterations = $3, scram_salted_password = $4
             WHERE id = $1 AND scram_salt IS NULL",
            row.id as UserId,
            &scram.salt[..],
            scram.iterations as i32,
            &scram.salted_password[..],
        )
        .execute(&state.pool)
        .await?;
    }
    let own: Role =
        row.role.parse().map_err(|_| ApiError::Internal(format!("user role {}", row.role)))?;
    Ok(Verified { id: row.id, own, province: row.province, district: row.district })
}

/// The role a user acts in and the schools it covers: `requested` if they hold it (as their
/// account's own role or at some school), else their account's own role.
pub async fn scope_as(
    pool: &PgPool,
    user: UserId,
    own: Role,
    requested: Option<Role>,
) -> ApiResult<(Role, Vec<SchoolId>)> {
    let role = requested.unwrap_or(own);
    let schools = sqlx::query_scalar!(
        r#"SELECT school_id AS "school_id: SchoolId" FROM platform.memberships
           WHERE user_id = $1 AND role = $2 ORDER BY school_id"#,
        user as UserId,
        role.as_str(),
    )
    .fetch_all(pool)
    .await?;
    if role != own && schools.is_empty() {
        return Err(ApiError::field("role", "you hold this role at no school"));
    }
    Ok((role, schools))
}

/// Records a new sign-in, live for the token lifetime `ttl` unless revoked first.
pub async fn start_session(
    pool: &PgPool,
    user: UserId,
    ttl: std::time::Duration,
) -> sqlx::Result<SessionId> {
    let id = SessionId::new();
    sqlx::query!(
        "INSERT INTO platform.sessions (id, user_id, expires_at)
         VALUES ($1, $2, now() + make_interval(secs => $3))",
        id as SessionId,
        user as UserId,
        ttl.as_secs_f64(),
    )
    .execute(pool)
    .await?;
    Ok(id)
}

/// Sign in: a short-lived bearer token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    ValidJson(req): ValidJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let user = authenticate(&state, client.0, &req.username, &req.password, req.role).await?;
    Ok(Json(token_response(&state, &user)?))
}

/// The answer to a sign-in: a bearer token for `user`'s session.
pub fn token_response(state: &AppState, user: &AuthUser) -> ApiResult<LoginResponse> {
    Ok(LoginResponse {
        access_token: issue(&state.jwt, user)?,
        token_type: "Bearer",
        expires_in: state.jwt.ttl.as_secs(),
    })
}

/// The caller's address when the server was started with connect info (tests driving the
/// router directly have none).
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|ci| ci.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let keys = JwtKeys::new(b"secret", Duration::from_secs(60));
        let user = AuthUser {
            id: UserId::new(),
            session: SessionId::new(),
            role: Role::Teacher,
            schools: vec![SchoolId::new()],
            province: None,
            district: None,
        };
        let token = issue(&keys, &user).expect("issue");
        let back = decode(&keys, &token).expect("decode");
        assert_eq!(back.id, user.id);
        assert_eq!(back.schools, user.schools);
        let other = JwtKeys::new(b"other", Duration::from_secs(60));
        assert!(decode(&other, &token).is_err());
    }
}
