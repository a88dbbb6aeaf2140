//! `oneclass bench queries`: the analytical queries of `bench/queries/` run by DataFusion, DuckDB
//! and Polars over the same Parquet files (exported from silver in the same run), cold and hot,
//! with DataFusion over the Delta lake itself (the warehouse) as a reference row; then the
//! analyst questions of `bench/analyst/` through the SQL endpoint ([`crate::analyst`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use deltalake::arrow::array::{Array, AsArray};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Float64Type, Int64Type};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::dataframe::DataFrameWriteOptions;
use deltalake::datafusion::prelude::{ParquetReadOptions, SessionContext};
use oneclass_core::db;
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::analyst::{self, ANALYST_DIR, analyst_questions};
use crate::common::{BenchCluster, RunFacts, append_json_lines, server_version, thousands};
use oneclass::app::{ingest_config, supervise_ingest, wait_for_lake, warehouse};
use oneclass::config::Settings;

const RESULTS: &str = "bench/results/queries.jsonl";
const QUERY_DIR: &str = "bench/queries";
const PEERS: &str = "bench/peers.py";
const PIP: &str = "python3 -m pip install duckdb polars";
/// Hot figures are the median of this many runs after the cold one (as in peers.py).
const HOT_RUNS: usize = 5;
/// Numbers agree when they differ by at most this much relative to the larger.
pub const REL_TOLERANCE: f64 = 1e-6;
/// How long ingest may take to bring silver level with PostgreSQL.
const LAKE_TIMEOUT: Duration = Duration::from_secs(1800);

/// The silver tables the queries read: the name the queries use, then schema and table.
const TABLES: [(&str, &str, &str); 6] = [
    ("daily_marks", "attendance", "daily_marks"),
    ("enrolments", "sis", "enrolments"),
    ("learners", "sis", "learners"),
    ("schools", "platform", "schools"),
    ("staff", "staff", "staff"),
    ("terms", "ref", "terms"),
];

pub struct QueriesOptions {
    pub scale: oneclass_synth::Scale,
    pub seed: u64,
    /// Where to write the Parquet export and keep it (for other engines and profiling); by
    /// default it goes with the run's scratch folder.
    pub parquet: Option<PathBuf>,
}

/// One value of a result, as the engines are compared: numbers as f64, the rest as text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
}

/// Cold: a fresh session, its tables registered, and the first run. Hot: the median of
/// [`HOT_RUNS`] runs after it in the same session. Seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub cold: f64,
    pub hot: f64,
}

/// One query's figures across the engines; `None` where an engine failed.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRow {
    pub query: String,
    pub rows: usize,
    pub df_parquet: Option<Timing>,
    pub df_delta: Option<Timing>,
    pub duckdb: Option<Timing>,
    pub polars: Option<Timing>,
    /// One line per engine whose result differs from DataFusion's over Parquet, or that failed.
    pub problems: Vec<String>,
}

impl QueryRow {
    /// DataFusion over Parquet, hot, ÷ the peer, hot: above 1 means DataFusion is slower.
    pub fn ratio(&self, peer: Option<Timing>) -> Option<f64> {
        let (ours, peer) = (self.df_parquet?, peer?);
        (peer.hot > 0.0 && ours.hot > 0.0).then(|| ours.hot / peer.hot)
    }
}

/// The geometric mean of the positive, finite values; `None` when there are none.
pub fn geometric_mean(values: &[f64]) -> Option<f64> {
    let logs: Vec<f64> =
        values.iter().filter(|v| v.is_finite() && **v > 0.0).map(|v| v.ln()).collect();
    if logs.is_empty() {
        return None;
    }
    Some((logs.iter().sum::<f64>() / logs.len() as f64).exp())
}

/// The median of `values` (the mean of the middle two for an even count); 0 when empty.
/// Computed as `statistics.median` in peers.py computes it, so that every engine's hot figure is
/// the same statistic (not a histogram percentile: five runs, exact values).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn numbers_agree(a: f64, b: f64, tolerance: f64) -> bool {
    a == b || (a - b).abs() <= tolerance * a.abs().max(b.abs())
}

/// Compares a result with the reference: same number of rows and columns, equal text, numbers
/// within `tolerance` relative. Describes the first difference.
pub fn compare(reference: &[Vec<Cell>], other: &[Vec<Cell>], tolerance: f64) -> Result<(), String> {
    if reference.len() != other.len() {
        return Err(format!("{} rows, not {}", other.len(), reference.len()));
    }
    for (i, (want, got)) in reference.iter().zip(other).enumerate() {
        if want.len() != got.len() {
            return Err(format!("row {}: {} columns, not {}", i + 1, got.len(), want.len()));
        }
        for (j, (w, g)) in want.iter().zip(got).enumerate() {
            let same = match (w, g) {
                (Cell::Number(a), Cell::Number(b)) => numbers_agree(*a, *b, tolerance),
                _ => w == g,
            };
            if !same {
                return Err(format!("row {}, column {}: {g:?}, not {w:?}", i + 1, j + 1));
            }
        }
    }
    Ok(())
}

/// A DataFusion result as rows of [`Cell`]s: numeric columns as f64, the others as text.
pub fn cells(batches: &[RecordBatch]) -> anyhow::Result<Vec<Vec<Cell>>> {
    let mut rows = Vec::new();
    for batch in batches {
        let mut columns: Vec<Vec<Cell>> = Vec::with_capacity(batch.num_columns());
        for column in batch.columns() {
            let values = if column.data_type().is_numeric() {
                let floats = cast(column, &DataType::Float64)?;
                let floats = floats.as_primitive::<Float64Type>();
                (0..floats.len())
                    .map(
                        |i| {
                            if floats.is_null(i) {
                                Cell::Null
                            } else {
                                Cell::Number(floats.value(i))
                            }
                        },
                    )
                    .collect()
            } else if column.data_type() == &DataType::Boolean {
                let bools = column.as_boolean();
                (0..bools.len())
                    .map(|i| if bools.is_null(i) { Cell::Null } else { Cell::Bool(bools.value(i)) })
                    .collect()
            } else {
                let text = cast(column, &DataType::Utf8)?;
                text.as_string::<i32>()
                    .iter()
                    .map(|v| v.map_or(Cell::Null, |s| Cell::Text(s.to_owned())))
                    .collect()
            };
            columns.push(values);
        }
        for i in 0..batch.num_rows() {
            rows.push(columns.iter().map(|c| c[i].clone()).collect());
        }
    }
    Ok(rows)
}

/// The query with its short table names bound to silver, by CTEs put in front (merged into the
/// query's own `WITH` if it has one), so that the warehouse runs the very same text.
pub fn over_silver(sql: &str) -> String {
    let body: String = sql
        .lines()
        .skip_while(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let defs: Vec<String> = TABLES
        .iter()
        .map(|(name, schema, table)| format!("{name} AS (SELECT * FROM silver.{schema}.{table})"))
        .collect();
    let defs = defs.join(",\n     ");
    let head_is_with = body.get(..4).is_some_and(|head| head.eq_ignore_ascii_case("with"));
    match body.get(4..) {
        Some(rest) if head_is_with && rest.starts_with(char::is_whitespace) => {
            format!("WITH {defs},{rest}")
        }
        _ => format!("WITH {defs}\n{body}"),
    }
}

pub(crate) fn millis(seconds: f64) -> String {
    let ms = seconds * 1000.0;
    if ms >= 100.0 { format!("{ms:.0}") } else { format!("{ms:.1}") }
}

pub(crate) fn timing_cell(t: Option<Timing>) -> String {
    t.map_or_else(|| "failed".to_string(), |t| format!("{} / {}", millis(t.cold), millis(t.hot)))
}

pub(crate) fn ratio_cell(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_string(), |r| format!("{r:.2}"))
}

/// The Markdown table: a row per query, then the geometric means of the ratios.
pub fn format_table(rows: &[QueryRow]) -> String {
    let mut out = String::from(
        "| query | rows | DataFusion (Parquet) | DataFusion over Delta (warehouse) | DuckDB | Polars \
         | DataFusion ÷ DuckDB, hot | DataFusion ÷ Polars, hot | results |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    for r in rows {
        let results =
            if r.problems.is_empty() { "agree".to_string() } else { "**DIFFER**".to_string() };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.query,
            thousands(r.rows as u64),
            timing_cell(r.df_parquet),
            timing_cell(r.df_delta),
            timing_cell(r.duckdb),
            timing_cell(r.polars),
            ratio_cell(r.ratio(r.duckdb)),
            ratio_cell(r.ratio(r.polars)),
            results,
        ));
    }
    let (duck, polars) = geometric_means(rows);
    out.push_str(&format!(
        "| geometric mean | | | | | | {} | {} | |\n",
        ratio_cell(duck),
        ratio_cell(polars)
    ));
    out
}

/// The geometric means of DataFusion ÷ DuckDB and DataFusion ÷ Polars, hot.
pub fn geometric_means(rows: &[QueryRow]) -> (Option<f64>, Option<f64>) {
    let duck: Vec<f64> = rows.iter().filter_map(|r| r.ratio(r.duckdb)).collect();
    let polars: Vec<f64> = rows.iter().filter_map(|r| r.ratio(r.polars)).collect();
    (geometric_mean(&duck), geometric_mean(&polars))
}

pub(crate) fn timing_json(t: Option<Timing>) -> serde_json::Value {
    t.map_or(serde_json::Value::Null, |t| json!({ "cold_s": t.cold, "hot_s": t.hot }))
}

pub fn json_line(facts: &RunFacts, peers: &PeerVersions, r: &QueryRow) -> serde_json::Value {
    json!({
        "bench": "queries",
        "date": facts.date,
        "query": r.query,
        "scale": facts.scale,
        "seed": facts.seed,
        "rows": r.rows,
        "hot_runs": HOT_RUNS,
        "datafusion_parquet": timing_json(r.df_parquet),
        "datafusion_delta": timing_json(r.df_delta),
        "duckdb": timing_json(r.duckdb),
        "polars": timing_json(r.polars),
        "ratio_datafusion_to_duckdb_hot": r.ratio(r.duckdb),
        "ratio_datafusion_to_polars_hot": r.ratio(r.polars),
        "agree": r.problems.is_empty(),
        "problems": r.problems,
        "machine": facts.machine_json(),
        "peers": { "duckdb": peers.duckdb, "polars": peers.polars },
    })
}

/// The peers' versions, as peers.py reports them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerVersions {
    pub duckdb: Option<String>,
    pub polars: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PeerRun {
    cold_s: f64,
    hot_s: f64,
    rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PeerEngine {
    pub(crate) version: Option<String>,
    error: Option<String>,
    #[serde(default)]
    queries: HashMap<String, PeerRun>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PeersOutput {
    pub(crate) duckdb: PeerEngine,
    polars: PeerEngine,
}

/// The queries of `dir`, by file stem, in file name order.
pub(crate) fn read_queries(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sql")
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
        {
            let sql = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            found.push((stem.to_owned(), sql));
        }
    }
    found.sort();
    if found.is_empty() {
        anyhow::bail!("no queries in {}: run from the repository root", dir.display());
    }
    Ok(found)
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

async fn parquet_session(root: &Path) -> anyhow::Result<SessionContext> {
    let ctx = oneclass_warehouse::engine_context();
    for (name, _, _) in TABLES {
        let dir = format!("{}/", root.join(name).display());
        ctx.register_parquet(name, &dir, ParquetReadOptions::default()).await?;
    }
    Ok(ctx)
}

/// DataFusion over the exported Parquet files: a fresh session per query.
pub(crate) async fn run_df_parquet(
    root: &Path,
    sql: &str,
) -> anyhow::Result<(Timing, Vec<RecordBatch>)> {
    let started = Instant::now();
    let ctx = parquet_session(root).await?;
    let batches = ctx.sql(sql).await?.collect().await?;
    let cold = started.elapsed().as_secs_f64();
    let mut hot = Vec::with_capacity(HOT_RUNS);
    for _ in 0..HOT_RUNS {
        let started = Instant::now();
        ctx.sql(sql).await?.collect().await?;
        hot.push(started.elapsed().as_secs_f64());
    }
    Ok((Timing { cold, hot: median(&hot) }, batches))
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

/// DuckDB and Polars (those of `engines`; both when it is empty) over the Parquet files of `root`,
/// running the queries of `dir`.
pub(crate) async fn run_peers(
    root: &Path,
    dir: &str,
    engines: &[&str],
) -> anyhow::Result<PeersOutput> {
    let out = tokio::process::Command::new("python3")
        .arg(PEERS)
        .arg(root)
        .arg(dir)
        .args(engines)
        .output()
        .await
        .context("running python3 bench/peers.py")?;
    if out.status.code() == Some(3) {
        anyhow::bail!("DuckDB and Polars are needed as peers; install them with: {PIP}");
    }
    if !out.status.success() {
        anyhow::bail!("bench/peers.py failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    serde_json::from_slice(&out.stdout).context("reading bench/peers.py's output")
}

pub(crate) fn peer_result(
    engine: &PeerEngine,
    label: &str,
    query: &str,
    reference: Option<&[Vec<Cell>]>,
    problems: &mut Vec<String>,
) -> Option<Timing> {
    if let Some(e) = &engine.error {
        problems.push(format!("{label} failed: {e}"));
        return None;
    }
    let Some(run) = engine.queries.get(query) else {
        problems.push(format!("{label}: no result"));
        return None;
    };
    if let Some(reference) = reference
        && let Err(e) = compare(reference, &run.rows, REL_TOLERANCE)
    {
        problems.push(format!("{label}: {e}"));
    }
    Some(Timing { cold: run.cold_s, hot: run.hot_s })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(hot: f64) -> Option<Timing> {
        Some(Timing { cold: hot * 2.0, hot })
    }

    fn row(query: &str, df: f64, duck: f64, polars: f64) -> QueryRow {
        QueryRow {
            query: query.into(),
            rows: 1_234,
            df_parquet: timing(df),
            df_delta: timing(df * 3.0),
            duckdb: timing(duck),
            polars: timing(polars),
            problems: Vec::new(),
        }
    }

    #[test]
    fn geometric_mean_of_ratios() {
        assert_eq!(geometric_mean(&[]), None);
        let g = geometric_mean(&[2.0, 8.0]).expect("two values");
        assert!((g - 4.0).abs() < 1e-12);
        let g = geometric_mean(&[0.5, 2.0]).expect("two values");
        assert!((g - 1.0).abs() < 1e-12);
        // Zero, negative and non-finite values are left out rather than poisoning the mean.
        let g = geometric_mean(&[3.0, 0.0, -1.0, f64::NAN, f64::INFINITY]).expect("one value");
        assert!((g - 3.0).abs() < 1e-12);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn comparison_tolerates_float_noise_only() {
        let reference = vec![vec![Cell::Text("Harare".into()), Cell::Number(93.123456789)]];
        let close =
            vec![vec![Cell::Text("Harare".into()), Cell::Number(93.123456789 * (1.0 + 1e-9))]];
        assert_eq!(compare(&reference, &close, REL_TOLERANCE), Ok(()));
        let far = vec![vec![Cell::Text("Harare".into()), Cell::Number(93.2)]];
        let err = compare(&reference, &far, REL_TOLERANCE).expect_err("differs");
        assert!(err.starts_with("row 1, column 2"), "{err}");
        let text = vec![vec![Cell::Text("Bulawayo".into()), Cell::Number(93.123456789)]];
        assert!(compare(&reference, &text, REL_TOLERANCE).is_err());
        assert_eq!(compare(&reference, &[], REL_TOLERANCE), Err("0 rows, not 1".into()));
        let null = vec![vec![Cell::Null, Cell::Number(93.123456789)]];
        assert!(compare(&reference, &null, REL_TOLERANCE).is_err());
        assert_eq!(compare(&[vec![Cell::Number(0.0)]], &[vec![Cell::Number(0.0)]], 1e-6), Ok(()));
    }

    #[test]
    fn peer_rows_deserialize_into_cells() {
        let rows: Vec<Vec<Cell>> =
            serde_json::from_str(r#"[["Harare", 12, 93.5, null, true]]"#).expect("valid JSON");
        assert_eq!(
            rows,
            vec![vec![
                Cell::Text("Harare".into()),
                Cell::Number(12.0),
                Cell::Number(93.5),
                Cell::Null,
                Cell::Bool(true),
            ]]
        );
    }

    #[test]
    fn datafusion_batches_become_cells() {
        use deltalake::arrow::array::{ArrayRef, Int64Array, StringArray};
        use std::sync::Arc;
        let batch = RecordBatch::try_from_iter([
            ("province", Arc::new(StringArray::from(vec![Some("Harare"), None])) as ArrayRef),
            ("marks", Arc::new(Int64Array::from(vec![Some(7), None])) as ArrayRef),
        ])
        .expect("a batch");
        assert_eq!(
            cells(&[batch]).expect("cells"),
            vec![
                vec![Cell::Text("Harare".into()), Cell::Number(7.0)],
                vec![Cell::Null, Cell::Null],
            ]
        );
    }

    #[test]
    fn table_has_a_row_per_query_and_the_geometric_mean() {
        let mut differing = row("b_by_district", 0.2, 0.4, 0.1);
        differing.problems.push("DuckDB: 3 rows, not 4".into());
        let table = format_table(&[row("a_by_province", 0.05, 0.025, 0.05), differing]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5);
        assert!(lines[0].starts_with("| query | rows | DataFusion (Parquet) |"));
        assert_eq!(
            lines[2],
            "| a_by_province | 1,234 | 100 / 50.0 | 300 / 150 | 50.0 / 25.0 | 100 / 50.0 | 2.00 | 1.00 | agree |"
        );
        assert!(lines[3].ends_with("| 0.50 | 2.00 | **DIFFER** |"), "{}", lines[3]);
        // √(2 × 0.5) = 1 and √(1 × 2) ≈ 1.41.
        assert_eq!(lines[4], "| geometric mean | | | | | | 1.00 | 1.41 | |");
    }

    #[test]
    fn a_failed_engine_has_no_ratio() {
        let mut r = row("q", 1.0, 1.0, 1.0);
        r.duckdb = None;
        assert_eq!(r.ratio(r.duckdb), None);
        assert!(format_table(&[r]).contains("| failed |"));
    }

    #[test]
    fn silver_bindings_merge_with_the_query_own_with() {
        let sql = "-- comment\nWITH x AS (SELECT 1)\nSELECT * FROM x JOIN schools ON true";
        let out = over_silver(sql);
        assert!(
            out.starts_with("WITH daily_marks AS (SELECT * FROM silver.attendance.daily_marks),")
        );
        assert!(out.contains("schools AS (SELECT * FROM silver.platform.schools),"));
        assert!(
            out.contains("terms AS (SELECT * FROM silver.ref.terms), x AS (SELECT 1)"),
            "{out}"
        );
        assert!(!out.contains("comment"));
        assert_eq!(out.matches("WITH").count(), 1);
        let plain = over_silver("SELECT count(*) FROM learners");
        assert!(plain.ends_with("silver.ref.terms)\nSELECT count(*) FROM learners"), "{plain}");
    }

    #[test]
    fn json_line_names_engines_and_machine() {
        let facts = RunFacts {
            date: "2026-11-25T15:00:00Z".into(),
            scale: "district".into(),
            seed: 2026,
            nproc: 2,
            mem_total_kib: Some(1),
            postgres: "15.18".into(),
            profile: "dev",
        };
        let versions = PeerVersions { duckdb: Some("1.0".into()), polars: Some("2.0".into()) };
        let v = json_line(&facts, &versions, &row("q", 0.2, 0.1, 0.4));
        assert_eq!(v["bench"], "queries");
        assert_eq!(v["query"], "q");
        assert_eq!(v["duckdb"]["hot_s"], 0.1);
        assert_eq!(v["ratio_datafusion_to_duckdb_hot"], 2.0);
        assert_eq!(v["agree"], true);
        assert_eq!(v["machine"]["profile"], "dev");
        assert_eq!(v["peers"]["polars"], "2.0");
        assert!(!v.to_string().contains('\n'));
    }
}
