//! Silver as readers see it: the Delta table at `<lake>/silver/<schema>/<table>` plus, for a
//! table too large to MERGE into at every batch, the changes ingest has taken since its last
//! fold, in a Delta table of their own at `<table>/_pending` (a hidden folder: Delta readers and
//! vacuum leave it alone).
//!
//! A pending row is a silver row and `_op` (`d`: the key is deleted; anything else: the row is
//! the key's current state), at most one per key and source transaction. The silver table
//! records (application transaction) the LSN up to which it holds every change; pending rows at
//! or below it are folded in already and read as nothing. So, at any moment, the current state
//! is the silver table without the keys that have a newer pending row, plus the newest pending
//! row of each such key unless it deletes: [`silver_provider`] builds exactly that, as a view
//! DataFusion plans through (filters on key columns reach both tables). Folding (a MERGE of the
//! pending rows into the silver table recording the pending table's LSN, then emptying the
//! pending table) changes nothing a reader sees, whichever step a crash interrupts.

use std::sync::Arc;

use deltalake::datafusion::catalog::TableProvider;
use deltalake::datafusion::common::{Column, ScalarValue};
use deltalake::datafusion::datasource::ViewTable;
use deltalake::datafusion::error::{DataFusionError, Result as DfResult};
use deltalake::datafusion::functions_window::expr_fn::row_number;
use deltalake::datafusion::logical_expr::{ExprFunctionExt, JoinType, cast};
use deltalake::datafusion::prelude::{DataFrame, Expr, SessionContext, lit};
use deltalake::{DeltaResult, DeltaTable};
use url::Url;

pub use crate::contract::APP_ID;
pub use crate::contract::column::{LSN, OP};
/// The pending table's folder inside its silver table's.
pub const PENDING_DIR: &str = "_pending";
/// The pending table's description starts with this, followed by its key columns as JSON.
const KEYS_PREFIX: &str = "oneclass pending silver changes; key columns ";
const RANK: &str = "_oneclass_rank";

/// Where the pending changes of the silver table at `silver` live.
pub fn pending_url(silver: &Url) -> Url {
    let mut url = silver.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(PENDING_DIR);
    }
    url
}

/// The description a pending table is created with: it names the key columns, so that every
/// reader can fold it.
pub fn pending_description(keys: &[String]) -> String {
    let list = keys.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(",");
    format!("{KEYS_PREFIX}[{list}]")
}

/// The key columns of a pending table, from its description.
pub fn pending_keys(pending: &DeltaTable) -> Option<Vec<String>> {
    let state = pending.snapshot().ok()?;
    let described = state.metadata().description()?;
    let list = described.strip_prefix(KEYS_PREFIX)?.strip_prefix('[')?.strip_suffix(']')?;
    let keys: Vec<String> = list
        .split(',')
        .map(|k| k.trim().trim_matches('"').to_owned())
        .filter(|k| !k.is_empty())
        .collect();
    (!keys.is_empty()).then_some(keys)
}

/// The LSN a table records under [`APP_ID`]; None before its first recorded commit.
pub async fn recorded_version(table: &DeltaTable) -> DeltaResult<Option<i64>> {
    let Ok(state) = table.snapshot() else { return Ok(None) };
    state.transaction_version(table.log_store().as_ref(), APP_ID).await
}

/// Whether the pending table holds any file at all (an emptied one holds none).
pub fn holds_files(pending: &DeltaTable) -> bool {
    pending.snapshot().is_ok_and(|s| s.log_data().num_files() > 0)
}

fn column(name: &str) -> Expr {
    Expr::Column(Column::new_unqualified(name))
}

fn qualified(relation: &str, name: &str) -> Expr {
    Expr::Column(Column::new(Some(relation), name))
}

/// The pending rows a reader sees: above `folded` (the silver table's recorded LSN), the newest
/// of each key, every column (`_op` too).
pub fn latest_pending(
    pending: DataFrame,
    keys: &[String],
    folded: Option<i64>,
) -> DfResult<DataFrame> {
    let visible = match folded {
        Some(lsn) => pending.filter(column(LSN).gt(lit(lsn)))?,
        None => pending,
    };
    let names: Vec<String> = visible.schema().fields().iter().map(|f| f.name().clone()).collect();
    let rank = row_number()
        .partition_by(keys.iter().map(|k| column(k)).collect())
        .order_by(vec![column(LSN).sort(false, false)])
        .build()?
        .alias(RANK);
    visible
        .window(vec![rank])?
        .filter(column(RANK).eq(lit(1u64)))?
        .select(names.iter().map(|n| column(n)).collect::<Vec<_>>())
}

/// The current state of a silver table: `base` with the changes of `pending` on top (see the
/// module). Just `base`'s provider when nothing is pending.
pub async fn silver_provider(
    base: &DeltaTable,
    pending: Option<&DeltaTable>,
) -> DfResult<Arc<dyn TableProvider>> {
    let base_provider = base.table_provider().await?;
    let Some(pending) = pending.filter(|p| holds_files(p)) else {
        return Ok(base_provider);
    };
    let keys = pending_keys(pending).ok_or_else(|| {
        DataFusionError::Plan("a pending silver table does not name its key columns".into())
    })?;
    let folded = recorded_version(base).await.map_err(|e| DataFusionError::External(e.into()))?;
    let pending_provider = pending.table_provider().await?;
    let ctx = SessionContext::new();
    let latest = latest_pending(ctx.read_table(pending_provider)?, &keys, folded)?;
    let base_df = ctx.read_table(base_provider)?;
    let plan = overlay(base_df, latest, &keys)?.into_unoptimized_plan();
    Ok(Arc::new(ViewTable::new(plan, None)))
}

/// `base` without the keys of `latest`, plus `latest`'s rows that do not delete, in `base`'s
/// columns followed by the ones only `latest` has (each side's missing columns null).
pub fn overlay(base: DataFrame, latest: DataFrame, keys: &[String]) -> DfResult<DataFrame> {
    let base_schema = base.schema().as_arrow().clone();
    let latest_schema = latest.schema().as_arrow().clone();
    let mut out: Vec<(String, deltalake::arrow::datatypes::DataType)> =
        base_schema.fields().iter().map(|f| (f.name().clone(), f.data_type().clone())).collect();
    for f in latest_schema.fields() {
        if f.name() != OP && base_schema.index_of(f.name()).is_err() {
            out.push((f.name().clone(), f.data_type().clone()));
        }
    }
    let side =
        |schema: &deltalake::arrow::datatypes::Schema, relation: &str| -> DfResult<Vec<Expr>> {
            out.iter()
                .map(|(name, dtype)| {
                    Ok(match schema.field_with_name(name) {
                        Ok(f) if f.data_type() == dtype => qualified(relation, name),
                        Ok(_) => cast(qualified(relation, name), dtype.clone()),
                        Err(_) => lit(ScalarValue::try_from(dtype)?),
                    }
                    .alias(name))
                })
                .collect()
        };
    let base_cols = side(&base_schema, "base")?;
    let latest_cols = side(&latest_schema, "latest")?;
    let latest = latest.alias("latest")?;
    let deleted_or_replaced = latest.clone().select(
        keys.iter().map(|k| qualified("latest", k).alias(format!("_key_{k}"))).collect::<Vec<_>>(),
    )?;
    let on: Vec<Expr> =
        keys.iter().map(|k| qualified("base", k).eq(column(&format!("_key_{k}")))).collect();
    // The pending keys are the side held in memory and the base streams past them (a right
    // anti join): written the other way round, the base was hashed, and a table of 11 million
    // marks ran a province's query out of its 512 MB.
    let kept = deleted_or_replaced.join_on(base.alias("base")?, JoinType::RightAnti, on)?;
    let current = latest.filter(qualified("latest", OP).not_eq(lit("d")))?;
    kept.select(base_cols)?.union(current.select(latest_cols)?)
}
