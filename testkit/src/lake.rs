//! Lake fixtures: Delta tables written from Arrow columns into a temporary folder, as ingest
//! would have left them (with the bookkeeping columns every silver table carries).

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use deltalake::DeltaTable;
use deltalake::arrow::array::{
    ArrayRef, Decimal128Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::DataType;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use oneclass_lake::column;
use tempfile::TempDir;
use url::Url;

/// The `_lsn` every fixture row carries.
pub const FIXTURE_LSN: i64 = 42;
/// The `_commit_ts` every fixture row carries (2026-05-28, UTC), in microseconds.
pub const FIXTURE_COMMIT_MICROS: i64 = 1_780_000_000_000_000;

/// A lake in a temporary folder, removed when dropped.
pub struct FixtureLake {
    dir: TempDir,
}

impl FixtureLake {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self { dir: tempfile::Builder::new().prefix("oneclass-lake").tempdir()? })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The lake's root URL (a directory URL, ending in `/`).
    pub fn url(&self) -> Url {
        Url::from_directory_path(self.dir.path()).expect("temporary folders are absolute")
    }

    /// Appends `columns` to the Delta table at `path` (`silver/<schema>/<table>`), with `_lsn`
    /// and `_commit_ts` added.
    pub async fn write(&self, path: &str, columns: Vec<(&str, ArrayRef)>) -> anyhow::Result<()> {
        let rows = columns.first().map_or(0, |c| c.1.len());
        self.write_batch(path, with_cdc(columns, rows)?, &[]).await
    }

    /// Appends `columns` to the silver table at `path` as ingest commits a source transaction
    /// at `lsn`: every row's `_lsn` is `lsn`, and the commit records `lsn` as the LSN the table
    /// holds every change up to (ingest's application transaction).
    pub async fn write_at(
        &self,
        path: &str,
        columns: Vec<(&str, ArrayRef)>,
        lsn: i64,
    ) -> anyhow::Result<()> {
        let rows = columns.first().map_or(0, |c| c.1.len());
        let mut batch = with_cdc(columns, rows)?;
        let at = batch.schema().index_of(column::LSN)?;
        let mut columns = batch.columns().to_vec();
        columns[at] = Arc::new(Int64Array::from(vec![lsn; rows]));
        batch = RecordBatch::try_new(batch.schema(), columns)?;
        let dir = self.dir.path().join(path);
        std::fs::create_dir_all(&dir)?;
        let url =
            Url::from_directory_path(&dir).map_err(|()| anyhow::anyhow!("bad path {path}"))?;
        let commit = CommitProperties::default()
            .with_application_transaction(Transaction::new(oneclass_lake::APP_ID, lsn));
        DeltaTable::try_from_url(url)
            .await?
            .write(vec![batch])
            .with_save_mode(SaveMode::Append)
            .with_commit_properties(commit)
            .await
            .with_context(|| format!("writing {path}"))?;
        Ok(())
    }

    /// Appends `batch` as it is to the Delta table at `path`, partitioned by `partitions`.
    pub async fn write_batch(
        &self,
        path: &str,
        batch: RecordBatch,
        partitions: &[&str],
    ) -> anyhow::Result<()> {
        let dir = self.dir.path().join(path);
        std::fs::create_dir_all(&dir)?;
        let url =
            Url::from_directory_path(&dir).map_err(|()| anyhow::anyhow!("bad path {path}"))?;
        DeltaTable::try_from_url(url)
            .await?
            .write(vec![batch])
            .with_save_mode(SaveMode::Append)
            .with_partition_columns(partitions.iter().copied())
            .await
            .with_context(|| format!("writing {path}"))?;
        Ok(())
    }
}

/// `columns` with the bookkeeping columns of a silver table added: `_lsn` and `_commit_ts`.
pub fn with_cdc(mut columns: Vec<(&str, ArrayRef)>, rows: usize) -> anyhow::Result<RecordBatch> {
    columns.push((column::LSN, Arc::new(Int64Array::from(vec![FIXTURE_LSN; rows]))));
    columns.push((
        column::COMMIT_TS,
        Arc::new(
            TimestampMicrosecondArray::from(vec![FIXTURE_COMMIT_MICROS; rows]).with_timezone("UTC"),
        ),
    ));
    Ok(RecordBatch::try_from_iter(columns)?)
}

/// A text column.
pub fn text(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// A text column with nulls.
pub fn opt_text(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// A date column from ISO dates (`2026-03-02`).
pub fn dates(values: &[&str]) -> ArrayRef {
    cast(&text(values), &DataType::Date32).expect("ISO dates")
}

/// A date column with nulls.
pub fn opt_dates(values: &[Option<&str>]) -> ArrayRef {
    cast(&opt_text(values), &DataType::Date32).expect("ISO dates")
}

/// Amounts as the lake holds them (PostgreSQL's numeric(14,2)), from cents.
pub fn money(cents: &[i128]) -> ArrayRef {
    Arc::new(
        Decimal128Array::from(cents.to_vec())
            .with_precision_and_scale(14, 2)
            .expect("numeric(14,2)"),
    )
}

/// Today's date in Harare (UTC+2, no daylight saving) as days since the epoch, like Date32.
pub fn today_in_harare() -> i32 {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    ((secs + 2 * 3600) / 86_400) as i32
}
