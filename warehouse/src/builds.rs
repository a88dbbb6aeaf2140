//! The gold build log, `gold/indicators/values/_builds` (a hidden folder inside the values
//! table's, which Delta readers and vacuum leave alone): one row per build (when, full or
//! incremental, how many schools, how long), and, in the same commit, the watermarks the next
//! build starts from: per silver table the LSN this build read it up to, and the settings it
//! counted with (Delta application transactions `oneclass-gold:<schema>.<table>` and
//! `oneclass-gold:g7_pass_aggregate`). It is written last, so a build that stops half-way leaves
//! the previous watermarks, and the next build redoes its work.

use std::sync::Arc;
use std::time::Duration;

use deltalake::DeltaTable;
use deltalake::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use url::Url;

use crate::changes::{SilverTable, Watermarks};
use crate::error::WarehouseError;
use crate::gold_setup::{BuildKind, GoldReport, GoldSettings, INDICATOR_TABLE};

const FOLDER: &str = "_builds";
const APP_PREFIX: &str = "oneclass-gold:";
const G7_APP: &str = "oneclass-gold:g7_pass_aggregate";
/// The latest year with enrolment the build saw: a new one adds a year of flow rates to every
/// school (they compare a year with the next), so it is a change to everything.
const YEAR_APP: &str = "oneclass-gold:latest_enrolment_year";
/// Models and marts the build skipped (a source table missing): the next build is whole, so
/// that none stays half-built once its table arrives.
const SKIPPED_APP: &str = "oneclass-gold:skipped";

fn url(lake: &Url) -> Url {
    let (schema, table) = INDICATOR_TABLE;
    let mut url = oneclass_lake::table_url(lake, oneclass_lake::GOLD, schema, table);
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(FOLDER);
    }
    url
}

/// The log, when a build has written one.
pub(crate) async fn open(
    lake: &Url,
    options: &oneclass_lake::StorageOptions,
) -> Result<Option<DeltaTable>, WarehouseError> {
    let table = oneclass_lake::table_or_new(&url(lake), options).await?;
    Ok(table.snapshot().is_ok().then_some(table))
}

/// The watermarks of the last build, or None when the build must be whole: it counted with
/// other settings, it saw another latest year of enrolment than `latest_year`, or it skipped
/// a model or mart.
pub(crate) async fn watermarks(
    log: &DeltaTable,
    tables: &[SilverTable],
    settings: GoldSettings,
    latest_year: Option<i64>,
) -> Result<Option<Watermarks>, WarehouseError> {
    let state = log.snapshot()?;
    let store = log.log_store();
    let g7 = state.transaction_version(store.as_ref(), G7_APP).await?;
    let year = state.transaction_version(store.as_ref(), YEAR_APP).await?;
    let skipped = state.transaction_version(store.as_ref(), SKIPPED_APP).await?;
    if g7 != Some(i64::from(settings.g7_pass_aggregate))
        || year != Some(latest_year.unwrap_or(0))
        || skipped != Some(0)
    {
        return Ok(None);
    }
    let mut out = Watermarks::new();
    for t in tables {
        let app = format!("{APP_PREFIX}{}", t.name());
        if let Some(lsn) = state.transaction_version(store.as_ref(), &app).await? {
            out.insert(t.name(), lsn);
        }
    }
    Ok(Some(out))
}

/// Appends this build's row and watermarks, in one commit.
pub(crate) async fn record(
    lake: &Url,
    options: &oneclass_lake::StorageOptions,
    now: &Watermarks,
    settings: GoldSettings,
    latest_year: Option<i64>,
    report: &GoldReport,
    took: Duration,
) -> Result<(), WarehouseError> {
    let kind = match report.kind {
        BuildKind::Full => "full",
        BuildKind::Incremental => "incremental",
    };
    let built_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let row = RecordBatch::try_from_iter([
        ("built_at", Arc::new(StringArray::from(vec![built_at])) as ArrayRef),
        ("kind", Arc::new(StringArray::from(vec![kind]))),
        ("schools", Arc::new(Int64Array::from(vec![report.schools.map(|n| n as i64)]))),
        ("rows", Arc::new(Int64Array::from(vec![report.values_rows as i64]))),
        ("seconds", Arc::new(Float64Array::from(vec![took.as_secs_f64()]))),
    ])?;
    let mut txns: Vec<Transaction> = now
        .iter()
        .map(|(table, lsn)| Transaction::new(format!("{APP_PREFIX}{table}"), *lsn))
        .collect();
    txns.push(Transaction::new(G7_APP, i64::from(settings.g7_pass_aggregate)));
    txns.push(Transaction::new(YEAR_APP, latest_year.unwrap_or(0)));
    txns.push(Transaction::new(SKIPPED_APP, report.skipped.len() as i64));
    oneclass_lake::table_or_new(&url(lake), options)
        .await?
        .write(vec![row])
        .with_save_mode(SaveMode::Append)
        .with_commit_properties(CommitProperties::default().with_application_transactions(txns))
        .await?;
    Ok(())
}
