//! `oneclass bench cdc-memory`: the peak memory of ingest while one source transaction of
//! `--rows` rows streams through it (spilled to disk past the budget, applied in one bronze and
//! one silver commit). Ingest runs in this process; the peak is the kernel's high-water mark
//! (`VmHWM`), reset just before the transaction.

use std::time::{Duration, Instant};

use anyhow::Context;
use deltalake::arrow::array::AsArray;
use deltalake::arrow::datatypes::Int64Type;
use deltalake::datafusion::prelude::SessionContext;
use oneclass_core::db;
use oneclass_ingest::{IngestConfig, lake_table_url};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::common::{BenchCluster, RunFacts, append_json_lines, server_version, thousands};

const RESULTS: &str = "bench/results/cdc.jsonl";
/// The figure this benchmark guards, for 1 000 000 rows.
const TARGET_MIB: f64 = 512.0;
const SYNC_TIMEOUT: Duration = Duration::from_secs(3600);

pub struct CdcMemoryOptions {
    pub rows: u64,
}

/// `VmRSS` and `VmHWM` of this process, in KiB.
fn memory_kib() -> (Option<u64>, Option<u64>) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Rows in a silver table (0 while it does not exist yet).
async fn silver_rows(lake: &url::Url) -> anyhow::Result<u64> {
    let Ok(table) =
        deltalake::open_table(lake_table_url(lake, oneclass_lake::SILVER, "ref", "cdc_bench"))
            .await
    else {
        return Ok(0);
    };
    let ctx = SessionContext::new();
    ctx.register_table("t", table.table_provider().await?)?;
    let batches = ctx.sql("SELECT count(*) FROM t").await?.collect().await?;
    let n = batches
        .first()
        .filter(|b| b.num_rows() == 1)
        .and_then(|b| b.column(0).as_primitive_opt::<Int64Type>().map(|a| a.value(0)))
        .unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

pub async fn cdc_memory(opts: CdcMemoryOptions) -> anyhow::Result<()> {
    let bench = BenchCluster::start().await?;
    let pool = db::pool(&bench.url, 2).await?;
    let postgres = server_version(&pool).await?;
    sqlx::raw_sql(
        "CREATE TABLE ref.cdc_bench (id bigint PRIMARY KEY, school_id uuid NOT NULL,
             name text NOT NULL, score numeric(6,2), born date, at timestamptz NOT NULL DEFAULT now());
         GRANT SELECT ON ref.cdc_bench TO oneclass_cdc;
         ALTER PUBLICATION oneclass_lake ADD TABLE ref.cdc_bench;",
    )
    .execute(&pool)
    .await
    .context("creating the benchmark table")?;

    let lake = bench.lake_url()?;
    let source = bench.cdc_source();
    let cfg = IngestConfig::new(source.clone(), lake.clone());
    let (spill_rows, spill_bytes) = (cfg.spill_rows, cfg.spill_bytes);
    let token = CancellationToken::new();
    let ingest = tokio::spawn(oneclass_ingest::run(cfg, token.clone()));
    // The initial snapshot (an empty table) is in the lake once silver exists.
    let deadline = Instant::now() + Duration::from_secs(120);
    while deltalake::open_table(lake_table_url(&lake, oneclass_lake::SILVER, "ref", "cdc_bench"))
        .await
        .is_err()
    {
        anyhow::ensure!(!ingest.is_finished(), "ingest stopped before its snapshot");
        anyhow::ensure!(Instant::now() < deadline, "no snapshot within 2 minutes");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let spilled_before = oneclass_ingest::spill_stats();
    let (baseline_rss, _) = memory_kib();
    // Resets VmHWM to the current RSS (Linux ≥ 4.0).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    if !reset {
        eprintln!("could not reset VmHWM: the peak includes everything before the transaction");
    }
    let sampled_peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = {
        let peak = sampled_peak.clone();
        let stop = token.clone();
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                if let (Some(rss), _) = memory_kib() {
                    peak.fetch_max(rss, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    eprintln!("Committing one transaction of {} rows …", thousands(opts.rows));
    let started = Instant::now();
    // ref.cdc_bench is made by this benchmark, not by the migrations: no compile-time check.
    sqlx::query(
        "INSERT INTO ref.cdc_bench (id, school_id, name, score, born)
         SELECT g, '0190b5e0-0000-7000-8000-000000000001'::uuid, 'Learner number ' || g,
                (g % 10000) / 100.0, date '2012-01-01' + (g % 2000)::int
         FROM generate_series(1, $1::bigint) g",
    )
    .bind(i64::try_from(opts.rows).context("--rows")?)
    .execute(&pool)
    .await
    .context("the benchmark transaction")?;
    let insert_seconds = started.elapsed().as_secs_f64();
    eprintln!("Committed in {insert_seconds:.1} s; waiting for silver …");
    let deadline = Instant::now() + SYNC_TIMEOUT;
    loop {
        if ingest.is_finished() {
            token.cancel();
            return match ingest.await {
                Ok(Ok(())) => Err(anyhow::anyhow!("ingest stopped on its own")),
                Ok(Err(e)) => Err(anyhow::anyhow!("ingest failed: {e}")),
                Err(e) => Err(anyhow::anyhow!("ingest panicked: {e}")),
            };
        }
        if silver_rows(&lake).await? >= opts.rows {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "silver did not catch up in {SYNC_TIMEOUT:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let to_silver_seconds = started.elapsed().as_secs_f64();
    let (_, hwm) = memory_kib();
    token.cancel();
    sampler.await?;
    ingest.await?.context("ingest")?;
    let spilled = oneclass_ingest::spill_stats().changes - spilled_before.changes;
    let peak_kib = hwm.unwrap_or(0).max(sampled_peak.load(std::sync::atomic::Ordering::Relaxed));

    // Correctness, after the measurement: silver equals PostgreSQL.
    let reports =
        oneclass_ingest::reconcile(&source, &lake, &Default::default(), db::PUBLICATION).await?;
    let clean = reports.iter().all(oneclass_ingest::TableReport::is_clean);
    pool.close().await;

    let facts = RunFacts::unscaled(postgres);
    println!(
        "\nCDC memory: one transaction of {} rows ({} build, PostgreSQL {}, {} CPUs)\n",
        thousands(opts.rows),
        facts.profile,
        facts.postgres,
        facts.nproc
    );
    println!("| measure | value |\n| --- | ---: |");
    println!("| rows in the transaction | {} |", thousands(opts.rows));
    println!(
        "| spill budget | {} rows / {} MiB |",
        thousands(spill_rows as u64),
        spill_bytes >> 20
    );
    println!("| changes spilled | {} |", thousands(spilled));
    println!("| insert + commit, s | {insert_seconds:.1} |");
    println!("| commit to silver, s (from the start of the insert) | {to_silver_seconds:.1} |");
    println!("| RSS before the transaction, MiB | {:.0} |", mib(baseline_rss.unwrap_or(0)));
    println!(
        "| peak RSS, MiB (target < {TARGET_MIB:.0} for 1,000,000 rows) | {:.0} |",
        mib(peak_kib)
    );
    println!("| silver equals PostgreSQL (reconcile) | {} |", if clean { "yes" } else { "NO" });
    let line = json!({
        "bench": "cdc-memory",
        "date": facts.date,
        "rows": opts.rows,
        "spill_rows": spill_rows,
        "spill_bytes": spill_bytes,
        "spilled_changes": spilled,
        "insert_seconds": insert_seconds,
        "to_silver_seconds": to_silver_seconds,
        "baseline_rss_kib": baseline_rss,
        "peak_rss_kib": peak_kib,
        "hwm_reset": reset,
        "reconciled": clean,
        "machine": facts.machine_json(),
    });
    append_json_lines(std::path::Path::new(RESULTS), &[line])?;
    println!("\nAppended 1 line to {RESULTS}");
    bench.stop().await?;
    anyhow::ensure!(clean, "silver differs from PostgreSQL: {reports:?}");
    Ok(())
}
