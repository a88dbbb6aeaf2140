//! Writing into one table's layers: a batch of its changes (bronze appended, silver merged, both
//! recording the batch's version), the share of a spilled transaction read back from its spill
//! files, and what silver must be told first (values of added columns, unchanged TOASTed
//! values).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use deltalake::arrow::array::RecordBatch;
use deltalake::datafusion::common::{Column, ScalarValue};
use deltalake::datafusion::prelude::{Expr, SessionContext, lit};
use deltalake::protocol::SaveMode;

use crate::change::{Change, ChangeKind, Op, collapse, key_of};
use crate::destination::MissingValues;
use crate::encode::{build_bronze, build_silver, typed_key};
use crate::error::IngestError;
use crate::lake::layers::Layers;
use crate::lake::silver::Silver;
use crate::metrics::METRIC_CHANGES;
use crate::source::pgoutput::Datum;
use crate::spill::TableSpill;
use crate::table::{OP, TableDef, TableName};

/// Writes `changes` (one table's, laid out as `def`; `absent` as from
/// [`crate::change::decoded_without`]) to the layers that still need them, recording `version`.
/// Returns the changes appended to bronze.
#[allow(clippy::too_many_arguments)]
pub(in crate::lake) async fn write_changes(
    layers: &mut Layers,
    table: &TableName,
    def: &Arc<TableDef>,
    mut changes: Vec<Change>,
    absent: &[(usize, Vec<usize>)],
    missing: &MissingValues,
    keyless: bool,
    version: i64,
) -> Result<usize, IngestError> {
    let backfill = backfill_of(&new_to_silver(&layers.silver, def), missing);
    fill_unchanged(&layers.silver, def, &mut changes).await?;

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
        let batch = build_bronze(def, &bronze_rows)?;
        let mut bronze = layers.bronze.clone();
        Some(tokio::spawn(async move {
            bronze.write(vec![batch], SaveMode::Append, Some(version)).await.map(|()| bronze)
        }))
    };
    drop(bronze_rows);
    // Bronze keeps what the changes carried; silver, what PostgreSQL shows now.
    for (i, columns) in absent {
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
        let truncated = silver_changes.iter().rposition(|c| matches!(c.kind, ChangeKind::Truncate));
        let rows = collapse(def, &silver_changes[truncated.map_or(0, |i| i + 1)..]);
        if truncated.is_some() || layers.silver.version().is_none() {
            let batch = build_silver(def, rows.iter().filter(|r| !r.delete), false)?;
            layers.silver.overwrite(vec![batch], Some(version)).await.map(|()| false)
        } else if !rows.is_empty() {
            if !backfill.is_empty() {
                layers.silver.add_columns(&backfill).await?;
            }
            let batch = build_silver(def, rows.iter(), true)?;
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
        layers.fold(table).await?;
    }
    metrics::counter!(METRIC_CHANGES, "table" => table.to_string()).increment(applied as u64);
    Ok(applied)
}

/// Writes one table's share of a spilled transaction (laid out as `def`, its newest shape) to
/// the layers that still need it, each in one commit recording `version`; `work` collapses the
/// silver rows under its memory limit. Returns the changes appended to bronze.
#[allow(clippy::too_many_arguments)]
pub(in crate::lake) async fn write_spilled(
    layers: &mut Layers,
    table: &TableName,
    def: &Arc<TableDef>,
    spill: &TableSpill,
    missing: &MissingValues,
    keyless: bool,
    work: &SessionContext,
    version: i64,
) -> Result<usize, IngestError> {
    let silver_new = new_to_silver(&layers.silver, def);
    let fill: HashMap<String, ScalarValue> = spill
        .spilled_without(def)
        .iter()
        .filter_map(|n| missing.get(n).map(|(_, v)| (n.clone(), v.clone())))
        .collect();
    let backfill = backfill_of(&silver_new, missing);
    let ctx = SessionContext::new();
    let mut applied = 0;
    if layers.bronze.needs(version)
        && let Some(rows) = spill.bronze(&ctx, def).await?
    {
        layers.bronze.write_df(rows, SaveMode::Append, Some(version)).await?;
        applied = spill.rows;
    }
    if layers.silver.needs(version) && !keyless {
        let collapsed = spill.collapsed_silver(work, &ctx, def, &fill).await?;
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
                layers.fold(table).await?;
            }
        }
    }
    metrics::counter!(METRIC_CHANGES, "table" => table.to_string()).increment(applied as u64);
    Ok(applied)
}

/// The columns of `def` that silver (already written) has not yet.
pub(in crate::lake) fn new_to_silver(silver: &Silver, def: &TableDef) -> Vec<String> {
    match (silver.version(), silver.column_names()) {
        (Some(_), Some(have)) => {
            def.columns.iter().filter(|c| !have.contains(&c.name)).map(|c| c.name.clone()).collect()
        }
        _ => Vec::new(),
    }
}

/// What the silver rows a MERGE does not touch get in the columns it adds.
pub(in crate::lake) fn backfill_of(
    silver_new: &[String],
    missing: &HashMap<String, (String, ScalarValue)>,
) -> Vec<(String, ScalarValue)> {
    silver_new.iter().filter_map(|n| missing.get(n).map(|(_, v)| (n.clone(), v.clone()))).collect()
}

/// Replaces unchanged TOASTed values ('u' in pgoutput: the server does not resend a large
/// value an update did not touch): from an earlier change of the same row in this batch, else
/// from the row's current state in silver. Without either it stays null (logged).
pub(in crate::lake) async fn fill_unchanged(
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
