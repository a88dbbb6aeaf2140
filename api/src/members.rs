//! Who holds which role at a school: heads (and platform admins) list, assign and remove roles
//! within their own scope, invite new staff by a one-time link sent by email or SMS, and sign
//! out another user's sessions. One person may hold different roles at several schools.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use oneclass_core::ids::{InvitationId, SchoolId, UserId};
use oneclass_core::password;
use oneclass_core::types::{Phone, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::access::{enqueue, revoke};
use crate::auth::{self, AuthUser, ClientAddr, LoginResponse, begin_scoped};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::PageLang;
use crate::extract::{ValidJson, Validate};
use crate::state::AppState;

/// How long an invitation link works.
pub const INVITATION_DAYS: i32 = 7;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members, add_member))
        .routes(routes!(remove_member))
        .routes(routes!(list_invitations, invite))
        .routes(routes!(accept_invitation))
        .routes(routes!(revoke_user_sessions))
}

/// The roles held at a school (ARCHITECTURE.md, "Who sees what").
pub const SCHOOL_ROLES: [Role; 5] =
    [Role::SchoolHead, Role::Deputy, Role::Teacher, Role::Bursar, Role::Registrar];

/// The roles `user` may give or take away at `school`: a platform admin any school role, a head
/// of the school every role but head; nobody else any.
fn assignable(user: &AuthUser, school: SchoolId) -> &'static [Role] {
    match user.role {
        Role::PlatformAdmin => &SCHOOL_ROLES,
        Role::SchoolHead if user.schools.contains(&school) => &SCHOOL_ROLES[1..],
        _ => &[],
    }
}

/// `user` managing `school`: refused unless they may assign some role there. The returned user
/// acts for that school alone (a platform admin's scope names no school of its own).
fn manager_at(user: &AuthUser, school: SchoolId) -> ApiResult<AuthUser> {
    if assignable(user, school).is_empty() {
        return Err(ApiError::Forbidden);
    }
    Ok(AuthUser { schools: vec![school], ..user.clone() })
}

/// [`manager_at`], for a school that exists (a platform admin may name any id).
async fn manager_of(state: &AppState, user: &AuthUser, school: SchoolId) -> ApiResult<AuthUser> {
    let acting = manager_at(user, school)?;
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM platform.schools WHERE id = $1) AS "exists!""#,
        school as SchoolId,
    )
    .fetch_one(&state.pool)
    .await?;
    if exists { Ok(acting) } else { Err(ApiError::NotFound) }
}

fn check_role(user: &AuthUser, school: SchoolId, role: Role) -> ApiResult<()> {
    if assignable(user, school).contains(&role) {
        Ok(())
    } else if SCHOOL_ROLES.contains(&role) {
        Err(ApiError::field("role", "you may not assign this role at this school"))
    } else {
        Err(ApiError::field("role", "not a role held at a school"))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub since: DateTime<Utc>,
}

/// Who holds which role at the school.
#[utoipa::path(get, path = "/schools/{id}/members", tag = "access",
    params(("id" = Uuid, Path, description = "school id")),
    responses((status = 200, body = Vec<Member>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_members(
    State(state): State<AppState>,
    user: AuthUser,
    Path(school): Path<SchoolId>,
) -> ApiResult<Json<Vec<Member>>> {
    manager_of(&state, &user, school).await?;
    let rows = sqlx::query!(
        r#"SELECT m.user_id AS "user_id: UserId", u.username, u.display_name, m.role,
                  m.created_at
           FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
           WHERE m.school_id = $1 ORDER BY m.role, u.username LIMIT 1000"#,
        school as SchoolId,
    )
    .fetch_all(&state.pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Member {
                user_id: r.user_id,
                username: r.username,
                display_name: r.display_name,
                role: r.role.parse().map_err(|_| ApiError::Internal(r.role.clone()))?,
                since: r.created_at,
            })
        })
        .collect::<ApiResult<_>>()
        .map(Json)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub user_id: UserId,
    pub role: Role,
}

impl Validate for NewMember {
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// Gives an existing user a role at the school.
#[utoipa::path(post, path = "/schools/{id}/members", tag = "access", request_body = NewMember,
    params(("id" = Uuid, Path, description = "school id")),
    responses((status = 201), (status = 403, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn add_member(
    State(state): State<AppState>,
    user: AuthUser,
    Path(school): Path<SchoolId>,
    ValidJson(req): ValidJson<NewMember>,
) -> ApiResult<StatusCode> {
    let acting = manager_of(&state, &user, school).await?;
    check_role(&user, school, req.role)?;
    let mut tx = begin_scoped(&state.pool, &acting).await?;
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM platform.users WHERE id = $1) AS "exists!""#,
        req.user_id as UserId,
    )
    .fetch_one(&mut *tx)
    .await?;
    if !exists {
        return Err(ApiError::field("user_id", "no such user"));
    }
    sqlx::query!(
        "INSERT INTO platform.memberships (user_id, school_id, role, created_by)
         VALUES ($1, $2, $3, $4)",
        req.user_id as UserId,
        school as SchoolId,
        req.role.as_str(),
        user.id as UserId,
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| match e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
        true => ApiError::Conflict("the user already holds this role at this school".into()),
        false => e.into(),
    })?;
    tx.commit().await?;
    Ok(StatusCode::CREATED)
}

/// Takes a role at the school away from a user; their sessions are signed out at once, so a
/// token that still names the school stops working.
#[utoipa::path(delete, path = "/schools/{id}/members/{user_id}/{role}", tag = "access",
    params(("id" = Uuid, Path, description = "school id"),
           ("user_id" = Uuid, Path, description = "user id"),
           ("role" = Role, Path, description = "the role to take away")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn remove_member(
    State(state): State<AppState>,
    user: AuthUser,
    Path((school, member, role)): Path<(SchoolId, UserId, Role)>,
) -> ApiResult<StatusCode> {
    let acting = manager_of(&state, &user, school).await?;
    check_role(&user, school, role)?;
    let mut tx = begin_scoped(&state.pool, &acting).await?;
    let removed = sqlx::query!(
        "DELETE FROM platform.memberships WHERE user_id = $1 AND school_id = $2 AND role = $3",
        member as UserId,
        school as SchoolId,
        role.as_str(),
    )
    .execute(&mut *tx)
    .await?;
    if removed.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    tx.commit().await?;
    revoke(&state.pool, member, None, user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs out every session of a user: a platform admin for anyone, a head for the staff of
/// their school.
#[utoipa::path(post, path = "/users/{id}/revoke-sessions", tag = "access",
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 204), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn revoke_user_sessions(
    State(state): State<AppState>,
    user: AuthUser,
    Path(target): Path<UserId>,
) -> ApiResult<StatusCode> {
    let allowed = match user.role {
        Role::PlatformAdmin => true,
        Role::SchoolHead => {
            let schools: Vec<Uuid> = user.schools.iter().map(|s| s.as_uuid()).collect();
            sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM platform.memberships
                       WHERE user_id = $1 AND school_id = ANY ($2)) AS "member!""#,
                target as UserId,
                &schools,
            )
            .fetch_one(&state.pool)
            .await?
        }
        _ => false,
    };
    if !allowed {
        return Err(ApiError::Forbidden);
    }
    let n = revoke(&state.pool, target, None, user.id).await?;
    tracing::info!(user = %target, by = %user.id, sessions = n, "sessions revoked");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    pub role: Role,
    /// The name the account will show, until its owner changes it.
    pub display_name: String,
    /// Where the link goes: an email address, a phone (`+263…` or `07…`), or both (SMS first).
    pub email: Option<String>,
    pub phone: Option<Phone>,
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

impl Validate for NewInvitation {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let name = self.display_name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            e.push(FieldError::new("display_name", "must be 1 to 100 characters"));
        }
        if let Some(email) = &self.email
            && !valid_email(email)
        {
            e.push(FieldError::new("email", "not an email address"));
        }
        if self.email.is_none() && self.phone.is_none() {
            e.push(FieldError::new("phone", "give a phone or an email: the link is sent there"));
        }
        e
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    pub id: InvitationId,
    pub role: Role,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// Invites someone to hold a role at the school: a one-time link, valid for 7 days, is sent to
/// their phone or email (never shown to the one inviting).
#[utoipa::path(post, path = "/schools/{id}/invitations", tag = "access",
    request_body = NewInvitation, params(("id" = Uuid, Path, description = "school id")),
    responses((status = 201, body = Invitation), (status = 403, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn invite(
    State(state): State<AppState>,
    user: AuthUser,
    Path(school): Path<SchoolId>,
    PageLang(lang): PageLang,
    ValidJson(req): ValidJson<NewInvitation>,
) -> ApiResult<(StatusCode, Json<Invitation>)> {
    let acting = manager_of(&state, &user, school).await?;
    check_role(&user, school, req.role)?;
    let (token, hash) = password::one_time_token();
    let id = InvitationId::new();
    let phone = req.phone.as_ref().map(|p| p.as_str().to_owned());
    let mut tx = begin_scoped(&state.pool, &acting).await?;
    let row = sqlx::query!(
        r#"INSERT INTO platform.invitations (id, school_id, role, display_name, email, phone,
               token_hash, expires_at, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(days => $8), $9)
           RETURNING expires_at, (SELECT name FROM platform.schools WHERE id = $2) AS "school!""#,
        id as InvitationId,
        school as SchoolId,
        req.role.as_str(),
        req.display_name.trim(),
        req.email,
        phone,
        &hash[..],
        INVITATION_DAYS,
        user.id as UserId,
    )
    .fetch_one(&mut *tx)
    .await?;
    // In the language of the person inviting (who knows the one invited).
    let body = lang.t_args(
        "sms-invitation",
        &[
            ("school", row.school.clone()),
            ("role", req.role.as_str().replace('_', " ")),
            ("link", format!("/app/invitation?token={token}")),
            ("days", INVITATION_DAYS.to_string()),
        ],
    );
    let (channel, recipient) = match (&phone, &req.email) {
        (Some(p), _) => ("sms", p.as_str()),
        (None, Some(e)) => ("email", e.as_str()),
        (None, None) => return Err(ApiError::field("phone", "give a phone or an email")),
    };
    enqueue(&mut tx, channel, recipient, "Your OneClass invitation", &body, "invitation").await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Invitation {
            id,
            role: req.role,
            display_name: req.display_name.trim().to_owned(),
            email: req.email,
            phone,
            expires_at: row.expires_at,
            accepted_at: None,
        }),
    ))
}

/// The school's invitations, newest first.
#[utoipa::path(get, path = "/schools/{id}/invitations", tag = "access",
    params(("id" = Uuid, Path, description = "school id")),
    responses((status = 200, body = Vec<Invitation>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_invitations(
    State(state): State<AppState>,
    user: AuthUser,
    Path(school): Path<SchoolId>,
) -> ApiResult<Json<Vec<Invitation>>> {
    let acting = manager_of(&state, &user, school).await?;
    let mut tx = begin_scoped(&state.pool, &acting).await?;
    let rows = sqlx::query!(
        r#"SELECT id AS "id: InvitationId", role, display_name, email, phone, expires_at,
                  accepted_at
           FROM platform.invitations WHERE school_id = $1 ORDER BY id DESC LIMIT 500"#,
        school as SchoolId,
    )
    .fetch_all(&mut *tx)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Invitation {
                id: r.id,
                role: r.role.parse().map_err(|_| ApiError::Internal(r.role.clone()))?,
                display_name: r.display_name,
                email: r.email,
                phone: r.phone,
                expires_at: r.expires_at,
                accepted_at: r.accepted_at,
            })
        })
        .collect::<ApiResult<_>>()
        .map(Json)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// The token of the invitation link, as sent.
    pub token: String,
    /// A new account's username (3 to 64 of a–z, 0–9, `.`, `_`, `-`), or your existing one.
    pub username: String,
    /// A new account's password (at least 10 characters), or your existing one's.
    pub password: String,
}

fn valid_username(u: &str) -> bool {
    (3..=auth::MAX_USERNAME_CHARS).contains(&u.len())
        && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

impl Validate for Acceptance {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.token.len() != 64 || !self.token.bytes().all(|b| b.is_ascii_hexdigit()) {
            e.push(FieldError::new("token", "is not an invitation token"));
        }
        if !valid_username(&self.username) {
            e.push(FieldError::new("username", "must be 3 to 64 of a-z, 0-9, '.', '_' and '-'"));
        }
        if self.password.is_empty() || self.password.len() > auth::MAX_PASSWORD_BYTES {
            e.push(FieldError::new("password", "must be 1 to 256 bytes"));
        }
        e
    }
}

/// Accepts an invitation: with a new username, creates the account (the password must meet the
/// rules); with an existing one and its password, adds the role to that account. Either way the
/// answer is a token acting in the invited role. A link works once.
#[utoipa::path(post, path = "/invitations/accept", tag = "access", request_body = Acceptance,
    responses((status = 201, body = LoginResponse), (status = 401, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem),
              (status = 429, body = Problem)))]
async fn accept_invitation(
    State(state): State<AppState>,
    client: ClientAddr,
    ValidJson(req): ValidJson<Acceptance>,
) -> ApiResult<(StatusCode, Json<LoginResponse>)> {
    let refused = ApiError::Unauthorized("the invitation link is wrong, used or expired");
    if !client.0.is_none_or(|ip| state.address_limiter.allow(&ip.to_string())) {
        return Err(ApiError::TooManyRequests);
    }
    let hash: String =
        password::token_hash(&req.token).iter().map(|b| format!("{b:02x}")).collect();
    let mut tx = state.pool.begin().await?;
    sqlx::query!("SELECT set_config('app.invitation', $1, true)", hash).fetch_one(&mut *tx).await?;
    let inv = sqlx::query!(
        r#"SELECT id AS "id: InvitationId", school_id AS "school_id: SchoolId", role,
                  display_name, email, phone, (accepted_at IS NULL AND expires_at > now()) AS "open!"
           FROM platform.invitations FOR UPDATE"#,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(inv) = inv.filter(|i| i.open) else { return Err(refused) };
    let role: Role = inv.role.parse().map_err(|_| ApiError::Internal(inv.role.clone()))?;
    let existing = sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM platform.users WHERE username = $1"#,
        req.username,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let user_id = match existing {
        Some(_) => {
            // An existing account: its password proves whose it is.
            auth::verify_password(&state, client.0, &req.username, &req.password).await?.id
        }
        None => {
            if let Err(why) = password::check_new_password(&req.password) {
                return Err(ApiError::field("password", why));
            }
            let pw = req.password.clone();
            let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            let id = UserId::new();
            sqlx::query!(
                "INSERT INTO platform.users (id, username, password_hash, role, display_name,
                     email, phone)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                id as UserId,
                req.username,
                hash,
                role.as_str(),
                inv.display_name,
                inv.email,
                inv.phone,
            )
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                match e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
                    true => ApiError::field("username", "is taken: choose another"),
                    false => e.into(),
                }
            })?;
            id
        }
    };
    // From here the request acts as the invited user at the invited school (RLS, audit).
    sqlx::query!(
        "SELECT set_config('app.user_id', $1, true) AS user_id,
                set_config('app.school_ids', $2, true) AS school_ids,
                set_config('app.role', $3, true) AS role",
        user_id.to_string(),
        format!("{{{}}}", inv.school_id),
        role.as_str(),
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO platform.memberships (user_id, school_id, role, created_by)
         VALUES ($1, $2, $3, $1) ON CONFLICT DO NOTHING",
        user_id as UserId,
        inv.school_id as SchoolId,
        role.as_str(),
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE platform.invitations SET accepted_at = now(), accepted_by = $2 WHERE id = $1",
        inv.id as InvitationId,
        user_id as UserId,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let own =
        sqlx::query_scalar!("SELECT role FROM platform.users WHERE id = $1", user_id as UserId)
            .fetch_one(&state.pool)
            .await?;
    let own: Role = own.parse().map_err(|_| ApiError::Internal(own.clone()))?;
    let (role, schools) = auth::scope_as(&state.pool, user_id, own, Some(role)).await?;
    let session = auth::start_session(&state.pool, user_id, state.jwt.ttl).await?;
    let acting = AuthUser { id: user_id, session, role, schools, province: None, district: None };
    Ok((StatusCode::CREATED, Json(auth::token_response(&state, &acting)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, schools: Vec<SchoolId>) -> AuthUser {
        AuthUser {
            id: UserId::new(),
            session: oneclass_core::ids::SessionId::new(),
            role,
            schools,
            province: None,
            district: None,
        }
    }

    #[test]
    fn heads_assign_below_themselves_at_their_school_and_admins_anywhere() {
        let (a, b) = (SchoolId::new(), SchoolId::new());
        let head = user(Role::SchoolHead, vec![a]);
        assert!(check_role(&head, a, Role::Teacher).is_ok());
        assert!(check_role(&head, a, Role::SchoolHead).is_err());
        assert!(check_role(&head, b, Role::Teacher).is_err());
        assert!(manager_at(&head, b).is_err());
        let admin = user(Role::PlatformAdmin, vec![]);
        assert!(check_role(&admin, b, Role::SchoolHead).is_ok());
        assert!(check_role(&admin, b, Role::Analyst).is_err());
        assert_eq!(manager_at(&admin, b).expect("admin").schools, vec![b]);
        for role in [Role::Deputy, Role::Teacher, Role::Bursar, Role::Registrar, Role::Ministry] {
            assert!(manager_at(&user(role, vec![a]), a).is_err(), "{role:?}");
        }
    }

    #[test]
    fn usernames_and_emails_are_checked() {
        assert!(valid_username("t.moyo-2"));
        assert!(!valid_username("ab"));
        assert!(!valid_username("Tendai"));
        assert!(!valid_username("t moyo"));
        assert!(valid_email("head@school.ac.zw"));
        assert!(!valid_email("head@school"));
        assert!(!valid_email("head school@x.zw"));
        assert!(!valid_email("@x.zw"));
    }
}
