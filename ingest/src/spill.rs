//! Bounded memory for large source transactions: once a transaction's buffered changes pass the
//! spill budget they are written, table by table, to Arrow IPC files in a spill folder, and at
//! its Commit each table's share is applied from there — bronze as one append (many Parquet files,
//! one Delta commit), silver as one MERGE whose source is the spilled rows collapsed to the last
//! change per key by DataFusion under a memory limit (its sort spills to disk). The files go when
//! the transaction is applied or dropped.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use deltalake::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::ipc::writer::FileWriter;
use deltalake::datafusion::common::{Column, ScalarValue};
use deltalake::datafusion::datasource::file_format::options::ArrowReadOptions;
use deltalake::datafusion::execution::runtime_env::RuntimeEnvBuilder;
use deltalake::datafusion::functions_window::expr_fn::row_number;
use deltalake::datafusion::logical_expr::{ExprFunctionExt, cast};
use deltalake::datafusion::prelude::{DataFrame, Expr, SessionConfig, SessionContext, lit};
use futures::StreamExt;

use crate::change::{Change, ChangeKind, SilverRow, key_of};
use crate::encode::{build_bronze, build_silver};
use crate::error::IngestError;
use crate::metrics::METRIC_SPILLED;
use crate::table::{OP, TableDef, TableName};

/// Order of a silver candidate inside its transaction: `2 × _seq`, `+ 1` for the row itself
/// (an update that moved a row to a new key first deletes the old key at `2 × _seq`).
const ORD: &str = "_ord";
const ROW_NUMBER: &str = "_rn";

static TRANSACTIONS: AtomicU64 = AtomicU64::new(0);
static CHANGES: AtomicU64 = AtomicU64::new(0);
static FILES: AtomicU64 = AtomicU64::new(0);

/// Process-wide totals of spilling since the process started (also exported as the metric
/// `oneclass_ingest_spilled_changes_total`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpillStats {
    /// Transactions that went over the budget.
    pub transactions: u64,
    /// Changes written to spill files.
    pub changes: u64,
    /// Spill files created.
    pub files: u64,
}

pub fn spill_stats() -> SpillStats {
    SpillStats {
        transactions: TRANSACTIONS.load(Ordering::Relaxed),
        changes: CHANGES.load(Ordering::Relaxed),
        files: FILES.load(Ordering::Relaxed),
    }
}

/// One Arrow IPC file being written.
struct IpcFile {
    path: PathBuf,
    writer: Option<FileWriter<BufWriter<File>>>,
    rows: usize,
}

impl IpcFile {
    fn create(path: PathBuf, schema: &Schema) -> Result<Self, IngestError> {
        let file = BufWriter::new(File::create(&path)?);
        let writer = FileWriter::try_new(file, schema)?;
        FILES.fetch_add(1, Ordering::Relaxed);
        Ok(Self { path, writer: Some(writer), rows: 0 })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), IngestError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| IngestError::Config("spill file already finished".into()))?;
        writer.write(batch)?;
        self.rows += batch.num_rows();
        Ok(())
    }

    fn finish(&mut self) -> Result<(), IngestError> {
        if let Some(mut writer) = self.writer.take() {
            writer.finish()?;
        }
        Ok(())
    }
}

/// The spilled rows of one table written under one shape of it (a Relation message changing
/// the table inside the transaction starts a new segment).
struct Segment {
    def: Arc<TableDef>,
    bronze: IpcFile,
    /// Silver candidates (silver columns, `_op`, `_ord`); none for a table without a key.
    silver: Option<IpcFile>,
}

pub(crate) struct TableSpill {
    dir: PathBuf,
    segments: Vec<Segment>,
    /// `_ord` of the last TRUNCATE: silver is rebuilt from the changes after it.
    truncated_at: Option<i64>,
    /// Bronze rows spilled.
    pub(crate) rows: usize,
}

/// The spill files of one open transaction. Dropping it removes them.
pub(crate) struct TxnSpill {
    dir: PathBuf,
    pub(crate) tables: BTreeMap<TableName, TableSpill>,
    /// Changes spilled so far.
    pub(crate) changes: usize,
}

impl TxnSpill {
    pub(crate) fn create(root: &Path, lsn: i64) -> Result<Self, IngestError> {
        let dir = root.join(format!("txn-{lsn:016x}"));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        TRANSACTIONS.fetch_add(1, Ordering::Relaxed);
        Ok(Self { dir, tables: BTreeMap::new(), changes: 0 })
    }

    /// Appends one table's changes, all laid out as `def` (values already remapped and
    /// unchanged TOASTed values filled).
    pub(crate) fn write(
        &mut self,
        def: &Arc<TableDef>,
        changes: &[Change],
    ) -> Result<(), IngestError> {
        let n = self.tables.len();
        let table = self.tables.entry(def.table.clone()).or_insert_with(|| TableSpill {
            dir: self.dir.join(format!("t{n}")),
            segments: Vec::new(),
            truncated_at: None,
            rows: 0,
        });
        if table.segments.is_empty() {
            std::fs::create_dir_all(&table.dir)?;
        }
        let keyless = def.key_indices().is_empty();
        if table.segments.last().is_none_or(|s| *s.def != **def) {
            let k = table.segments.len();
            let bronze =
                IpcFile::create(table.dir.join(format!("bronze-{k}.arrow")), &def.bronze_schema())?;
            let silver = if keyless {
                None
            } else {
                Some(IpcFile::create(
                    table.dir.join(format!("silver-{k}.arrow")),
                    &candidate_schema(def),
                )?)
            };
            table.segments.push(Segment { def: def.clone(), bronze, silver });
        }
        let Some(segment) = table.segments.last_mut() else {
            return Ok(());
        };

        let rows: Vec<&Change> =
            changes.iter().filter(|c| matches!(c.kind, ChangeKind::Row { .. })).collect();
        if !rows.is_empty() {
            segment.bronze.write(&build_bronze(def, &rows)?)?;
        }
        table.rows += rows.len();
        self.changes += changes.len();
        CHANGES.fetch_add(changes.len() as u64, Ordering::Relaxed);
        metrics::counter!(METRIC_SPILLED, "table" => def.table.to_string())
            .increment(changes.len() as u64);

        let Some(silver) = segment.silver.as_mut() else {
            return Ok(());
        };
        let keys = def.key_indices();
        let mut candidates: Vec<SilverRow<'_>> = Vec::new();
        let mut ords: Vec<i64> = Vec::new();
        for c in changes {
            match &c.kind {
                ChangeKind::Truncate => table.truncated_at = Some(2 * c.seq),
                ChangeKind::Row { op, values, old_key } => {
                    if let Some(old) = old_key
                        && key_of(&keys, old) != key_of(&keys, values)
                    {
                        candidates.push(SilverRow::new(true, old, c));
                        ords.push(2 * c.seq);
                    }
                    candidates.push(SilverRow::new(op.is_delete(), values, c));
                    ords.push(2 * c.seq + 1);
                }
            }
        }
        if !candidates.is_empty() {
            let batch = build_silver(def, candidates.iter(), true)?;
            let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
            columns.push(Arc::new(Int64Array::from(ords)));
            silver.write(&RecordBatch::try_new(Arc::new(candidate_schema(def)), columns)?)?;
        }
        Ok(())
    }

    /// Closes every file; call before reading them back.
    pub(crate) fn finish(&mut self) -> Result<(), IngestError> {
        for table in self.tables.values_mut() {
            for s in &mut table.segments {
                s.bronze.finish()?;
                if let Some(silver) = s.silver.as_mut() {
                    silver.finish()?;
                }
            }
        }
        Ok(())
    }
}

impl Drop for TxnSpill {
    fn drop(&mut self) {
        // Writers hold open files: close them before the folder goes.
        for table in self.tables.values_mut() {
            for s in &mut table.segments {
                s.bronze.writer = None;
                if let Some(silver) = s.silver.as_mut() {
                    silver.writer = None;
                }
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(error = %e, dir = %self.dir.display(), "removing spill files failed");
        }
    }
}

/// Silver columns, `_op` (`d` or `u`), `_ord`.
fn candidate_schema(def: &TableDef) -> Schema {
    let mut fields: Vec<Field> =
        def.silver_schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(OP, DataType::Utf8, true));
    fields.push(Field::new(ORD, DataType::Int64, true));
    Schema::new(fields)
}

fn column(name: &str) -> Expr {
    Expr::Column(Column::new_unqualified(name))
}

/// The session that reads spill files back: sorts beyond `memory_limit` spill to `dir`.
pub(crate) fn session(dir: &Path, memory_limit: usize) -> Result<SessionContext, IngestError> {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(memory_limit, 1.0)
        .with_temp_file_path(dir)
        .build_arc()?;
    let config = SessionConfig::new().with_target_partitions(2);
    Ok(SessionContext::new_with_config_rt(config, runtime))
}

impl TableSpill {
    /// Every shape of the table its segments were written under, oldest first.
    pub(crate) fn defs(&self) -> impl Iterator<Item = &Arc<TableDef>> {
        self.segments.iter().map(|s| &s.def)
    }

    /// The table's newest shape in this transaction.
    pub(crate) fn def(&self) -> Option<Arc<TableDef>> {
        self.segments.last().map(|s| s.def.clone())
    }

    /// Columns of `def` some segment was spilled without: its rows read the missing value.
    pub(crate) fn spilled_without(&self, def: &TableDef) -> Vec<String> {
        def.columns
            .iter()
            .filter(|c| self.defs().any(|d| d.position(&c.name).is_none()))
            .map(|c| c.name.clone())
            .collect()
    }

    pub(crate) fn truncated(&self) -> bool {
        self.truncated_at.is_some()
    }

    /// Every spilled file of one kind, read as `schema` (columns mapped by name, missing ones
    /// null, or their value in `fill`), as one DataFrame.
    async fn read(
        ctx: &SessionContext,
        files: impl Iterator<Item = &IpcFile>,
        schema: &SchemaRef,
        fill: &HashMap<String, ScalarValue>,
    ) -> Result<Option<DataFrame>, IngestError> {
        let mut out: Option<DataFrame> = None;
        for file in files {
            if file.rows == 0 {
                continue;
            }
            let path = file.path.to_string_lossy();
            let df = ctx.read_arrow(path.as_ref(), ArrowReadOptions::default()).await?;
            let have = df.schema().clone();
            let projection: Vec<Expr> = schema
                .fields()
                .iter()
                .map(|f| {
                    let e = match have.field_with_unqualified_name(f.name()) {
                        Ok(h) if h.data_type() == f.data_type() => column(f.name()),
                        Ok(_) => cast(column(f.name()), f.data_type().clone()),
                        Err(_) => {
                            let value = fill.get(f.name()).cloned().unwrap_or(ScalarValue::Null);
                            cast(lit(value), f.data_type().clone())
                        }
                    };
                    e.alias(f.name())
                })
                .collect();
            let df = df.select(projection)?;
            out = Some(match out {
                Some(acc) => acc.union(df)?,
                None => df,
            });
        }
        Ok(out)
    }

    /// The bronze rows, as `def`'s bronze schema.
    pub(crate) async fn bronze(
        &self,
        ctx: &SessionContext,
        def: &TableDef,
    ) -> Result<Option<DataFrame>, IngestError> {
        let segments = self.segments.iter().map(|s| &s.bronze);
        Self::read(ctx, segments, &def.bronze_schema(), &HashMap::new()).await
    }

    /// One row per key, the last change winning (after the last TRUNCATE when there was one),
    /// with `_op` beside the silver columns: collapsed by `work` (memory-limited, its sort
    /// spills) into a file of its own, then read back by `ctx` as a plain scan. Rows spilled
    /// before a column was added read its value in `fill` (its missing value), else null.
    pub(crate) async fn collapsed_silver(
        &self,
        work: &SessionContext,
        ctx: &SessionContext,
        def: &TableDef,
        fill: &HashMap<String, ScalarValue>,
    ) -> Result<Option<DataFrame>, IngestError> {
        let schema = Arc::new(candidate_schema(def));
        let files = self.segments.iter().filter_map(|s| s.silver.as_ref());
        let Some(mut df) = Self::read(work, files, &schema, fill).await? else {
            return Ok(None);
        };
        if let Some(t) = self.truncated_at {
            df = df.filter(column(ORD).gt(lit(t)))?;
        }
        let keys: Vec<Expr> =
            def.columns.iter().filter(|c| c.key).map(|c| column(&c.name)).collect();
        let last = row_number()
            .partition_by(keys)
            .order_by(vec![column(ORD).sort(false, false)])
            .build()?
            .alias(ROW_NUMBER);
        let out: Vec<Expr> =
            schema.fields().iter().filter(|f| f.name() != ORD).map(|f| column(f.name())).collect();
        let df = df.window(vec![last])?.filter(column(ROW_NUMBER).eq(lit(1u64)))?.select(out)?;
        let mut stream = df.execute_stream().await?;
        let mut file = IpcFile::create(self.dir.join("collapsed.arrow"), stream.schema().as_ref())?;
        while let Some(batch) = stream.next().await {
            file.write(&batch?)?;
        }
        file.finish()?;
        if file.rows == 0 {
            return Ok(None);
        }
        let path = file.path.to_string_lossy();
        Ok(Some(ctx.read_arrow(path.as_ref(), ArrowReadOptions::default()).await?))
    }
}

/// Removes what a previous process left in `root` (a transaction it never finished: the server
/// sends it again).
pub(crate) fn clear(root: &Path) -> Result<(), IngestError> {
    if root.exists() {
        std::fs::remove_dir_all(root)?;
    }
    std::fs::create_dir_all(root)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use deltalake::arrow::util::display::array_value_to_string;

    use super::*;
    use crate::change::{Op, collapse};
    use crate::source::pgoutput::Datum;
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

    fn change(def: &Arc<TableDef>, seq: i64, kind: ChangeKind) -> Change {
        Change { def: def.clone(), lsn: 77, seq, commit_ts: 1, kind }
    }

    fn row(op: Op, id: i32, name: Option<&str>, old: Option<i32>) -> ChangeKind {
        ChangeKind::Row {
            op,
            values: vec![
                Datum::Text(id.to_string()),
                name.map_or(Datum::Null, |n| Datum::Text(n.into())),
            ],
            old_key: old.map(|o| vec![Datum::Text(o.to_string()), Datum::Null]),
        }
    }

    /// (id, name, op) of every collapsed row.
    type Collapsed = BTreeSet<(String, Option<String>, &'static str)>;

    /// The DataFusion collapse over spill files, chunk by chunk, agrees with the in-memory one.
    #[tokio::test]
    async fn collapse_from_spill_files_matches_memory() {
        let d = def();
        let mut changes = vec![change(&d, 0, row(Op::Insert, 99, Some("gone"), None))];
        changes.push(change(&d, 1, ChangeKind::Truncate));
        let mut seq = 2;
        for id in 0..50 {
            changes.push(change(&d, seq, row(Op::Insert, id, Some("a"), None)));
            seq += 1;
        }
        for id in (0..50).step_by(3) {
            changes.push(change(&d, seq, row(Op::Update, id, Some("b"), None)));
            seq += 1;
        }
        for id in (0..50).step_by(7) {
            // Moves id to id + 1000; the old key goes.
            changes.push(change(&d, seq, row(Op::Update, id + 1000, Some("moved"), Some(id))));
            seq += 1;
        }
        for id in (1..50).step_by(5) {
            changes.push(change(&d, seq, row(Op::Delete, id, None, None)));
            seq += 1;
        }
        // A key deleted, then inserted again.
        changes.push(change(&d, seq, row(Op::Insert, 1, Some("back"), None)));

        let truncated = changes.iter().rposition(|c| matches!(c.kind, ChangeKind::Truncate));
        let after: Vec<&Change> = changes[truncated.map_or(0, |i| i + 1)..].iter().collect();
        let want: Collapsed = collapse(&d, &after)
            .iter()
            .map(|r| {
                let (id, name, delete) = r.parts();
                (id, name, if delete { "d" } else { "u" })
            })
            .collect();

        let dir = tempfile::tempdir().expect("tempdir");
        let mut spill = TxnSpill::create(dir.path(), 77).expect("spill");
        for chunk in changes.chunks(17) {
            spill.write(&d, chunk).expect("write");
        }
        spill.finish().expect("finish");
        let table = spill.tables.get(&d.table).expect("table");
        assert!(table.truncated());
        assert_eq!(table.rows, changes.len() - 1);
        let work = session(dir.path(), 64 << 20).expect("session");
        let ctx = SessionContext::new();
        let df = table
            .collapsed_silver(&work, &ctx, &d, &HashMap::new())
            .await
            .expect("collapse")
            .expect("rows");
        let mut got = Collapsed::new();
        for batch in df.collect().await.expect("collect") {
            let schema = batch.schema();
            let col = |name: &str| batch.column(schema.index_of(name).expect("column"));
            for i in 0..batch.num_rows() {
                let text = |name: &str| {
                    let a = col(name);
                    (!a.is_null(i)).then(|| array_value_to_string(a, i).expect("text"))
                };
                let op = if text(OP).as_deref() == Some("d") { "d" } else { "u" };
                got.insert((text("id").expect("id"), text("name"), op));
            }
        }
        assert_eq!(got, want);
        let folder = spill.dir.clone();
        drop(spill);
        assert!(!folder.exists(), "spill files removed on drop");
    }
}
