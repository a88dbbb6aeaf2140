//! Operability: how far behind the server ingest is (`oneclass_ingest_lag_bytes`) and how much
//! WAL our slot holds back on the server (`oneclass_ingest_slot_retained_wal_bytes`), polled on
//! an ordinary (non-replication) connection as the CDC role, with a rate-limited warning when
//! the slot retains more than `IngestConfig::retained_wal_warn_bytes`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;

use crate::config::IngestConfig;
use crate::error::IngestError;
use crate::lsn::Lsn;
use crate::metrics::{METRIC_LAG_BYTES, METRIC_SLOT_RETAINED_WAL_BYTES};
use crate::source::sql;

/// How often the server's WAL position is read for `oneclass_ingest_lag_bytes`.
const LAG_POLL: Duration = Duration::from_secs(1);
/// At most one retained-WAL warning (and one "monitor connection failed" warning) this often.
pub const WARN_EVERY: Duration = Duration::from_secs(60);

/// What the pipeline has applied and the newest server WAL position anyone has seen; the lag
/// gauge is their difference, republished whenever either moves.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    applied: AtomicU64,
    server: AtomicU64,
}

impl Progress {
    /// Everything up to `lsn` is in the lake (the end of the last applied commit, or the
    /// server's position while nothing is in hand).
    pub(crate) fn applied(&self, lsn: Lsn) {
        self.applied.fetch_max(lsn.0, Ordering::Relaxed);
        self.publish();
    }

    /// The server's WAL has reached at least `lsn`.
    pub(crate) fn server(&self, lsn: Lsn) {
        self.server.fetch_max(lsn.0, Ordering::Relaxed);
        self.publish();
    }

    /// The newest server WAL position seen so far (0 before any).
    pub(crate) fn server_lsn(&self) -> Lsn {
        Lsn(self.server.load(Ordering::Relaxed))
    }

    fn publish(&self) {
        let applied = self.applied.load(Ordering::Relaxed);
        if applied == 0 {
            // Nothing applied yet (the initial snapshot is running): no meaningful lag.
            return;
        }
        let lag = lag_bytes(self.server.load(Ordering::Relaxed), applied);
        metrics::gauge!(METRIC_LAG_BYTES).set(lag as f64);
    }
}

/// Bytes of WAL between the server's position and what is applied (0 when caught up).
pub fn lag_bytes(server: u64, applied: u64) -> u64 {
    server.saturating_sub(applied)
}

/// Whether to log the retained-WAL warning now: over the threshold, and not warned within
/// [`WARN_EVERY`].
pub fn should_warn_retained(
    retained: u64,
    threshold: u64,
    last_warned: Option<Instant>,
    now: Instant,
) -> bool {
    retained > threshold
        && last_warned.is_none_or(|t| now.saturating_duration_since(t) >= WARN_EVERY)
}

/// Polls until `shutdown`: the server's WAL position every second, the slot's retained WAL every
/// `cfg.slot_poll_interval`. Never fails ingest: errors are logged (once a minute) and the
/// connection is opened again on the next tick.
pub(crate) async fn run(
    cfg: IngestConfig,
    progress: std::sync::Arc<Progress>,
    shutdown: CancellationToken,
) {
    let tick = LAG_POLL.min(cfg.slot_poll_interval);
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut conn: Option<PgConnection> = None;
    let mut next_slot_poll = Instant::now();
    let mut warned_retained: Option<Instant> = None;
    let mut warned_error: Option<Instant> = None;
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            _ = interval.tick() => {}
        }
        let poll_slot = Instant::now() >= next_slot_poll;
        match poll(&cfg, &mut conn, poll_slot).await {
            Ok((server, retained)) => {
                progress.server(server);
                if poll_slot {
                    next_slot_poll = Instant::now() + cfg.slot_poll_interval;
                    if let Some(retained) = retained {
                        metrics::gauge!(METRIC_SLOT_RETAINED_WAL_BYTES).set(retained as f64);
                        let now = Instant::now();
                        if should_warn_retained(
                            retained,
                            cfg.retained_wal_warn_bytes,
                            warned_retained,
                            now,
                        ) {
                            warned_retained = Some(now);
                            tracing::warn!(
                                slot = %cfg.slot, retained_bytes = retained,
                                threshold_bytes = cfg.retained_wal_warn_bytes,
                                "the replication slot retains more WAL than the threshold: ingest is behind or stopped, and the server's disk fills"
                            );
                        }
                    }
                }
            }
            Err(e) => {
                conn = None;
                let now = Instant::now();
                if warned_error.is_none_or(|t| now.saturating_duration_since(t) >= WARN_EVERY) {
                    warned_error = Some(now);
                    tracing::warn!(error = %e, "ingest monitor could not read the server's WAL position");
                }
            }
        }
    }
    if let Some(c) = conn {
        let _ = sqlx::Connection::close(c).await;
    }
}

/// The server's current WAL position, and (when asked) the WAL our slot retains (None while the
/// slot does not exist yet).
fn poll<'a>(
    cfg: &'a IngestConfig,
    conn: &'a mut Option<PgConnection>,
    slot: bool,
) -> BoxFuture<'a, Result<(Lsn, Option<u64>), IngestError>> {
    Box::pin(async move {
        if conn.is_none() {
            *conn = Some(sql::connect(&cfg.source).await?);
        }
        let Some(c) = conn.as_mut() else {
            return Err(IngestError::Config("no monitor connection".into()));
        };
        let server =
            sqlx::query_scalar!(r#"SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8 AS "lsn!""#)
                .fetch_one(&mut *c)
                .await?;
        let retained = if slot {
            // No restart LSN (a slot that never streamed) reads as nothing retained yet.
            let r: Option<Option<i64>> = sqlx::query_scalar!(
                "SELECT (pg_current_wal_lsn() - restart_lsn)::int8 AS retained
                   FROM pg_replication_slots WHERE slot_name = $1",
                cfg.slot,
            )
            .fetch_optional(&mut *c)
            .await?;
            r.flatten().map(|n| u64::try_from(n).unwrap_or(0))
        } else {
            None
        };
        Ok((Lsn(u64::try_from(server).unwrap_or(0)), retained))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_the_difference_and_never_negative() {
        assert_eq!(lag_bytes(1_000, 400), 600);
        assert_eq!(lag_bytes(400, 400), 0);
        // The applied position can run ahead of a stale server reading.
        assert_eq!(lag_bytes(300, 400), 0);
    }

    #[test]
    fn retained_warning_over_threshold_at_most_once_a_minute() {
        let gib = 1u64 << 30;
        let t0 = Instant::now();
        assert!(!should_warn_retained(gib, gib, None, t0), "at the threshold: no warning");
        assert!(!should_warn_retained(10, gib, None, t0));
        assert!(should_warn_retained(gib + 1, gib, None, t0));
        // Warned at t0: quiet for a minute, then again.
        assert!(!should_warn_retained(2 * gib, gib, Some(t0), t0 + Duration::from_secs(10)));
        assert!(!should_warn_retained(2 * gib, gib, Some(t0), t0 + Duration::from_secs(59)));
        assert!(should_warn_retained(2 * gib, gib, Some(t0), t0 + WARN_EVERY));
        // Back under the threshold: never.
        assert!(!should_warn_retained(gib / 2, gib, Some(t0), t0 + Duration::from_secs(600)));
    }
}
