//! One published table in the lake: its bronze (changelog) and silver (current state) Delta
//! tables, what each records, and the snapshot copy written into both chunk by chunk.

use std::time::Instant;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::protocol::SaveMode;

use crate::destination::TableCopy;
use crate::encode::snapshot_layers;
use crate::error::IngestError;
use crate::lake::delta::{BRONZE, Lake, LakeTable};
use crate::lake::silver::{PendingPolicy, Silver};
use crate::lake::stopped;
use crate::metrics::{METRIC_FOLD_SECONDS, METRIC_FOLDED_ROWS};
use crate::table::{TableDef, TableName};

pub(in crate::lake) struct Layers {
    pub(in crate::lake) bronze: LakeTable,
    pub(in crate::lake) silver: Silver,
}

impl Layers {
    pub(in crate::lake) async fn open(
        lake: &Lake,
        table: &TableName,
        policy: PendingPolicy,
    ) -> Result<Self, IngestError> {
        let (bronze, silver) =
            futures::try_join!(lake.open(BRONZE, table), Silver::open(lake, table, policy))?;
        Ok(Self { bronze, silver })
    }

    /// Both layers record an LSN: the table's copy is finished.
    pub(in crate::lake) fn is_copied(&self) -> bool {
        self.bronze.version.is_some() && self.silver.version().is_some()
    }

    /// Neither layer records an LSN (nothing of the table is left, or only an unfinished copy).
    pub(in crate::lake) fn is_gone(&self) -> bool {
        self.bronze.version.is_none() && self.silver.version().is_none()
    }

    /// Whether either layer still has to take a change committed at `lsn`.
    pub(in crate::lake) fn needs(&self, lsn: i64) -> bool {
        self.bronze.needs(lsn) || self.silver.needs(lsn)
    }

    /// The LSNs the layers record.
    pub(in crate::lake) fn versions(&self) -> [Option<i64>; 2] {
        [self.bronze.version, self.silver.version()]
    }

    /// The schemas bronze and silver hold (none for a layer not written yet).
    fn schemas(&self) -> Vec<SchemaRef> {
        self.bronze.arrow_schema().into_iter().chain(self.silver.arrow_schemas()).collect()
    }

    /// Why the layers cannot take rows of one of `defs` (see [`stopped::incompatibility`]).
    pub(in crate::lake) fn incompatibility(&self, defs: &[&TableDef]) -> Option<String> {
        let schemas = self.schemas();
        schemas.iter().find_map(|s| defs.iter().find_map(|d| stopped::incompatibility(d, s)))
    }

    /// Folds `table`'s pending changes into its silver table (see [`crate::lake::silver`]).
    pub(in crate::lake) async fn fold(&mut self, table: &TableName) -> Result<u64, IngestError> {
        let started = Instant::now();
        let folded = self.silver.fold().await?;
        if folded > 0 {
            metrics::counter!(METRIC_FOLDED_ROWS).increment(folded);
            metrics::gauge!(METRIC_FOLD_SECONDS).set(started.elapsed().as_secs_f64());
            tracing::info!(
                table = %table, rows = folded, elapsed_ms = started.elapsed().as_millis() as u64,
                "pending silver changes folded in"
            );
        }
        Ok(folded)
    }
}

/// Writes a snapshot copy chunk by chunk, so that memory holds one chunk, not one table. Only
/// the last chunk records the version: until then the layer reads as not yet copied.
pub(in crate::lake) struct SnapshotSink {
    pub(in crate::lake) bronze: bool,
    pub(in crate::lake) silver: bool,
    pub(in crate::lake) replace_bronze: bool,
    pub(in crate::lake) first: bool,
    /// Rows written so far: also the next `_seq`.
    pub(in crate::lake) seq: i64,
    pub(in crate::lake) row_lsn: i64,
    pub(in crate::lake) taken_at: i64,
}

impl SnapshotSink {
    /// The sink of a copy into `layers` (see [`crate::destination::Destination::start_copy`]).
    pub(in crate::lake) fn new(
        layers: &Layers,
        row_lsn: i64,
        taken_at: i64,
        only_missing: bool,
    ) -> Self {
        Self {
            bronze: !only_missing || layers.bronze.version.is_none(),
            silver: !only_missing || layers.silver.version().is_none(),
            // Bronze without a recorded version holds at most an interrupted snapshot: replace it.
            // With one it is history, and the snapshot is appended to it.
            replace_bronze: layers.bronze.version.is_none(),
            first: true,
            seq: 0,
            row_lsn,
            taken_at,
        }
    }

    pub(in crate::lake) async fn write(
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

/// A table handed out for a snapshot copy: its layers and the sink writing into them.
pub(crate) struct DeltaCopy {
    pub(in crate::lake) layers: Layers,
    pub(in crate::lake) sink: SnapshotSink,
}

impl TableCopy for DeltaCopy {
    async fn write(
        &mut self,
        def: &TableDef,
        rows: Vec<RecordBatch>,
        version: Option<i64>,
    ) -> Result<(), IngestError> {
        self.sink.write(&mut self.layers, def, rows, version).await
    }

    fn rows(&self) -> u64 {
        u64::try_from(self.sink.seq).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::change::fixtures::def;
    use crate::encode::new_builders;
    use crate::values::ColumnBuilder;
    use deltalake::arrow::datatypes::Schema;

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
}
