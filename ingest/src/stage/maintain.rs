//! The maintenance stage, between two batches (nothing in hand, so no commit of ours can race
//! it): every table compacted and cleaned up now and then, and changes written aside folded in
//! once ingest is idle, while the server keeps hearing from us. A failure is logged and tried
//! again at the next pass: the tables are as they were, and ingest goes on.

use std::time::Instant;

use crate::destination::Destination;
use crate::lake::delta::Maintained;
use crate::lsn::Lsn;
use crate::metrics::{METRIC_COMPACTED_FILES, METRIC_MAINTENANCE_SECONDS, METRIC_VACUUMED_FILES};
use crate::source::replication::ReplicationConnection;

/// Compacts and vacuums every table, one after the other.
pub(crate) async fn maintain<D: Destination>(
    dest: &mut D,
    repl: &mut ReplicationConnection,
    received: Lsn,
    acked: Lsn,
) {
    let started = Instant::now();
    let mut total = Maintained::default();
    for name in dest.tables() {
        let work = async { Ok(dest.maintain(&name).await) };
        let results = match repl.keep_alive(received, acked, work).await {
            Ok(results) => results,
            Err(error) => {
                tracing::warn!(table = %name, %error, "compaction or vacuum failed; tried again at the next pass");
                continue;
            }
        };
        for (layer, result) in results {
            match result {
                Ok(done) => {
                    if done != Maintained::default() {
                        tracing::debug!(table = %name, layer, ?done, "maintained");
                    }
                    total.files_compacted += done.files_compacted;
                    total.files_written += done.files_written;
                    total.files_vacuumed += done.files_vacuumed;
                }
                Err(error) => {
                    tracing::warn!(table = %name, layer, %error, "compaction or vacuum failed; tried again at the next pass");
                }
            }
        }
    }
    metrics::counter!(METRIC_COMPACTED_FILES).increment(total.files_compacted);
    metrics::counter!(METRIC_VACUUMED_FILES).increment(total.files_vacuumed);
    metrics::gauge!(METRIC_MAINTENANCE_SECONDS).set(started.elapsed().as_secs_f64());
    tracing::info!(
        compacted = total.files_compacted,
        written = total.files_written,
        vacuumed = total.files_vacuumed,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "lake maintenance done"
    );
}

/// Folds every table's changes written aside (ingest is idle: nothing is in hand).
pub(crate) async fn fold_idle<D: Destination>(
    dest: &mut D,
    repl: &mut ReplicationConnection,
    received: Lsn,
    acked: Lsn,
) {
    for name in dest.pending() {
        if let Err(error) = repl.keep_alive(received, acked, dest.fold(&name)).await {
            tracing::warn!(table = %name, %error, "folding pending silver changes failed; tried again later");
        }
    }
}
