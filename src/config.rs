//! Configuration from the environment (`DATABASE_URL`, `ONECLASS_*`). Secrets are held in
//! types whose Debug output hides them, and are never logged.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, bail};
use oneclass_core::db::RolePasswords;
use url::Url;

#[derive(Clone)]
pub struct Settings {
    /// The owner connection (migrations, seeding, operators).
    pub database_url: String,
    pub passwords: RolePasswords,
    pub jwt_secret: String,
    pub pseudonym_key: String,
    pub lake: Url,
    pub bind: SocketAddr,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("lake", &self.lake)
            .field("bind", &self.bind)
            .finish_non_exhaustive()
    }
}

fn var(name: &str) -> anyhow::Result<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => bail!("{name} is not set: see docs/operator-guide.md for the configuration it needs"),
    }
}

/// A lake location: a URL (`file:///…`, `s3://…`) or a local path.
pub fn lake_url(value: &str) -> anyhow::Result<Url> {
    if value.contains("://") {
        return Url::parse(value).with_context(|| format!("ONECLASS_LAKE {value:?} is not a URL"));
    }
    let path = Path::new(value);
    std::fs::create_dir_all(path).with_context(|| format!("creating the lake folder {value}"))?;
    let abs = path.canonicalize().with_context(|| format!("resolving {value}"))?;
    Url::from_directory_path(&abs)
        .map_err(|_| anyhow::anyhow!("{} is not an absolute path", abs.display()))
}

impl Settings {
    /// Everything from the environment; `DATABASE_URL` and the secrets are required.
    pub fn from_env() -> anyhow::Result<Self> {
        let port: u16 = std::env::var("ONECLASS_PORT")
            .ok()
            .map(|p| p.parse().context("ONECLASS_PORT must be a port number"))
            .transpose()?
            .unwrap_or(8080);
        let bind = std::env::var("ONECLASS_BIND").unwrap_or_else(|_| "127.0.0.1".into());
        Ok(Settings {
            database_url: var("DATABASE_URL")?,
            passwords: RolePasswords {
                app: var("ONECLASS_APP_PASSWORD")?,
                cdc: var("ONECLASS_CDC_PASSWORD")?,
            },
            jwt_secret: {
                let secret = var("ONECLASS_JWT_SECRET")?;
                if secret.len() < 32 {
                    bail!("ONECLASS_JWT_SECRET must be at least 32 characters");
                }
                secret
            },
            pseudonym_key: var("ONECLASS_PSEUDONYM_KEY")?,
            lake: lake_url(&std::env::var("ONECLASS_LAKE").unwrap_or_else(|_| "data/lake".into()))?,
            bind: format!("{bind}:{port}")
                .parse()
                .context("ONECLASS_BIND must be an IP address")?,
        })
    }
}
