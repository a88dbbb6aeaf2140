//! A silver table as ingest keeps it: the Delta table, and for a table too large to MERGE a batch
//! into (a MERGE rewrites every file holding a changed key, and random updates touch all of them)
//! its pending changes, appended batch by batch and folded into the table now and then (see
//! [`oneclass_lake::silver`] for how readers see both as one).
//!
//! A table takes its changes by MERGE while it holds fewer than `pending_above_rows` rows and
//! nothing is pending; from then on they are appended to the pending table, which is folded in
//! (one MERGE of the newest pending row per key) when it holds `fold_rows`, when ingest has been
//! idle for `fold_idle`, at every maintenance pass, and before columns are added to the table.
//! The recorded LSN of silver is the newer of the two tables'.

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::datafusion::common::ScalarValue;
use deltalake::datafusion::prelude::{DataFrame, SessionContext};
use deltalake::protocol::SaveMode;
use oneclass_lake::silver::{holds_files, latest_pending, pending_description, pending_keys};
use std::collections::HashMap;
use std::time::Duration;

use crate::error::IngestError;
use crate::lake::delta::{Lake, LakeTable, Maintained};
use crate::table::TableName;

/// When a table's changes go to its pending table, and when that is folded in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingPolicy {
    pub above_rows: u64,
    pub fold_rows: u64,
}

pub(crate) struct Silver {
    pub base: LakeTable,
    pub pending: LakeTable,
    policy: PendingPolicy,
}

impl Silver {
    pub(crate) async fn open(
        lake: &Lake,
        table: &TableName,
        policy: PendingPolicy,
    ) -> Result<Self, IngestError> {
        let base = lake.open(crate::lake::delta::SILVER, table).await?;
        let pending = lake.open_pending(&base.url).await?;
        Ok(Self { base, pending, policy })
    }

    /// The LSN up to which silver holds every change.
    pub(crate) fn version(&self) -> Option<i64> {
        self.base.version.max(self.pending.version)
    }

    /// Whether a change committed at `lsn` still has to be applied.
    pub(crate) fn needs(&self, lsn: i64) -> bool {
        self.version().is_none_or(|v| lsn > v)
    }

    /// Pending rows readers see: written after the table's last fold.
    pub(crate) fn has_pending(&self) -> bool {
        holds_files(&self.pending.table)
            && self.pending.version.is_some_and(|p| self.base.version.is_none_or(|b| p > b))
    }

    pub(crate) fn pending_rows(&self) -> u64 {
        rows(&self.pending)
    }

    /// The schemas silver holds: the table's, and the pending table's when there is one.
    pub(crate) fn arrow_schemas(&self) -> Vec<SchemaRef> {
        [self.base.arrow_schema(), self.pending.arrow_schema()].into_iter().flatten().collect()
    }

    /// Columns either table has (None before the table's first commit).
    pub(crate) fn column_names(&self) -> Option<Vec<String>> {
        let mut names = self.base.column_names()?;
        for name in self.pending.column_names().unwrap_or_default() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Some(names)
    }

    /// Replaces the table's content: whatever is pending is older, so reads as nothing (and is
    /// emptied at the next fold).
    pub(crate) async fn overwrite(
        &mut self,
        batches: Vec<RecordBatch>,
        version: Option<i64>,
    ) -> Result<(), IngestError> {
        self.base.write(batches, SaveMode::Overwrite, version).await
    }

    pub(crate) async fn overwrite_df(
        &mut self,
        rows: DataFrame,
        version: i64,
    ) -> Result<(), IngestError> {
        self.base.write_df(rows, SaveMode::Overwrite, Some(version)).await
    }

    /// Applies one collapsed batch (`source`: one row per key, with `_op`): MERGE into the
    /// table, or an append to the pending table (see the module). Returns true when the pending
    /// table has grown to its fold size.
    pub(crate) async fn apply(
        &mut self,
        source: DataFrame,
        keys: &[String],
        version: i64,
    ) -> Result<bool, IngestError> {
        if !self.has_pending() && rows(&self.base) < self.policy.above_rows {
            self.base.merge(source, keys, version).await?;
            return Ok(false);
        }
        if holds_files(&self.pending.table) && !self.has_pending() {
            // Left over from the last fold: readers skip it; empty it before appending.
            self.pending.clear().await?;
        }
        // Taken when the first append creates the table.
        self.pending.describe(pending_description(keys));
        self.pending.write_df(source, SaveMode::Append, Some(version)).await?;
        Ok(self.pending_rows() >= self.policy.fold_rows)
    }

    /// Adds columns to the table (see [`LakeTable::add_columns`]), folding first: the pending
    /// rows then never lack a column the table has.
    pub(crate) async fn add_columns(
        &mut self,
        columns: &[(String, ScalarValue)],
    ) -> Result<(), IngestError> {
        self.fold().await?;
        self.base.add_columns(columns).await
    }

    /// MERGE of the pending rows into the table, which then records the pending table's LSN;
    /// then the pending table is emptied. Returns how many pending rows were folded in.
    pub(crate) async fn fold(&mut self) -> Result<u64, IngestError> {
        if !holds_files(&self.pending.table) {
            return Ok(0);
        }
        let mut folded = 0;
        if self.has_pending() {
            let keys = pending_keys(&self.pending.table).ok_or_else(|| {
                IngestError::Config(format!(
                    "{}: the pending table does not name its key columns",
                    self.pending.url
                ))
            })?;
            let ctx = SessionContext::new();
            self.pending
                .table
                .update_datafusion_session(&ctx.state())
                .map_err(IngestError::delta(&self.pending.url))?;
            let provider = self.pending.table.table_provider().await?;
            let source = latest_pending(ctx.read_table(provider)?, &keys, self.base.version)?;
            let version = self.pending.version.unwrap_or_default();
            folded = self.pending_rows();
            self.base.merge(source, &keys, version).await?;
        }
        // Everything in it is at or below what the table records now.
        self.pending.clear().await?;
        Ok(folded)
    }

    /// Current text values from silver as readers see it (see [`LakeTable::lookup`]).
    pub(crate) async fn lookup(
        &self,
        key_columns: &[String],
        keys: &[Vec<ScalarValue>],
        columns: &[String],
    ) -> Result<HashMap<Vec<String>, Vec<Option<String>>>, IngestError> {
        if keys.is_empty() || !self.base.exists() {
            return Ok(HashMap::new());
        }
        let pending = self.has_pending().then_some(&self.pending.table);
        let ctx = SessionContext::new();
        for table in [Some(&self.base.table), pending].into_iter().flatten() {
            table
                .update_datafusion_session(&ctx.state())
                .map_err(IngestError::delta(&self.base.url))?;
        }
        let provider = oneclass_lake::silver::silver_provider(&self.base.table, pending).await?;
        crate::lake::delta::lookup_in(&ctx, provider, key_columns, keys, columns).await
    }

    /// Folds, then compacts and vacuums the table and vacuums the pending table.
    pub(crate) async fn maintain(
        &mut self,
        min_files: usize,
        target: u64,
        retain: Duration,
    ) -> Result<Maintained, IngestError> {
        self.fold().await?;
        let mut done = self.base.maintain(min_files, target, retain).await?;
        let pending = self.pending.maintain(usize::MAX, target, retain).await?;
        done.files_vacuumed += pending.files_vacuumed;
        Ok(done)
    }
}

/// Rows the table holds, from its files' statistics.
fn rows(table: &LakeTable) -> u64 {
    let Ok(state) = table.table.snapshot() else { return 0 };
    state.log_data().iter().map(|f| f.num_records().unwrap_or(0) as u64).sum()
}
