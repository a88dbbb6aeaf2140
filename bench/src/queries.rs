//! The engines of `oneclass bench queries` ([`crate::queries_run`]) and how their answers and
//! times are compared: DataFusion over the exported Parquet files, the peers (DuckDB and Polars,
//! run by `bench/peers.py`), results as [`Cell`]s, the tables and JSON lines of the figures.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use deltalake::arrow::array::{Array, AsArray};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Float64Type};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::prelude::{ParquetReadOptions, SessionContext};
use serde::Deserialize;
use serde_json::json;

use crate::common::{RunFacts, thousands};

pub(crate) const QUERY_DIR: &str = "bench/queries";
pub(crate) const PEERS: &str = "bench/peers.py";
pub(crate) const PIP: &str = "python3 -m pip install duckdb polars";
/// Hot figures are the median of this many runs after the cold one (as in peers.py).
pub(crate) const HOT_RUNS: usize = 5;
/// Numbers agree when they differ by at most this much relative to the larger.
pub const REL_TOLERANCE: f64 = 1e-6;

/// The silver tables the queries read: the name the queries use, then schema and table.
pub(crate) const TABLES: [(&str, &str, &str); 6] = [
    ("daily_marks", "attendance", "daily_marks"),
    ("enrolments", "sis", "enrolments"),
    ("learners", "sis", "learners"),
    ("schools", "platform", "schools"),
    ("staff", "staff", "staff"),
    ("terms", "ref", "terms"),
];

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
        hot_ratio(self.df_parquet, peer)
    }
}

/// Ours, hot, ÷ the peer's, hot; `None` where either failed or took no time.
pub(crate) fn hot_ratio(ours: Option<Timing>, peer: Option<Timing>) -> Option<f64> {
    let (ours, peer) = (ours?, peer?);
    (peer.hot > 0.0 && ours.hot > 0.0).then(|| ours.hot / peer.hot)
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
    pub(crate) polars: PeerEngine,
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
