//! `oneclass bench queries`: the analytical queries of `bench/queries/` run by DataFusion, DuckDB
//! and Polars over the same Parquet files (exported from silver in the same run), cold and hot,
//! with DataFusion over the Delta lake itself (the warehouse) as a reference row; then the
//! analyst questions of `bench/analyst/` through the SQL endpoint ([`crate::analyst`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use deltalake::arrow::array::AsArray;
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Int64Type};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::dataframe::DataFrameWriteOptions;
use deltalake::datafusion::prelude::SessionContext;
use oneclass_core::db;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::analyst::{self, ANALYST_DIR, analyst_questions};
use crate::common::{BenchCluster, RunFacts, append_json_lines, server_version};
use crate::queries::{
    Cell, HOT_RUNS, PEERS, PIP, PeerVersions, QUERY_DIR, QueryRow, REL_TOLERANCE, TABLES, Timing,
    cells, compare, format_table, geometric_means, json_line, median, over_silver, peer_result,
    read_queries, run_df_parquet, run_peers,
};
use oneclass::app::{ingest_config, supervise_ingest, wait_for_lake, warehouse};
use oneclass::config::Settings;

const RESULTS: &str = "bench/results/queries.jsonl";
/// How long ingest may take to bring silver level with PostgreSQL.
const LAKE_TIMEOUT: Duration = Duration::from_secs(1800);

pub struct QueriesOptions {
    pub scale: oneclass_synth::Scale,
    pub seed: u64,
    /// Where to write the Parquet export and keep it (for other engines and profiling); by
    /// default it goes with the run's scratch folder.
    pub parquet: Option<PathBuf>,
}

/// Fails early, with the command that fixes it, when the peers are not installed.
async fn check_peers() -> anyhow::Result<()> {
    let out = tokio::process::Command::new("python3")
        .args(["-c", "import duckdb, polars"])
        .output()
        .await
        .context("running python3 (needed for the DuckDB and Polars peers)")?;
    if !out.status.success() {
        anyhow::bail!(
            "DuckDB and Polars are needed as peers ({}); install them with: {PIP}",
            String::from_utf8_lossy(&out.stderr).trim().lines().last().unwrap_or("import failed")
        );
    }
    if !Path::new(PEERS).is_file() {
        anyhow::bail!("{PEERS} not found: run from the repository root");
    }
    Ok(())
}

async fn count_pg(pool: &sqlx::PgPool, schema: &str, table: &str) -> anyhow::Result<i64> {
    // Our constants, never input.
    // A table named at run time: its text is built here, not checked at compile time.
    Ok(sqlx::query_scalar(&format!("SELECT count(*) FROM {schema}.{table}"))
        .fetch_one(pool)
        .await?)
}

async fn count_silver(
    wh: &oneclass_warehouse::Warehouse,
    schema: &str,
    table: &str,
) -> anyhow::Result<i64> {
    let sql = format!("SELECT count(*) FROM silver.{schema}.{table}");
    let out = wh.query(&sql, &oneclass_warehouse::Access::Full).await?;
    let batch = out.batches.first().context("count(*) returned no batch")?;
    anyhow::ensure!(batch.num_rows() == 1, "count(*) returned {} rows", batch.num_rows());
    let n = cast(batch.column(0), &DataType::Int64)?;
    Ok(n.as_primitive::<Int64Type>().value(0))
}

/// Runs ingest until silver has every row PostgreSQL has in the tables the queries read.
async fn fill_lake(settings: &Settings, pool: &sqlx::PgPool) -> anyhow::Result<f64> {
    let started = Instant::now();
    let shutdown = CancellationToken::new();
    let ingest = tokio::spawn(supervise_ingest(ingest_config(settings)?, shutdown.clone()));
    let result = async {
        wait_for_lake(settings, LAKE_TIMEOUT).await?;
        let wh = warehouse(settings);
        let deadline = Instant::now() + LAKE_TIMEOUT;
        for (_, schema, table) in TABLES {
            let want = count_pg(pool, schema, table).await?;
            loop {
                // A table still being written can fail to open for a moment: try again.
                let have = count_silver(&wh, schema, table).await.unwrap_or(-1);
                if have == want {
                    break;
                }
                if Instant::now() > deadline {
                    anyhow::bail!("silver.{schema}.{table} has {have} rows, PostgreSQL {want}");
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        Ok(())
    }
    .await;
    shutdown.cancel();
    let _ = ingest.await;
    result.map(|()| started.elapsed().as_secs_f64())
}

fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

/// Writes each silver table the queries read to `root/<name>/` as plain Parquet files.
async fn export(lake: &url::Url, root: &Path) -> anyhow::Result<Vec<(&'static str, u64)>> {
    let ctx = SessionContext::new();
    let mut sizes = Vec::new();
    for (name, schema, table) in TABLES {
        // As readers see it: the table with any pending changes on top.
        let provider = oneclass_lake::open_silver(lake, &Default::default(), schema, table)
            .await
            .with_context(|| format!("opening silver.{schema}.{table}"))?
            .with_context(|| format!("silver.{schema}.{table} does not exist"))?;
        let dir = root.join(name);
        // The trailing slash makes DataFusion write a folder of files.
        let target = format!("{}/", dir.display());
        ctx.read_table(provider)?
            .write_parquet(&target, DataFrameWriteOptions::new(), None)
            .await
            .with_context(|| format!("writing {target}"))?;
        sizes.push((name, folder_bytes(&dir)));
    }
    Ok(sizes)
}

/// DataFusion over the Delta lake through the warehouse: a fresh warehouse per query, so that
/// the cold run opens every table's log.
async fn run_df_delta(lake: &url::Url, sql: &str) -> anyhow::Result<(Timing, Vec<RecordBatch>)> {
    let limits = oneclass_warehouse::Limits {
        timeout: Duration::from_secs(3600),
        max_rows: 10_000_000,
        ..oneclass_warehouse::Limits::default()
    };
    let access = oneclass_warehouse::Access::Full;
    let sql = over_silver(sql);
    let started = Instant::now();
    let wh = oneclass_warehouse::Warehouse::new(lake.clone(), Vec::new()).with_limits(limits);
    let out = wh.query(&sql, &access).await?;
    let cold = started.elapsed().as_secs_f64();
    let mut hot = Vec::with_capacity(HOT_RUNS);
    for _ in 0..HOT_RUNS {
        let started = Instant::now();
        wh.query(&sql, &access).await?;
        hot.push(started.elapsed().as_secs_f64());
    }
    Ok((Timing { cold, hot: median(&hot) }, out.batches))
}

/// `oneclass bench queries`.
pub async fn queries(opts: QueriesOptions) -> anyhow::Result<()> {
    check_peers().await?;
    let queries = read_queries(Path::new(QUERY_DIR))?;

    let bench = BenchCluster::start().await?;
    let pool = db::pool(&bench.url, 4).await?;
    let facts = RunFacts::gather(opts.scale, opts.seed, server_version(&pool).await?);
    let params = oneclass_synth::params_for(opts.scale, opts.seed, chrono::Utc::now().date_naive());
    eprintln!("Seeding at {} scale …", facts.scale);
    oneclass_synth::seed(&pool, &params).await.context("seeding")?;

    // The server's settings; only the database, passwords and lake are used: nothing is served.
    let settings = bench.app_settings()?;
    eprintln!("Ingesting into the lake until silver matches PostgreSQL …");
    let ingest_seconds = fill_lake(&settings, &pool).await?;
    pool.close().await;

    let parquet: PathBuf = match &opts.parquet {
        Some(dir) => {
            anyhow::ensure!(
                !dir.exists() || std::fs::read_dir(dir)?.next().is_none(),
                "{} is not empty: the export needs an empty or new folder",
                dir.display()
            );
            dir.clone()
        }
        None => bench.dir().join("parquet"),
    };
    eprintln!("Exporting silver to Parquet …");
    let sizes = export(&settings.lake, &parquet).await?;

    let mut rows = Vec::with_capacity(queries.len());
    let mut results = Vec::with_capacity(queries.len());
    for (name, sql) in &queries {
        eprintln!("DataFusion: {name} …");
        let mut problems = Vec::new();
        let (df_parquet, reference) = match run_df_parquet(&parquet, sql).await {
            Ok((t, batches)) => (Some(t), Some(cells(&batches)?)),
            Err(e) => {
                problems.push(format!("DataFusion (Parquet) failed: {e:#}"));
                (None, None)
            }
        };
        let df_delta = match run_df_delta(&settings.lake, sql).await {
            Ok((t, batches)) => {
                if let Some(reference) = &reference
                    && let Err(e) = compare(reference, &cells(&batches)?, REL_TOLERANCE)
                {
                    problems.push(format!("DataFusion over Delta: {e}"));
                }
                Some(t)
            }
            Err(e) => {
                problems.push(format!("DataFusion over Delta failed: {e:#}"));
                None
            }
        };
        results.push(reference);
        rows.push(QueryRow {
            query: name.clone(),
            rows: 0,
            df_parquet,
            df_delta,
            duckdb: None,
            polars: None,
            problems,
        });
    }

    eprintln!("DuckDB and Polars (one python3 process) …");
    let peers = run_peers(&parquet, QUERY_DIR, &[]).await?;
    for (row, reference) in rows.iter_mut().zip(&results) {
        let reference = reference.as_deref();
        row.rows = reference.map_or(0, <[Vec<Cell>]>::len);
        row.duckdb = peer_result(&peers.duckdb, "DuckDB", &row.query, reference, &mut row.problems);
        row.polars = peer_result(&peers.polars, "Polars", &row.query, reference, &mut row.problems);
    }
    let versions =
        PeerVersions { duckdb: peers.duckdb.version.clone(), polars: peers.polars.version.clone() };

    println!(
        "\nQueries, {} scale, seed {} ({} build, {} CPUs; DuckDB {}, Polars {}); \
         milliseconds, cold / hot (median of {HOT_RUNS})\n",
        facts.scale,
        facts.seed,
        facts.profile,
        facts.nproc,
        versions.duckdb.as_deref().unwrap_or("?"),
        versions.polars.as_deref().unwrap_or("?"),
    );
    println!("{}", format_table(&rows));
    for row in rows.iter().filter(|r| !r.problems.is_empty()) {
        for p in &row.problems {
            println!("- {}: {p}", row.query);
        }
    }
    println!("\nIngest to silver took {ingest_seconds:.1} s. Parquet files:\n");
    println!("| table | MiB |\n| --- | ---: |");
    for (name, bytes) in &sizes {
        println!("| {name} | {:.1} |", *bytes as f64 / (1024.0 * 1024.0));
    }

    let mut lines: Vec<serde_json::Value> =
        rows.iter().map(|r| json_line(&facts, &versions, r)).collect();
    let (duck, polars) = geometric_means(&rows);
    lines.push(json!({
        "bench": "queries",
        "date": facts.date,
        "query": "geometric mean",
        "scale": facts.scale,
        "seed": facts.seed,
        "ratio_datafusion_to_duckdb_hot": duck,
        "ratio_datafusion_to_polars_hot": polars,
        "machine": facts.machine_json(),
        "peers": { "duckdb": versions.duckdb, "polars": versions.polars },
    }));
    append_json_lines(Path::new(RESULTS), &lines)?;
    println!("\nAppended {} lines to {RESULTS}", lines.len());

    eprintln!("Analyst questions ({ANALYST_DIR}) …");
    let (asked, duck) = analyst_questions(&settings, &parquet, &params.demo_password).await?;
    println!(
        "\nAnalyst questions ({ANALYST_DIR}), {} scale: the national analyst through POST \
         /api/v1/sql (scoped, pseudonymised, JSON over HTTP, the whole answer received) beside \
         DuckDB {} over the same Parquet files with raw ids; milliseconds, cold / hot (median of \
         {HOT_RUNS})\n",
        facts.scale,
        duck.duckdb.as_deref().unwrap_or("?"),
    );
    println!("{}", analyst::format_table(&asked));
    for row in asked.iter().filter(|r| !r.problems.is_empty()) {
        for p in &row.problems {
            println!("- {}: {p}", row.question);
        }
    }
    let mut lines: Vec<serde_json::Value> =
        asked.iter().map(|r| analyst::json_line(&facts, &duck, r)).collect();
    let (mean, largest) = analyst::summary(&asked);
    lines.push(json!({
        "bench": "analyst-sql",
        "date": facts.date,
        "query": "geometric mean",
        "scale": facts.scale,
        "seed": facts.seed,
        "ratio_analyst_http_to_duckdb_hot": mean,
        "largest_ratio": largest,
        "machine": facts.machine_json(),
        "peers": { "duckdb": duck.duckdb },
    }));
    append_json_lines(Path::new(RESULTS), &lines)?;
    println!("\nAppended {} lines to {RESULTS}", lines.len());

    bench.stop().await?;
    if rows.iter().any(|r| !r.problems.is_empty()) || asked.iter().any(|r| !r.problems.is_empty()) {
        anyhow::bail!("the engines' results differ or an engine failed: see above");
    }
    Ok(())
}
