//! The Delta Lake destination: every published table as a bronze and a silver Delta table (see
//! `layers`), each commit carrying the source commit LSN as the application transaction
//! `oneclass-ingest` (see `delta`), silver's pending changes (see `silver`) and the tables stopped
//! by an incompatible schema change (see `stopped`).

pub(crate) mod delta;
pub(crate) mod layers;
pub(crate) mod silver;
pub(crate) mod stopped;
pub(crate) mod write;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use url::Url;

use crate::change::Change;
use crate::config::IngestConfig;
use crate::destination::{Destination, MissingValues};
use crate::error::IngestError;
use crate::lake::delta::{BRONZE, Lake, Maintained, SILVER};
use crate::lake::layers::{DeltaCopy, Layers, SnapshotSink};
use crate::lake::silver::PendingPolicy;
use crate::lake::stopped::StoppedTables;
use crate::lake::write::{fill_unchanged, new_to_silver, write_changes, write_spilled};
use crate::lsn::Lsn;
use crate::spill::{self, TableSpill};
use crate::table::{TableDef, TableName};
use oneclass_lake::StorageOptions;

/// Tables whose lake tables are opened at once at the start.
const OPEN_AT_ONCE: usize = 8;
/// The least memory the collapse of a spilled table gets before its sort spills to disk.
const MIN_SPILL_SORT_MEMORY: usize = 32 << 20;

pub(crate) struct DeltaDestination {
    lake: Lake,
    root: Url,
    options: StorageOptions,
    policy: PendingPolicy,
    tables: HashMap<TableName, Layers>,
    /// Tables stopped by an incompatible schema change (loaded from the lake at the start).
    stopped: Option<StoppedTables>,
    warned_keyless: BTreeSet<TableName>,
    /// Where the collapse of a spilled table spills its sort, and its memory.
    spill_root: PathBuf,
    spill_memory: usize,
    /// Compaction and vacuum (see [`crate::lake::delta::LakeTable::maintain`]).
    compact_min_files: usize,
    compact_target_bytes: u64,
    time_travel: Duration,
}

impl DeltaDestination {
    pub(crate) fn new(cfg: &IngestConfig) -> Result<Self, IngestError> {
        Ok(Self {
            lake: Lake::new(&cfg.lake, &cfg.storage_options)?,
            root: cfg.lake.clone(),
            options: cfg.storage_options.clone(),
            policy: PendingPolicy { above_rows: cfg.pending_above_rows, fold_rows: cfg.fold_rows },
            tables: HashMap::new(),
            stopped: None,
            warned_keyless: BTreeSet::new(),
            spill_root: cfg.spill_root(),
            spill_memory: cfg.spill_bytes.saturating_mul(2).max(MIN_SPILL_SORT_MEMORY),
            compact_min_files: cfg.compact_min_files,
            compact_target_bytes: cfg.compact_target_bytes,
            time_travel: cfg.time_travel,
        })
    }

    fn layers(&mut self, table: &TableName) -> Result<&mut Layers, IngestError> {
        self.tables
            .get_mut(table)
            .ok_or_else(|| IngestError::Config(format!("lake tables of {table} are not open")))
    }

    /// Whether `table` has a replica identity key (silver is kept for it); warns once when not.
    fn keyed(&mut self, table: &TableName, def: &TableDef) -> bool {
        let keyless = def.key_indices().is_empty();
        if keyless && self.warned_keyless.insert(table.clone()) {
            tracing::warn!(table = %table, "table has no replica identity key: bronze only, silver is not maintained");
        }
        !keyless
    }
}

impl Destination for DeltaDestination {
    type Copy = DeltaCopy;

    async fn start(&mut self) -> Result<(), IngestError> {
        self.stopped = Some(StoppedTables::load(&self.root, &self.options).await?);
        Ok(())
    }

    /// Several at once: loading a large table's log takes a while, and a restart waits for all
    /// of them.
    async fn open(&mut self, tables: Vec<TableName>) -> Result<(), IngestError> {
        let (lake, policy) = (self.lake.clone(), self.policy);
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

    fn is_copied(&self, table: &TableName) -> bool {
        self.tables.get(table).is_some_and(Layers::is_copied)
    }

    fn needs(&self, table: &TableName, lsn: i64) -> bool {
        self.tables.get(table).is_none_or(|l| l.needs(lsn))
    }

    fn resume_lsn(&self) -> Option<i64> {
        self.tables.values().flat_map(Layers::versions).flatten().min()
    }

    fn is_stopped(&self, table: &TableName) -> bool {
        self.stopped.as_ref().is_some_and(|s| s.is_stopped(table))
    }

    fn incompatibility(&self, table: &TableName, defs: &[&TableDef]) -> Option<String> {
        self.tables.get(table)?.incompatibility(defs)
    }

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

    /// A stopped table is copied (and so brought back) only once both its lake tables are gone,
    /// and its marker is removed before the copy, so that a crash after the copy cannot leave it
    /// stopped for good. With one of them left it stays stopped: the other layer would be
    /// copied with the new types beside old ones.
    async fn may_copy(&mut self, table: &TableName) -> Result<bool, IngestError> {
        if !self.is_stopped(table) {
            return Ok(true);
        }
        if !self.tables.get(table).is_none_or(Layers::is_gone) {
            tracing::error!(table = %table, "stopped table still has a bronze or silver table in the lake: delete both to copy it again");
            return Ok(false);
        }
        if let Some(stopped) = self.stopped.as_mut() {
            stopped.resume(table).await?;
        }
        Ok(true)
    }

    async fn start_copy(
        &mut self,
        table: &TableName,
        row_lsn: i64,
        taken_at: i64,
        only_missing: bool,
    ) -> Result<DeltaCopy, IngestError> {
        self.open(vec![table.clone()]).await?;
        let layers = self
            .tables
            .remove(table)
            .ok_or_else(|| IngestError::Config(format!("lake tables of {table} are not open")))?;
        let sink = SnapshotSink::new(&layers, row_lsn, taken_at, only_missing);
        Ok(DeltaCopy { layers, sink })
    }

    fn end_copy(&mut self, table: TableName, copy: DeltaCopy) {
        self.tables.insert(table, copy.layers);
    }

    fn values_needed(
        &self,
        table: &TableName,
        def: &TableDef,
        absent: &[String],
        lsn: i64,
    ) -> BTreeSet<String> {
        let Some(layers) = self.tables.get(table) else { return BTreeSet::new() };
        if def.key_indices().is_empty() || !layers.silver.needs(lsn) {
            return BTreeSet::new();
        }
        new_to_silver(&layers.silver, def).into_iter().chain(absent.iter().cloned()).collect()
    }

    async fn apply(
        &mut self,
        table: &TableName,
        def: Arc<TableDef>,
        changes: Vec<Change>,
        absent: Vec<(usize, Vec<usize>)>,
        values: MissingValues,
        version: i64,
    ) -> Result<usize, IngestError> {
        let keyed = self.keyed(table, &def);
        let layers = self.layers(table)?;
        write_changes(layers, table, &def, changes, &absent, &values, !keyed, version).await
    }

    async fn fill_unchanged(
        &self,
        table: &TableName,
        def: &TableDef,
        changes: &mut [Change],
    ) -> Result<(), IngestError> {
        let layers = self
            .tables
            .get(table)
            .ok_or_else(|| IngestError::Config(format!("lake tables of {table} are not open")))?;
        fill_unchanged(&layers.silver, def, changes).await
    }

    async fn apply_spilled(
        &mut self,
        table: &TableName,
        spill: &TableSpill,
        values: MissingValues,
        version: i64,
    ) -> Result<usize, IngestError> {
        let Some(def) = spill.def() else {
            return Ok(0);
        };
        let keyed = self.keyed(table, &def);
        let work = spill::session(&self.spill_root, self.spill_memory)?;
        let layers = self.layers(table)?;
        write_spilled(layers, table, &def, spill, &values, !keyed, &work, version).await
    }

    fn tables(&self) -> Vec<TableName> {
        let mut names: Vec<TableName> = self.tables.keys().cloned().collect();
        names.sort();
        names
    }

    async fn maintain(
        &mut self,
        table: &TableName,
    ) -> Vec<(&'static str, Result<Maintained, IngestError>)> {
        let (min_files, target, retain) =
            (self.compact_min_files, self.compact_target_bytes, self.time_travel);
        let Some(layers) = self.tables.get_mut(table) else { return Vec::new() };
        let bronze = layers.bronze.maintain(min_files, target, retain).await;
        let silver = layers.silver.maintain(min_files, target, retain).await;
        vec![(BRONZE, bronze), (SILVER, silver)]
    }

    fn pending(&self) -> Vec<TableName> {
        let mut names: Vec<TableName> = self
            .tables
            .iter()
            .filter(|(_, l)| l.silver.has_pending())
            .map(|(n, _)| n.clone())
            .collect();
        names.sort();
        names
    }

    async fn fold(&mut self, table: &TableName) -> Result<u64, IngestError> {
        self.layers(table)?.fold(table).await
    }
}
