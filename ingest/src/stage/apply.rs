//! The apply stage: one table's changes of a batch into the destination. Changes the
//! destination's schema cannot take stop the table (from the transaction that brought them on);
//! the rest are laid out on the table's newest shape, the table is copied first if the
//! destination does not hold it yet, and the values PostgreSQL shows for added columns are
//! fetched from the source for the destination to fill in.

use std::collections::BTreeSet;
use std::sync::Arc;

use deltalake::datafusion::common::ScalarValue;
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

use crate::change::{Change, decoded_without, remap_to_newest};
use crate::config::{IngestConfig, SourceConfig};
use crate::destination::{Destination, MissingValues};
use crate::encode::append_text_logged;
use crate::error::IngestError;
use crate::source::sql::{self, MissingValue};
use crate::stage::snapshot::ensure_copied;
use crate::table::{TableDef, TableName};
use crate::values::ColumnBuilder;

pub(crate) async fn apply_table<D: Destination>(
    dest: &mut D,
    cfg: &IngestConfig,
    shutdown: &CancellationToken,
    table: &TableName,
    mut changes: Vec<Change>,
    version: i64,
) -> Result<usize, IngestError> {
    if dest.is_stopped(table) {
        return Ok(0);
    }
    let (mut cut, incompatible) = compatible_prefix(dest, table, &changes);
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
        dest.stop(table, why, at).await?;
    }
    apply_prefix(dest, cfg, shutdown, table, changes, version).await
}

/// How many of `changes` (from the first) the destination can take: up to the first decoded
/// under a shape whose column types differ from what the table holds, and why it cannot.
fn compatible_prefix<D: Destination>(
    dest: &D,
    table: &TableName,
    changes: &[Change],
) -> (usize, Option<String>) {
    let mut checked: Option<&Arc<TableDef>> = None;
    for (i, c) in changes.iter().enumerate() {
        if checked.is_some_and(|d| Arc::ptr_eq(d, &c.def)) {
            continue;
        }
        if let Some(why) = dest.incompatibility(table, &[c.def.as_ref()]) {
            return (i, Some(why));
        }
        checked = Some(&c.def);
    }
    (changes.len(), None)
}

/// `apply_table` for changes the destination's schema can take.
async fn apply_prefix<D: Destination>(
    dest: &mut D,
    cfg: &IngestConfig,
    shutdown: &CancellationToken,
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
    ensure_copied(dest, cfg, shutdown, table, first_lsn).await?;
    let last_lsn = changes.iter().map(|c| c.lsn).max().unwrap_or(version);
    let absent_names: Vec<String> =
        absent.iter().flat_map(|(_, cols)| cols).map(|&j| def.columns[j].name.clone()).collect();
    let wanted = dest.values_needed(table, &def, &absent_names, last_lsn);
    let values = missing_values(&cfg.source, &def, wanted).await?;
    dest.apply(table, def, changes, absent, values, version).await
}

/// What PostgreSQL shows for `columns` of `def`'s table in the rows that existed before
/// each was added: column → (text, typed value), for the columns added with a constant
/// default.
/// Asked on a plain connection as the CDC role; a default PostgreSQL wrote into the rows by
/// rewriting the table (a volatile one) is not knowable here and is logged.
pub(crate) async fn missing_values(
    source: &SourceConfig,
    def: &TableDef,
    columns: BTreeSet<String>,
) -> Result<MissingValues, IngestError> {
    let mut out = MissingValues::new();
    if columns.is_empty() {
        return Ok(out);
    }
    let table = &def.table;
    let columns: Vec<String> = columns.into_iter().collect();
    let mut conn = sql::connect(source).await?;
    let values = sql::missing_values(&mut conn, table, &columns).await;
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
