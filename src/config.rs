//! Settings: typed and layered (defaults, then an optional TOML file, then the environment), and
//! documented in one place: [`RawSettings`], whose fields are the settings' names. Secrets are
//! `secrecy` types, so `Debug`, logs and error messages never show them.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use oneclass_core::db::RolePasswords;
use oneclass_warehouse::{G7_AGGREGATES, GoldSettings};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

/// The settings file read when `ONECLASS_CONFIG` names none (skipped when absent).
pub const DEFAULT_FILE: &str = "oneclass.toml";

/// Every setting. In the TOML file a setting is its field name (`jwt_secret = "…"`); in the
/// environment it is `ONECLASS_` and the name in capitals (`ONECLASS_JWT_SECRET`), except
/// `DATABASE_URL`. The environment wins over the file, the file over the defaults. Durations are
/// written `90s`, `30m`, `1h`, `7d` (a bare number is seconds); row counts may use `_`
/// (`2_000_000`). Secrets belong in the environment or a file only the service can read.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSettings {
    /// The owner connection (migrations, seeding, operators): `postgres://owner:…@host:port/db`.
    /// Environment: `DATABASE_URL`. Secret (it holds the owner's password).
    #[serde(serialize_with = "redacted")]
    pub database_url: Option<SecretString>,
    /// Password of the API's role `oneclass_app` (set by `oneclass migrate`). Secret.
    #[serde(serialize_with = "redacted")]
    pub app_password: Option<SecretString>,
    /// Password of the change-data-capture role `oneclass_cdc` (set by `oneclass migrate`). Secret.
    #[serde(serialize_with = "redacted")]
    pub cdc_password: Option<SecretString>,
    /// Key that signs sign-in tokens (HS256), at least 32 characters. Secret.
    #[serde(serialize_with = "redacted")]
    pub jwt_secret: Option<SecretString>,
    /// Key of the analysts' learner pseudonyms: changing it changes every pseudonym. Secret.
    #[serde(serialize_with = "redacted")]
    pub pseudonym_key: Option<SecretString>,
    /// The lake: a folder, `file:///abs/path` or `s3://bucket/prefix` (credentials from the
    /// `AWS_*` environment). Default `data/lake`.
    pub lake: Option<String>,
    /// Address the HTTP server listens on. Default `127.0.0.1`.
    pub bind: Option<IpAddr>,
    /// HTTP port (API, pages and dashboards). Default 8080.
    pub port: Option<u16>,
    /// Connections that copy the initial snapshot in parallel, 1 to 64. Default: the machine's
    /// cores, at most 4.
    pub ingest_snapshot_workers: Option<u64>,
    /// Silver tables holding at least this many rows take changes into a pending table, folded
    /// in later (ADR 0009). Default 1_000_000.
    #[serde(deserialize_with = "count")]
    pub lake_pending_above_rows: Option<u64>,
    /// Pending rows at which a table's pending changes are folded in. Default 2_000_000.
    #[serde(deserialize_with = "count")]
    pub lake_fold_rows: Option<u64>,
    /// Pending changes are folded in once ingest has been idle this long. Default 30s.
    #[serde(deserialize_with = "duration", serialize_with = "humane")]
    pub lake_fold_idle: Option<Duration>,
    /// How often lake tables are compacted and vacuumed; `0` turns it off. Default 1h.
    #[serde(deserialize_with = "duration", serialize_with = "humane")]
    pub lake_maintenance_interval: Option<Duration>,
    /// How far back time travel reaches (vacuum keeps the files it needs), 1m to 7d.
    /// Default 7d.
    #[serde(deserialize_with = "duration", serialize_with = "humane")]
    pub lake_time_travel: Option<Duration>,
    /// How long one query of the warehouse (an analyst's SQL, a dashboard's) may run, 1s to 1h.
    /// Default 30s.
    #[serde(deserialize_with = "duration", serialize_with = "humane")]
    pub sql_time_limit: Option<Duration>,
    /// Memory the warehouse's queries share, in bytes, at least 16 MiB (`16_777_216`); a query
    /// that needs more and cannot spill stops with a clear error. Default 536_870_912 (512 MiB).
    #[serde(deserialize_with = "count")]
    pub sql_memory_limit: Option<u64>,
    /// How often the running system rebuilds the gold indicators from the lake; `0` turns it
    /// off (`oneclass gold rebuild` still works). Default 15m.
    #[serde(deserialize_with = "duration", serialize_with = "humane")]
    pub gold_interval: Option<Duration>,
    /// The highest Grade 7 aggregate (units of the best four subjects, 4 to 36) that counts as
    /// a pass in G7_PASS_RATE. Default 24.
    pub g7_pass_aggregate: Option<u32>,
    /// Port of the Postgres-wire SQL endpoint (psql, BI tools) on the HTTP bind address; `0` for
    /// any free port. Unset: no endpoint (the demo opens it on the HTTP port + 1).
    pub sql_port: Option<u16>,
    /// TLS for the Postgres-wire endpoint: a PEM certificate chain file, with `sql_tls_key`.
    pub sql_tls_cert: Option<PathBuf>,
    /// The PEM private key of `sql_tls_cert`.
    pub sql_tls_key: Option<PathBuf>,
    /// Sign-ins a minute the Postgres-wire endpoint accepts from one address (every connection
    /// signs in; wrong passwords also lock the account, as over HTTP). Default 600.
    pub sql_sign_ins_per_minute: Option<u32>,
    /// Paynow's base URL (`https://www.paynow.co.zw/`); with the integration's id and key, fee
    /// payments through Paynow are offered. Unset: they are not.
    pub paynow_url: Option<String>,
    /// The Paynow integration's id.
    pub paynow_integration_id: Option<String>,
    /// The Paynow integration's key, which signs every form both ways. Secret.
    #[serde(serialize_with = "redacted")]
    pub paynow_integration_key: Option<SecretString>,
    /// The SMS (and email) provider's HTTP endpoint: each queued message is `POST`ed to it as JSON
    /// with its id as `Idempotency-Key`. Unset: messages are recorded as sent, nothing leaves
    /// the machine.
    pub sms_gateway_url: Option<String>,
    /// The token the SMS provider sends (as a bearer token) with its delivery reports to
    /// `POST /api/v1/sms/delivery-reports`. Unset: reports are not taken. Secret.
    #[serde(serialize_with = "redacted")]
    pub sms_report_token: Option<SecretString>,
    /// The URL where Paynow (and payers' browsers) reach this server, for Paynow's status
    /// updates and the return after paying. Default: the address the request came in by.
    pub public_url: Option<String>,
    /// Log lines as `text` (default) or `json`. Read by logging at start-up, from the
    /// environment only (`ONECLASS_LOG_FORMAT`); the log level is `RUST_LOG`.
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The settings' names, in the order of [`RawSettings`]: each is read from the environment as
/// `ONECLASS_<NAME>` (a test checks this list against the struct).
pub const NAMES: [&str; 29] = [
    "database_url",
    "app_password",
    "cdc_password",
    "jwt_secret",
    "pseudonym_key",
    "lake",
    "bind",
    "port",
    "ingest_snapshot_workers",
    "lake_pending_above_rows",
    "lake_fold_rows",
    "lake_fold_idle",
    "lake_maintenance_interval",
    "lake_time_travel",
    "sql_time_limit",
    "sql_memory_limit",
    "gold_interval",
    "g7_pass_aggregate",
    "sql_port",
    "sql_tls_cert",
    "sql_tls_key",
    "sql_sign_ins_per_minute",
    "paynow_url",
    "paynow_integration_id",
    "paynow_integration_key",
    "public_url",
    "sms_gateway_url",
    "sms_report_token",
    "log_format",
];

fn redacted<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().map(|_| "<redacted>").serialize(s)
}

fn humane<S: serde::Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    v.map(|d| humantime::format_duration(d).to_string()).serialize(s)
}

/// A TOML integer or a string of digits (the environment's form), `_` allowed.
#[derive(Deserialize)]
#[serde(untagged)]
enum CountOrText {
    Count(u64),
    Text(String),
}

fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<CountOrText>::deserialize(d)? {
        None => Ok(None),
        Some(CountOrText::Count(n)) => Ok(Some(n)),
        Some(CountOrText::Text(t)) => parse_count(&t).map(Some).map_err(serde::de::Error::custom),
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    match Option::<CountOrText>::deserialize(d)? {
        None => Ok(None),
        Some(CountOrText::Count(n)) => Ok(Some(Duration::from_secs(n))),
        Some(CountOrText::Text(t)) => {
            parse_duration(&t).map(Some).map_err(serde::de::Error::custom)
        }
    }
}

/// A duration as operators write it: `90s`, `30m`, `1h`, `7d` (humantime's units), or a bare
/// number of seconds.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().map(Duration::from_secs).map_err(|e| format!("{value:?}: {e}"));
    }
    humantime::parse_duration(value)
        .map_err(|e| format!("{value:?} is not a duration ({e}); write e.g. 90s, 30m, 1h or 7d"))
}

/// A row count as operators write it: digits, `_` allowed as a separator (`2_000_000`).
fn parse_count(value: &str) -> Result<u64, String> {
    value.trim().replace('_', "").parse().map_err(|e| format!("{value:?} is not a row count ({e})"))
}

impl RawSettings {
    /// Defaults, then the file `ONECLASS_CONFIG` names (or `oneclass.toml` when it exists), then
    /// the environment.
    pub fn load() -> anyhow::Result<Self> {
        let named = std::env::var_os("ONECLASS_CONFIG").map(PathBuf::from);
        let file = match named {
            Some(path) => Some(path),
            None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.exists()),
        };
        Self::load_from(file.as_deref(), |name| std::env::var(name).ok())
    }

    /// [`RawSettings::load`] with the file and the environment given (tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            builder = builder.add_source(
                config::File::from(path).format(config::FileFormat::Toml).required(true),
            );
        }
        for name in NAMES {
            let var = if name == "database_url" {
                "DATABASE_URL".to_string()
            } else {
                format!("ONECLASS_{}", name.to_ascii_uppercase())
            };
            // An empty variable counts as unset, as shells make unsetting awkward.
            if let Some(value) = env(&var).filter(|v| !v.is_empty()) {
                builder = builder.set_override(name, value).context("settings")?;
            }
        }
        let merged = builder.build().map_err(|e| anyhow::anyhow!("reading settings: {e}"))?;
        merged.try_deserialize().map_err(|e| match file {
            Some(path) => anyhow::anyhow!("settings ({} and the environment): {e}", path.display()),
            None => anyhow::anyhow!("settings (environment): {e}"),
        })
    }

    fn required(value: &Option<SecretString>, name: &str) -> anyhow::Result<SecretString> {
        match value {
            Some(v) => Ok(v.clone()),
            None => {
                bail!("{} is not set: see docs/operator-guide.md, Configuration", env_name(name))
            }
        }
    }

    pub fn database_url(&self) -> anyhow::Result<SecretString> {
        Self::required(&self.database_url, "database_url")
    }

    pub fn passwords(&self) -> anyhow::Result<RolePasswords> {
        Ok(RolePasswords {
            app: Self::required(&self.app_password, "app_password")?,
            cdc: Self::required(&self.cdc_password, "cdc_password")?,
        })
    }

    /// Ingest's tuning, checked.
    pub fn ingest(&self) -> anyhow::Result<IngestSettings> {
        let snapshot_workers = match self.ingest_snapshot_workers {
            Some(n) if !(1..=64).contains(&n) => {
                bail!("ONECLASS_INGEST_SNAPSHOT_WORKERS must be from 1 to 64, not {n}")
            }
            n => n.map(usize::try_from).transpose()?,
        };
        if self.lake_fold_rows == Some(0) {
            bail!("ONECLASS_LAKE_FOLD_ROWS must be at least 1");
        }
        if self.lake_fold_idle.is_some_and(|d| d.is_zero()) {
            bail!("ONECLASS_LAKE_FOLD_IDLE must be positive");
        }
        Ok(IngestSettings {
            snapshot_workers,
            pending_above_rows: self.lake_pending_above_rows,
            fold_rows: self.lake_fold_rows,
            fold_idle: self.lake_fold_idle,
            maintenance_interval: self.lake_maintenance_interval,
            time_travel: self.lake_time_travel,
        })
    }

    /// `ONECLASS_GOLD_INTERVAL`, with `0` as off.
    pub fn gold_interval(&self) -> Option<Duration> {
        let every = self.gold_interval.unwrap_or(GOLD_INTERVAL);
        (!every.is_zero()).then_some(every)
    }

    /// How gold counts what a deployment chooses, checked.
    pub fn gold(&self) -> anyhow::Result<GoldSettings> {
        let mut gold = GoldSettings::default();
        if let Some(n) = self.g7_pass_aggregate {
            if !G7_AGGREGATES.contains(&n) {
                bail!(
                    "ONECLASS_G7_PASS_AGGREGATE must be from {} to {} (the units of four subjects), not {n}",
                    G7_AGGREGATES.start(),
                    G7_AGGREGATES.end()
                );
            }
            gold.g7_pass_aggregate = n;
        }
        Ok(gold)
    }

    /// The warehouse's limits, checked.
    pub fn sql(&self) -> anyhow::Result<SqlSettings> {
        if let Some(d) = self.sql_time_limit
            && !(Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&d)
        {
            bail!(
                "ONECLASS_SQL_TIME_LIMIT must be from 1s to 1h, not {}",
                humantime::format_duration(d)
            );
        }
        if let Some(n) = self.sql_memory_limit
            && n < 16 << 20
        {
            bail!("ONECLASS_SQL_MEMORY_LIMIT must be at least 16_777_216 bytes (16 MiB), not {n}");
        }
        Ok(SqlSettings { time_limit: self.sql_time_limit, memory_bytes: self.sql_memory_limit })
    }

    /// The Postgres-wire endpoint, when `ONECLASS_SQL_PORT` is set; `default_port` when not.
    pub fn sql_wire(&self, default_port: Option<u16>) -> anyhow::Result<Option<WireSettings>> {
        let tls = match (&self.sql_tls_cert, &self.sql_tls_key) {
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            (None, None) => None,
            _ => bail!("ONECLASS_SQL_TLS_CERT and ONECLASS_SQL_TLS_KEY must be set together"),
        };
        let sign_ins_per_minute = self.sql_sign_ins_per_minute.unwrap_or(SQL_SIGN_INS_PER_MINUTE);
        if sign_ins_per_minute == 0 {
            bail!("ONECLASS_SQL_SIGN_INS_PER_MINUTE must be at least 1");
        }
        Ok(self.sql_port.or(default_port).map(|port| WireSettings {
            port,
            tls,
            sign_ins_per_minute,
        }))
    }

    /// Paynow, when its URL, integration id and key are all set (some but not all is an error).
    pub fn paynow(&self) -> anyhow::Result<Option<PaynowSettings>> {
        let public_url = match &self.public_url {
            Some(u) => Some(
                Url::parse(u).with_context(|| format!("ONECLASS_PUBLIC_URL {u:?} is not a URL"))?,
            ),
            None => None,
        };
        match (&self.paynow_url, &self.paynow_integration_id, &self.paynow_integration_key) {
            (None, None, None) => Ok(None),
            (Some(url), Some(id), Some(key)) => Ok(Some(PaynowSettings {
                url: Url::parse(url)
                    .with_context(|| format!("ONECLASS_PAYNOW_URL {url:?} is not a URL"))?,
                integration_id: id.clone(),
                integration_key: key.clone(),
                public_url,
            })),
            _ => bail!(
                "ONECLASS_PAYNOW_URL, ONECLASS_PAYNOW_INTEGRATION_ID and \
                 ONECLASS_PAYNOW_INTEGRATION_KEY must be set together"
            ),
        }
    }

    /// The SMS gateway's URL, checked.
    pub fn sms_gateway(&self) -> anyhow::Result<Option<Url>> {
        self.sms_gateway_url
            .as_deref()
            .map(|u| {
                Url::parse(u)
                    .with_context(|| format!("ONECLASS_SMS_GATEWAY_URL {u:?} is not a URL"))
            })
            .transpose()
    }

    /// The lake's URL (a folder is created and made absolute).
    pub fn lake_url(&self) -> anyhow::Result<Url> {
        lake_url(self.lake.as_deref().unwrap_or("data/lake"))
    }
}

fn env_name(name: &str) -> String {
    if name == "database_url" {
        "DATABASE_URL".into()
    } else {
        format!("ONECLASS_{}", name.to_ascii_uppercase())
    }
}

/// Ingest's settings over its defaults (see `oneclass_ingest::IngestConfig`); `None` keeps the
/// default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestSettings {
    pub snapshot_workers: Option<usize>,
    pub pending_above_rows: Option<u64>,
    pub fold_rows: Option<u64>,
    pub fold_idle: Option<Duration>,
    /// `Some(0)` turns maintenance off.
    pub maintenance_interval: Option<Duration>,
    pub time_travel: Option<Duration>,
}

impl IngestSettings {
    pub fn apply(&self, cfg: &mut oneclass_ingest::IngestConfig) {
        if let Some(n) = self.snapshot_workers {
            cfg.snapshot_workers = n;
        }
        if let Some(n) = self.pending_above_rows {
            cfg.pending_above_rows = n;
        }
        if let Some(n) = self.fold_rows {
            cfg.fold_rows = n;
        }
        if let Some(d) = self.fold_idle {
            cfg.fold_idle = d;
        }
        if let Some(d) = self.maintenance_interval {
            cfg.maintenance_interval = (!d.is_zero()).then_some(d);
        }
        if let Some(d) = self.time_travel {
            cfg.time_travel = d;
        }
    }
}

/// The warehouse's limits over its defaults (`oneclass_warehouse::Limits`); `None` keeps the
/// default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SqlSettings {
    pub time_limit: Option<Duration>,
    pub memory_bytes: Option<u64>,
}

impl SqlSettings {
    pub fn limits(&self) -> oneclass_warehouse::Limits {
        let mut limits = oneclass_warehouse::Limits::default();
        if let Some(d) = self.time_limit {
            limits.timeout = d;
        }
        if let Some(n) = self.memory_bytes {
            limits.memory_bytes = usize::try_from(n).unwrap_or(usize::MAX);
        }
        limits
    }
}

/// The Postgres-wire SQL endpoint: its port, TLS as (certificate, key) PEM files, and the
/// sign-ins a minute it accepts from one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireSettings {
    pub port: u16,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub sign_ins_per_minute: u32,
}

/// Paynow: where it is, the integration, and where it reaches us.
#[derive(Debug, Clone)]
pub struct PaynowSettings {
    pub url: Url,
    pub integration_id: String,
    pub integration_key: SecretString,
    pub public_url: Option<Url>,
}

/// The default of `ONECLASS_SQL_SIGN_INS_PER_MINUTE`.
pub const SQL_SIGN_INS_PER_MINUTE: u32 = 600;

/// What the server runs with: every required setting present and checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The owner connection (migrations, seeding, operators).
    pub database_url: SecretString,
    pub passwords: RolePasswords,
    pub jwt_secret: SecretString,
    pub pseudonym_key: SecretString,
    pub lake: Url,
    pub bind: SocketAddr,
    pub ingest: IngestSettings,
    pub sql: SqlSettings,
    /// How often gold is rebuilt while the system runs with ingest; None: never.
    pub gold_interval: Option<Duration>,
    /// How gold counts what a deployment chooses.
    pub gold: GoldSettings,
    /// The Postgres-wire SQL endpoint; None: not served.
    pub sql_wire: Option<WireSettings>,
    /// Paynow; None: fee payments through Paynow are not offered.
    pub paynow: Option<PaynowSettings>,
    /// Where queued messages are sent; None: the local gateway records them.
    pub sms_gateway: Option<Url>,
    /// The token of the SMS provider's delivery reports; None: reports are not taken.
    pub sms_report_token: Option<SecretString>,
}

/// The default of `ONECLASS_GOLD_INTERVAL`.
pub const GOLD_INTERVAL: Duration = Duration::from_secs(15 * 60);

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
    /// Defaults, file and environment (see [`RawSettings::load`]); the database URL, the role
    /// passwords and both keys are required.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_raw(&RawSettings::load()?)
    }

    pub fn from_raw(raw: &RawSettings) -> anyhow::Result<Self> {
        let jwt_secret = RawSettings::required(&raw.jwt_secret, "jwt_secret")?;
        if jwt_secret.expose_secret().chars().count() < 32 {
            bail!("ONECLASS_JWT_SECRET must be at least 32 characters");
        }
        let ip = raw.bind.unwrap_or(IpAddr::from([127, 0, 0, 1]));
        Ok(Settings {
            database_url: raw.database_url()?,
            passwords: raw.passwords()?,
            jwt_secret,
            pseudonym_key: RawSettings::required(&raw.pseudonym_key, "pseudonym_key")?,
            lake: raw.lake_url()?,
            bind: SocketAddr::new(ip, raw.port.unwrap_or(8080)),
            ingest: raw.ingest()?,
            sql: raw.sql()?,
            gold_interval: raw.gold_interval(),
            gold: raw.gold()?,
            sql_wire: raw.sql_wire(None)?,
            paynow: raw.paynow()?,
            sms_gateway: raw.sms_gateway()?,
            sms_report_token: raw.sms_report_token.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRETS: [&str; 7] = [
        "owner-password-zq81",
        "app-password-zq82",
        "cdc-password-zq83",
        "jwt-secret-zq84-of-at-least-thirty-two-chars",
        "pseudonym-key-zq85",
        "sms-report-token-zq86",
        "zq8",
    ];

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    fn full_env(lake: &Path) -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", format!("postgres://owner:{}@db.example:5433/school", SECRETS[0])),
            ("ONECLASS_APP_PASSWORD", SECRETS[1].into()),
            ("ONECLASS_CDC_PASSWORD", SECRETS[2].into()),
            ("ONECLASS_JWT_SECRET", SECRETS[3].into()),
            ("ONECLASS_PSEUDONYM_KEY", SECRETS[4].into()),
            ("ONECLASS_SMS_REPORT_TOKEN", SECRETS[5].into()),
            ("ONECLASS_LAKE", lake.display().to_string()),
            ("ONECLASS_PORT", "9090".into()),
        ]
    }

    fn load(vars: &[(&'static str, String)], file: Option<&Path>) -> anyhow::Result<RawSettings> {
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        RawSettings::load_from(file, env(&pairs))
    }

    #[test]
    fn debug_shows_no_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        let raw = load(&full_env(dir.path()), None).expect("settings");
        let settings = Settings::from_raw(&raw).expect("valid");
        let printed = format!("{settings:?} {settings:#?} {raw:?} {:?}", settings.passwords);
        for secret in SECRETS {
            assert!(!printed.contains(secret), "{secret} shown in {printed}");
        }
        // The rest is there, so the redaction is not the whole output vanishing.
        assert!(printed.contains("9090") && printed.contains("lake"), "{printed}");
        let shown = serde_json::to_string(&raw).expect("serialise");
        for secret in SECRETS {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert!(shown.contains("redacted"), "{shown}");
    }

    #[test]
    fn layers_defaults_file_then_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("oneclass.toml");
        std::fs::write(
            &file,
            "port = 7000\nbind = \"0.0.0.0\"\nlake_fold_idle = \"2m\"\nlake_fold_rows = 5_000\n",
        )
        .expect("write");
        let mut vars = full_env(dir.path());
        vars.retain(|(k, _)| *k != "ONECLASS_PORT");
        let from_file = Settings::from_raw(&load(&vars, Some(&file)).expect("load")).expect("ok");
        assert_eq!(from_file.bind, "0.0.0.0:7000".parse().expect("addr"));
        assert_eq!(from_file.ingest.fold_idle, Some(Duration::from_secs(120)));
        assert_eq!(from_file.ingest.fold_rows, Some(5_000));
        assert_eq!(from_file.ingest.time_travel, None, "defaults stay with ingest");

        vars.push(("ONECLASS_PORT", "7001".into()));
        vars.push(("ONECLASS_LAKE_FOLD_IDLE", "45".into()));
        vars.push(("ONECLASS_LAKE_PENDING_ABOVE_ROWS", "2_000_000".into()));
        let env_wins = Settings::from_raw(&load(&vars, Some(&file)).expect("load")).expect("ok");
        assert_eq!(env_wins.bind.port(), 7001);
        assert_eq!(env_wins.ingest.fold_idle, Some(Duration::from_secs(45)));
        assert_eq!(env_wins.ingest.pending_above_rows, Some(2_000_000));

        let none = load(&[], None).expect("empty");
        assert!(Settings::from_raw(&none).is_err(), "secrets are required");
        let defaults = RawSettings { ..none };
        assert_eq!(defaults.port, None);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut vars = full_env(dir.path());
        vars.push(("ONECLASS_LAKE_TIME_TRAVEL", "7 fortnights".into()));
        let err = load(&vars, None).expect_err("bad duration").to_string();
        assert!(err.contains("lake_time_travel") && err.contains("fortnights"), "{err}");

        let mut vars = full_env(dir.path());
        vars.push(("ONECLASS_PORT", "eighty".into()));
        let err = load(&vars, None).expect_err("bad port").to_string();
        assert!(err.contains("port"), "{err}");

        let mut vars = full_env(dir.path());
        vars.retain(|(k, _)| *k != "ONECLASS_JWT_SECRET");
        vars.push(("ONECLASS_JWT_SECRET", "short".into()));
        let err = Settings::from_raw(&load(&vars, None).expect("load")).expect_err("short");
        assert!(err.to_string().contains("at least 32"), "{err}");

        let file = dir.path().join("typo.toml");
        std::fs::write(&file, "jwt_secert = \"x\"\n").expect("write");
        let err = load(&full_env(dir.path()), Some(&file)).expect_err("typo").to_string();
        assert!(err.contains("jwt_secert"), "{err}");

        let mut vars = full_env(dir.path());
        vars.push(("ONECLASS_INGEST_SNAPSHOT_WORKERS", "0".into()));
        let raw = load(&vars, None).expect("load");
        assert!(Settings::from_raw(&raw).expect_err("0 workers").to_string().contains("1 to 64"));
    }

    #[test]
    fn names_match_the_settings() {
        // Every name is a field (deny_unknown_fields refuses others) …
        for name in NAMES {
            let one = serde_json::json!({ name: "1" });
            if let Err(e) = serde_json::from_value::<RawSettings>(one) {
                assert!(!e.to_string().contains("unknown field"), "{name}: {e}");
            }
        }
        let typo = serde_json::from_value::<RawSettings>(serde_json::json!({ "prot": "1" }));
        assert!(typo.is_err_and(|e| e.to_string().contains("unknown field")));
        // … and every field has a name.
        let fields = serde_json::to_value(RawSettings {
            database_url: Some("x".into()),
            app_password: Some("x".into()),
            cdc_password: Some("x".into()),
            jwt_secret: Some("x".into()),
            pseudonym_key: Some("x".into()),
            lake: Some("x".into()),
            bind: Some(IpAddr::from([127, 0, 0, 1])),
            port: Some(1),
            ingest_snapshot_workers: Some(1),
            lake_pending_above_rows: Some(1),
            lake_fold_rows: Some(1),
            lake_fold_idle: Some(Duration::from_secs(1)),
            lake_maintenance_interval: Some(Duration::from_secs(1)),
            lake_time_travel: Some(Duration::from_secs(1)),
            sql_time_limit: Some(Duration::from_secs(1)),
            sql_memory_limit: Some(1),
            gold_interval: Some(Duration::from_secs(1)),
            g7_pass_aggregate: Some(1),
            sql_port: Some(1),
            sql_tls_cert: Some("x".into()),
            sql_tls_key: Some("x".into()),
            sql_sign_ins_per_minute: Some(1),
            paynow_url: Some("x".into()),
            paynow_integration_id: Some("x".into()),
            paynow_integration_key: Some("x".into()),
            public_url: Some("x".into()),
            sms_gateway_url: Some("x".into()),
            sms_report_token: Some("x".into()),
            log_format: Some(LogFormat::Json),
        })
        .expect("serialise");
        let names: Vec<&str> =
            fields.as_object().expect("object").keys().map(String::as_str).collect();
        for name in &names {
            assert!(NAMES.contains(name), "{name} is not in NAMES");
        }
        assert_eq!(names.len(), NAMES.len());
    }

    #[test]
    fn every_setting_is_in_the_operator_guide() {
        let guide = include_str!("../docs/operator-guide.md");
        for name in NAMES {
            let var = env_name(name);
            assert!(guide.contains(&format!("`{var}`")), "{var} missing from the operator guide");
        }
    }

    #[test]
    fn durations_and_counts_as_operators_write_them() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(parse_count("2_000_000"), Ok(2_000_000));
        assert!(parse_count("lots").is_err());
    }

    #[test]
    fn sql_limits_are_checked_and_reach_the_warehouse() {
        let raw = |time: &str, memory: &str| {
            serde_json::from_value::<RawSettings>(serde_json::json!({
                "sql_time_limit": time, "sql_memory_limit": memory
            }))
            .expect("parses")
        };
        let limits = raw("90s", "64_000_000").sql().expect("valid").limits();
        assert_eq!(limits.timeout, Duration::from_secs(90));
        assert_eq!(limits.memory_bytes, 64_000_000);
        let defaults = RawSettings::default().sql().expect("defaults").limits();
        assert_eq!(defaults, oneclass_warehouse::Limits::default());
        let err = raw("0s", "64_000_000").sql().expect_err("zero").to_string();
        assert!(err.contains("ONECLASS_SQL_TIME_LIMIT"), "{err}");
        let err = raw("2h", "64_000_000").sql().expect_err("too long").to_string();
        assert!(err.contains("1s to 1h"), "{err}");
        let err = raw("30s", "1000").sql().expect_err("too small").to_string();
        assert!(err.contains("ONECLASS_SQL_MEMORY_LIMIT"), "{err}");
    }

    #[test]
    fn the_g7_pass_threshold_is_an_aggregate_of_four_subjects() {
        let raw = |n: u32| {
            serde_json::from_value::<RawSettings>(serde_json::json!({ "g7_pass_aggregate": n }))
                .expect("parses")
        };
        assert_eq!(raw(12).gold().expect("valid").g7_pass_aggregate, 12);
        assert_eq!(RawSettings::default().gold().expect("default"), GoldSettings::default());
        for n in [3, 37] {
            let err = raw(n).gold().expect_err("out of range").to_string();
            assert!(err.contains("ONECLASS_G7_PASS_AGGREGATE must be from 4 to 36"), "{err}");
        }
    }
}
