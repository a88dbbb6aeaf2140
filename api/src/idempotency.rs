//! `Idempotency-Key`: a write sent again (a retry, a double tap, two tabs) is applied once and
//! answered as the first time. The key is claimed in the write's own transaction before anything
//! else: a second request with the same key waits on the first's uncommitted claim, then finds
//! its answer; if the first fails, its claim goes with it and the key is free again.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use oneclass_core::ids::SchoolId;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The request's key: 1 to 200 characters.
pub fn key_of(headers: &HeaderMap, what: &str) -> ApiResult<String> {
    headers
        .get(IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::field(
                "Idempotency-Key",
                format!("required: a key unique to this {what} (1 to 200 characters)"),
            )
        })
}

/// What a request's key says to do.
pub enum Claim {
    /// The first time: go on, then [`record`] the answer.
    New,
    /// Seen before with the same request: this is the first answer again.
    Replay(Response),
}

/// The fingerprint of a request, to tell a retry from another request under the same key.
pub fn fingerprint(parts: &[&[u8]]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update((p.len() as u64).to_be_bytes());
        hasher.update(p);
    }
    hasher.finalize().to_vec()
}

/// Claims `key` at `school` for `route`, or finds the first answer.
pub async fn claim(
    conn: &mut PgConnection,
    school: SchoolId,
    key: &str,
    route: &str,
    fingerprint: &[u8],
    what: &str,
) -> ApiResult<Claim> {
    let claimed = sqlx::query!(
        "INSERT INTO platform.idempotency_keys (school_id, key, route, request_hash, status, response)
         VALUES ($1, $2, $3, $4, 0, 'null') ON CONFLICT DO NOTHING",
        school as SchoolId,
        key,
        route,
        fingerprint,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if claimed {
        return Ok(Claim::New);
    }
    let earlier = sqlx::query!(
        "SELECT route, request_hash, status, response FROM platform.idempotency_keys
         WHERE school_id = $1 AND key = $2",
        school as SchoolId,
        key,
    )
    .fetch_one(&mut *conn)
    .await?;
    if earlier.route != route || earlier.request_hash != fingerprint {
        return Err(ApiError::Conflict(format!(
            "this Idempotency-Key was used for another request: use a new key for a new {what}"
        )));
    }
    let status = StatusCode::from_u16(earlier.status as u16).unwrap_or(StatusCode::OK);
    let mut resp = (status, Json(earlier.response)).into_response();
    resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(Claim::Replay(resp))
}

/// Records the answer to a claimed key, in the same transaction as the write.
pub async fn record(
    conn: &mut PgConnection,
    school: SchoolId,
    key: &str,
    status: StatusCode,
    answer: &impl Serialize,
) -> ApiResult<()> {
    sqlx::query!(
        "UPDATE platform.idempotency_keys SET status = $3, response = $4
         WHERE school_id = $1 AND key = $2",
        school as SchoolId,
        key,
        i32::from(status.as_u16()),
        serde_json::to_value(answer).map_err(|e| ApiError::Internal(e.to_string()))?,
    )
    .execute(conn)
    .await?;
    Ok(())
}
