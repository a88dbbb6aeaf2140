//! Change data capture from PostgreSQL into the Delta Lake: logical replication (pgoutput over
//! the streaming replication protocol) into `bronze` (the changelog) and `silver` (current
//! state), exactly once.
//!
//! How it holds together:
//! - On first start the replication slot is created with an exported snapshot; every published
//!   table is copied under that snapshot, then changes stream from the slot's consistent point.
//! - Whole transactions are buffered, batched, appended to bronze and merged into silver. Every
//!   Delta commit carries the application transaction `oneclass-ingest` = the source commit LSN
//!   of the batch, and the slot is acknowledged only after all of a batch's commits are durable.
//! - On restart each table's recorded LSN says what it already holds; transactions at or below
//!   it are skipped for that table, so a crash between two commits neither loses nor repeats
//!   a change.
//!
//! How it is laid out (each module imports only from those below it):
//! - the loop (`pipeline`) and its stages (`stage`: snapshot copy, apply, spilled
//!   transactions, maintenance), which speak to the lake only through `destination`;
//! - the Delta lake destination (`lake`) and the source side (`source`: replication transport,
//!   pgoutput decoder, SQL), with `monitor` and `reconcile` beside them;
//! - the spill files (`spill`), the COPY text parser (`copy_text`) and the Arrow encoding
//!   (`encode`);
//! - at the bottom the change model (`change`), table shapes (`table`), value parsing
//!   (`values`), `config`, `metrics`, `lsn` and `error`.

mod change;
mod config;
mod copy_text;
mod destination;
mod encode;
mod error;
mod lake;
mod lsn;
mod metrics;
mod monitor;
mod pipeline;
mod reconcile;
mod source;
mod spill;
mod stage;
mod table;
mod values;

use tokio_util::sync::CancellationToken;

pub use crate::config::{IngestConfig, SourceConfig, slot_for_database};
pub use crate::error::IngestError;
pub use crate::lake::delta::{APP_ID, BRONZE, Maintained, SILVER, lake_table_url};
pub use crate::lsn::Lsn;
pub use crate::metrics::{
    METRIC_CHANGES, METRIC_COMPACTED_FILES, METRIC_FOLD_SECONDS, METRIC_FOLDED_ROWS,
    METRIC_LAG_BYTES, METRIC_LAG_SECONDS, METRIC_LAST_APPLIED_LSN, METRIC_MAINTENANCE_SECONDS,
    METRIC_SLOT_RETAINED_WAL_BYTES, METRIC_SPILLED, METRIC_STOPPED_TABLES, METRIC_VACUUMED_FILES,
    METRIC_VALUE_ERRORS,
};
pub use crate::monitor::{WARN_EVERY, lag_bytes, should_warn_retained};
pub use crate::reconcile::{TableReport, format_reports, reconcile};
pub use crate::spill::{SpillStats, spill_stats};
pub use crate::table::{COMMIT_DATE, COMMIT_TS, LSN, OP, SEQ};
pub use oneclass_lake::StorageOptions;

/// Runs until `shutdown` is cancelled (then finishes the batch in hand, acknowledges, returns Ok)
/// or a fatal error. Safe to call again after any crash: resumes exactly once.
pub async fn run(cfg: IngestConfig, shutdown: CancellationToken) -> Result<(), IngestError> {
    cfg.validate()?;
    let lake = lake::DeltaDestination::new(&cfg)?;
    let progress = std::sync::Arc::new(monitor::Progress::default());
    let stop_monitor = shutdown.child_token();
    let monitor = tokio::spawn(monitor::run(cfg.clone(), progress.clone(), stop_monitor.clone()));
    let result = pipeline::Pipeline::new(cfg, lake, shutdown, progress).run().await;
    stop_monitor.cancel();
    let _ = monitor.await;
    result
}

/// The source commit LSN recorded in a lake table (`layer` is [`BRONZE`] or [`SILVER`]): every
/// transaction committed at or below it is in the table. None when the table does not exist or
/// records none yet (its snapshot is unfinished). Read-only.
pub async fn recorded_lsn(
    lake: &url::Url,
    options: &StorageOptions,
    layer: &str,
    schema: &str,
    table: &str,
) -> Result<Option<i64>, IngestError> {
    let url = lake_table_url(lake, layer, schema, table);
    let Ok(t) = oneclass_lake::open_table(&url, options).await else {
        return Ok(None);
    };
    let Ok(state) = t.snapshot() else {
        return Ok(None);
    };
    state
        .transaction_version(t.log_store().as_ref(), APP_ID)
        .await
        .map_err(IngestError::delta(&url))
}

/// The source commit LSN silver `<schema>.<table>` holds every change up to: the newer of what
/// its table and its pending changes record (see [`recorded_lsn`]).
pub async fn silver_lsn(
    lake: &url::Url,
    options: &StorageOptions,
    schema: &str,
    table: &str,
) -> Result<Option<i64>, IngestError> {
    let base = recorded_lsn(lake, options, SILVER, schema, table).await?;
    let url = lake_table_url(lake, SILVER, schema, table);
    let pending = match oneclass_lake::open_pending(&url, options).await {
        Ok(Some(t)) => {
            oneclass_lake::silver::recorded_version(&t).await.map_err(IngestError::delta(&url))?
        }
        Ok(None) | Err(_) => None,
    };
    Ok(base.max(pending))
}

/// Folds the pending changes of silver `<schema>.<table>` into its table now (see
/// `docs/adr/0009`); returns how many pending rows were folded in. Only while ingest is stopped:
/// ingest is the single writer of the lake.
pub async fn fold_silver(
    cfg: &IngestConfig,
    schema: &str,
    table: &str,
) -> Result<u64, IngestError> {
    let lake = lake::delta::Lake::new(&cfg.lake, &cfg.storage_options)?;
    let name = table::TableName { schema: schema.to_owned(), name: table.to_owned() };
    let policy = lake::silver::PendingPolicy {
        above_rows: cfg.pending_above_rows,
        fold_rows: cfg.fold_rows,
    };
    let mut silver = lake::silver::Silver::open(&lake, &name, policy).await?;
    silver.fold().await
}
