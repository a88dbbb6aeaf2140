//! The platform's accounts as the Postgres-wire SQL endpoint signs them in: analysts with a
//! SCRAM secret, not locked out, with the area of their account. Every connection signs in, so
//! sign-ins are limited per address (a budget per minute) rather than per account; a failed
//! proof counts towards the same lockout as a wrong password over HTTP, which is what stops
//! guessing one account's password.

use async_trait::async_trait;
use oneclass_core::types::Role;
use std::net::IpAddr;
use std::time::Duration;

use oneclass_api::RateLimiter;
use oneclass_warehouse::wire::{AccountError, Accounts, SCRAM_ITERATIONS, WireAccount};
use oneclass_warehouse::{Access, Area};
use sqlx::PgPool;

pub struct PlatformAccounts {
    pool: PgPool,
    by_address: RateLimiter,
}

impl PlatformAccounts {
    /// Accounts of `pool`, signing in at most `per_minute` connections a minute per address.
    pub fn new(pool: PgPool, per_minute: u32) -> Self {
        Self { pool, by_address: RateLimiter::new(per_minute, Duration::from_secs(60)) }
    }
}

impl PlatformAccounts {
    /// An analyst with a SCRAM secret, not locked out, as the endpoint may sign them in.
    async fn account(&self, username: &str) -> Result<Option<WireAccount>, AccountError> {
        let row = sqlx::query!(
            r#"SELECT province, district, scram_salt AS "salt!", scram_iterations AS "iterations!",
                      scram_salted_password AS "salted_password!"
               FROM platform.users
               WHERE username = $1 AND role = $2 AND scram_salt IS NOT NULL
                 AND coalesce(locked_until <= now(), true)"#,
            username,
            Role::Analyst.as_str(),
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| AccountError::Unavailable(e.to_string()))?;
        let Some(row) = row else { return Ok(None) };
        if u32::try_from(row.iterations).ok() != Some(SCRAM_ITERATIONS) {
            tracing::warn!(
                iterations = row.iterations,
                "an account's SCRAM secret has an iteration count the endpoint does not use"
            );
            return Ok(None);
        }
        let area = Area::of_scope(row.province, row.district);
        Ok(Some(WireAccount {
            salted_password: row.salted_password,
            salt: row.salt,
            access: Access::Analyst { area },
        }))
    }
}

#[async_trait]
impl Accounts for PlatformAccounts {
    async fn wire_account(
        &self,
        username: &str,
        peer: IpAddr,
    ) -> Result<Option<WireAccount>, AccountError> {
        if !self.by_address.allow(&peer.to_string()) {
            return Err(AccountError::TooManyAttempts);
        }
        self.account(username).await
    }

    async fn sign_in_failed(&self, username: &str) {
        if let Err(e) = oneclass_api::auth::count_failed_login(&self.pool, username).await {
            tracing::error!(error = %e, "counting a failed Postgres-wire sign-in");
        }
    }

    async fn signed_in(&self, username: &str) {
        if let Err(e) = oneclass_api::auth::forget_failed_logins(&self.pool, username).await {
            tracing::error!(error = %e, "resetting an account's failed sign-ins");
        }
    }

    async fn still_allowed(&self, username: &str, access: &Access, salted_password: &[u8]) -> bool {
        match self.account(username).await {
            Ok(Some(account)) => {
                account.access == *access && account.salted_password == salted_password
            }
            Ok(None) => false,
            Err(e) => {
                tracing::error!(error = ?e, "re-checking a Postgres-wire account");
                false
            }
        }
    }
}
