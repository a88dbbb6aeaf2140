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

/// A duration as operators write it: a whole number with `s`, `m`, `h` or `d` (`90s`, `30m`,
/// `1h`, `7d`); a bare number is seconds.
pub fn parse_duration(name: &str, value: &str) -> anyhow::Result<std::time::Duration> {
    let value = value.trim();
    let (digits, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => value.split_at(i),
        None => (value, "s"),
    };
    let n: u64 = digits
        .parse()
        .with_context(|| format!("{name} {value:?}: expected a number with s, m, h or d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => bail!("{name} {value:?}: unknown unit {other:?} (use s, m, h or d)"),
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(seconds)))
}

/// Lake maintenance from the environment, over ingest's defaults:
/// `ONECLASS_LAKE_MAINTENANCE_INTERVAL` (`0` turns it off), `ONECLASS_LAKE_TIME_TRAVEL`, and
/// for large silver tables `ONECLASS_LAKE_PENDING_ABOVE_ROWS`, `ONECLASS_LAKE_FOLD_ROWS` and
/// `ONECLASS_LAKE_FOLD_IDLE`, and `ONECLASS_INGEST_SNAPSHOT_WORKERS` (see
/// `oneclass_ingest::IngestConfig`).
pub fn lake_maintenance(cfg: &mut oneclass_ingest::IngestConfig) -> anyhow::Result<()> {
    if let Ok(v) = std::env::var("ONECLASS_INGEST_SNAPSHOT_WORKERS") {
        let n = parse_count("ONECLASS_INGEST_SNAPSHOT_WORKERS", &v)?;
        if !(1..=64).contains(&n) {
            bail!("ONECLASS_INGEST_SNAPSHOT_WORKERS must be from 1 to 64, not {n}");
        }
        cfg.snapshot_workers = usize::try_from(n)?;
    }
    if let Ok(v) = std::env::var("ONECLASS_LAKE_PENDING_ABOVE_ROWS") {
        cfg.pending_above_rows = parse_count("ONECLASS_LAKE_PENDING_ABOVE_ROWS", &v)?;
    }
    if let Ok(v) = std::env::var("ONECLASS_LAKE_FOLD_ROWS") {
        cfg.fold_rows = parse_count("ONECLASS_LAKE_FOLD_ROWS", &v)?;
        if cfg.fold_rows == 0 {
            bail!("ONECLASS_LAKE_FOLD_ROWS must be at least 1");
        }
    }
    if let Ok(v) = std::env::var("ONECLASS_LAKE_FOLD_IDLE") {
        cfg.fold_idle = parse_duration("ONECLASS_LAKE_FOLD_IDLE", &v)?;
        if cfg.fold_idle.is_zero() {
            bail!("ONECLASS_LAKE_FOLD_IDLE must be positive");
        }
    }
    if let Ok(v) = std::env::var("ONECLASS_LAKE_MAINTENANCE_INTERVAL") {
        let interval = parse_duration("ONECLASS_LAKE_MAINTENANCE_INTERVAL", &v)?;
        cfg.maintenance_interval = (!interval.is_zero()).then_some(interval);
    }
    if let Ok(v) = std::env::var("ONECLASS_LAKE_TIME_TRAVEL") {
        cfg.time_travel = parse_duration("ONECLASS_LAKE_TIME_TRAVEL", &v)?;
    }
    Ok(())
}

/// A row count as operators write it: digits, `_` allowed as a separator (`2_000_000`).
fn parse_count(name: &str, value: &str) -> anyhow::Result<u64> {
    value
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|e| anyhow::anyhow!("{name} {value:?}: not a row count ({e})"))
}

#[cfg(test)]
mod duration_tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_as_operators_write_them() {
        assert_eq!(parse_duration("X", "90").ok(), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("X", "30m").ok(), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("X", "7d").ok(), Some(Duration::from_secs(7 * 86_400)));
        let err = parse_duration("ONECLASS_LAKE_TIME_TRAVEL", "7 weeks").expect_err("unit");
        assert!(err.to_string().contains("ONECLASS_LAKE_TIME_TRAVEL"), "{err}");
        assert!(parse_duration("X", "h").is_err());
    }

    #[test]
    fn row_counts_as_operators_write_them() {
        assert_eq!(super::parse_count("X", "2_000_000").ok(), Some(2_000_000));
        assert_eq!(super::parse_count("X", " 0 ").ok(), Some(0));
        let err = super::parse_count("ONECLASS_LAKE_FOLD_ROWS", "lots").expect_err("words");
        assert!(err.to_string().contains("ONECLASS_LAKE_FOLD_ROWS"), "{err}");
    }
}
