//! Bounded memory: source transactions far larger than a deliberately tiny spill budget go
//! through spill files and still land whole and exactly once — silver equals PostgreSQL
//! (checked by `reconcile`), bronze holds every change once, and the spill files are gone
//! afterwards.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, ensure};
use oneclass_testkit::ingest::{Fixture, LakeKind, Rows, wait_reconciled};

use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_transactions_spill_and_land_whole() -> anyhow::Result<()> {
    let fx = Fixture::start("ingest-spill", LakeKind::Folder).await?;
    let pool = fx.pool.clone();
    fx.publish(&[
        ("ref.spill_probe", "id int PRIMARY KEY, v text, n int"),
        ("ref.spill_other", "k text PRIMARY KEY, x int"),
    ])
    .await?;
    // Rows from before: copied by the snapshot, then updated and deleted by the big
    // transaction (the MERGE's matched branches).
    fx.execute(&[
        "INSERT INTO ref.spill_probe SELECT -g, 'before', g FROM generate_series(1, 100) g",
    ])
    .await?;

    let spill_dir = fx.dir.path().join("spill");
    let mut cfg = fx.config();
    cfg.spill_rows = 1_000;
    cfg.spill_dir = Some(spill_dir.clone());

    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg.clone(), token.clone()));
    wait_reconciled(&fx, &mut ingest, Duration::from_secs(90))
        .await
        .context("after the snapshot")?;
    let before = oneclass_ingest::spill_stats();

    // Watches the spill folder while the transactions stream.
    let seen = Arc::new(AtomicBool::new(false));
    let watching = CancellationToken::new();
    let watcher = {
        let (seen, watching, spill_dir) = (seen.clone(), watching.clone(), spill_dir.clone());
        tokio::spawn(async move {
            while !watching.is_cancelled() {
                if count_files(&spill_dir) > 0 {
                    seen.store(true, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    // One transaction of 20 900 changes in two tables: inserts, updates of rows inserted in
    // the same transaction (twice for some), key changes, deletes, and changes to older rows.
    let mut tx = pool.begin().await?;
    let mut probe = Expected::default();
    for (stmt, op, n) in [
        (
            "INSERT INTO ref.spill_probe SELECT g, 'v' || g, g FROM generate_series(1, 15000) g",
            'c',
            15_000,
        ),
        (
            "UPDATE ref.spill_probe SET v = 'updated', n = n + 1 WHERE id > 0 AND id % 5 = 0",
            'u',
            3_000,
        ),
        ("UPDATE ref.spill_probe SET v = 'again' WHERE id > 0 AND id % 15 = 0", 'u', 1_000),
        ("UPDATE ref.spill_probe SET id = id + 100000 WHERE id > 0 AND id % 50 = 1", 'u', 300),
        ("DELETE FROM ref.spill_probe WHERE id > 0 AND id % 10 = 3", 'd', 1_500),
        ("UPDATE ref.spill_probe SET v = 'changed' WHERE id BETWEEN -50 AND -1", 'u', 50),
        ("DELETE FROM ref.spill_probe WHERE id BETWEEN -100 AND -91", 'd', 10),
    ] {
        let done = sqlx::query(stmt).execute(&mut *tx).await?.rows_affected();
        ensure!(done == n, "{stmt}: {done} rows, expected {n}");
        probe.add(op, n);
    }
    sqlx::query("INSERT INTO ref.spill_other SELECT 'k' || g, g FROM generate_series(1, 40) g")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    wait_reconciled(&fx, &mut ingest, Duration::from_secs(180))
        .await
        .context("after the large transaction")?;

    // A TRUNCATE inside a spilled transaction: silver keeps only what follows it.
    let mut tx = pool.begin().await?;
    sqlx::query("TRUNCATE ref.spill_other").execute(&mut *tx).await?;
    sqlx::query("INSERT INTO ref.spill_other SELECT 'n' || g, g FROM generate_series(1, 2500) g")
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE ref.spill_other SET x = -x WHERE x % 2 = 0").execute(&mut *tx).await?;
    tx.commit().await?;
    wait_reconciled(&fx, &mut ingest, Duration::from_secs(120))
        .await
        .context("after the truncating transaction")?;
    watching.cancel();
    watcher.await?;
    token.cancel();
    ingest.await??;

    let after = oneclass_ingest::spill_stats();
    ensure!(
        after.transactions >= before.transactions + 2 && after.changes >= before.changes + 20_000,
        "the transactions were not spilled: {before:?} → {after:?}"
    );
    ensure!(seen.load(Ordering::SeqCst), "no spill file was ever seen in {}", spill_dir.display());
    let left = count_files(&spill_dir);
    ensure!(left == 0, "{left} spill files left behind in {}", spill_dir.display());

    // Bronze: every change of the transaction exactly once, under one LSN.
    let stats = bronze_rows(
        &fx,
        "spill_probe",
        "SELECT CAST(count(*) AS VARCHAR), CAST(count(DISTINCT _lsn) AS VARCHAR), \
         CAST(count(DISTINCT _seq) AS VARCHAR) FROM t WHERE _op <> 'r'",
    )
    .await?;
    let total = probe.c + probe.u + probe.d;
    let want = vec![vec![Some(total.to_string()), Some("1".into()), Some(total.to_string())]];
    ensure!(stats == want, "bronze changes / LSNs / seqs: got {stats:?}, want {want:?}");
    fx.check_bronze_once("ref", "spill_probe", "id", "v").await?;
    let by_op = fx.bronze_ops("ref", "spill_probe").await?;
    let want: BTreeMap<String, u64> = [("c", probe.c), ("d", probe.d), ("r", 100), ("u", probe.u)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    ensure!(by_op == want, "bronze changes per op: got {by_op:?}, want {want:?}");
    pool.close().await;
    Ok(())
}

#[derive(Default, Debug)]
struct Expected {
    c: u64,
    u: u64,
    d: u64,
}

impl Expected {
    fn add(&mut self, op: char, n: u64) {
        match op {
            'c' => self.c += n,
            'u' => self.u += n,
            _ => self.d += n,
        }
    }
}

fn count_files(dir: &Path) -> usize {
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    let mut n = 0;
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(_) => n += 1,
                Err(_) => {}
            }
        }
    }
    n
}

/// Polls `reconcile` until every published table's silver equals PostgreSQL.
/// Runs `sql` over bronze `ref.<table>` registered as `t`.
async fn bronze_rows(fx: &Fixture, table: &str, sql: &str) -> anyhow::Result<Rows> {
    fx.lake_rows("bronze", "ref", table, sql).await
}
