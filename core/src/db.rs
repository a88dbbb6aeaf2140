//! Database setup: connection URLs for the three roles, migrations, role passwords.

use secrecy::{ExposeSecret, SecretString};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

use crate::error::CoreError;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The API's role: owns nothing, cannot bypass row-level security.
pub const APP_ROLE: &str = "oneclass_app";
/// The change-data-capture role: REPLICATION, reads every published table.
pub const CDC_ROLE: &str = "oneclass_cdc";
/// The publication and replication slot that feed the lake.
pub const PUBLICATION: &str = "oneclass_lake";

/// Passwords of the roles the platform logs in as. `Debug` shows neither.
#[derive(Clone, Debug)]
pub struct RolePasswords {
    pub app: SecretString,
    pub cdc: SecretString,
}

/// The connection `owner_url` names, as `role` with `password` instead of the owner.
pub fn role_options(
    owner_url: &str,
    role: &str,
    password: &SecretString,
) -> Result<PgConnectOptions, CoreError> {
    Ok(connect_options(owner_url)?.username(role).password(password.expose_secret()))
}

/// Parses a `postgres://` URL (percent-decoding included) with sqlx's own parser: the one
/// parser every connection of the platform goes through.
pub fn connect_options(url: &str) -> Result<PgConnectOptions, CoreError> {
    PgConnectOptions::from_str(url)
        .map_err(|e| CoreError::Config(format!("invalid database URL: {e}")))
}

pub async fn pool(url: &str, max_connections: u32) -> Result<PgPool, CoreError> {
    pool_with(connect_options(url)?, max_connections).await
}

pub async fn pool_with(opts: PgConnectOptions, max_connections: u32) -> Result<PgPool, CoreError> {
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts)
        .await?)
}

/// Applies pending migrations as the owner, then sets the app and CDC roles' passwords.
pub async fn migrate(owner_url: &str, passwords: &RolePasswords) -> Result<(), CoreError> {
    let mut conn = sqlx::PgConnection::connect_with(&connect_options(owner_url)?).await?;
    MIGRATOR.run(&mut conn).await?;
    for (role, password) in [(APP_ROLE, &passwords.app), (CDC_ROLE, &passwords.cdc)] {
        // Not compile-checked, as nothing in this crate: it builds the scratch database that
        // the check of the other crates' queries runs against (tools/sqlx-prepare).
        let stmt: String =
            sqlx::query_scalar("SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)")
                .bind(role)
                .bind(password.expose_secret())
                .fetch_one(&mut conn)
                .await?;
        // Roles live in the cluster-wide catalog: databases of one cluster migrating at once
        // can collide on the same role row ("tuple concurrently updated"); retry briefly.
        let mut attempt = 0;
        loop {
            match sqlx::raw_sql(&stmt).execute(&mut conn).await {
                Ok(_) => break,
                Err(e) if attempt < 20 && is_concurrent_update(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    conn.close().await?;
    Ok(())
}

fn is_concurrent_update(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| matches!(code.as_ref(), "XX000" | "40001" | "40P01"))
}
