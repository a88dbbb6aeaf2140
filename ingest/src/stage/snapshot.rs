//! The snapshot stage: tables copied under one exported snapshot into the destination, several
//! at once (largest first), each in chunks so that memory holds one chunk, not one table; and a
//! table the destination does not hold yet (it joined the publication) copied before its changes
//! are applied on top.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use futures::future::BoxFuture;
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;

use crate::config::{IngestConfig, SourceConfig};
use crate::copy_text::CopyTextParser;
use crate::destination::{Destination, TableCopy};
use crate::error::IngestError;
use crate::lsn::Lsn;
use crate::metrics::METRIC_CHANGES;
use crate::source::sql::{self, PublishedTable};
use crate::table::TableName;

/// Rows per Delta commit while copying a table: bounds the snapshot's memory.
const SNAPSHOT_CHUNK_ROWS: usize = 250_000;

/// Tables waiting to be copied, with where they go.
type CopyQueue<C> = Arc<Mutex<VecDeque<(PublishedTable, C)>>>;

/// Copies `tables` under one snapshot (the slot's exported snapshot when given, else one
/// this connection takes and exports) into bronze as `_op = 'r'` rows and into silver, both
/// recording `version`: `snapshot_workers` connections import it and copy a table each at a
/// time, the largest first. Returns false when shutdown interrupted it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn snapshot_tables<'a, D: Destination>(
    dest: &'a mut D,
    cfg: &'a IngestConfig,
    shutdown: &'a CancellationToken,
    conn: &'a mut PgConnection,
    tables: &'a [PublishedTable],
    exported: Option<&'a str>,
    row_lsn: Lsn,
    version: i64,
    only_missing: bool,
) -> BoxFuture<'a, Result<bool, IngestError>> {
    Box::pin(async move {
        sql::execute(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?;
        let name = match exported {
            Some(name) => {
                let stmt = format!("SET TRANSACTION SNAPSHOT '{}'", name.replace('\'', "''"));
                sql::execute(conn, &stmt).await?;
                name.to_owned()
            }
            None => sql::export_snapshot(conn).await?,
        };
        // This transaction waits, idle, for the whole copy: a server-wide idle timeout
        // must not end it (and with it an exported snapshot) meanwhile.
        sql::execute(conn, "SET LOCAL idle_in_transaction_session_timeout = 0").await?;
        let taken_at = sql::transaction_start_micros(conn).await?;
        let sizes = sql::table_sizes(conn, tables).await?;
        let mut order: Vec<(i64, &PublishedTable)> = sizes.into_iter().zip(tables).collect();
        // Largest first (stable: ties keep the publication's order).
        order.sort_by_key(|(rows, _)| std::cmp::Reverse(*rows));
        let mut queue = VecDeque::new();
        for (_, published) in order {
            let copy =
                dest.start_copy(&published.table, row_lsn.as_i64(), taken_at, only_missing).await?;
            queue.push_back((published.clone(), copy));
        }
        let workers = cfg.snapshot_workers.clamp(1, queue.len().max(1));
        let shared = Arc::new(Mutex::new(queue));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..workers {
            tasks.spawn(copy_tables(
                cfg.source.clone(),
                name.clone(),
                shared.clone(),
                shutdown.clone(),
                version,
            ));
        }
        let mut done = true;
        let mut failed = None;
        while let Some(joined) = tasks.join_next().await {
            let result = joined.map_err(|e| {
                IngestError::Io(std::io::Error::other(format!("snapshot copy task: {e}")))
            })?;
            match result {
                Ok((copied, complete)) => {
                    done &= complete;
                    for (table, copy) in copied {
                        dest.end_copy(table, copy);
                    }
                }
                Err(e) => {
                    // The others stop at their next table; their copies are done again on
                    // the next start (nothing was recorded for an unfinished one).
                    if let Ok(mut queue) = shared.lock() {
                        queue.clear();
                    }
                    failed.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        if !done {
            sql::execute(conn, "ROLLBACK").await?;
            tracing::warn!(
                "shutdown during the snapshot; the remaining tables are copied on the next start"
            );
            return Ok(false);
        }
        sql::execute(conn, "COMMIT").await?;
        Ok(true)
    })
}

/// One snapshot worker: on a connection of its own under the exported snapshot `name`, copies
/// tables from `queue` until it is empty (or shutdown). Returns the tables it took, and false
/// when shutdown stopped it before the queue was empty.
async fn copy_tables<C: TableCopy>(
    source: SourceConfig,
    name: String,
    queue: CopyQueue<C>,
    shutdown: CancellationToken,
    version: i64,
) -> Result<(Vec<(TableName, C)>, bool), IngestError> {
    let mut conn = sql::connect_under(&source, name).await?;
    let mut copied = Vec::new();
    loop {
        let next = queue.lock().ok().and_then(|mut q| q.pop_front());
        let Some((published, mut copy)) = next else { break };
        if shutdown.is_cancelled() {
            copied.push((published.table, copy));
            let _ = sql::execute(&mut conn, "ROLLBACK").await;
            return Ok((copied, false));
        }
        copy_table(&mut conn, &published, &mut copy, version).await?;
        copied.push((published.table, copy));
    }
    sql::execute(&mut conn, "COMMIT").await?;
    conn.close().await?;
    Ok((copied, true))
}

/// Copies one table in chunks of [`SNAPSHOT_CHUNK_ROWS`]; the last records `version`.
async fn copy_table<C: TableCopy>(
    conn: &mut PgConnection,
    published: &PublishedTable,
    copy: &mut C,
    version: i64,
) -> Result<(), IngestError> {
    let started = Instant::now();
    let def = sql::table_def(conn, published).await?;
    let mut parser = CopyTextParser::new(&def);
    let mut stream = sql::copy_out(conn, published, &def).await?;
    while let Some(chunk) = stream.next().await {
        parser.feed(&chunk?)?;
        if parser.buffered_rows() >= SNAPSHOT_CHUNK_ROWS {
            let batches = parser.take_batches()?;
            copy.write(&def, batches, None).await?;
        }
    }
    drop(stream);
    let last = parser.finish()?;
    copy.write(&def, last, Some(version)).await?;
    let rows = copy.rows();
    metrics::counter!(METRIC_CHANGES, "table" => def.table.to_string()).increment(rows);
    tracing::info!(
        table = %def.table, rows, elapsed_ms = started.elapsed().as_millis() as u64,
        "snapshot copied"
    );
    Ok(())
}

/// Of `tables`, those a snapshot may copy (see [`Destination::may_copy`]).
pub(crate) async fn copyable<D: Destination>(
    dest: &mut D,
    tables: &[PublishedTable],
) -> Result<Vec<PublishedTable>, IngestError> {
    let mut out = Vec::with_capacity(tables.len());
    for p in tables {
        if dest.may_copy(&p.table).await? {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// A table first seen in the stream (added to the publication while we ran) is copied
/// before its changes are applied on top.
pub(crate) async fn ensure_copied<D: Destination>(
    dest: &mut D,
    cfg: &IngestConfig,
    shutdown: &CancellationToken,
    table: &TableName,
    first_lsn: i64,
) -> Result<(), IngestError> {
    dest.open(vec![table.clone()]).await?;
    if dest.is_copied(table) {
        return Ok(());
    }
    let mut conn = sql::connect(&cfg.source).await?;
    let published = sql::published_tables(&mut conn, &cfg.publication).await?;
    if let Some(p) = published.into_iter().find(|p| &p.table == table) {
        tracing::warn!(table = %table, "table joined the publication: copying it under a fresh snapshot");
        let version = first_lsn - 1;
        let at = Lsn::from_i64(version);
        let done =
            snapshot_tables(dest, cfg, shutdown, &mut conn, &[p], None, at, version, true).await?;
        if !done {
            // Nothing of the batch may be written to a table whose copy is missing: its
            // recorded version would make the next start take it for copied.
            return Err(IngestError::Interrupted(format!(
                "the copy of {table}, which joined the publication (copied on the next start)"
            )));
        }
    }
    conn.close().await?;
    Ok(())
}
