//! The second half of `oneclass bench queries`: the analyst questions of `bench/analyst/`
//! (joins with date ranges, window functions, CTEs) asked as an analyst would ask them, through
//! `POST /api/v1/sql` signed in as the national analyst (scoped, pseudonymised, JSON over HTTP),
//! beside DuckDB over the raw tables (the same Parquet files the first half reads). DataFusion
//! over those files with full access gives the reference answer every engine is compared with.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::common::{RunFacts, thousands};
use crate::queries::{
    Cell, HOT_RUNS, PeerVersions, REL_TOLERANCE, Timing, cells, compare, geometric_mean, hot_ratio,
    median, peer_result, ratio_cell, read_queries, run_df_parquet, run_peers, timing_cell,
    timing_json,
};
use oneclass::app::Application;
use oneclass::config::Settings;

pub(crate) const ANALYST_DIR: &str = "bench/analyst";
/// The demo's analyst: national, every school, pseudonymised (the seed's account).
const ANALYST: &str = "analyst";

/// One question's figures.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AnalystRow {
    pub question: String,
    pub rows: usize,
    /// DataFusion over the Parquet files, full access: the reference answer.
    pub df_parquet: Option<Timing>,
    /// The national analyst through `POST /api/v1/sql` (JSON), the whole answer received.
    pub http: Option<Timing>,
    pub duckdb: Option<Timing>,
    pub problems: Vec<String>,
}

impl AnalystRow {
    /// The analyst over HTTP, hot, ÷ DuckDB, hot: above 1 means the analyst waits longer.
    pub fn ratio(&self) -> Option<f64> {
        hot_ratio(self.http, self.duckdb)
    }
}

/// The geometric mean and the largest of the ratios.
pub(crate) fn summary(rows: &[AnalystRow]) -> (Option<f64>, Option<f64>) {
    let ratios: Vec<f64> = rows.iter().filter_map(AnalystRow::ratio).collect();
    (geometric_mean(&ratios), ratios.iter().copied().reduce(f64::max))
}

pub(crate) fn format_table(rows: &[AnalystRow]) -> String {
    let mut out = String::from(
        "| question | rows | DataFusion (Parquet, full access) | analyst via POST /api/v1/sql \
         | DuckDB (Parquet, raw ids) | analyst ÷ DuckDB, hot | results |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    for r in rows {
        let results = if r.problems.is_empty() { "agree" } else { "**DIFFER**" };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {results} |\n",
            r.question,
            thousands(r.rows as u64),
            timing_cell(r.df_parquet),
            timing_cell(r.http),
            timing_cell(r.duckdb),
            ratio_cell(r.ratio()),
        ));
    }
    let (mean, worst) = summary(rows);
    out.push_str(&format!(
        "| geometric mean (largest) | | | | | {} ({}) | |\n",
        ratio_cell(mean),
        ratio_cell(worst)
    ));
    out
}

pub(crate) fn json_line(facts: &RunFacts, peers: &PeerVersions, r: &AnalystRow) -> Value {
    json!({
        "bench": "analyst-sql",
        "date": facts.date,
        "query": r.question,
        "scale": facts.scale,
        "seed": facts.seed,
        "rows": r.rows,
        "hot_runs": HOT_RUNS,
        "datafusion_parquet_full_access": timing_json(r.df_parquet),
        "analyst_http": timing_json(r.http),
        "duckdb": timing_json(r.duckdb),
        "ratio_analyst_http_to_duckdb_hot": r.ratio(),
        "agree": r.problems.is_empty(),
        "problems": r.problems,
        "machine": facts.machine_json(),
        "peers": { "duckdb": peers.duckdb },
    })
}

/// The SQL endpoint's JSON answer: its columns in order, and rows keyed by column name.
#[derive(Debug, Deserialize)]
struct Answer {
    columns: Vec<AnswerColumn>,
    rows: Vec<serde_json::Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
struct AnswerColumn {
    name: String,
}

/// An answer of the SQL endpoint as rows of [`Cell`]s, in its columns' order.
pub(crate) fn answer_cells(body: &[u8]) -> anyhow::Result<Vec<Vec<Cell>>> {
    let answer: Answer = serde_json::from_slice(body).context("reading the endpoint's JSON")?;
    answer
        .rows
        .iter()
        .map(|row| {
            answer
                .columns
                .iter()
                .map(|c| {
                    Ok(match row.get(&c.name) {
                        None | Some(Value::Null) => Cell::Null,
                        Some(Value::Bool(b)) => Cell::Bool(*b),
                        Some(Value::Number(n)) => {
                            Cell::Number(n.as_f64().context("a number out of range")?)
                        }
                        Some(Value::String(s)) => Cell::Text(s.clone()),
                        Some(other) => Cell::Text(other.to_string()),
                    })
                })
                .collect()
        })
        .collect()
}

/// Signs in as the analyst and returns the bearer token.
async fn sign_in(client: &reqwest::Client, base: &str, password: &str) -> anyhow::Result<String> {
    let resp = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "username": ANALYST, "password": password }))
        .send()
        .await
        .context("signing in as the analyst")?;
    anyhow::ensure!(resp.status().is_success(), "the analyst's sign-in: {}", resp.status());
    let body: Value = resp.json().await?;
    body["access_token"].as_str().map(str::to_owned).context("no access_token in the sign-in")
}

/// One question through the endpoint: the whole answer's bytes and the seconds it took.
async fn ask(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    sql: &str,
) -> anyhow::Result<(Vec<u8>, f64)> {
    let started = Instant::now();
    let resp = client
        .post(format!("{base}/api/v1/sql"))
        .bearer_auth(token)
        .json(&json!({ "sql": sql, "format": "json" }))
        .send()
        .await?;
    let status = resp.status();
    let body = resp.bytes().await?.to_vec();
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        status.is_success(),
        "{status}: {}",
        String::from_utf8_lossy(&body).chars().take(300).collect::<String>()
    );
    Ok((body, seconds))
}

/// The question asked cold (the first time) and then [`HOT_RUNS`] times; its answer as cells.
async fn ask_timed(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    sql: &str,
) -> anyhow::Result<(Timing, Vec<Vec<Cell>>)> {
    let (body, cold) = ask(client, base, token, sql).await?;
    let mut hot = Vec::with_capacity(HOT_RUNS);
    for _ in 0..HOT_RUNS {
        hot.push(ask(client, base, token, sql).await?.1);
    }
    Ok((Timing { cold, hot: median(&hot) }, answer_cells(&body)?))
}

/// Runs the analyst questions: the reference over Parquet, the analyst over HTTP against the
/// application serving `settings.lake`, and DuckDB.
pub(crate) async fn analyst_questions(
    settings: &Settings,
    parquet: &Path,
    password: &str,
) -> anyhow::Result<(Vec<AnalystRow>, PeerVersions)> {
    let questions = read_queries(Path::new(ANALYST_DIR))?;
    let mut rows = Vec::with_capacity(questions.len());
    let mut references = Vec::with_capacity(questions.len());
    for (name, sql) in &questions {
        eprintln!("DataFusion (full access): {name} …");
        let mut problems = Vec::new();
        let (df_parquet, reference) = match run_df_parquet(parquet, sql).await {
            Ok((t, batches)) => (Some(t), Some(cells(&batches)?)),
            Err(e) => {
                problems.push(format!("DataFusion (Parquet) failed: {e:#}"));
                (None, None)
            }
        };
        references.push(reference);
        rows.push(AnalystRow {
            question: name.clone(),
            rows: 0,
            df_parquet,
            http: None,
            duckdb: None,
            problems,
        });
    }

    // The product as deployed: the application's own limits, router and middleware.
    let app = Application::build(settings, false).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until(shutdown.clone()));
    let asked = async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(600)).build()?;
        let token = sign_in(&client, &base, password).await?;
        for ((row, (name, sql)), reference) in rows.iter_mut().zip(&questions).zip(&references) {
            eprintln!("The analyst over HTTP: {name} …");
            match ask_timed(&client, &base, &token, &crate::queries::over_silver(sql)).await {
                Ok((timing, answer)) => {
                    row.http = Some(timing);
                    if let Some(reference) = reference
                        && let Err(e) = compare(reference, &answer, REL_TOLERANCE)
                    {
                        row.problems.push(format!("analyst over HTTP: {e}"));
                    }
                }
                Err(e) => row.problems.push(format!("analyst over HTTP failed: {e:#}")),
            }
        }
        anyhow::Ok(())
    }
    .await;
    shutdown.cancel();
    let _ = server.await;
    asked?;

    eprintln!("DuckDB (python3) …");
    let peers = run_peers(parquet, ANALYST_DIR, &["duckdb"]).await?;
    for (row, reference) in rows.iter_mut().zip(&references) {
        let reference = reference.as_deref();
        row.rows = reference.map_or(0, <[Vec<Cell>]>::len);
        row.duckdb =
            peer_result(&peers.duckdb, "DuckDB", &row.question, reference, &mut row.problems);
    }
    let versions = PeerVersions { duckdb: peers.duckdb.version.clone(), polars: None };
    Ok((rows, versions))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(question: &str, http: f64, duck: f64) -> AnalystRow {
        AnalystRow {
            question: question.into(),
            rows: 12,
            df_parquet: Some(Timing { cold: 0.2, hot: 0.1 }),
            http: Some(Timing { cold: http * 2.0, hot: http }),
            duckdb: Some(Timing { cold: duck * 2.0, hot: duck }),
            problems: Vec::new(),
        }
    }

    #[test]
    fn answers_become_cells_in_column_order() {
        let body =
            br#"{"columns": [{"name": "province", "type": "Utf8"}, {"name": "n", "type": "Int64"},
            {"name": "ovc", "type": "Boolean"}, {"name": "week", "type": "Date32"}],
            "rows": [{"n": 3, "province": "Harare", "ovc": true, "week": "2026-09-07"},
                     {"province": null, "n": null, "ovc": false, "week": null}],
            "truncated": false}"#;
        assert_eq!(
            answer_cells(body).expect("cells"),
            vec![
                vec![
                    Cell::Text("Harare".into()),
                    Cell::Number(3.0),
                    Cell::Bool(true),
                    Cell::Text("2026-09-07".into()),
                ],
                vec![Cell::Null, Cell::Null, Cell::Bool(false), Cell::Null],
            ]
        );
        assert!(answer_cells(b"not json").is_err());
    }

    #[test]
    fn table_gives_each_ratio_their_mean_and_the_largest() {
        let mut differing = row("b", 0.4, 0.1);
        differing.problems.push("DuckDB: 3 rows, not 4".into());
        let rows = [row("a", 0.1, 0.1), differing];
        let table = format_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5, "{table}");
        assert_eq!(lines[2], "| a | 12 | 200 / 100 | 200 / 100 | 200 / 100 | 1.00 | agree |");
        assert!(lines[3].ends_with("| 4.00 | **DIFFER** |"), "{}", lines[3]);
        // √(1 × 4) = 2; the largest is 4.
        assert_eq!(lines[4], "| geometric mean (largest) | | | | | 2.00 (4.00) | |");
        let mut failed = row("c", 0.1, 0.1);
        failed.http = None;
        assert_eq!(failed.ratio(), None);
    }
}
