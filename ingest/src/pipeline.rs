//! The CDC loop: prepare the slot and the initial snapshot, then stream pgoutput, buffer whole
//! transactions, write each batch to bronze (append) and silver (merge) with the source commit
//! LSN as the Delta application transaction, and only then acknowledge to PostgreSQL.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deltalake::arrow::array::{
    ArrayRef, Date32Array, Date32Builder, Int64Array, Int64Builder, RecordBatch, StringArray,
    StringBuilder, TimestampMicrosecondArray, TimestampMicrosecondBuilder,
};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::arrow::util::display::array_value_to_string;
use deltalake::datafusion::common::{Column, ScalarValue};
use deltalake::datafusion::prelude::{Expr, SessionContext, lit};
use deltalake::protocol::SaveMode;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;

use crate::IngestConfig;
use crate::delta::{BRONZE, Lake, LakeTable, SILVER};
use crate::error::IngestError;
use crate::lsn::Lsn;
use crate::monitor::Progress;
use crate::pgoutput::{Datum, PgOutput};
use crate::replication::{PG_EPOCH_OFFSET_MICROS, ReplicationConnection, ReplicationMessage};
use crate::silver::{PendingPolicy, Silver};
use crate::snapshot::{self, CopyTextParser, MissingValue, PublishedTable, new_builders};
use crate::spill::{self, TableSpill, TxnSpill};
use crate::stopped::{self, StoppedTables};
use crate::table::{OP, TableDef, TableName, commit_date};
use crate::values::{ColumnBuilder, ColumnKind};

/// How often the server hears from us even when nothing happens (wal_sender_timeout is
/// usually 60 s).
const STATUS_INTERVAL: Duration = Duration::from_secs(5);
/// Rows per Delta commit while copying a table: bounds the snapshot's memory.
const SNAPSHOT_CHUNK_ROWS: usize = 250_000;
/// A batch is written once the stream has brought nothing for this long: the server has sent
/// what it had, so the batch is as large as it will get soon.
const LINGER: Duration = Duration::from_millis(50);
/// Tables whose lake tables are opened at once at the start.
const OPEN_AT_ONCE: usize = 8;
/// How long a restart waits for the previous walsender to let go of the slot.
const SLOT_BUSY_WAIT: Duration = Duration::from_secs(60);
/// The least memory the collapse of a spilled table gets before its sort spills to disk.
const MIN_SPILL_SORT_MEMORY: usize = 32 << 20;
/// Catching up starts when the server's WAL is this far ahead of what we have received…
const CATCH_UP_LAG_BYTES: u64 = 16 << 20;
/// …and a batch is then written at the latest this long after its first transaction.
const CATCH_UP_FLUSH_INTERVAL: Duration = Duration::from_secs(5);

pub const METRIC_LAST_APPLIED_LSN: &str = "oneclass_ingest_last_applied_lsn";
pub const METRIC_LAG_SECONDS: &str = "oneclass_ingest_lag_seconds";
pub const METRIC_LAG_BYTES: &str = "oneclass_ingest_lag_bytes";
pub const METRIC_SLOT_RETAINED_WAL_BYTES: &str = "oneclass_ingest_slot_retained_wal_bytes";
pub const METRIC_CHANGES: &str = "oneclass_ingest_changes_total";
pub const METRIC_VALUE_ERRORS: &str = "oneclass_ingest_value_errors_total";
pub const METRIC_SPILLED: &str = "oneclass_ingest_spilled_changes_total";
pub const METRIC_COMPACTED_FILES: &str = "oneclass_ingest_compacted_files_total";
pub const METRIC_VACUUMED_FILES: &str = "oneclass_ingest_vacuumed_files_total";
pub const METRIC_MAINTENANCE_SECONDS: &str = "oneclass_ingest_maintenance_seconds";
pub const METRIC_STOPPED_TABLES: &str = "oneclass_ingest_stopped_tables";
pub const METRIC_FOLDED_ROWS: &str = "oneclass_ingest_folded_rows_total";
pub const METRIC_FOLD_SECONDS: &str = "oneclass_ingest_fold_seconds";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Insert,
    Update,
    Delete,
}

impl Op {
    fn code(self) -> &'static str {
        match self {
            Op::Insert => "c",
            Op::Update => "u",
            Op::Delete => "d",
        }
    }

    pub(crate) fn is_delete(self) -> bool {
        self == Op::Delete
    }
}

#[derive(Debug)]
pub(crate) enum ChangeKind {
    /// For a delete, `values` holds the key columns and nulls elsewhere. `old_key` is set
    /// when an update changed the key (the server then sends the old key too).
    Row {
        op: Op,
        values: Vec<Datum>,
        old_key: Option<Vec<Datum>>,
    },
    Truncate,
}

#[derive(Debug)]
pub(crate) struct Change {
    /// The table's shape when the change was decoded (a Relation message may change it later).
    pub(crate) def: Arc<TableDef>,
    pub(crate) lsn: i64,
    pub(crate) seq: i64,
    /// Unix microseconds.
    pub(crate) commit_ts: i64,
    pub(crate) kind: ChangeKind,
}

impl Change {
    /// A rough count of the bytes this change holds in memory, for the spill budget.
    fn footprint(&self) -> usize {
        let datum = |d: &Datum| {
            size_of::<Datum>()
                + match d {
                    Datum::Text(t) => t.capacity(),
                    Datum::Binary(b) => b.len(),
                    Datum::Null | Datum::Unchanged => 0,
                }
        };
        let values = match &self.kind {
            ChangeKind::Row { values, old_key, .. } => {
                values.iter().map(datum).sum::<usize>()
                    + old_key.iter().flatten().map(datum).sum::<usize>()
            }
            ChangeKind::Truncate => 0,
        };
        size_of::<Change>() + values
    }
}

struct OpenTxn {
    lsn: i64,
    commit_ts: i64,
    /// Changes in memory (since the last spill).
    changes: Vec<Change>,
    /// Their footprint.
    bytes: usize,
    /// `_seq` of the next change.
    next_seq: i64,
    /// Set once the transaction went over the spill budget.
    spill: Option<TxnSpill>,
}

#[derive(Debug, Clone, Copy)]
struct Committed {
    commit_lsn: Lsn,
    end_lsn: Lsn,
    commit_ts: i64,
}

/// Whole transactions waiting to be written, grouped by table.
#[derive(Default)]
struct Batch {
    tables: BTreeMap<TableName, Vec<Change>>,
    changes: usize,
    /// Footprint of the changes.
    bytes: usize,
    last: Option<Committed>,
    opened: Option<Instant>,
}

struct Layers {
    bronze: LakeTable,
    silver: Silver,
}

impl Layers {
    async fn open(
        lake: &Lake,
        table: &TableName,
        policy: PendingPolicy,
    ) -> Result<Self, IngestError> {
        let (bronze, silver) =
            futures::try_join!(lake.open(BRONZE, table), Silver::open(lake, table, policy))?;
        Ok(Self { bronze, silver })
    }
}

pub(crate) struct Pipeline {
    cfg: IngestConfig,
    lake: Lake,
    shutdown: CancellationToken,
    tables: HashMap<TableName, Layers>,
    relations: HashMap<u32, Arc<TableDef>>,
    txn: Option<OpenTxn>,
    /// A spilled transaction whose Commit arrived: applied on its own, after the batch.
    spilled: Option<(OpenTxn, Committed)>,
    /// `<spill_dir>/<slot>`.
    spill_root: PathBuf,
    batch: Batch,
    /// End of the WAL the server has sent us.
    received: Lsn,
    /// What we have told the server is durable.
    acked: Lsn,
    /// Set while the server is far ahead of `received` (see [`Pipeline::catching_up`]).
    catching_up: bool,
    last_status: Instant,
    /// When the stream last brought a change (or Begin, Commit…): a batch is written once the
    /// stream has paused for [`LINGER`].
    last_data: Instant,
    warned_keyless: BTreeSet<TableName>,
    /// Shared with the monitor: the applied position, for the lag in bytes.
    progress: Arc<Progress>,
    /// When the lake tables are next compacted and vacuumed.
    next_maintenance: Option<Instant>,
    /// When a batch was last written (pending changes are folded in once this is long ago).
    last_write: Instant,
    /// Tables stopped by an incompatible schema change (loaded from the lake at the start).
    stopped: Option<StoppedTables>,
}

impl Pipeline {
    pub(crate) fn new(
        cfg: IngestConfig,
        lake: Lake,
        shutdown: CancellationToken,
        progress: Arc<Progress>,
    ) -> Self {
        let spill_root = cfg.spill_root();
        let next_maintenance = cfg.maintenance_interval.map(|i| Instant::now() + i);
        Self {
            cfg,
            lake,
            shutdown,
            tables: HashMap::new(),
            relations: HashMap::new(),
            txn: None,
            spilled: None,
            spill_root,
            batch: Batch::default(),
            received: Lsn(0),
            acked: Lsn(0),
            catching_up: false,
            last_status: Instant::now(),
            last_data: Instant::now(),
            warned_keyless: BTreeSet::new(),
            next_maintenance,
            last_write: Instant::now(),
            stopped: None,
            progress,
        }
    }

    pub(crate) async fn run(mut self) -> Result<(), IngestError> {
        let Some(mut repl) = self.prepare().await? else {
            return Ok(());
        };
        let result = self.stream(&mut repl).await;
        repl.close().await;
        match result {
            // Shutdown stopped work that must not be half done; nothing of it was acknowledged.
            Err(IngestError::Interrupted(what)) => {
                tracing::warn!(%what, "shutdown interrupted");
                Ok(())
            }
            other => other,
        }
    }

    /// Slot, lake tables and snapshots; returns a connection in streaming mode, or None when
    /// shutdown was requested meanwhile.
    async fn prepare(&mut self) -> Result<Option<ReplicationConnection>, IngestError> {
        // A transaction spilled by an earlier process was never acknowledged: it comes again.
        spill::clear(&self.spill_root)?;
        self.stopped = Some(StoppedTables::load(&self.cfg.lake, &self.cfg.storage_options).await?);
        let mut catalog = snapshot::connect(&self.cfg.source).await?;
        let published = snapshot::published_tables(&mut catalog, &self.cfg.publication).await?;
        if published.is_empty() {
            tracing::warn!(publication = %self.cfg.publication, "the publication lists no tables");
        }
        let started = Instant::now();
        self.open_all_layers(published.iter().map(|p| p.table.clone()).collect()).await?;
        tracing::info!(
            tables = published.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "lake tables open"
        );
        let slot = snapshot::slot_state(&mut catalog, &self.cfg.slot).await?;
        let mut repl = ReplicationConnection::connect(&self.cfg.source).await?;
        let system = repl.identify_system().await?;
        tracing::info!(
            system_id = %system.system_id, timeline = %system.timeline, wal = %system.xlog_pos,
            database = %system.database, slot = %self.cfg.slot, "replication connection open"
        );

        let start = match slot {
            None => {
                let created = repl.create_slot(&self.cfg.slot).await?;
                tracing::info!(
                    slot = %self.cfg.slot, consistent_point = %created.consistent_point,
                    tables = published.len(), "created replication slot; copying the initial snapshot"
                );
                // Version one below the consistent point: a transaction whose commit record
                // starts exactly there is not in the snapshot and must not be skipped.
                let version = created.consistent_point.as_i64() - 1;
                let copied = self.copyable(&published).await?;
                let done = self
                    .snapshot_tables(
                        &mut catalog,
                        &copied,
                        Some(&created.snapshot_name),
                        created.consistent_point,
                        version,
                        false,
                    )
                    .await?;
                if !done {
                    repl.close().await;
                    return Ok(None);
                }
                self.acked = created.consistent_point;
                created.consistent_point
            }
            Some(state) => {
                if state.plugin.as_deref() != Some("pgoutput")
                    || state.database.as_deref() != Some(&self.cfg.source.database)
                {
                    return Err(IngestError::Config(format!(
                        "replication slot {} exists but is not a pgoutput slot of database {}",
                        self.cfg.slot, self.cfg.source.database
                    )));
                }
                let confirmed = state.confirmed_flush.unwrap_or_default();
                let missing: Vec<PublishedTable> = published
                    .iter()
                    .filter(|p| {
                        self.tables.get(&p.table).is_none_or(|l| {
                            l.bronze.version.is_none() || l.silver.version().is_none()
                        })
                    })
                    .cloned()
                    .collect();
                let missing = self.copyable(&missing).await?;
                if !missing.is_empty() {
                    // Copied under a fresh snapshot, newer than the slot position: changes
                    // between the two are streamed again on top, so silver converges, and bronze
                    // may hold such a change both as a snapshot row and as the change itself.
                    tracing::warn!(
                        tables = ?missing.iter().map(|p| p.table.to_string()).collect::<Vec<_>>(),
                        "published tables without lake tables: copying them under a fresh snapshot"
                    );
                    let version = confirmed.as_i64() - 1;
                    let done = self
                        .snapshot_tables(&mut catalog, &missing, None, confirmed, version, true)
                        .await?;
                    if !done {
                        repl.close().await;
                        return Ok(None);
                    }
                }
                self.acked = confirmed;
                // The server starts at the later of this and the slot's confirmed position.
                let resume = self
                    .tables
                    .values()
                    .flat_map(|l| [l.bronze.version, l.silver.version()])
                    .flatten()
                    .min()
                    .map_or(confirmed, Lsn::from_i64);
                tracing::info!(slot = %self.cfg.slot, confirmed_flush = %confirmed, resume = %resume, "resuming");
                resume
            }
        };
        catalog.close().await?;
        self.received = start;
        self.progress.applied(self.acked);
        self.progress.server(start);
        // Known before the first message: how far behind we start (catch-up batching).
        self.progress.server(system.xlog_pos);

        let busy_until = Instant::now() + SLOT_BUSY_WAIT;
        loop {
            match repl
                .start_replication(
                    &self.cfg.slot,
                    start,
                    &self.cfg.publication,
                    self.cfg.read_ahead_bytes,
                )
                .await
            {
                Ok(()) => break,
                Err(e)
                    if e.is_object_in_use()
                        && Instant::now() < busy_until
                        && !self.shutdown.is_cancelled() =>
                {
                    tracing::debug!("slot still held by the previous session; retrying");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => {
                    repl.close().await;
                    return Err(e);
                }
            }
        }
        tracing::info!(slot = %self.cfg.slot, start = %start, "streaming changes");
        Ok(Some(repl))
    }

    async fn open_layers(&mut self, table: &TableName) -> Result<(), IngestError> {
        if !self.tables.contains_key(table) {
            let layers = Layers::open(&self.lake, table, self.policy()).await?;
            self.tables.insert(table.clone(), layers);
        }
        Ok(())
    }

    /// [`Pipeline::open_layers`] of every table in `tables`, several at once (loading a large
    /// table's log takes a while, and a restart waits for all of them).
    async fn open_all_layers(&mut self, tables: Vec<TableName>) -> Result<(), IngestError> {
        let (lake, policy) = (self.lake.clone(), self.policy());
        let opening = tables.into_iter().filter(|t| !self.tables.contains_key(t)).map(|table| {
            let lake = lake.clone();
            async move {
                let layers = Layers::open(&lake, &table, policy).await?;
                Ok::<_, IngestError>((table, layers))
            }
        });
        let opened: Vec<(TableName, Layers)> =
            futures::stream::iter(opening).buffer_unordered(OPEN_AT_ONCE).try_collect().await?;
        self.tables.extend(opened);
        Ok(())
    }

    fn policy(&self) -> PendingPolicy {
        PendingPolicy { above_rows: self.cfg.pending_above_rows, fold_rows: self.cfg.fold_rows }
    }

    /// Copies `tables` under one snapshot (the slot's exported snapshot when given, else one
    /// this connection takes and exports) into bronze as `_op = 'r'` rows and into silver, both
    /// recording `version`: `snapshot_workers` connections import it and copy a table each at a
    /// time, the largest first. Returns false when shutdown interrupted it.
    fn snapshot_tables<'a>(
        &'a mut self,
        conn: &'a mut PgConnection,
        tables: &'a [PublishedTable],
        exported: Option<&'a str>,
        row_lsn: Lsn,
        version: i64,
        only_missing: bool,
    ) -> BoxFuture<'a, Result<bool, IngestError>> {
        Box::pin(async move {
            snapshot::execute(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?;
            let name = match exported {
                Some(name) => {
                    let stmt = format!("SET TRANSACTION SNAPSHOT '{}'", name.replace('\'', "''"));
                    snapshot::execute(conn, &stmt).await?;
                    name.to_owned()
                }
                None => snapshot::export_snapshot(conn).await?,
            };
            // This transaction waits, idle, for the whole copy: a server-wide idle timeout
            // must not end it (and with it an exported snapshot) meanwhile.
            snapshot::execute(conn, "SET LOCAL idle_in_transaction_session_timeout = 0").await?;
            let taken_at = snapshot::transaction_start_micros(conn).await?;
            let sizes = snapshot::table_sizes(conn, tables).await?;
            let mut order: Vec<(i64, &PublishedTable)> = sizes.into_iter().zip(tables).collect();
            // Largest first (stable: ties keep the publication's order).
            order.sort_by_key(|(rows, _)| std::cmp::Reverse(*rows));
            let mut queue = std::collections::VecDeque::new();
            for (_, published) in order {
                self.open_layers(&published.table).await?;
                let layers = self.tables.remove(&published.table).ok_or_else(|| {
                    IngestError::Config(format!("lake tables of {} are not open", published.table))
                })?;
                queue.push_back((published.clone(), layers));
            }
            let workers = self.cfg.snapshot_workers.clamp(1, queue.len().max(1));
            let shared = Arc::new(std::sync::Mutex::new(queue));
            let copy = CopyUnder { row_lsn: row_lsn.as_i64(), version, taken_at, only_missing };
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..workers {
                tasks.spawn(copy_tables(
                    self.cfg.source.clone(),
                    name.clone(),
                    shared.clone(),
                    self.shutdown.clone(),
                    copy,
                ));
            }
            let mut done = true;
            let mut failed = None;
            while let Some(joined) = tasks.join_next().await {
                let result = joined.map_err(|e| {
                    IngestError::Io(std::io::Error::other(format!("snapshot copy task: {e}")))
                })?;
                match result {
                    Ok((copied, complete)) => {
                        done &= complete;
                        self.tables.extend(copied);
                    }
                    Err(e) => {
                        // The others stop at their next table; their copies are done again on
                        // the next start (nothing was recorded for an unfinished one).
                        if let Ok(mut queue) = shared.lock() {
                            queue.clear();
                        }
                        failed.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = failed {
                return Err(e);
            }
            if !done {
                snapshot::execute(conn, "ROLLBACK").await?;
                tracing::warn!(
                    "shutdown during the snapshot; the remaining tables are copied on the next start"
                );
                return Ok(false);
            }
            snapshot::execute(conn, "COMMIT").await?;
            Ok(true)
        })
    }

    fn is_stopped(&self, table: &TableName) -> bool {
        self.stopped.as_ref().is_some_and(|s| s.is_stopped(table))
    }

    /// Of `tables`, those a snapshot may copy. A stopped table is copied (and so brought back)
    /// only once both its lake tables are gone, and its marker is removed before the copy, so
    /// that a crash after the copy cannot leave it stopped for good (an interrupted copy is
    /// simply done again). With one of them left it stays stopped: the other layer would be
    /// copied with the new types beside old ones.
    async fn copyable(
        &mut self,
        tables: &[PublishedTable],
    ) -> Result<Vec<PublishedTable>, IngestError> {
        let mut out = Vec::with_capacity(tables.len());
        for p in tables {
            if self.is_stopped(&p.table) {
                let gone = self
                    .tables
                    .get(&p.table)
                    .is_none_or(|l| l.bronze.version.is_none() && l.silver.version().is_none());
                if !gone {
                    tracing::error!(table = %p.table, "stopped table still has a bronze or silver table in the lake: delete both to copy it again");
                    continue;
                }
                if let Some(stopped) = self.stopped.as_mut() {
                    stopped.resume(&p.table).await?;
                }
            }
            out.push(p.clone());
        }
        Ok(out)
    }

    /// Stops `table` for good (until its lake tables are deleted and copied again).
    async fn stop(
        &mut self,
        table: &TableName,
        reason: String,
        lsn: i64,
    ) -> Result<(), IngestError> {
        match self.stopped.as_mut() {
            Some(stopped) => stopped.stop(table, reason, Lsn::from_i64(lsn)).await,
            None => Err(IngestError::Config("stopped tables not loaded".into())),
        }
    }

    /// How many of `changes` (from the first) the lake can take: up to the first decoded under
    /// a shape whose column types differ from what the table holds, and why it cannot.
    fn compatible_prefix(&self, table: &TableName, changes: &[Change]) -> (usize, Option<String>) {
        let schemas = self.lake_schemas(table);
        let mut checked: Option<&Arc<TableDef>> = None;
        for (i, c) in changes.iter().enumerate() {
            if checked.is_some_and(|d| Arc::ptr_eq(d, &c.def)) {
                continue;
            }
            if let Some(why) = schemas.iter().find_map(|s| stopped::incompatibility(&c.def, s)) {
                return (i, Some(why));
            }
            checked = Some(&c.def);
        }
        (changes.len(), None)
    }

    /// The schemas `table`'s bronze and silver hold (none for a layer not written yet).
    fn lake_schemas(&self, table: &TableName) -> Vec<deltalake::arrow::datatypes::SchemaRef> {
        self.tables
            .get(table)
            .map(|l| l.bronze.arrow_schema().into_iter().chain(l.silver.arrow_schemas()).collect())
            .unwrap_or_default()
    }

    fn layers(&mut self, table: &TableName) -> Result<&mut Layers, IngestError> {
        self.tables
            .get_mut(table)
            .ok_or_else(|| IngestError::Config(format!("lake tables of {table} are not open")))
    }

    async fn stream(&mut self, repl: &mut ReplicationConnection) -> Result<(), IngestError> {
        loop {
            if self.shutdown.is_cancelled() {
                break;
            }
            let msg = {
                let status_at = self.last_status + STATUS_INTERVAL;
                let (_, interval) = self.batch_limits();
                // The pause rule is off while catching up (see below): waking for it then would
                // find nothing due, and wake again at once.
                let linger_at = (!self.catching_up).then(|| self.last_data + LINGER);
                let wake = self.batch.opened.map_or(status_at, |t| {
                    linger_at.map_or(t + interval, |l| (t + interval).min(l)).min(status_at)
                });
                tokio::select! {
                    biased;
                    () = self.shutdown.cancelled() => break,
                    msg = repl.recv() => Some(msg?),
                    () = tokio::time::sleep_until(wake.into()) => None,
                }
            };
            if let Some(msg) = msg {
                self.on_replication(repl, msg).await?;
            }
            let (max_changes, interval) = self.batch_limits();
            // Full, old enough, or the stream has paused (nothing more is coming now: waiting
            // for the interval would only add to the lag). Not while catching up: then a pause
            // is the server decoding WAL without published changes, and more is coming.
            let due = self.batch.changes >= max_changes
                || self.batch.bytes >= self.cfg.max_batch_bytes
                || self.batch.opened.is_some_and(|t| t.elapsed() >= interval)
                || (!self.catching_up && self.last_data.elapsed() >= LINGER);
            if due && self.batch.last.is_some() {
                self.flush(repl).await?;
            }
            if self.batch.last.is_none()
                && self.next_maintenance.is_some_and(|t| Instant::now() >= t)
            {
                self.maintain(repl).await;
            }
            if self.batch.last.is_none()
                && self.txn.is_none()
                && self.last_write.elapsed() >= self.cfg.fold_idle
                && self.tables.values().any(|l| l.silver.has_pending())
            {
                self.fold_idle(repl).await;
            }
            if self.last_status.elapsed() >= STATUS_INTERVAL {
                self.send_status(repl).await?;
            }
        }
        // Shutdown: the half-received transaction is dropped (it is not acknowledged, so the
        // server sends it again); whole ones in hand are written first.
        self.flush(repl).await?;
        self.send_status(repl).await?;
        tracing::info!(acked = %self.acked, "ingest stopped");
        Ok(())
    }

    async fn on_replication(
        &mut self,
        repl: &mut ReplicationConnection,
        msg: ReplicationMessage,
    ) -> Result<(), IngestError> {
        match msg {
            ReplicationMessage::XLogData { wal_end, message } => {
                self.last_data = Instant::now();
                self.received = self.received.max(wal_end);
                self.progress.server(wal_end);
                self.on_message(message)?;
                if self.txn.as_ref().is_some_and(|t| {
                    t.changes.len() >= self.cfg.spill_rows || t.bytes >= self.cfg.spill_bytes
                }) {
                    self.spill_txn().await?;
                }
                if let Some((txn, committed)) = self.spilled.take() {
                    // Earlier whole transactions first: the slot moves in commit order.
                    self.flush(repl).await?;
                    self.apply_spilled(repl, txn, committed).await?;
                }
            }
            ReplicationMessage::Keepalive { wal_end, reply_requested } => {
                self.received = self.received.max(wal_end);
                self.progress.server(wal_end);
                // With nothing in hand, everything the server sent before this point
                // is applied: let the slot move on even when no published table changes.
                if self.txn.is_none() && self.batch.last.is_none() {
                    self.acked = self.acked.max(wal_end);
                    self.progress.applied(self.acked);
                    metrics::gauge!(METRIC_LAG_SECONDS).set(0.0);
                }
                if reply_requested {
                    self.send_status(repl).await?;
                }
            }
            ReplicationMessage::End => {
                return Err(IngestError::Protocol(
                    "the server ended the replication stream".into(),
                ));
            }
        }
        Ok(())
    }

    /// Whether the server's WAL is far ahead of what we have received: from more than
    /// [`CATCH_UP_LAG_BYTES`] behind (its position from IDENTIFY_SYSTEM, the monitor's poll or the
    /// stream) until the stream reaches the newest position known, so that a backlog's last
    /// batch ends with the backlog.
    fn catching_up(&mut self) -> bool {
        if self.cfg.catch_up_batch_changes <= self.cfg.max_batch_changes {
            return false;
        }
        let lag = self.progress.server_lsn().0.saturating_sub(self.received.0);
        self.catching_up = next_catch_up(self.catching_up, lag);
        self.catching_up
    }

    /// Changes and age at which the batch is written: larger while catching up.
    fn batch_limits(&mut self) -> (usize, Duration) {
        if self.catching_up() {
            (self.cfg.catch_up_batch_changes, CATCH_UP_FLUSH_INTERVAL.max(self.cfg.flush_interval))
        } else {
            (self.cfg.max_batch_changes, self.cfg.flush_interval)
        }
    }

    async fn send_status(&mut self, repl: &mut ReplicationConnection) -> Result<(), IngestError> {
        repl.send_status(self.received.max(self.acked), self.acked, false).await?;
        self.last_status = Instant::now();
        Ok(())
    }

    fn on_message(&mut self, msg: PgOutput) -> Result<(), IngestError> {
        match msg {
            PgOutput::Begin { final_lsn, commit_ts, .. } => {
                if self.txn.is_some() {
                    return Err(IngestError::Protocol("Begin inside a transaction".into()));
                }
                self.txn = Some(OpenTxn {
                    lsn: final_lsn.as_i64(),
                    commit_ts: commit_ts.saturating_add(PG_EPOCH_OFFSET_MICROS),
                    changes: Vec::new(),
                    bytes: 0,
                    next_seq: 0,
                    spill: None,
                });
            }
            PgOutput::Relation(rel) => {
                self.relations.insert(rel.oid, Arc::new(TableDef::from_relation(&rel)));
            }
            PgOutput::Insert { relation, new } => {
                self.push(relation, |_| ChangeKind::Row {
                    op: Op::Insert,
                    values: new,
                    old_key: None,
                })?;
            }
            PgOutput::Update { relation, old, new } => {
                let old_key = old.map(|(_, tuple)| tuple);
                self.push(relation, |_| ChangeKind::Row { op: Op::Update, values: new, old_key })?;
            }
            PgOutput::Delete { relation, old: (_, old) } => {
                // The contract: a delete row carries the key and nulls, even under
                // REPLICA IDENTITY FULL where the server sends the whole old row.
                self.push(relation, |def| ChangeKind::Row {
                    op: Op::Delete,
                    values: old
                        .into_iter()
                        .zip(&def.columns)
                        .map(|(d, c)| if c.key { d } else { Datum::Null })
                        .collect(),
                    old_key: None,
                })?;
            }
            PgOutput::Truncate { relations, .. } => {
                for relation in relations {
                    self.push(relation, |_| ChangeKind::Truncate)?;
                }
            }
            PgOutput::Commit { commit_lsn, end_lsn, commit_ts } => {
                self.commit(Committed {
                    commit_lsn,
                    end_lsn,
                    commit_ts: commit_ts.saturating_add(PG_EPOCH_OFFSET_MICROS),
                })?;
            }
            PgOutput::Origin { .. } | PgOutput::Type { .. } | PgOutput::Message { .. } => {}
        }
        Ok(())
    }

    fn push(
        &mut self,
        relation: u32,
        kind: impl FnOnce(&TableDef) -> ChangeKind,
    ) -> Result<(), IngestError> {
        let def = self.relations.get(&relation).cloned().ok_or_else(|| {
            IngestError::Protocol(format!(
                "change for relation {relation} before its Relation message"
            ))
        })?;
        let txn = self
            .txn
            .as_mut()
            .ok_or_else(|| IngestError::Protocol("change outside a transaction".into()))?;
        let kind = kind(&def);
        let seq = txn.next_seq;
        txn.next_seq += 1;
        let change = Change { def, lsn: txn.lsn, seq, commit_ts: txn.commit_ts, kind };
        txn.bytes += change.footprint();
        txn.changes.push(change);
        Ok(())
    }

    /// Moves a whole transaction into the batch, leaving out what each table already holds.
    fn commit(&mut self, committed: Committed) -> Result<(), IngestError> {
        let txn =
            self.txn.take().ok_or_else(|| IngestError::Protocol("Commit without Begin".into()))?;
        if txn.spill.is_some() {
            self.spilled = Some((txn, committed));
            return Ok(());
        }
        let lsn = committed.commit_lsn.as_i64();
        for mut change in txn.changes {
            if self.is_stopped(&change.def.table) {
                continue;
            }
            change.lsn = lsn;
            change.commit_ts = committed.commit_ts;
            if let Some(layers) = self.tables.get(&change.def.table)
                && !layers.bronze.needs(lsn)
                && !layers.silver.needs(lsn)
            {
                continue;
            }
            self.batch.changes += 1;
            self.batch.bytes += change.footprint();
            self.batch.tables.entry(change.def.table.clone()).or_default().push(change);
        }
        self.batch.last = Some(committed);
        self.batch.opened.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// Writes the batch table by table, then acknowledges its last commit. A crash anywhere in
    /// here is safe: each Delta commit records its LSN, and nothing is acknowledged before all
    /// of them are durable.
    async fn flush(&mut self, repl: &mut ReplicationConnection) -> Result<(), IngestError> {
        let Some(last) = self.batch.last else {
            return Ok(());
        };
        let batch = std::mem::take(&mut self.batch);
        let (bytes, catching_up) = (batch.bytes, self.catching_up);
        let age_ms = batch.opened.map_or(0, |t| t.elapsed().as_millis() as u64);
        let started = Instant::now();
        let version = last.commit_lsn.as_i64();
        let mut applied = 0usize;
        let (received, acked) = (self.received, self.acked);
        for (table, changes) in batch.tables {
            let apply = self.apply_table(&table, changes, version);
            applied += keep_alive(repl, received, acked, apply).await?;
        }
        self.last_write = Instant::now();
        self.acked = self.acked.max(last.end_lsn);
        self.send_status(repl).await?;
        self.progress.applied(self.acked);
        metrics::gauge!(METRIC_LAST_APPLIED_LSN).set(last.commit_lsn.0 as f64);
        let now = chrono::Utc::now().timestamp_micros();
        metrics::gauge!(METRIC_LAG_SECONDS).set((now - last.commit_ts).max(0) as f64 / 1e6);
        tracing::debug!(
            changes = applied, bytes, catching_up, lsn = %last.commit_lsn, acked = %self.acked,
            age_ms,
            elapsed_ms = started.elapsed().as_millis() as u64, "batch applied"
        );
        Ok(())
    }

    async fn apply_table(
        &mut self,
        table: &TableName,
        mut changes: Vec<Change>,
        version: i64,
    ) -> Result<usize, IngestError> {
        if self.is_stopped(table) {
            return Ok(0);
        }
        let (mut cut, incompatible) = self.compatible_prefix(table, &changes);
        if let Some(why) = incompatible {
            let at = changes[cut].lsn;
            // Whole transactions only: the one that brought the change is not applied at all.
            while cut > 0 && changes[cut - 1].lsn == at {
                cut -= 1;
            }
            changes.truncate(cut);
            // The marker first: were the data first, a crash before the marker would leave the
            // table recording a position past the change, and the change skipped, unstopped.
            // What came before it is still applied (the table is copied anew to come back, so
            // this only keeps silver as close as it can be meanwhile).
            self.stop(table, why, at).await?;
        }
        self.apply_prefix(table, changes, version).await
    }

    /// `apply_table` for changes the lake's schema can take.
    async fn apply_prefix(
        &mut self,
        table: &TableName,
        mut changes: Vec<Change>,
        version: i64,
    ) -> Result<usize, IngestError> {
        let Some(newest) = changes.last().map(|c| c.def.clone()) else {
            return Ok(0);
        };
        // Changes decoded before a column was added: silver gives them its missing value.
        let absent = decoded_without(&changes, &newest);
        let Some(def) = remap_to_newest(&mut changes) else {
            return Ok(0);
        };
        let first_lsn = changes.first().map_or(version, |c| c.lsn);
        self.ensure_layers(table, first_lsn).await?;
        let keyless = def.key_indices().is_empty();
        if keyless && self.warned_keyless.insert(table.clone()) {
            tracing::warn!(table = %table, "table has no replica identity key: bronze only, silver is not maintained");
        }
        let layers = self.layers(table)?;
        let silver_applies = !keyless && changes.iter().any(|c| layers.silver.needs(c.lsn));
        let (missing, backfill) = if silver_applies {
            let silver_new = new_to_silver(&layers.silver, &def);
            let absent_names =
                absent.iter().flat_map(|(_, cols)| cols).map(|&j| &def.columns[j].name);
            let wanted: BTreeSet<String> = silver_new.iter().chain(absent_names).cloned().collect();
            let missing = self.missing_values(&def, wanted).await?;
            let backfill = backfill_of(&silver_new, &missing);
            (missing, backfill)
        } else {
            Default::default()
        };
        let layers = self.layers(table)?;
        fill_unchanged(&layers.silver, &def, &mut changes).await?;

        let bronze_rows: Vec<&Change> = changes
            .iter()
            .filter(|c| matches!(c.kind, ChangeKind::Row { .. }) && layers.bronze.needs(c.lsn))
            .collect();
        let applied = bronze_rows.len();
        // Bronze is appended on a task of its own while silver is merged here: two Delta tables,
        // each commit carrying the version, both awaited before the batch counts as written.
        let bronze = if bronze_rows.is_empty() {
            None
        } else {
            let batch = build_bronze(&def, &bronze_rows)?;
            let mut bronze = layers.bronze.clone();
            Some(tokio::spawn(async move {
                bronze.write(vec![batch], SaveMode::Append, Some(version)).await.map(|()| bronze)
            }))
        };
        drop(bronze_rows);
        // Bronze keeps what the changes carried; silver, what PostgreSQL shows now.
        for (i, columns) in &absent {
            if let ChangeKind::Row { op, values, .. } = &mut changes[*i].kind
                && *op != Op::Delete
            {
                for &j in columns {
                    if let (Some(slot), Some((text, _))) =
                        (values.get_mut(j), missing.get(&def.columns[j].name))
                    {
                        *slot = Datum::Text(text.clone());
                    }
                }
            }
        }

        let silver_started = Instant::now();
        let silver = async {
            let silver_changes: Vec<&Change> =
                changes.iter().filter(|c| layers.silver.needs(c.lsn)).collect();
            if silver_changes.is_empty() || keyless {
                return Ok(false);
            }
            let truncated =
                silver_changes.iter().rposition(|c| matches!(c.kind, ChangeKind::Truncate));
            let rows = collapse(&def, &silver_changes[truncated.map_or(0, |i| i + 1)..]);
            if truncated.is_some() || layers.silver.version().is_none() {
                let batch = build_silver(&def, rows.iter().filter(|r| !r.delete), false)?;
                layers.silver.overwrite(vec![batch], Some(version)).await.map(|()| false)
            } else if !rows.is_empty() {
                if !backfill.is_empty() {
                    layers.silver.add_columns(&backfill).await?;
                }
                let batch = build_silver(&def, rows.iter(), true)?;
                let source = SessionContext::new().read_batch(batch)?;
                layers.silver.apply(source, &def.key_names(), version).await
            } else {
                Ok(false)
            }
        }
        .await;
        let silver_ms = silver_started.elapsed().as_millis() as u64;
        if let Some(task) = bronze {
            let written = task.await.map_err(|e| {
                IngestError::Io(std::io::Error::other(format!("bronze write task: {e}")))
            })?;
            layers.bronze = written?;
        }
        tracing::trace!(
            table = %table, changes = applied, silver_ms,
            both_ms = silver_started.elapsed().as_millis() as u64, "table written"
        );
        if silver? {
            self.fold(table).await?;
        }
        metrics::counter!(METRIC_CHANGES, "table" => table.to_string()).increment(applied as u64);
        Ok(applied)
    }

    /// Compacts and vacuums every lake table, one after the other, while the server keeps
    /// hearing from us. Nothing is in hand (the batch was just written), so no commit of ours
    /// can race it. A failure is logged and tried again at the next pass: the tables are as
    /// they were, and ingest goes on.
    async fn maintain(&mut self, repl: &mut ReplicationConnection) {
        let started = Instant::now();
        self.next_maintenance = self.cfg.maintenance_interval.map(|i| Instant::now() + i);
        let (received, acked) = (self.received, self.acked);
        let (min_files, target, retain) =
            (self.cfg.compact_min_files, self.cfg.compact_target_bytes, self.cfg.time_travel);
        let mut names: Vec<TableName> = self.tables.keys().cloned().collect();
        names.sort();
        let mut total = crate::delta::Maintained::default();
        for name in names {
            let Some(layers) = self.tables.get_mut(&name) else { continue };
            let bronze = keep_alive(
                repl,
                received,
                acked,
                layers.bronze.maintain(min_files, target, retain),
            )
            .await;
            let silver = keep_alive(
                repl,
                received,
                acked,
                layers.silver.maintain(min_files, target, retain),
            )
            .await;
            for (layer, result) in [(BRONZE, bronze), (SILVER, silver)] {
                match result {
                    Ok(done) => {
                        if done != crate::delta::Maintained::default() {
                            tracing::debug!(table = %name, layer, ?done, "maintained");
                        }
                        total.files_compacted += done.files_compacted;
                        total.files_written += done.files_written;
                        total.files_vacuumed += done.files_vacuumed;
                    }
                    Err(error) => {
                        tracing::warn!(table = %name, layer, %error, "compaction or vacuum failed; tried again at the next pass");
                    }
                }
            }
        }
        metrics::counter!(METRIC_COMPACTED_FILES).increment(total.files_compacted);
        metrics::counter!(METRIC_VACUUMED_FILES).increment(total.files_vacuumed);
        metrics::gauge!(METRIC_MAINTENANCE_SECONDS).set(started.elapsed().as_secs_f64());
        tracing::info!(
            compacted = total.files_compacted,
            written = total.files_written,
            vacuumed = total.files_vacuumed,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "lake maintenance done"
        );
    }

    /// Folds `table`'s pending changes into its silver table (see [`crate::silver`]).
    async fn fold(&mut self, table: &TableName) -> Result<(), IngestError> {
        let started = Instant::now();
        let folded = self.layers(table)?.silver.fold().await?;
        if folded > 0 {
            metrics::counter!(METRIC_FOLDED_ROWS).increment(folded);
            metrics::gauge!(METRIC_FOLD_SECONDS).set(started.elapsed().as_secs_f64());
            tracing::info!(
                table = %table, rows = folded, elapsed_ms = started.elapsed().as_millis() as u64,
                "pending silver changes folded in"
            );
        }
        Ok(())
    }

    /// Folds every table's pending changes, while the server keeps hearing from us (ingest is
    /// idle: nothing is in hand). A failure is logged and tried again later.
    async fn fold_idle(&mut self, repl: &mut ReplicationConnection) {
        let mut names: Vec<TableName> = self
            .tables
            .iter()
            .filter(|(_, l)| l.silver.has_pending())
            .map(|(n, _)| n.clone())
            .collect();
        names.sort();
        let (received, acked) = (self.received, self.acked);
        for name in names {
            if let Err(error) = keep_alive(repl, received, acked, self.fold(&name)).await {
                tracing::warn!(table = %name, %error, "folding pending silver changes failed; tried again later");
            }
        }
        self.last_write = Instant::now();
    }

    /// Moves the in-memory changes of the (taken out) open transaction to its spill files.
    async fn spill_changes(&mut self, txn: &mut OpenTxn) -> Result<(), IngestError> {
        let changes = std::mem::take(&mut txn.changes);
        txn.bytes = 0;
        if txn.spill.is_none() {
            tracing::info!(lsn = %Lsn::from_i64(txn.lsn), "large transaction: spilling it to disk");
            txn.spill = Some(TxnSpill::create(&self.spill_root, txn.lsn)?);
        }
        let mut by_table: BTreeMap<TableName, Vec<Change>> = BTreeMap::new();
        for c in changes {
            by_table.entry(c.def.table.clone()).or_default().push(c);
        }
        for (table, mut changes) in by_table {
            if self.is_stopped(&table) {
                continue;
            }
            self.open_layers(&table).await?;
            let layers = self.layers(&table)?;
            if !layers.bronze.needs(txn.lsn) && !layers.silver.needs(txn.lsn) {
                continue;
            }
            let Some(def) = remap_to_newest(&mut changes) else { continue };
            // Within this chunk, else from silver: a value written by an earlier chunk of the
            // same transaction is not seen (a documented limitation).
            fill_unchanged(&layers.silver, &def, &mut changes).await?;
            if let Some(spill) = txn.spill.as_mut() {
                spill.write(&def, &changes)?;
            }
        }
        Ok(())
    }

    async fn spill_txn(&mut self) -> Result<(), IngestError> {
        if let Some(mut txn) = self.txn.take() {
            let spilled = self.spill_changes(&mut txn).await;
            self.txn = Some(txn);
            spilled?;
        }
        Ok(())
    }

    /// Applies a spilled transaction (alone: the batch before it is already written), table
    /// by table, each table's share in one bronze and one silver commit, then acknowledges it.
    /// The server hears from us meanwhile, however long it takes.
    async fn apply_spilled(
        &mut self,
        repl: &mut ReplicationConnection,
        mut txn: OpenTxn,
        last: Committed,
    ) -> Result<(), IngestError> {
        let started = Instant::now();
        let (received, acked) = (self.received, self.acked);
        keep_alive(repl, received, acked, self.spill_changes(&mut txn)).await?;
        let Some(mut spill) = txn.spill.take() else {
            return Ok(());
        };
        spill.finish()?;
        let version = last.commit_lsn.as_i64();
        if txn.lsn != version {
            return Err(IngestError::Protocol(format!(
                "Commit LSN {} differs from the Begin's final LSN {}",
                last.commit_lsn,
                Lsn::from_i64(txn.lsn)
            )));
        }
        let mut applied = 0usize;
        for (table, t) in &spill.tables {
            let apply = self.apply_spilled_table(table, t, version);
            applied += keep_alive(repl, received, acked, apply).await?;
        }
        let spilled = spill.changes;
        drop(spill);
        self.acked = self.acked.max(last.end_lsn);
        self.send_status(repl).await?;
        self.progress.applied(self.acked);
        metrics::gauge!(METRIC_LAST_APPLIED_LSN).set(last.commit_lsn.0 as f64);
        let now = chrono::Utc::now().timestamp_micros();
        metrics::gauge!(METRIC_LAG_SECONDS).set((now - last.commit_ts).max(0) as f64 / 1e6);
        tracing::info!(
            changes = applied, spilled, lsn = %last.commit_lsn, acked = %self.acked,
            elapsed_ms = started.elapsed().as_millis() as u64, "spilled transaction applied"
        );
        Ok(())
    }

    async fn apply_spilled_table(
        &mut self,
        table: &TableName,
        spill: &TableSpill,
        version: i64,
    ) -> Result<usize, IngestError> {
        let Some(def) = spill.def() else {
            return Ok(0);
        };
        if self.is_stopped(table) {
            return Ok(0);
        }
        self.ensure_layers(table, version).await?;
        let schemas = self.lake_schemas(table);
        if let Some(why) = schemas
            .iter()
            .find_map(|schema| spill.defs().find_map(|d| stopped::incompatibility(d, schema)))
        {
            self.stop(table, why, version).await?;
            return Ok(0);
        }
        let keyless = def.key_indices().is_empty();
        if keyless && self.warned_keyless.insert(table.clone()) {
            tracing::warn!(table = %table, "table has no replica identity key: bronze only, silver is not maintained");
        }
        let silver_applies = !keyless && self.layers(table)?.silver.needs(version);
        let (fill, backfill) = if silver_applies {
            let silver_new = new_to_silver(&self.layers(table)?.silver, &def);
            // Columns some segment was spilled without: its rows read the missing value.
            let absent: Vec<String> = def
                .columns
                .iter()
                .filter(|c| spill.defs().any(|d| d.position(&c.name).is_none()))
                .map(|c| c.name.clone())
                .collect();
            let wanted: BTreeSet<String> = silver_new.iter().chain(&absent).cloned().collect();
            let missing = self.missing_values(&def, wanted).await?;
            let fill: HashMap<String, ScalarValue> = absent
                .iter()
                .filter_map(|n| missing.get(n).map(|(_, v)| (n.clone(), v.clone())))
                .collect();
            (fill, backfill_of(&silver_new, &missing))
        } else {
            Default::default()
        };
        let memory_limit = self.cfg.spill_bytes.saturating_mul(2).max(MIN_SPILL_SORT_MEMORY);
        let work = spill::session(&self.spill_root, memory_limit)?;
        let ctx = SessionContext::new();
        let layers = self.layers(table)?;
        let mut applied = 0;
        if layers.bronze.needs(version)
            && let Some(rows) = spill.bronze(&ctx, &def).await?
        {
            layers.bronze.write_df(rows, SaveMode::Append, Some(version)).await?;
            applied = spill.rows;
        }
        if layers.silver.needs(version) && !keyless {
            let collapsed = spill.collapsed_silver(&work, &ctx, &def, &fill).await?;
            if spill.truncated() || layers.silver.version().is_none() {
                let rows = match collapsed {
                    Some(df) => {
                        let columns: Vec<Expr> = def
                            .silver_schema()
                            .fields()
                            .iter()
                            .map(|f| Expr::Column(Column::new_unqualified(f.name())))
                            .collect();
                        df.filter(Expr::Column(Column::new_unqualified(OP)).not_eq(lit("d")))?
                            .select(columns)?
                    }
                    None => ctx.read_batch(RecordBatch::new_empty(def.silver_schema()))?,
                };
                layers.silver.overwrite_df(rows, version).await?;
            } else if let Some(rows) = collapsed {
                if !backfill.is_empty() {
                    layers.silver.add_columns(&backfill).await?;
                }
                if layers.silver.apply(rows, &def.key_names(), version).await? {
                    self.fold(table).await?;
                }
            }
        }
        metrics::counter!(METRIC_CHANGES, "table" => table.to_string()).increment(applied as u64);
        Ok(applied)
    }

    /// What PostgreSQL shows for `columns` of `def`'s table in the rows that existed before
    /// each was added: column → (text, typed value), for the columns added with a constant
    /// default.
    /// Asked on a plain connection as the CDC role; a default PostgreSQL wrote into the rows by
    /// rewriting the table (a volatile one) is not knowable here and is logged.
    async fn missing_values(
        &self,
        def: &TableDef,
        columns: BTreeSet<String>,
    ) -> Result<HashMap<String, (String, ScalarValue)>, IngestError> {
        let mut out = HashMap::new();
        if columns.is_empty() {
            return Ok(out);
        }
        let table = &def.table;
        let columns: Vec<String> = columns.into_iter().collect();
        let mut conn = snapshot::connect(&self.cfg.source).await?;
        let values = snapshot::missing_values(&mut conn, table, &columns).await;
        conn.close().await?;
        for (column, value) in values? {
            match value {
                MissingValue::Constant(text) => {
                    let Some(c) = def.columns.iter().find(|c| c.name == column) else { continue };
                    let mut builder = ColumnBuilder::new(c.kind(), 1);
                    append_text_logged(&mut builder, &text, table, &column);
                    let scalar = ScalarValue::try_from_array(&builder.finish(), 0)?;
                    tracing::info!(
                        table = %table, column,
                        "column added with a default: rows older than it take its value in silver"
                    );
                    out.insert(column, (text, scalar));
                }
                MissingValue::Null => {}
                MissingValue::Unknown => tracing::warn!(
                    table = %table, column,
                    "column added with a default PostgreSQL did not record for the existing rows (a \
                     volatile default, or the table was rewritten since): their values are not in \
                     the replication stream, so silver leaves them null; `oneclass reconcile` \
                     shows the difference"
                ),
            }
        }
        Ok(out)
    }

    /// A table first seen in the stream (added to the publication while we ran) is copied
    /// before its changes are applied on top.
    async fn ensure_layers(
        &mut self,
        table: &TableName,
        first_lsn: i64,
    ) -> Result<(), IngestError> {
        self.open_layers(table).await?;
        let layers = self.layers(table)?;
        if layers.bronze.version.is_some() && layers.silver.version().is_some() {
            return Ok(());
        }
        let mut conn = snapshot::connect(&self.cfg.source).await?;
        let published = snapshot::published_tables(&mut conn, &self.cfg.publication).await?;
        if let Some(p) = published.into_iter().find(|p| &p.table == table) {
            tracing::warn!(table = %table, "table joined the publication: copying it under a fresh snapshot");
            let version = first_lsn - 1;
            let done = self
                .snapshot_tables(&mut conn, &[p], None, Lsn::from_i64(version), version, true)
                .await?;
            if !done {
                // Nothing of the batch may be written to a table whose copy is missing: its
                // recorded version would make the next start take it for copied.
                return Err(IngestError::Interrupted(format!(
                    "the copy of {table}, which joined the publication (copied on the next start)"
                )));
            }
        }
        conn.close().await?;
        Ok(())
    }
}

/// Appends a text value, or a null with a warning when the value has no Arrow form.
pub(crate) fn append_text_logged(
    builder: &mut ColumnBuilder,
    text: &str,
    table: &TableName,
    column: &str,
) {
    if let Err(reason) = builder.append_text(text) {
        metrics::counter!(METRIC_VALUE_ERRORS, "table" => table.to_string()).increment(1);
        tracing::warn!(table = %table, column, %reason, "value stored as null");
    }
}

fn append_datum(
    builder: &mut ColumnBuilder,
    datum: Option<&Datum>,
    table: &TableName,
    column: &str,
) {
    match datum {
        Some(Datum::Text(text)) => append_text_logged(builder, text, table, column),
        // Binary is never requested; an Unchanged still here had no current row to fill from.
        _ => builder.append_null(),
    }
}

/// The columns of `def` that silver (already written) has not yet.
fn new_to_silver(silver: &Silver, def: &TableDef) -> Vec<String> {
    match (silver.version(), silver.column_names()) {
        (Some(_), Some(have)) => {
            def.columns.iter().filter(|c| !have.contains(&c.name)).map(|c| c.name.clone()).collect()
        }
        _ => Vec::new(),
    }
}

/// What the silver rows a MERGE does not touch get in the columns it adds.
fn backfill_of(
    silver_new: &[String],
    missing: &HashMap<String, (String, ScalarValue)>,
) -> Vec<(String, ScalarValue)> {
    silver_new.iter().filter_map(|n| missing.get(n).map(|(_, v)| (n.clone(), v.clone()))).collect()
}

/// The changes decoded under a shape without some of `def`'s columns (before they were added):
/// their index and those columns' positions in `def`.
fn decoded_without(changes: &[Change], def: &Arc<TableDef>) -> Vec<(usize, Vec<usize>)> {
    changes
        .iter()
        .enumerate()
        .filter(|(_, c)| !Arc::ptr_eq(&c.def, def) && *c.def != **def)
        .filter_map(|(i, c)| {
            let absent: Vec<usize> = (0..def.columns.len())
                .filter(|&j| c.def.position(&def.columns[j].name).is_none())
                .collect();
            (!absent.is_empty()).then_some((i, absent))
        })
        .collect()
}

/// Lays the rows decoded before a schema change out by column name onto the newest shape, which
/// it returns (None for no changes).
fn remap_to_newest(changes: &mut [Change]) -> Option<Arc<TableDef>> {
    let def = changes.last().map(|c| c.def.clone())?;
    for c in changes.iter_mut() {
        if !Arc::ptr_eq(&c.def, &def) && *c.def != *def {
            if let ChangeKind::Row { values, old_key, .. } = &mut c.kind {
                *values = remap(values, &c.def, &def);
                if let Some(old) = old_key {
                    *old = remap(old, &c.def, &def);
                }
            }
            c.def = def.clone();
        }
    }
    Some(def)
}

/// Catching up from [`CATCH_UP_LAG_BYTES`] of lag until none is left (between the two, as before).
fn next_catch_up(was: bool, lag: u64) -> bool {
    if lag >= CATCH_UP_LAG_BYTES {
        true
    } else if lag == 0 {
        false
    } else {
        was
    }
}

/// Runs `work` while telling the server every [`STATUS_INTERVAL`] that we are alive (positions
/// unchanged), so a long write does not hit `wal_sender_timeout`. The reader task keeps reading
/// and decoding the stream meanwhile, up to its budget.
async fn keep_alive<T>(
    repl: &mut ReplicationConnection,
    received: Lsn,
    acked: Lsn,
    work: impl Future<Output = Result<T, IngestError>>,
) -> Result<T, IngestError> {
    let mut work = std::pin::pin!(work);
    let mut status_at = tokio::time::Instant::now() + STATUS_INTERVAL;
    loop {
        tokio::select! {
            biased;
            result = &mut work => return result,
            () = tokio::time::sleep_until(status_at) => {
                repl.send_status(received.max(acked), acked, false).await?;
                status_at = tokio::time::Instant::now() + STATUS_INTERVAL;
            }
        }
    }
}

fn remap(values: &[Datum], from: &TableDef, to: &TableDef) -> Vec<Datum> {
    to.columns
        .iter()
        .map(|c| from.position(&c.name).and_then(|i| values.get(i).cloned()).unwrap_or(Datum::Null))
        .collect()
}

pub(crate) fn key_of<'a>(keys: &[usize], values: &'a [Datum]) -> Vec<&'a Datum> {
    keys.iter().map(|&k| values.get(k).unwrap_or(&Datum::Null)).collect()
}

/// Writes a snapshot copy chunk by chunk, so that memory holds one chunk, not one table. Only
/// the last chunk records the version: until then the layer reads as not yet copied.
struct SnapshotSink {
    bronze: bool,
    silver: bool,
    replace_bronze: bool,
    first: bool,
    /// Rows written so far: also the next `_seq`.
    seq: i64,
    row_lsn: i64,
    taken_at: i64,
}

impl SnapshotSink {
    async fn write(
        &mut self,
        layers: &mut Layers,
        def: &TableDef,
        source: Vec<RecordBatch>,
        version: Option<i64>,
    ) -> Result<(), IngestError> {
        let (bronze, silver) =
            snapshot_layers(def, &source, self.row_lsn, self.taken_at, &mut self.seq)?;
        if self.bronze {
            let mode = if self.first && self.replace_bronze {
                SaveMode::Overwrite
            } else {
                SaveMode::Append
            };
            layers.bronze.write(bronze, mode, version).await?;
        }
        if self.silver {
            let mode = if self.first { SaveMode::Overwrite } else { SaveMode::Append };
            layers.silver.base.write(silver, mode, version).await?;
        }
        self.first = false;
        Ok(())
    }
}

/// What every table of one snapshot is copied with.
#[derive(Debug, Clone, Copy)]
struct CopyUnder {
    row_lsn: i64,
    version: i64,
    taken_at: i64,
    only_missing: bool,
}

/// Tables waiting to be copied, with their lake tables.
type CopyQueue = Arc<std::sync::Mutex<std::collections::VecDeque<(PublishedTable, Layers)>>>;

/// One snapshot worker: on a connection of its own under the exported snapshot `name`, copies
/// tables from `queue` until it is empty (or shutdown). Returns the lake tables it took, and
/// false when shutdown stopped it before the queue was empty.
async fn copy_tables(
    source: crate::SourceConfig,
    name: String,
    queue: CopyQueue,
    shutdown: CancellationToken,
    copy: CopyUnder,
) -> Result<(Vec<(TableName, Layers)>, bool), IngestError> {
    let mut conn = snapshot::connect_under(&source, name).await?;
    let mut copied = Vec::new();
    loop {
        let next = queue.lock().ok().and_then(|mut q| q.pop_front());
        let Some((published, mut layers)) = next else { break };
        if shutdown.is_cancelled() {
            copied.push((published.table, layers));
            let _ = snapshot::execute(&mut conn, "ROLLBACK").await;
            return Ok((copied, false));
        }
        copy_table(&mut conn, &published, &mut layers, copy).await?;
        copied.push((published.table, layers));
    }
    snapshot::execute(&mut conn, "COMMIT").await?;
    conn.close().await?;
    Ok((copied, true))
}

/// Copies one table in chunks (see [`SnapshotSink`]).
async fn copy_table(
    conn: &mut PgConnection,
    published: &PublishedTable,
    layers: &mut Layers,
    copy: CopyUnder,
) -> Result<(), IngestError> {
    let started = Instant::now();
    let def = snapshot::table_def(conn, published).await?;
    let mut sink = SnapshotSink {
        bronze: !copy.only_missing || layers.bronze.version.is_none(),
        silver: !copy.only_missing || layers.silver.version().is_none(),
        // Bronze without a recorded version holds at most an interrupted snapshot: replace it.
        // With one it is history, and the snapshot is appended to it.
        replace_bronze: layers.bronze.version.is_none(),
        first: true,
        seq: 0,
        row_lsn: copy.row_lsn,
        taken_at: copy.taken_at,
    };
    let mut parser = CopyTextParser::new(&def);
    let mut stream = snapshot::copy_out(conn, published, &def).await?;
    while let Some(chunk) = stream.next().await {
        parser.feed(&chunk?)?;
        if parser.buffered_rows() >= SNAPSHOT_CHUNK_ROWS {
            let batches = parser.take_batches()?;
            sink.write(layers, &def, batches, None).await?;
        }
    }
    drop(stream);
    let last = parser.finish()?;
    sink.write(layers, &def, last, Some(copy.version)).await?;
    let rows = u64::try_from(sink.seq).unwrap_or(0);
    metrics::counter!(METRIC_CHANGES, "table" => def.table.to_string()).increment(rows);
    tracing::info!(
        table = %def.table, rows, elapsed_ms = started.elapsed().as_millis() as u64,
        "snapshot copied"
    );
    Ok(())
}

/// Bronze rows of a snapshot copy and the matching silver rows, sharing the source arrays.
fn snapshot_layers(
    def: &TableDef,
    source: &[RecordBatch],
    lsn: i64,
    taken_at: i64,
    seq: &mut i64,
) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>), IngestError> {
    let mut bronze = Vec::with_capacity(source.len());
    let mut silver = Vec::with_capacity(source.len());
    for batch in source {
        let n = batch.num_rows();
        let lsns: ArrayRef = Arc::new(Int64Array::from(vec![lsn; n]));
        let ts: ArrayRef =
            Arc::new(TimestampMicrosecondArray::from(vec![taken_at; n]).with_timezone("UTC"));
        let seqs: ArrayRef = Arc::new(Int64Array::from_iter_values(*seq..*seq + n as i64));
        *seq += n as i64;
        let mut b: Vec<ArrayRef> = batch.columns().to_vec();
        b.extend([
            Arc::new(StringArray::from(vec!["r"; n])) as ArrayRef,
            lsns.clone(),
            seqs,
            ts.clone(),
            Arc::new(Date32Array::from(vec![commit_date(taken_at); n])),
        ]);
        bronze.push(RecordBatch::try_new(def.bronze_schema(), b)?);
        let mut s: Vec<ArrayRef> = batch.columns().to_vec();
        s.extend([lsns, ts]);
        silver.push(RecordBatch::try_new(def.silver_schema(), s)?);
    }
    Ok((bronze, silver))
}

pub(crate) fn build_bronze(def: &TableDef, rows: &[&Change]) -> Result<RecordBatch, IngestError> {
    let mut columns = new_builders(def);
    let mut op = StringBuilder::new();
    let mut lsn = Int64Builder::with_capacity(rows.len());
    let mut seq = Int64Builder::with_capacity(rows.len());
    let mut ts = TimestampMicrosecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
    let mut date = Date32Builder::with_capacity(rows.len());
    for c in rows {
        let ChangeKind::Row { op: row_op, values, .. } = &c.kind else {
            continue;
        };
        for (j, (builder, column)) in columns.iter_mut().zip(&def.columns).enumerate() {
            append_datum(builder, values.get(j), &def.table, &column.name);
        }
        op.append_value(row_op.code());
        lsn.append_value(c.lsn);
        seq.append_value(c.seq);
        ts.append_value(c.commit_ts);
        date.append_value(commit_date(c.commit_ts));
    }
    let mut arrays: Vec<ArrayRef> = columns.iter_mut().map(ColumnBuilder::finish).collect();
    arrays.extend([
        Arc::new(op.finish()) as ArrayRef,
        Arc::new(lsn.finish()),
        Arc::new(seq.finish()),
        Arc::new(ts.finish()),
        Arc::new(date.finish()),
    ]);
    Ok(RecordBatch::try_new(def.bronze_schema(), arrays)?)
}

/// The last change of one key in a batch.
pub(crate) struct SilverRow<'a> {
    delete: bool,
    values: &'a [Datum],
    lsn: i64,
    commit_ts: i64,
}

impl<'a> SilverRow<'a> {
    /// Key text, name text and whether it deletes: for tests of a two-column table.
    #[cfg(test)]
    pub(crate) fn parts(&self) -> (String, Option<String>, bool) {
        let text = |d: Option<&Datum>| match d {
            Some(Datum::Text(t)) => Some(t.clone()),
            _ => None,
        };
        (text(self.values.first()).unwrap_or_default(), text(self.values.get(1)), self.delete)
    }

    pub(crate) fn new(delete: bool, values: &'a [Datum], change: &Change) -> Self {
        Self { delete, values, lsn: change.lsn, commit_ts: change.commit_ts }
    }
}

/// One row per key, the last change winning; an update that moved a row to a new key also
/// deletes the old one.
pub(crate) fn collapse<'a>(def: &TableDef, changes: &[&'a Change]) -> Vec<SilverRow<'a>> {
    let keys = def.key_indices();
    let mut index: HashMap<Vec<&'a Datum>, usize> = HashMap::new();
    let mut out: Vec<SilverRow<'a>> = Vec::new();
    let mut put =
        |key: Vec<&'a Datum>, row: SilverRow<'a>, out: &mut Vec<SilverRow<'a>>| match index
            .get(&key)
        {
            Some(&i) => out[i] = row,
            None => {
                index.insert(key, out.len());
                out.push(row);
            }
        };
    for c in changes {
        let ChangeKind::Row { op, values, old_key } = &c.kind else {
            continue;
        };
        let key = key_of(&keys, values);
        if let Some(old) = old_key {
            let old_key = key_of(&keys, old);
            if old_key != key {
                put(
                    old_key,
                    SilverRow { delete: true, values: old, lsn: c.lsn, commit_ts: c.commit_ts },
                    &mut out,
                );
            }
        }
        put(
            key,
            SilverRow { delete: *op == Op::Delete, values, lsn: c.lsn, commit_ts: c.commit_ts },
            &mut out,
        );
    }
    out
}

pub(crate) fn build_silver<'a>(
    def: &TableDef,
    rows: impl Iterator<Item = &'a SilverRow<'a>>,
    with_op: bool,
) -> Result<RecordBatch, IngestError> {
    let mut columns = new_builders(def);
    let mut op = StringBuilder::new();
    let mut lsn = Int64Builder::new();
    let mut ts = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    for row in rows {
        for (j, (builder, column)) in columns.iter_mut().zip(&def.columns).enumerate() {
            append_datum(builder, row.values.get(j), &def.table, &column.name);
        }
        op.append_value(if row.delete { "d" } else { "u" });
        lsn.append_value(row.lsn);
        ts.append_value(row.commit_ts);
    }
    let mut arrays: Vec<ArrayRef> = columns.iter_mut().map(ColumnBuilder::finish).collect();
    arrays.extend([Arc::new(lsn.finish()) as ArrayRef, Arc::new(ts.finish())]);
    let mut schema = def.silver_schema();
    if with_op {
        arrays.push(Arc::new(op.finish()));
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new(OP, DataType::Utf8, true));
        schema = Arc::new(Schema::new(fields));
    }
    Ok(RecordBatch::try_new(schema, arrays)?)
}

/// Replaces unchanged TOASTed values ('u' in pgoutput: the server does not resend a large
/// value an update did not touch): from an earlier change of the same row in this batch, else
/// from the row's current state in silver. Without either it stays null (logged).
async fn fill_unchanged(
    silver: &Silver,
    def: &TableDef,
    changes: &mut [Change],
) -> Result<(), IngestError> {
    let has_unchanged = |c: &Change| matches!(&c.kind, ChangeKind::Row { values, .. } if values.contains(&Datum::Unchanged));
    if !changes.iter().any(has_unchanged) {
        return Ok(());
    }
    let keys = def.key_indices();
    let owned_key =
        |values: &[Datum]| -> Vec<Datum> { key_of(&keys, values).into_iter().cloned().collect() };
    let mut latest: HashMap<Vec<Datum>, Vec<Datum>> = HashMap::new();
    let mut unresolved = Vec::new();
    for (i, c) in changes.iter_mut().enumerate() {
        match &mut c.kind {
            ChangeKind::Truncate => latest.clear(),
            ChangeKind::Row { op: Op::Delete, values, .. } => {
                latest.remove(&owned_key(values));
            }
            ChangeKind::Row { values, old_key, .. } => {
                let previous_key = old_key.as_deref().map_or_else(|| owned_key(values), owned_key);
                if let Some(previous) = latest.remove(&previous_key) {
                    for (v, p) in values.iter_mut().zip(previous) {
                        if *v == Datum::Unchanged {
                            *v = p;
                        }
                    }
                }
                if values.contains(&Datum::Unchanged) {
                    unresolved.push(i);
                }
                latest.insert(owned_key(values), values.clone());
            }
        }
    }
    if unresolved.is_empty() || keys.is_empty() {
        return Ok(());
    }

    let needed: Vec<usize> = (0..def.columns.len())
        .filter(|&j| {
            unresolved.iter().any(|&i| {
                matches!(&changes[i].kind, ChangeKind::Row { values, .. } if values.get(j) == Some(&Datum::Unchanged))
            })
        })
        .collect();
    let key_columns: Vec<String> = keys.iter().map(|&k| def.columns[k].name.clone()).collect();
    let needed_columns: Vec<String> = needed.iter().map(|&j| def.columns[j].name.clone()).collect();
    let mut scalars = Vec::new();
    let mut canonical = Vec::new();
    for &i in &unresolved {
        // An update that moved the row to a new key finds its current state under the old one.
        let ChangeKind::Row { values, old_key, .. } = &changes[i].kind else { continue };
        let (s, c) = typed_key(def, &keys, old_key.as_deref().unwrap_or(values))?;
        scalars.push(s);
        canonical.push(c);
    }
    let current = silver.lookup(&key_columns, &scalars, &needed_columns).await?;
    tracing::debug!(table = %def.table, rows = unresolved.len(), found = current.len(), "filled unchanged TOASTed values from silver");
    for (&i, key) in unresolved.iter().zip(&canonical) {
        let ChangeKind::Row { values, .. } = &mut changes[i].kind else { continue };
        let row = current.get(key);
        if row.is_none() {
            tracing::warn!(table = %def.table, "no current row to fill an unchanged TOASTed value from; stored as null");
        }
        for (pos, &j) in needed.iter().enumerate() {
            if values.get(j) == Some(&Datum::Unchanged) {
                values[j] = match row.and_then(|r| r.get(pos).cloned().flatten()) {
                    Some(text) => Datum::Text(text),
                    None => Datum::Null,
                };
            }
        }
    }
    Ok(())
}

/// A key as typed scalars (for the lookup filter) and as Arrow's display strings (to match
/// the rows that come back, whatever string layout DataFusion reads them in).
fn typed_key(
    def: &TableDef,
    keys: &[usize],
    values: &[Datum],
) -> Result<(Vec<ScalarValue>, Vec<String>), IngestError> {
    let mut scalars = Vec::with_capacity(keys.len());
    let mut strings = Vec::with_capacity(keys.len());
    for &k in keys {
        let column = &def.columns[k];
        let kind: ColumnKind = column.kind();
        let mut b = ColumnBuilder::new(kind, 1);
        append_datum(&mut b, values.get(k), &def.table, &column.name);
        let array = b.finish();
        scalars.push(ScalarValue::try_from_array(&array, 0)?);
        strings.push(array_value_to_string(&array, 0)?);
    }
    Ok((scalars, strings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::ColumnDef;
    use crate::values::oid;

    fn def() -> Arc<TableDef> {
        Arc::new(TableDef {
            table: TableName::new("sis", "learners"),
            columns: vec![
                ColumnDef { name: "id".into(), type_oid: oid::INT4, typmod: -1, key: true },
                ColumnDef { name: "name".into(), type_oid: oid::TEXT, typmod: -1, key: false },
            ],
        })
    }

    fn row(
        def: &Arc<TableDef>,
        lsn: i64,
        seq: i64,
        op: Op,
        id: &str,
        name: Option<&str>,
    ) -> Change {
        Change {
            def: def.clone(),
            lsn,
            seq,
            commit_ts: 0,
            kind: ChangeKind::Row {
                op,
                values: vec![
                    Datum::Text(id.into()),
                    name.map_or(Datum::Null, |n| Datum::Text(n.into())),
                ],
                old_key: None,
            },
        }
    }

    #[test]
    fn collapse_keeps_the_last_change_per_key() {
        let d = def();
        let changes = [
            row(&d, 10, 0, Op::Insert, "1", Some("a")),
            row(&d, 10, 1, Op::Update, "1", Some("b")),
            row(&d, 11, 0, Op::Insert, "2", Some("c")),
            row(&d, 12, 0, Op::Delete, "2", None),
            row(&d, 12, 1, Op::Delete, "3", None),
        ];
        let refs: Vec<&Change> = changes.iter().collect();
        let rows = collapse(&d, &refs);
        assert_eq!(rows.len(), 3);
        assert!(!rows[0].delete);
        assert_eq!(rows[0].values[1], Datum::Text("b".into()));
        assert!(rows[1].delete && rows[1].lsn == 12);
        assert!(rows[2].delete);
        let batch = build_silver(&d, rows.iter(), true).expect("batch");
        assert_eq!(batch.num_columns(), 5);
        assert_eq!(batch.num_rows(), 3);
    }

    #[test]
    fn key_change_deletes_the_old_key() {
        let d = def();
        let mut c = row(&d, 10, 0, Op::Update, "2", Some("moved"));
        if let ChangeKind::Row { old_key, .. } = &mut c.kind {
            *old_key = Some(vec![Datum::Text("1".into()), Datum::Null]);
        }
        let rows = collapse(&d, &[&c]);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].delete && rows[0].values[0] == Datum::Text("1".into()));
        assert!(!rows[1].delete);
    }

    #[test]
    fn bronze_rows_carry_bookkeeping_columns() {
        let d = def();
        let changes =
            [row(&d, 10, 0, Op::Insert, "1", Some("a")), row(&d, 10, 1, Op::Delete, "1", None)];
        let refs: Vec<&Change> = changes.iter().collect();
        let batch = build_bronze(&d, &refs).expect("batch");
        assert_eq!(batch.schema(), d.bronze_schema());
        assert_eq!(batch.num_rows(), 2);
    }

    async fn count_rows(table: &LakeTable) -> usize {
        let ctx = deltalake::datafusion::prelude::SessionContext::new();
        let provider = table.table.table_provider().await.expect("provider");
        let batches = ctx.read_table(provider).expect("read").collect().await.expect("collect");
        batches.iter().map(RecordBatch::num_rows).sum()
    }

    fn source(def: &TableDef, ids: std::ops::Range<i32>) -> Vec<RecordBatch> {
        let mut builders = new_builders(def);
        for id in ids {
            let _ = builders[0].append_text(&id.to_string());
            let _ = builders[1].append_text("x");
        }
        let arrays = builders.iter_mut().map(ColumnBuilder::finish).collect();
        vec![
            RecordBatch::try_new(Arc::new(Schema::new(def.source_fields())), arrays)
                .expect("batch"),
        ]
    }

    /// Chunks without a version leave a layer that reads as not yet copied; the next snapshot
    /// replaces it, and only the last chunk records the version.
    #[tokio::test]
    async fn chunked_snapshot_records_its_version_last() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lake = Lake::new(
            &url::Url::from_directory_path(dir.path()).expect("url"),
            &Default::default(),
        )
        .expect("lake");
        let d = def();
        let open = || async {
            Layers {
                bronze: lake.open(BRONZE, &d.table).await.expect("bronze"),
                silver: Silver::open(
                    &lake,
                    &d.table,
                    PendingPolicy { above_rows: 1_000_000, fold_rows: 1_000_000 },
                )
                .await
                .expect("silver"),
            }
        };
        let sink = |replace_bronze| SnapshotSink {
            bronze: true,
            silver: true,
            replace_bronze,
            first: true,
            seq: 0,
            row_lsn: 100,
            taken_at: 0,
        };

        // Interrupted after one chunk.
        let mut layers = open().await;
        let mut s = sink(true);
        s.write(&mut layers, &d, source(&d, 0..3), None).await.expect("chunk");
        let layers = open().await;
        assert!(layers.bronze.exists() && layers.bronze.version.is_none());
        assert!(layers.silver.version().is_none());

        // Copied again, in two chunks.
        let mut layers = open().await;
        let mut s = sink(layers.bronze.version.is_none());
        s.write(&mut layers, &d, source(&d, 0..4), None).await.expect("chunk");
        s.write(&mut layers, &d, source(&d, 4..5), Some(99)).await.expect("last chunk");
        assert_eq!(s.seq, 5);
        let layers = open().await;
        assert_eq!(layers.bronze.version, Some(99));
        assert_eq!(layers.silver.version(), Some(99));
        assert_eq!(count_rows(&layers.bronze).await, 5);
        assert_eq!(count_rows(&layers.silver.base).await, 5);
    }

    #[test]
    fn catch_up_from_a_large_lag_until_none_is_left() {
        assert!(!next_catch_up(false, CATCH_UP_LAG_BYTES - 1));
        assert!(next_catch_up(false, CATCH_UP_LAG_BYTES));
        assert!(next_catch_up(true, 1));
        assert!(!next_catch_up(true, 0));
        assert!(!next_catch_up(false, 1));
    }

    #[test]
    fn remaps_by_column_name() {
        let old = def();
        let mut new = (*old).clone();
        new.columns.insert(
            1,
            ColumnDef { name: "extra".into(), type_oid: oid::TEXT, typmod: -1, key: false },
        );
        let values = vec![Datum::Text("1".into()), Datum::Text("a".into())];
        assert_eq!(
            remap(&values, &old, &new),
            vec![Datum::Text("1".into()), Datum::Null, Datum::Text("a".into())]
        );
    }
}
