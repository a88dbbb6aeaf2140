//! End-to-end latency: a register mark written through the API until it is visible in
//! `silver.attendance.daily_marks` through analyst SQL. Prints a table (median, p90, worst).
//!
//! `cargo bench -p oneclass-bench --bench e2e_latency` (add `--profile dev` to reuse the test
//! build).

// The root package's test fixture: the same system the system tests drive.
#[path = "../../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use oneclass_bench::percentiles::Percentiles;
use serde_json::json;
use support::{PSEUDONYM_KEY, TestApp, eventually};

const TRIES: usize = 20;

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let app = TestApp::spawn().await;
    let teacher = app.token("teacher").await;
    let analyst = app.token("analyst").await;
    app.wait_for_snapshot(&analyst, &["attendance.daily_marks"]).await;
    let (term_start, _) = support::current_term(&app.owner).await;
    let (class_id, register) = app.first_class_register(&teacher, term_start).await;
    let learner = register["learners"][0]["learner_id"].as_str().expect("learner").to_string();
    let pseudonym = oneclass_warehouse::pseudonym(PSEUDONYM_KEY.as_bytes(), &learner);
    let mut samples = Vec::with_capacity(TRIES);
    for i in 0..TRIES {
        let status = if i % 2 == 0 { "late" } else { "excused" };
        let start = std::time::Instant::now();
        let resp = app
            .post(
                &teacher,
                &format!("/api/v1/classes/{class_id}/register"),
                &json!({"date": term_start, "marks": [{"learner_id": learner, "status": status}]}),
            )
            .await;
        assert_eq!(resp.status(), 200);
        let sql = format!(
            "SELECT status FROM silver.attendance.daily_marks WHERE learner_id = '{pseudonym}' \
             AND date = DATE '{term_start}'"
        );
        eventually(Duration::from_secs(30), "the mark in silver", || async {
            let rows = app.try_sql(&analyst, &sql).await.ok()?;
            (rows.first()?["status"] == status).then_some(())
        })
        .await;
        samples.push(start.elapsed());
    }
    let latency = Percentiles::of_durations(samples);
    let ms = |p| latency.millis(p).unwrap_or(0.0);
    println!("| measure | tries | median ms | p90 ms | worst ms |");
    println!("| --- | --- | --- | --- | --- |");
    println!(
        "| API write → visible in silver (analyst SQL) | {TRIES} | {:.0} | {:.0} | {:.0} |",
        ms(50.0),
        ms(90.0),
        ms(100.0)
    );
    app.stop().await;
}
