//! The platform's accounts as the Postgres-wire SQL endpoint signs them in: analysts with a
//! SCRAM secret, not locked out, with the area of their account.

use async_trait::async_trait;
use oneclass_core::types::Role;
use oneclass_warehouse::wire::{Accounts, SCRAM_ITERATIONS, WireAccount};
use oneclass_warehouse::{Access, Area};
use sqlx::PgPool;

pub struct PlatformAccounts {
    pub pool: PgPool,
}

#[async_trait]
impl Accounts for PlatformAccounts {
    async fn wire_account(&self, username: &str) -> Result<Option<WireAccount>, String> {
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
        .map_err(|e| e.to_string())?;
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
