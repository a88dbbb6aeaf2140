//! The CDC loop: prepare the slot and the initial snapshot, then stream pgoutput, buffer whole
//! transactions, write each batch to the destination (bronze append and silver merge in the
//! lake) with the source commit LSN recorded in the same commits, and only then acknowledge to
//! PostgreSQL. What happens to a batch is in the stages (`crate::stage`); what the lake does
//! with it, behind [`Destination`].

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::Connection;
use tokio_util::sync::CancellationToken;

use crate::change::{Change, ChangeKind, Op};
use crate::config::IngestConfig;
use crate::destination::Destination;
use crate::error::IngestError;
use crate::lsn::Lsn;
use crate::metrics::{METRIC_LAG_SECONDS, METRIC_LAST_APPLIED_LSN};
use crate::monitor::Progress;
use crate::source::pgoutput::{Datum, PgOutput};
use crate::source::replication::{
    PG_EPOCH_OFFSET_MICROS, ReplicationConnection, ReplicationMessage, STATUS_INTERVAL,
};
use crate::source::sql::{self, PublishedTable};
use crate::spill::{self, TxnSpill};
use crate::stage::{apply, maintain, snapshot, spilled};
use crate::table::{TableDef, TableName};

/// A batch is written once the stream has brought nothing for this long: the server has sent
/// what it had, so the batch is as large as it will get soon.
const LINGER: Duration = Duration::from_millis(50);
/// How long a restart waits for the previous walsender to let go of the slot.
const SLOT_BUSY_WAIT: Duration = Duration::from_secs(60);
/// Catching up starts when the server's WAL is this far ahead of what we have received…
const CATCH_UP_LAG_BYTES: u64 = 16 << 20;
/// …and a batch is then written at the latest this long after its first transaction.
const CATCH_UP_FLUSH_INTERVAL: Duration = Duration::from_secs(5);

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

pub(crate) struct Pipeline<D: Destination> {
    cfg: IngestConfig,
    /// Where the changes go: the loop asks it what it holds, and hands it whole batches.
    dest: D,
    shutdown: CancellationToken,
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
    /// Shared with the monitor: the applied position, for the lag in bytes.
    progress: Arc<Progress>,
    /// When the destination is next compacted and vacuumed.
    next_maintenance: Option<Instant>,
    /// When a batch was last written (pending changes are folded in once this is long ago).
    last_write: Instant,
}

impl<D: Destination> Pipeline<D> {
    pub(crate) fn new(
        cfg: IngestConfig,
        dest: D,
        shutdown: CancellationToken,
        progress: Arc<Progress>,
    ) -> Self {
        let spill_root = cfg.spill_root();
        let next_maintenance = cfg.maintenance_interval.map(|i| Instant::now() + i);
        Self {
            cfg,
            dest,
            shutdown,
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
            next_maintenance,
            last_write: Instant::now(),
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
        self.dest.start().await?;
        let mut catalog = sql::connect(&self.cfg.source).await?;
        let published = sql::published_tables(&mut catalog, &self.cfg.publication).await?;
        if published.is_empty() {
            tracing::warn!(publication = %self.cfg.publication, "the publication lists no tables");
        }
        let started = Instant::now();
        self.dest.open(published.iter().map(|p| p.table.clone()).collect()).await?;
        tracing::info!(
            tables = published.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "lake tables open"
        );
        let slot = sql::slot_state(&mut catalog, &self.cfg.slot).await?;
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
                let copied = snapshot::copyable(&mut self.dest, &published).await?;
                let done = snapshot::snapshot_tables(
                    &mut self.dest,
                    &self.cfg,
                    &self.shutdown,
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
                let missing: Vec<PublishedTable> =
                    published.iter().filter(|p| !self.dest.is_copied(&p.table)).cloned().collect();
                let missing = snapshot::copyable(&mut self.dest, &missing).await?;
                if !missing.is_empty() {
                    // Copied under a fresh snapshot, newer than the slot position: changes
                    // between the two are streamed again on top, so silver converges, and bronze
                    // may hold such a change both as a snapshot row and as the change itself.
                    tracing::warn!(
                        tables = ?missing.iter().map(|p| p.table.to_string()).collect::<Vec<_>>(),
                        "published tables without lake tables: copying them under a fresh snapshot"
                    );
                    let version = confirmed.as_i64() - 1;
                    let done = snapshot::snapshot_tables(
                        &mut self.dest,
                        &self.cfg,
                        &self.shutdown,
                        &mut catalog,
                        &missing,
                        None,
                        confirmed,
                        version,
                        true,
                    )
                    .await?;
                    if !done {
                        repl.close().await;
                        return Ok(None);
                    }
                }
                self.acked = confirmed;
                // The server starts at the later of this and the slot's confirmed position.
                let resume = self.dest.resume_lsn().map_or(confirmed, Lsn::from_i64);
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
            let (received, acked) = (self.received, self.acked);
            if self.batch.last.is_none()
                && self.next_maintenance.is_some_and(|t| Instant::now() >= t)
            {
                self.next_maintenance = self.cfg.maintenance_interval.map(|i| Instant::now() + i);
                maintain::maintain(&mut self.dest, repl, received, acked).await;
            }
            if self.batch.last.is_none()
                && self.txn.is_none()
                && self.last_write.elapsed() >= self.cfg.fold_idle
                && !self.dest.pending().is_empty()
            {
                maintain::fold_idle(&mut self.dest, repl, received, acked).await;
                self.last_write = Instant::now();
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
            if self.dest.is_stopped(&change.def.table) {
                continue;
            }
            change.lsn = lsn;
            change.commit_ts = committed.commit_ts;
            if !self.dest.needs(&change.def.table, lsn) {
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
            let (cfg, shutdown) = (&self.cfg, &self.shutdown);
            let apply = apply::apply_table(&mut self.dest, cfg, shutdown, &table, changes, version);
            applied += repl.keep_alive(received, acked, apply).await?;
        }
        self.last_write = Instant::now();
        self.acknowledge(repl, last).await?;
        tracing::debug!(
            changes = applied, bytes, catching_up, lsn = %last.commit_lsn, acked = %self.acked,
            age_ms,
            elapsed_ms = started.elapsed().as_millis() as u64, "batch applied"
        );
        Ok(())
    }

    /// Moves the in-memory changes of the open transaction to its spill files.
    async fn spill_txn(&mut self) -> Result<(), IngestError> {
        if let Some(mut txn) = self.txn.take() {
            let changes = std::mem::take(&mut txn.changes);
            txn.bytes = 0;
            let spilled = spilled::spill_changes(
                &mut self.dest,
                &self.spill_root,
                txn.lsn,
                changes,
                &mut txn.spill,
            )
            .await;
            self.txn = Some(txn);
            spilled?;
        }
        Ok(())
    }

    /// Applies a spilled transaction (see [`spilled::apply`]), then acknowledges it.
    async fn apply_spilled(
        &mut self,
        repl: &mut ReplicationConnection,
        mut txn: OpenTxn,
        last: Committed,
    ) -> Result<(), IngestError> {
        let started = Instant::now();
        let (received, acked) = (self.received, self.acked);
        let changes = std::mem::take(&mut txn.changes);
        let spill = spilled::spill_changes(
            &mut self.dest,
            &self.spill_root,
            txn.lsn,
            changes,
            &mut txn.spill,
        );
        repl.keep_alive(received, acked, spill).await?;
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
        let (dest, cfg, shutdown) = (&mut self.dest, &self.cfg, &self.shutdown);
        let applied =
            spilled::apply(dest, cfg, shutdown, repl, received, acked, &spill, version).await?;
        let spilled = spill.changes;
        drop(spill);
        self.acknowledge(repl, last).await?;
        tracing::info!(
            changes = applied, spilled, lsn = %last.commit_lsn, acked = %self.acked,
            elapsed_ms = started.elapsed().as_millis() as u64, "spilled transaction applied"
        );
        Ok(())
    }

    /// Tells the server everything up to `last` is durable in the destination.
    async fn acknowledge(
        &mut self,
        repl: &mut ReplicationConnection,
        last: Committed,
    ) -> Result<(), IngestError> {
        self.acked = self.acked.max(last.end_lsn);
        self.send_status(repl).await?;
        self.progress.applied(self.acked);
        metrics::gauge!(METRIC_LAST_APPLIED_LSN).set(last.commit_lsn.0 as f64);
        let now = chrono::Utc::now().timestamp_micros();
        metrics::gauge!(METRIC_LAG_SECONDS).set((now - last.commit_ts).max(0) as f64 / 1e6);
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_up_from_a_large_lag_until_none_is_left() {
        assert!(!next_catch_up(false, CATCH_UP_LAG_BYTES - 1));
        assert!(next_catch_up(false, CATCH_UP_LAG_BYTES));
        assert!(next_catch_up(true, 1));
        assert!(!next_catch_up(true, 0));
        assert!(!next_catch_up(false, 1));
    }
}
