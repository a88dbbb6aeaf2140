//! The lake side: opening bronze/silver Delta tables, appending changelog rows, merging current
//! state, and the application transaction (`oneclass-ingest`, version = source commit LSN) that
//! every commit carries so a restart knows exactly what is already applied.

use std::collections::HashMap;
use std::num::NonZeroU64;

use deltalake::DeltaTable;
use deltalake::arrow::array::{Array, ArrayRef, RecordBatch};
use deltalake::arrow::util::display::array_value_to_string;
use deltalake::datafusion::common::{Column, ScalarValue, TableReference};
use deltalake::datafusion::prelude::{DataFrame, Expr, SessionContext, lit, when};
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::operations::write::{SchemaMode, WriteBuilder};
use deltalake::parquet::basic::Compression;
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::protocol::SaveMode;
use oneclass_lake::StorageOptions;
use url::Url;

use crate::error::IngestError;
use crate::table::{COMMIT_DATE, LSN, OP, TableName};

pub use oneclass_lake::silver::APP_ID;

pub use oneclass_lake::{BRONZE, SILVER};

pub use oneclass_lake::table_url as lake_table_url;

/// The lake root, with object stores registered for its scheme, and the storage options every
/// table there is opened with.
#[derive(Debug, Clone)]
pub struct Lake {
    root: Url,
    options: StorageOptions,
}

impl Lake {
    pub fn new(root: &Url, options: &StorageOptions) -> Result<Self, IngestError> {
        oneclass_lake::check_url(root)?;
        Ok(Self { root: root.clone(), options: options.clone() })
    }

    pub fn options(&self) -> &StorageOptions {
        &self.options
    }

    pub fn table_url(&self, layer: &str, table: &TableName) -> Url {
        lake_table_url(&self.root, layer, &table.schema, &table.name)
    }

    /// Opens a table, or an uninitialised handle when nothing is there yet.
    pub async fn open(&self, layer: &str, table: &TableName) -> Result<LakeTable, IngestError> {
        let url = self.table_url(layer, table);
        if let Ok(path) = url.to_file_path() {
            // The local store lists a missing directory as an error rather than as empty.
            std::fs::create_dir_all(&path)?;
        }
        let delta = oneclass_lake::table_or_new(&url, &self.options)
            .await
            .map_err(IngestError::delta(&url))?;
        let mut t = LakeTable {
            url,
            table: delta,
            version: None,
            partitioned: layer == BRONZE,
            description: None,
        };
        t.version = t.read_version().await?;
        Ok(t)
    }

    /// The pending table of the silver table at `silver` (see [`crate::lake::silver`]), or a handle
    /// to create it.
    pub async fn open_pending(&self, silver: &Url) -> Result<LakeTable, IngestError> {
        let url = oneclass_lake::silver::pending_url(silver);
        if let Ok(path) = url.to_file_path() {
            std::fs::create_dir_all(&path)?;
        }
        let delta = oneclass_lake::table_or_new(&url, &self.options)
            .await
            .map_err(IngestError::delta(&url))?;
        let mut t =
            LakeTable { url, table: delta, version: None, partitioned: false, description: None };
        t.version = t.read_version().await?;
        Ok(t)
    }
}

/// One Delta table and the last source commit LSN recorded in it.
#[derive(Clone)]
pub struct LakeTable {
    pub url: Url,
    pub table: DeltaTable,
    pub version: Option<i64>,
    partitioned: bool,
    /// Given to the table when a write creates it.
    description: Option<String>,
}

impl LakeTable {
    pub fn exists(&self) -> bool {
        self.table.version().is_some()
    }

    async fn read_version(&self) -> Result<Option<i64>, IngestError> {
        let Ok(state) = self.table.snapshot() else {
            return Ok(None);
        };
        let store = self.table.log_store();
        state
            .transaction_version(store.as_ref(), APP_ID)
            .await
            .map_err(IngestError::delta(&self.url))
    }

    /// The description the table is created with (when the next write creates it).
    pub fn describe(&mut self, description: String) {
        self.description = Some(description);
    }

    /// Removes every row, in one commit that records the version the table records now.
    pub async fn clear(&mut self) -> Result<(), IngestError> {
        if !self.exists() {
            return Ok(());
        }
        let mut builder = self.table.clone().delete();
        if let Some(v) = self.version {
            builder = builder.with_commit_properties(commit_properties(v));
        }
        let (table, _metrics) = builder.await.map_err(IngestError::delta(&self.url))?;
        self.table = table;
        Ok(())
    }

    /// Whether a change committed at `lsn` still has to be applied here.
    pub fn needs(&self, lsn: i64) -> bool {
        self.version.is_none_or(|v| lsn > v)
    }

    /// Writes rows in one commit. Append evolves the schema by adding the columns the source
    /// grew; Overwrite replaces content and schema. Bronze is partitioned by `_commit_date`.
    /// `version` is recorded as the application transaction when given: intermediate commits
    /// of a chunked snapshot carry none, so a crash leaves the table visibly unfinished.
    pub async fn write(
        &mut self,
        batches: Vec<RecordBatch>,
        mode: SaveMode,
        version: Option<i64>,
    ) -> Result<(), IngestError> {
        let builder = self.table.clone().write(batches);
        self.finish_write(builder, mode, version).await
    }

    /// [`write`](Self::write) of whatever `source` produces, streamed: many Parquet files, one
    /// commit. Row groups and files are kept small so that the writer's buffers stay small.
    pub async fn write_df(
        &mut self,
        source: DataFrame,
        mode: SaveMode,
        version: Option<i64>,
    ) -> Result<(), IngestError> {
        // Executed in delta-rs's own session (its planner knows its custom nodes); the plan's
        // scans carry their sources.
        let (_state, plan) = source.into_parts();
        let builder = self
            .table
            .clone()
            .write(Vec::new())
            .with_input_plan(plan)
            .with_writer_properties(streaming_writer_properties())
            .with_target_file_size(NonZeroU64::new(STREAMING_FILE_SIZE));
        self.finish_write(builder, mode, version).await
    }

    async fn finish_write(
        &mut self,
        builder: WriteBuilder,
        mode: SaveMode,
        version: Option<i64>,
    ) -> Result<(), IngestError> {
        let schema_mode =
            if mode == SaveMode::Overwrite { SchemaMode::Overwrite } else { SchemaMode::Merge };
        let mut builder = builder.with_save_mode(mode).with_schema_mode(schema_mode);
        if self.partitioned {
            builder = builder.with_partition_columns([COMMIT_DATE]);
        }
        if !self.exists()
            && let Some(description) = &self.description
        {
            builder = builder.with_description(description.clone());
        }
        if let Some(v) = version {
            builder = builder.with_commit_properties(commit_properties(v));
        }
        self.table = builder.await.map_err(IngestError::delta(&self.url))?;
        if version.is_some() {
            self.version = version;
        }
        Ok(())
    }

    /// The names of the table's columns (None before its first commit).
    pub fn column_names(&self) -> Option<Vec<String>> {
        let state = self.table.snapshot().ok()?;
        Some(state.schema().fields().map(|f| f.name().clone()).collect())
    }

    /// Adds `columns` to the table, every row it holds reading the given value (what PostgreSQL
    /// shows in rows older than a column added with a constant default), in ONE commit: the
    /// table overwritten with itself plus the columns. It records no version (the one recorded
    /// stays): the batch that brought the columns is merged after it as usual, and a crash
    /// between the two leaves silver complete in its older state.
    pub async fn add_columns(
        &mut self,
        columns: &[(String, ScalarValue)],
    ) -> Result<(), IngestError> {
        let ctx = SessionContext::new();
        self.table
            .update_datafusion_session(&ctx.state())
            .map_err(IngestError::delta(&self.url))?;
        let provider = self.table.table_provider().await?;
        let df = ctx.read_table(provider)?;
        let mut projection: Vec<Expr> = df
            .schema()
            .fields()
            .iter()
            .map(|f| Expr::Column(Column::new_unqualified(f.name())))
            .collect();
        for (name, value) in columns {
            // Not a bare literal: the column must stay nullable (every lake column is).
            let null = ScalarValue::try_from(value.data_type())?;
            let value = when(Expr::Column(Column::new_unqualified(LSN)).is_null(), lit(null))
                .otherwise(lit(value.clone()))?;
            projection.push(value.alias(name));
        }
        self.write_df(df.select(projection)?, SaveMode::Overwrite, None).await
    }

    /// MERGE of one collapsed batch into silver: `source` holds one row per key with `_op`
    /// (`d` deletes, anything else upserts) beside the silver columns it sets.
    pub async fn merge(
        &mut self,
        source: DataFrame,
        keys: &[String],
        version: i64,
    ) -> Result<(), IngestError> {
        let predicate = keys
            .iter()
            .map(|k| qualified("target", k).eq(qualified("source", k)))
            .reduce(Expr::and)
            .ok_or_else(|| {
                IngestError::Config(format!("{} has no replica identity key", self.url))
            })?;
        let columns: Vec<String> = source
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|name| name != OP)
            .collect();
        let is_delete = qualified("source", OP).eq(lit("d"));
        let (table, _metrics) = self
            .table
            .clone()
            .merge(source, predicate)
            .with_writer_properties(streaming_writer_properties())
            .with_source_alias("source")
            .with_target_alias("target")
            // New source columns are added to silver; `_op` is never set so it never is.
            .with_merge_schema(true)
            .with_commit_properties(commit_properties(version))
            .when_matched_delete(|d| d.predicate(is_delete.clone()))
            .and_then(|m| {
                m.when_matched_update(|mut u| {
                    for c in &columns {
                        u = u.update(Column::new_unqualified(c), qualified("source", c));
                    }
                    u
                })
            })
            .and_then(|m| {
                m.when_not_matched_insert(|mut i| {
                    i = i.predicate(qualified("source", OP).not_eq(lit("d")));
                    for c in &columns {
                        i = i.set(Column::new_unqualified(c), qualified("source", c));
                    }
                    i
                })
            })
            .map_err(IngestError::delta(&self.url))?
            .await
            .map_err(IngestError::delta(&self.url))?;
        self.table = table;
        self.version = Some(version);
        Ok(())
    }
}

/// Current text values of `columns` for the rows with the given keys (typed scalars in key
/// column order) in `provider`, keyed by the keys' Arrow display strings. Used to fill unchanged
/// TOASTed values from silver.
pub async fn lookup_in(
    ctx: &SessionContext,
    provider: std::sync::Arc<dyn deltalake::datafusion::catalog::TableProvider>,
    key_columns: &[String],
    keys: &[Vec<ScalarValue>],
    columns: &[String],
) -> Result<HashMap<Vec<String>, Vec<Option<String>>>, IngestError> {
    let mut out = HashMap::new();
    let filter = keys
        .iter()
        .filter_map(|key| {
            key_columns
                .iter()
                .zip(key)
                .map(|(c, v)| Expr::Column(Column::new_unqualified(c)).eq(lit(v.clone())))
                .reduce(Expr::and)
        })
        .reduce(Expr::or);
    let Some(filter) = filter else {
        return Ok(out);
    };
    let projection: Vec<Expr> = key_columns
        .iter()
        .chain(columns)
        .map(|c| Expr::Column(Column::new_unqualified(c)))
        .collect();
    let batches = ctx.read_table(provider)?.filter(filter)?.select(projection)?.collect().await?;
    for batch in batches {
        let arrays: Vec<&ArrayRef> = batch.columns().iter().collect();
        for row in 0..batch.num_rows() {
            let key = arrays[..key_columns.len()]
                .iter()
                .map(|a| array_value_to_string(a, row))
                .collect::<Result<Vec<_>, _>>()?;
            let values = arrays[key_columns.len()..]
                .iter()
                .map(|a| {
                    if a.is_null(row) { Ok(None) } else { array_value_to_string(a, row).map(Some) }
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.insert(key, values);
        }
    }
    Ok(out)
}

/// What one maintenance pass did to a table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Maintained {
    /// Small files rewritten into larger ones…
    pub files_compacted: u64,
    /// …and the files written in their place.
    pub files_written: u64,
    /// Files no version within the time-travel window reads, deleted.
    pub files_vacuumed: u64,
}

impl LakeTable {
    /// The Arrow schema of what the table holds (None before its first commit).
    pub fn arrow_schema(&self) -> Option<deltalake::arrow::datatypes::SchemaRef> {
        Some(self.table.snapshot().ok()?.snapshot().arrow_schema())
    }

    /// Files smaller than `target` bytes: what compaction would rewrite.
    pub fn small_files(&self, target: u64) -> usize {
        let Ok(state) = self.table.snapshot() else { return 0 };
        let target = i64::try_from(target).unwrap_or(i64::MAX);
        state.log_data().iter().filter(|f| f.size() < target).count()
    }

    /// Compacts the table when it holds at least `min_files` files under `target` bytes (bin
    /// packing into files of about `target`, partition by partition), then deletes the files
    /// that only versions older than `retain` read. Neither changes what the table holds nor
    /// the recorded LSN (the application transaction stays in the log); time travel to any
    /// version younger than `retain` keeps working.
    pub async fn maintain(
        &mut self,
        min_files: usize,
        target: u64,
        retain: std::time::Duration,
    ) -> Result<Maintained, IngestError> {
        let mut done = Maintained::default();
        if !self.exists() {
            return Ok(done);
        }
        if self.small_files(target) >= min_files.max(2) {
            let target = NonZeroU64::new(target.max(1 << 20)).unwrap_or(NonZeroU64::MIN);
            let (table, metrics) = self
                .table
                .clone()
                .optimize()
                .with_target_size(target)
                .with_writer_properties(streaming_writer_properties())
                .with_max_concurrent_tasks(2)
                .await
                .map_err(IngestError::delta(&self.url))?;
            self.table = table;
            done.files_compacted = metrics.num_files_removed;
            done.files_written = metrics.num_files_added;
        }
        let retention = chrono::Duration::from_std(retain).unwrap_or(chrono::Duration::MAX);
        let (table, metrics) = self
            .table
            .clone()
            .vacuum()
            .with_retention_period(retention)
            // The operator's window, even when shorter than Delta's default of 7 days.
            .with_enforce_retention_duration(false)
            // Full: also files a crashed write left behind that no commit ever named.
            .with_mode(deltalake::operations::vacuum::VacuumMode::Full)
            .await
            .map_err(IngestError::delta(&self.url))?;
        self.table = table;
        done.files_vacuumed = metrics.files_deleted.len() as u64;
        Ok(done)
    }
}

fn qualified(relation: &str, name: &str) -> Expr {
    Expr::Column(Column::new(Some(TableReference::bare(relation)), name))
}

/// Rows per Parquet row group and bytes per file when writing a streamed source: the writer
/// holds a file's row groups in memory until the file is complete.
const STREAMING_ROW_GROUP: usize = 64 * 1024;
const STREAMING_FILE_SIZE: u64 = 32 << 20;

fn streaming_writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(STREAMING_ROW_GROUP))
        .build()
}

fn commit_properties(version: i64) -> CommitProperties {
    CommitProperties::default().with_application_transaction(Transaction::new(APP_ID, version))
}
