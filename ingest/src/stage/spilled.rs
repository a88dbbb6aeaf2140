//! The spilled-transaction stage: the changes of a transaction too large for memory go to its
//! spill files as they come (see `crate::spill`), and at its Commit each table's share is
//! applied from there, alone, while the server keeps hearing from us.

use std::collections::BTreeMap;
use std::path::Path;

use tokio_util::sync::CancellationToken;

use crate::change::{Change, remap_to_newest};
use crate::config::IngestConfig;
use crate::destination::Destination;
use crate::error::IngestError;
use crate::lsn::Lsn;
use crate::source::replication::ReplicationConnection;
use crate::spill::{TableSpill, TxnSpill};
use crate::stage::apply::missing_values;
use crate::stage::snapshot::ensure_copied;
use crate::table::{TableDef, TableName};

/// Moves `changes` of the open transaction committing at `lsn` to its spill files (created in
/// `spill_root` on the first call), leaving out what the destination already holds.
pub(crate) async fn spill_changes<D: Destination>(
    dest: &mut D,
    spill_root: &Path,
    lsn: i64,
    changes: Vec<Change>,
    spill: &mut Option<TxnSpill>,
) -> Result<(), IngestError> {
    if spill.is_none() {
        tracing::info!(lsn = %Lsn::from_i64(lsn), "large transaction: spilling it to disk");
        *spill = Some(TxnSpill::create(spill_root, lsn)?);
    }
    let mut by_table: BTreeMap<TableName, Vec<Change>> = BTreeMap::new();
    for c in changes {
        by_table.entry(c.def.table.clone()).or_default().push(c);
    }
    for (table, mut changes) in by_table {
        if dest.is_stopped(&table) {
            continue;
        }
        dest.open(vec![table.clone()]).await?;
        if !dest.needs(&table, lsn) {
            continue;
        }
        let Some(def) = remap_to_newest(&mut changes) else { continue };
        // Within this chunk, else from silver: a value written by an earlier chunk of the
        // same transaction is not seen (a documented limitation).
        dest.fill_unchanged(&table, &def, &mut changes).await?;
        if let Some(spill) = spill.as_mut() {
            spill.write(&def, &changes)?;
        }
    }
    Ok(())
}

/// Applies a spilled transaction committed at `version` (alone: the batch before it is already
/// written), table by table, each table's share in one commit per layer. The server hears from
/// us meanwhile (positions `received` and `acked`), however long it takes. Returns the changes
/// applied.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply<D: Destination>(
    dest: &mut D,
    cfg: &IngestConfig,
    shutdown: &CancellationToken,
    repl: &mut ReplicationConnection,
    received: Lsn,
    acked: Lsn,
    spill: &TxnSpill,
    version: i64,
) -> Result<usize, IngestError> {
    let mut applied = 0usize;
    for (table, t) in &spill.tables {
        let apply = apply_table(dest, cfg, shutdown, table, t, version);
        applied += repl.keep_alive(received, acked, apply).await?;
    }
    Ok(applied)
}

async fn apply_table<D: Destination>(
    dest: &mut D,
    cfg: &IngestConfig,
    shutdown: &CancellationToken,
    table: &TableName,
    spill: &TableSpill,
    version: i64,
) -> Result<usize, IngestError> {
    let Some(def) = spill.def() else {
        return Ok(0);
    };
    if dest.is_stopped(table) {
        return Ok(0);
    }
    ensure_copied(dest, cfg, shutdown, table, version).await?;
    let defs: Vec<&TableDef> = spill.defs().map(|d| d.as_ref()).collect();
    if let Some(why) = dest.incompatibility(table, &defs) {
        dest.stop(table, why, version).await?;
        return Ok(0);
    }
    let absent = spill.spilled_without(&def);
    let wanted = dest.values_needed(table, &def, &absent, version);
    let values = missing_values(&cfg.source, &def, wanted).await?;
    dest.apply_spilled(table, spill, values, version).await
}
