//! `oneclass bench timetable`: the generator on the sample secondary school (30 classes, 50
//! teachers, 12 subjects, 40 periods a week; `oneclass_timetable::sample::secondary`) for several
//! seeds, and on impossible variants (laboratories too few, two classes sharing one room, teachers
//! away for three days), each week checked by the referee.

use std::path::Path;
use std::time::Duration;

use oneclass_timetable::{Problem, check, sample, solve};
use serde_json::json;

use crate::common::{RunFacts, append_json_lines};

const RESULTS: &str = "bench/results/timetable.jsonl";
/// The time the generator is held to for a whole secondary school.
pub const TARGET_SECONDS: f64 = 10.0;
const LIMIT: Duration = Duration::from_secs(120);

pub struct TimetableOptions {
    pub seeds: u64,
}

struct Row {
    school: String,
    lessons: u32,
    placed: usize,
    left_out: u32,
    clashes: usize,
    seconds: f64,
}

fn measure(school: String, problem: &Problem) -> anyhow::Result<Row> {
    let outcome = solve(problem, LIMIT)?;
    Ok(Row {
        school,
        lessons: problem.demands.iter().map(|d| d.lessons).sum(),
        placed: outcome.week.len(),
        left_out: outcome.unplaced.iter().map(|u| u.lessons).sum(),
        clashes: check(problem, &outcome.week).len(),
        seconds: outcome.elapsed.as_secs_f64(),
    })
}

/// `oneclass bench timetable`.
pub async fn timetable(opts: TimetableOptions) -> anyhow::Result<()> {
    anyhow::ensure!((1..=100).contains(&opts.seeds), "--seeds must be 1 to 100");
    let facts = RunFacts::unscaled("-".into());
    let rows = tokio::task::spawn_blocking(move || {
        let mut rows = Vec::new();
        for seed in 1..=opts.seeds {
            rows.push(measure(format!("secondary, seed {seed}"), &sample::secondary(seed))?);
        }
        let mut few_labs = sample::secondary(1);
        few_labs.rooms.retain(|k| k != "laboratory");
        few_labs.rooms.extend(["laboratory".to_string(), "laboratory".to_string()]);
        rows.push(measure("secondary, 2 laboratories (impossible)".into(), &few_labs)?);
        let mut shared = sample::secondary(1);
        shared.classes[1] = shared.classes[0];
        rows.push(measure("secondary, 2 classes in one room (impossible)".into(), &shared)?);
        // Five mathematics teachers away from Wednesday: their lessons crowd two days.
        let mut away = sample::secondary(1);
        for t in away.teachers.iter_mut().take(5) {
            t.unavailable = (16..40).collect();
        }
        rows.push(measure("secondary, 5 teachers away 3 days (impossible)".into(), &away)?);
        anyhow::Ok(rows)
    })
    .await??;
    println!(
        "\nTimetable generator ({} build, {} CPUs; one thread), target {TARGET_SECONDS} s\n",
        facts.profile, facts.nproc
    );
    println!("| school | lessons | placed | left out (named) | clashes | seconds |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {:.2} |",
            r.school, r.lessons, r.placed, r.left_out, r.clashes, r.seconds
        );
    }
    let lines: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            json!({
                "bench": "timetable", "date": facts.date, "school": r.school,
                "lessons": r.lessons, "placed": r.placed, "left_out": r.left_out,
                "clashes": r.clashes, "seconds": r.seconds, "machine": facts.machine_json(),
            })
        })
        .collect();
    append_json_lines(Path::new(RESULTS), &lines)?;
    println!("\nAppended {} lines to {RESULTS}", lines.len());
    anyhow::ensure!(rows.iter().all(|r| r.clashes == 0), "a generated week broke a rule");
    let slowest = rows.iter().map(|r| r.seconds).fold(0.0, f64::max);
    anyhow::ensure!(slowest < TARGET_SECONDS, "the slowest took {slowest:.1} s");
    Ok(())
}
