//! What ingest is told: the CDC role's connection to the source database and every setting of
//! the loop, with their defaults and the checks `run` makes before starting. The replication
//! slot is named after the database (ADR 0004) by [`IngestConfig::new`] itself.

use secrecy::SecretString;
use std::path::PathBuf;
use std::time::Duration;

use oneclass_lake::StorageOptions;

use crate::error::IngestError;

/// The prefix of every per-database slot name (ADR 0004): `oneclass_lake_<database>`.
const SLOT_PREFIX: &str = "oneclass_lake_";

/// The replication slot of `database` (ADR 0004: slots are cluster-wide, so one per database
/// lets several databases share a cluster): `oneclass_lake_<database>`, lowercased, with every
/// character a slot name cannot hold as `_`.
pub fn slot_for_database(database: &str) -> String {
    format!("{SLOT_PREFIX}{database}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect()
}

/// The CDC role's connection. TCP only; authenticates with SCRAM-SHA-256, md5 or cleartext.
#[derive(Clone, Debug)]
pub struct SourceConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Never shown by `Debug` or logs.
    pub password: SecretString,
    pub database: String,
}

impl SourceConfig {
    /// From a `postgres://user:password@host:port/database` URL. Parsed here rather than by
    /// sqlx's `PgConnectOptions` (the platform's parser elsewhere) because the replication
    /// transport needs the password itself, which `PgConnectOptions` does not give back.
    pub fn from_url(url: &str) -> Result<Self, IngestError> {
        let parsed =
            url::Url::parse(url).map_err(|e| IngestError::Config(format!("source URL: {e}")))?;
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let database = parsed.path().trim_start_matches('/');
        Ok(Self {
            host: parsed.host_str().unwrap_or("127.0.0.1").to_string(),
            port: parsed.port().unwrap_or(5432),
            user: decode(parsed.username()),
            password: parsed.password().map(decode).unwrap_or_default().into(),
            database: decode(if database.is_empty() { parsed.username() } else { database }),
        })
    }
}

#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// The CDC role's connection.
    pub source: SourceConfig,
    /// `file:///abs/path` or `s3://bucket/prefix` (credentials from the `AWS_*` environment).
    pub lake: url::Url,
    /// Object store options on top of the environment (`aws_endpoint`, `aws_allow_http`, …).
    pub storage_options: StorageOptions,
    /// `oneclass_lake_<database>`, named by [`IngestConfig::new`] (ADR 0004).
    pub slot: String,
    /// Default `oneclass_lake` (`oneclass_core::db::PUBLICATION`).
    pub publication: String,
    /// A batch is written at the latest this long after its first transaction. Default 500 ms.
    pub flush_interval: Duration,
    /// …or as soon as it holds this many changes (whole transactions only). Default 50 000.
    pub max_batch_changes: usize,
    /// While catching up (the server's WAL is more than 16 MiB ahead of what we have received),
    /// a batch grows up to this many changes instead, and is written when it is that full, when
    /// the stream has reached the server's position, or 5 s after its first transaction: a
    /// silver MERGE has a large fixed cost per batch, so a backlog is drained in
    /// few large batches. Default 150 000 (`max_batch_changes` or less turns it off).
    pub catch_up_batch_changes: usize,
    /// Any batch is written once its decoded changes take about this many bytes. Default
    /// 128 MiB.
    pub max_batch_bytes: usize,
    /// An open transaction holding more than this many changes in memory is spilled to disk
    /// (and so is every later part of it). Default 100 000.
    pub spill_rows: usize,
    /// …or more than about this many bytes of decoded values. Default 64 MiB.
    pub spill_bytes: usize,
    /// Where spill files go (a folder per slot below it). Default: `<lake>/_ingest_spill` for a
    /// `file://` lake, else `oneclass-ingest-spill` in the system temporary folder.
    pub spill_dir: Option<PathBuf>,
    /// How often the WAL our slot retains on the server is read (gauge
    /// `oneclass_ingest_slot_retained_wal_bytes`). Default 10 s.
    pub slot_poll_interval: Duration,
    /// A warning is logged (at most once a minute) while the slot retains more WAL than this.
    /// Default 1 GiB.
    pub retained_wal_warn_bytes: u64,
    /// How often every lake table is compacted and vacuumed, between two batches (so never
    /// racing ingest's own commits); the first pass comes this long after the start. None: never.
    /// Default 1 h.
    pub maintenance_interval: Option<Duration>,
    /// A table is compacted once it holds at least this many files smaller than
    /// `compact_target_bytes`. Default 10.
    pub compact_min_files: usize,
    /// The size compaction packs small files into. Default 64 MiB.
    pub compact_target_bytes: u64,
    /// How far back time travel must keep working: vacuum deletes only files that no version
    /// younger than this reads. From 1 minute to 7 days (Delta's deleted-file retention).
    /// Default 7 days.
    pub time_travel: Duration,
    /// A silver table holding at least this many rows takes its changes into its pending table
    /// (`<table>/_pending`, appended to at each batch; readers see both as one) instead of by a
    /// MERGE, which rewrites every file holding a changed key. Default 1 000 000 (0: always).
    pub pending_above_rows: u64,
    /// The pending changes are folded into the table (one MERGE) once they are this many rows…
    /// Default 2 000 000.
    pub fold_rows: u64,
    /// …once ingest has had nothing to write for this long, and at every maintenance pass:
    /// Delta readers of the table alone then find it current soon after writes stop.
    /// Default 30 s.
    pub fold_idle: Duration,
    /// How much of the stream (bytes of pgoutput messages) a reader task reads and decodes
    /// ahead of the batch being written, so the server keeps sending while the lake is written.
    /// Default 32 MiB (decoded, about three times as much memory).
    pub read_ahead_bytes: usize,
    /// Tables copied at once by the initial snapshot, each on a connection of its own that
    /// imports the same exported snapshot (largest tables first). Default: the machine's cores,
    /// at most 4.
    pub snapshot_workers: usize,
}

impl IngestConfig {
    /// The defaults, with the slot named after `source`'s database (ADR 0004), so that
    /// databases sharing a cluster never take each other's changes.
    pub fn new(source: SourceConfig, lake: url::Url) -> Self {
        Self {
            slot: slot_for_database(&source.database),
            source,
            lake,
            storage_options: StorageOptions::new(),
            publication: oneclass_core::db::PUBLICATION.to_string(),
            flush_interval: Duration::from_millis(500),
            max_batch_changes: 50_000,
            catch_up_batch_changes: 150_000,
            max_batch_bytes: 128 << 20,
            spill_rows: 100_000,
            spill_bytes: 64 << 20,
            spill_dir: None,
            slot_poll_interval: Duration::from_secs(10),
            retained_wal_warn_bytes: 1 << 30,
            maintenance_interval: Some(Duration::from_secs(3600)),
            compact_min_files: 10,
            compact_target_bytes: 64 << 20,
            time_travel: Duration::from_secs(7 * 24 * 3600),
            pending_above_rows: 1_000_000,
            fold_rows: 2_000_000,
            fold_idle: Duration::from_secs(30),
            read_ahead_bytes: 32 << 20,
            snapshot_workers: std::thread::available_parallelism().map_or(2, |n| n.get().min(4)),
        }
    }

    /// The folder of this slot's spill files.
    pub fn spill_root(&self) -> PathBuf {
        let base = self.spill_dir.clone().unwrap_or_else(|| match self.lake.to_file_path() {
            Ok(lake) if self.lake.scheme() == "file" => lake.join("_ingest_spill"),
            _ => std::env::temp_dir().join("oneclass-ingest-spill"),
        });
        base.join(&self.slot)
    }

    pub(crate) fn validate(&self) -> Result<(), IngestError> {
        // Slot names go into replication commands unquoted; PostgreSQL allows only these.
        let slot_ok = !self.slot.is_empty()
            && self.slot.len() <= 63
            && self.slot.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !slot_ok {
            return Err(IngestError::Config(format!(
                "slot name {:?} must be 1-63 characters of a-z, 0-9 and _",
                self.slot
            )));
        }
        if self.publication.is_empty() {
            return Err(IngestError::Config("publication name is empty".into()));
        }
        if self.spill_rows == 0 || self.spill_bytes == 0 {
            return Err(IngestError::Config(
                "spill_rows and spill_bytes must be at least 1".into(),
            ));
        }
        if self.max_batch_changes == 0 || self.max_batch_bytes == 0 {
            return Err(IngestError::Config(
                "max_batch_changes and max_batch_bytes must be at least 1".into(),
            ));
        }
        if self.flush_interval.is_zero() {
            return Err(IngestError::Config("flush_interval must be positive".into()));
        }
        if self.maintenance_interval.is_some_and(|i| i.is_zero()) {
            return Err(IngestError::Config(
                "maintenance_interval must be positive (or None for no maintenance)".into(),
            ));
        }
        // Delta drops a removed file's tombstone from checkpoints after the table's
        // deletedFileRetentionDuration (7 days, which ingest leaves as it is); a full vacuum
        // would then take the file for an orphan, so time travel cannot reach further back.
        // Under a minute, a pass could delete files that queries running now still read.
        if self.time_travel < Duration::from_secs(60)
            || self.time_travel > Duration::from_secs(7 * 24 * 3600)
        {
            return Err(IngestError::Config(format!(
                "time_travel must be between 1 minute and 7 days (Delta's deleted-file retention), not {} s",
                self.time_travel.as_secs()
            )));
        }
        if self.compact_min_files < 2 {
            return Err(IngestError::Config("compact_min_files must be at least 2".into()));
        }
        if self.fold_rows == 0 || self.fold_idle.is_zero() {
            return Err(IngestError::Config("fold_rows and fold_idle must be positive".into()));
        }
        if self.read_ahead_bytes == 0 {
            return Err(IngestError::Config("read_ahead_bytes must be at least 1".into()));
        }
        if self.snapshot_workers == 0 {
            return Err(IngestError::Config("snapshot_workers must be at least 1".into()));
        }
        if self.slot_poll_interval.is_zero() {
            return Err(IngestError::Config("slot_poll_interval must be positive".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn source_from_url_and_redacted_debug() {
        let s = SourceConfig::from_url("postgres://oneclass_cdc:p%40ss@127.0.0.1:5544/oneclass")
            .expect("url");
        assert_eq!(s.user, "oneclass_cdc");
        assert_eq!(s.password.expose_secret(), "p@ss");
        assert_eq!(s.port, 5544);
        assert_eq!(s.database, "oneclass");
        assert!(!format!("{s:?}").contains("p@ss"));
    }

    #[test]
    fn validates_slot_names() {
        let source = SourceConfig::from_url("postgres://u:p@h/d").expect("url");
        let lake = url::Url::parse("file:///tmp/lake").expect("url");
        let mut cfg = IngestConfig::new(source, lake);
        assert!(cfg.validate().is_ok());
        cfg.slot = "bad slot; DROP".into();
        assert!(cfg.validate().is_err());
    }

    #[test]
    fn slot_is_named_after_the_database() {
        let source = SourceConfig::from_url("postgres://u:p@h/OneClass-Staging").expect("url");
        let lake = url::Url::parse("file:///tmp/lake").expect("url");
        let cfg = IngestConfig::new(source, lake);
        assert_eq!(cfg.slot, "oneclass_lake_oneclass_staging");
        assert!(cfg.validate().is_ok());
    }
}
