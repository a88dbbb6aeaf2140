//! The initial snapshot copies tables in parallel, every copy under the slot's one exported
//! snapshot: while a writer changes two tables in the same transactions, both are copied at
//! once, and each transaction reaches the lake either in both copies or in the stream of both,
//! never in a copy and the stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, ensure};
use oneclass_ingest::{SILVER, recorded_lsn};
use oneclass_testkit::ingest::{Fixture, LakeKind, wait_reconciled};
use tokio_util::sync::CancellationToken;

const ROWS: i64 = 300_000;
/// The writer cycles over this many ids.
const HOT: i64 = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_are_copied_in_parallel_under_one_snapshot() -> anyhow::Result<()> {
    let fx = Fixture::start("ingest-snapshot", LakeKind::Folder).await?;
    let pool = fx.pool.clone();
    let columns = "id int8 PRIMARY KEY, v int8 NOT NULL, pad text";
    fx.publish(&[("ref.snap_a", columns), ("ref.snap_b", columns)]).await?;
    let mut setup = Vec::new();
    for t in ["snap_a", "snap_b"] {
        setup.push(format!(
            "INSERT INTO ref.{t} SELECT g, 0, repeat('x', 40) FROM generate_series(1, {ROWS}) g"
        ));
        // The two largest published tables: copied first, one by each worker.
        setup.push(format!("ANALYZE ref.{t}"));
    }
    let setup: Vec<&str> = setup.iter().map(String::as_str).collect();
    fx.execute(&setup).await?;

    // Transaction k sets v = k in one row of each table.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (pool, writing) = (pool.clone(), writing.clone());
        tokio::spawn(async move {
            let mut k: i64 = 0;
            while writing.load(Ordering::SeqCst) {
                k += 1;
                let id = k % HOT + 1;
                let mut t = pool.begin().await?;
                for table in ["snap_a", "snap_b"] {
                    sqlx::query(&format!("UPDATE ref.{table} SET v = $1 WHERE id = $2"))
                        .bind(k)
                        .bind(id)
                        .execute(&mut *t)
                        .await?;
                }
                t.commit().await?;
            }
            anyhow::Ok(k)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut cfg = fx.config();
    cfg.snapshot_workers = 2;
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg.clone(), token.clone()));

    // Both copies run at once: two connections whose open transaction's last statement is a
    // COPY (the server may have sent everything while the rows are still being written).
    let mut most_at_once = 0i64;
    while !ingest.is_finished() {
        let copying: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
              WHERE application_name = 'oneclass-ingest-snapshot'
                AND state IN ('active', 'idle in transaction') AND query ILIKE 'COPY%'",
        )
        .fetch_one(&pool)
        .await?;
        most_at_once = most_at_once.max(copying);
        let mut copied = 0;
        for t in ["snap_a", "snap_b"] {
            if recorded_lsn(&fx.lake, &fx.options, SILVER, "ref", t).await?.is_some() {
                copied += 1;
            }
        }
        if copied == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    ensure!(most_at_once >= 2, "at most {most_at_once} COPY ran at once");
    tokio::time::sleep(Duration::from_millis(500)).await;
    writing.store(false, Ordering::SeqCst);
    let last = writer.await??;

    wait_reconciled(&fx, &mut ingest, Duration::from_secs(120))
        .await
        .context("after the writes")?;
    // Per table: the newest write the copy holds, and the oldest the stream brought.
    let mut cuts = Vec::new();
    for t in ["snap_a", "snap_b"] {
        let rows = fx
            .lake_rows(
                "bronze",
                "ref",
                t,
                "SELECT CAST(max(CASE WHEN _op = 'r' THEN v END) AS VARCHAR), \
                        CAST(min(CASE WHEN _op = 'u' THEN v END) AS VARCHAR), \
                        CAST(sum(CASE WHEN _op = 'r' THEN 1 ELSE 0 END) AS VARCHAR), \
                        CAST(sum(CASE WHEN _op = 'u' THEN 1 ELSE 0 END) AS VARCHAR) FROM t",
            )
            .await?;
        let cell = |i: usize| -> anyhow::Result<i64> {
            rows.first()
                .and_then(|r| r.get(i).cloned().flatten())
                .with_context(|| format!("bronze ref.{t}: {rows:?}"))?
                .parse()
                .map_err(Into::into)
        };
        let (copied_max, streamed_min, copied, streamed) = (cell(0)?, cell(1)?, cell(2)?, cell(3)?);
        ensure!(copied == ROWS, "bronze ref.{t} holds {copied} copied rows");
        ensure!(
            copied_max > 0 && streamed_min == copied_max + 1,
            "ref.{t}: the copy holds writes up to {copied_max}, the stream starts at {streamed_min}"
        );
        // Every write after the cut, once.
        ensure!(streamed == last - copied_max, "ref.{t}: {streamed} streamed of {last} writes");
        cuts.push(copied_max);
    }
    ensure!(cuts[0] == cuts[1], "the two tables were copied under different snapshots: {cuts:?}");
    token.cancel();
    ingest.await??;
    Ok(())
}

/// A batch is written as soon as the stream pauses, not when the flush interval ends: with an
/// interval of two minutes, a lone change still reaches silver within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_written_once_the_stream_pauses() -> anyhow::Result<()> {
    let fx = Fixture::start("ingest-linger", LakeKind::Folder).await?;
    fx.publish(&[("ref.linger", "id int PRIMARY KEY, v text")]).await?;
    let mut cfg = fx.config();
    cfg.flush_interval = Duration::from_secs(120);
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg, token.clone()));
    wait_reconciled(&fx, &mut ingest, Duration::from_secs(60)).await.context("the snapshot")?;
    fx.execute(&["INSERT INTO ref.linger VALUES (1, 'alone')"]).await?;
    wait_reconciled(&fx, &mut ingest, Duration::from_secs(15)).await.context("the lone change")?;
    token.cancel();
    ingest.await??;
    Ok(())
}
