//! `oneclass bench school`: a school day at the pace people work. N teachers of one school,
//! each waiting `--think` seconds (±50 %) after every answer before the next request: 70 %
//! reads (a class's learners, a learner's page), 20 % a class's attendance saved, 10 % an
//! assessment's marks entered. The run reports each route's p50 and p99 against the 100 ms
//! target; `--ramp` then halves the think time step by step to find the highest offered rate
//! that still keeps p99 under it. PostgreSQL's own limit on the same machine (pgbench, read-only
//! and simple-update) is measured beside it, on the same cluster.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use oneclass::app::Application;
use oneclass_api::AuthUser;
use oneclass_core::db;
use oneclass_core::types::Role;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::ExposeSecret;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::api::{
    RouteRow, RouteStats, call, create_accounts, format_table, pick_day, pick_status,
};
use crate::common::{BenchCluster, RunFacts, append_json_lines, server_version, thousands};
use crate::cpu::{CpuMeter, CpuUse, load_runtime, postmaster_pid};

const RESULTS: &str = "bench/results/school.jsonl";
/// The latency every route must keep at the 99th percentile.
pub const TARGET_P99_MS: f64 = 100.0;
const TOKEN_TTL: Duration = Duration::from_secs(3600);
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// The ramp stops after this many steps even if every one keeps the target.
const MAX_STEPS: usize = 8;

pub struct SchoolOptions {
    pub scale: oneclass_synth::Scale,
    pub seed: u64,
    pub users: usize,
    pub think: f64,
    pub seconds: u64,
    pub ramp: bool,
    pub step_seconds: u64,
}

/// The four kinds of request, with their share of the mix in percent.
#[derive(Debug, Clone, Copy)]
enum Step {
    ClassList = 0,
    LearnerPage = 1,
    SaveRegister = 2,
    EnterMarks = 3,
}

const STEPS: [(Step, u32, &str); 4] = [
    (Step::ClassList, 35, "GET /api/v1/learners?class_id= (a class list)"),
    (Step::LearnerPage, 35, "GET /api/v1/learners/{id} (a learner's page)"),
    (Step::SaveRegister, 20, "POST /api/v1/classes/{id}/register (a class's attendance)"),
    (Step::EnterMarks, 10, "PUT /api/v1/assessments/{id}/results (a class's marks)"),
];

/// A class as the simulated teachers use it: its learners (in id order) and an assessment.
struct Class {
    id: Uuid,
    learners: Vec<Uuid>,
    assessment: Uuid,
}

struct Teacher {
    token: String,
    classes: Vec<usize>,
}

fn pick(rng: &mut StdRng) -> Step {
    let mut roll = rng.gen_range(0..100);
    for (step, share, _) in STEPS {
        if roll < share {
            return step;
        }
        roll -= share;
    }
    Step::ClassList
}

/// One teacher until `deadline`: wait, send one request of the mix, wait again.
async fn run_teacher(
    client: reqwest::Client,
    base: Arc<str>,
    classes: Arc<Vec<Class>>,
    teacher: Arc<Teacher>,
    think: Duration,
    deadline: Instant,
    seed: u64,
) -> Vec<RouteStats> {
    let mut stats = vec![RouteStats::default(); STEPS.len()];
    let mut rng = StdRng::seed_from_u64(seed);
    let bearer = format!("Bearer {}", teacher.token);
    let auth = reqwest::header::AUTHORIZATION;
    // Users arrive spread over one think time, not all at once.
    tokio::time::sleep(think.mul_f64(rng.gen_range(0.0..1.0))).await;
    while Instant::now() < deadline {
        let class = &classes[teacher.classes[rng.gen_range(0..teacher.classes.len())]];
        let step = pick(&mut rng);
        let s = &mut stats[step as usize];
        let req = match step {
            Step::ClassList => {
                client.get(format!("{base}/api/v1/learners?class_id={}&limit=50", class.id))
            }
            Step::LearnerPage => {
                let learner = class.learners[rng.gen_range(0..class.learners.len())];
                client.get(format!("{base}/api/v1/learners/{learner}"))
            }
            Step::SaveRegister => {
                let day = pick_day(&mut rng, chrono::Utc::now().date_naive());
                let marks: Vec<serde_json::Value> = class
                    .learners
                    .iter()
                    .map(|id| json!({ "learner_id": id, "status": pick_status(&mut rng) }))
                    .collect();
                client
                    .post(format!("{base}/api/v1/classes/{}/register", class.id))
                    .json(&json!({ "date": day, "marks": marks }))
            }
            Step::EnterMarks => {
                let results: Vec<serde_json::Value> = class
                    .learners
                    .iter()
                    .map(|id| json!({ "learner_id": id, "score": rng.gen_range(0..=100) }))
                    .collect();
                client
                    .put(format!("{base}/api/v1/assessments/{}/results", class.assessment))
                    .json(&json!({ "results": results }))
            }
        };
        call(s, req.header(auth.clone(), &bearer)).await;
        tokio::time::sleep(think.mul_f64(rng.gen_range(0.5..1.5))).await;
    }
    stats
}

/// One load step's outcome.
struct StepResult {
    think: f64,
    offered_per_s: f64,
    seconds: f64,
    rows: Vec<RouteRow>,
    cpu: Option<CpuUse>,
    samples: Vec<String>,
}

impl StepResult {
    fn all(&self) -> &RouteRow {
        &self.rows[self.rows.len() - 1]
    }

    fn keeps_target(&self) -> bool {
        self.rows.iter().all(|r| r.errors == 0 && r.requests > 0 && r.p99_ms < TARGET_P99_MS)
    }
}

/// Runs every teacher at `think` for `seconds` on a runtime of its own.
async fn run_step(
    base: &Arc<str>,
    classes: &Arc<Vec<Class>>,
    teachers: &[Arc<Teacher>],
    think: f64,
    seconds: u64,
    seed: u64,
    postmaster: Option<u32>,
) -> anyhow::Result<StepResult> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(CLIENT_TIMEOUT)
        .pool_max_idle_per_host(teachers.len() + 16)
        .build()?;
    let runtime = load_runtime()?;
    let think_d = Duration::from_secs_f64(think);
    let cpu = CpuMeter::start(postmaster);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = teachers
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let seed = seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
            let (client, base, classes, t) =
                (client.clone(), base.clone(), classes.clone(), t.clone());
            runtime.spawn(run_teacher(client, base, classes, t, think_d, deadline, seed))
        })
        .collect();
    let mut totals = vec![RouteStats::default(); STEPS.len()];
    for task in tasks {
        for (total, one) in totals.iter_mut().zip(task.await.context("a teacher failed")?) {
            total.merge(one);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu.stop();
    runtime.shutdown_background();
    let mut rows = Vec::new();
    let mut all = RouteStats::default();
    let mut samples = Vec::new();
    for ((_, _, label), stats) in STEPS.iter().zip(totals) {
        rows.push(stats.row(label, elapsed));
        samples.extend(stats.samples.iter().map(|s| format!("{label}: {s}")));
        all.merge(stats);
    }
    rows.push(all.row("all requests", elapsed));
    Ok(StepResult {
        think,
        offered_per_s: teachers.len() as f64 / think,
        seconds: elapsed,
        rows,
        cpu,
        samples,
    })
}

/// pgbench on the same cluster: PostgreSQL's own rate on this machine, read-only (`-S`) and
/// simple-update (`-N`), 16 clients over 2 threads for 30 s each, scale 10.
fn pgbench(bench: &BenchCluster) -> anyhow::Result<Vec<(String, f64, f64)>> {
    let bin = oneclass_core::cluster::find_bindir()?.join("pgbench");
    let run = |args: &[&str]| -> anyhow::Result<String> {
        let out = std::process::Command::new(&bin)
            .args(args)
            .arg(&bench.url)
            .output()
            .with_context(|| format!("running {}", bin.display()))?;
        anyhow::ensure!(
            out.status.success(),
            "pgbench {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    run(&["-i", "-q", "-s", "10"])?;
    let mut found = Vec::new();
    for (label, flag) in [("pgbench -S (read-only)", "-S"), ("pgbench -N (simple update)", "-N")] {
        let text = run(&[flag, "-c", "16", "-j", "2", "-T", "30"])?;
        let number = |key: &str| {
            text.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split(['=', ' ']).filter_map(|w| w.parse::<f64>().ok()).next())
        };
        let tps = number("tps").context("pgbench printed no tps")?;
        let latency = number("latency average").context("pgbench printed no latency")?;
        found.push((label.to_owned(), tps, latency));
    }
    Ok(found)
}

/// `oneclass bench school`.
pub async fn school(opts: SchoolOptions) -> anyhow::Result<()> {
    anyhow::ensure!((1..=5_000).contains(&opts.users), "--users must be 1 to 5000");
    anyhow::ensure!(opts.think > 0.0, "--think must be above 0 seconds");
    let bench = BenchCluster::start().await?;
    let outcome = run(&bench, &opts).await;
    let stopped = bench.stop().await;
    let outcome = outcome?;
    stopped?;
    outcome.report()
}

struct Outcome {
    facts: RunFacts,
    emis: String,
    users: usize,
    classes: usize,
    learners: usize,
    steps: Vec<StepResult>,
    pgbench: Vec<(String, f64, f64)>,
}

async fn run(bench: &BenchCluster, opts: &SchoolOptions) -> anyhow::Result<Outcome> {
    let owner = db::pool(&bench.url, 4).await?;
    let facts = RunFacts::gather(opts.scale, opts.seed, server_version(&owner).await?);
    let params = oneclass_synth::params_for(opts.scale, opts.seed, chrono::Utc::now().date_naive());
    eprintln!("Seeding at {} scale …", facts.scale);
    oneclass_synth::seed(&owner, &params).await.context("seeding")?;
    // The largest school: the busiest office the platform serves.
    let first = sqlx::query!(
        r#"SELECT s.id, s.emis_code FROM platform.schools s
           JOIN sis.enrolments e ON e.school_id = s.id AND e.end_date IS NULL
           GROUP BY s.id ORDER BY count(*) DESC, s.emis_code LIMIT 1"#
    )
    .fetch_one(&owner)
    .await
    .context("finding the largest school")?;
    let (school, emis) = (first.id, first.emis_code);
    let rows = sqlx::query!(
        r#"SELECT c.id, array_agg(e.learner_id ORDER BY e.learner_id) AS "learners!"
           FROM academic.classes c JOIN sis.enrolments e ON e.class_id = c.id AND e.end_date IS NULL
           WHERE c.school_id = $1 AND c.academic_year = $2
           GROUP BY c.id ORDER BY c.id"#,
        school,
        params.academic_year,
    )
    .fetch_all(&owner)
    .await?;
    anyhow::ensure!(!rows.is_empty(), "school {emis} has no class with learners");
    let mut classes = Vec::new();
    for r in rows {
        let assessment = Uuid::now_v7();
        sqlx::query!(
            "INSERT INTO assessment.assessments (id, school_id, class_id, academic_year, term,
                 subject_code, name, max_score, held_on)
             VALUES ($1, $2, $3, $4, 1, 'MAT', 'Bench test', 100, current_date)",
            assessment,
            school,
            r.id,
            params.academic_year,
        )
        .execute(&owner)
        .await
        .context("creating the classes' assessments")?;
        classes.push(Class { id: r.id, learners: r.learners, assessment });
    }
    let learners = classes.iter().map(|c| c.learners.len()).sum();
    let class_ids: Vec<Uuid> = classes.iter().map(|c| c.id).collect();
    eprintln!("Creating {} teachers of school {emis} …", thousands(opts.users as u64));
    // Tokens are minted with the API's own code: the accounts never sign in with a password.
    let accounts = create_accounts(&owner, school, &class_ids, opts.users, "!", false).await?;
    owner.close().await;

    let settings = bench.app_settings()?;
    let keys =
        oneclass_api::JwtKeys::new(settings.jwt_secret.expose_secret().as_bytes(), TOKEN_TTL);
    let index: std::collections::HashMap<Uuid, usize> =
        class_ids.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let mut teachers = Vec::new();
    for a in &accounts {
        let user = AuthUser {
            id: a.id.into(),
            session: a.id.into(),
            role: Role::Teacher,
            schools: vec![school.into()],
            province: None,
            district: None,
        };
        let token = oneclass_api::auth::issue(&keys, &user)
            .map_err(|e| anyhow::anyhow!("minting a token: {e}"))?;
        let mine = a.classes.iter().map(|c| index[c]).collect();
        teachers.push(Arc::new(Teacher { token, classes: mine }));
    }
    let app = Application::build(&settings, false).await?;
    let base: Arc<str> = format!("http://127.0.0.1:{}", app.port()).into();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until(shutdown.clone()));
    let postmaster = postmaster_pid(bench.cluster.pgdata());
    let classes = Arc::new(classes);

    let mut steps = Vec::new();
    let mut think = opts.think;
    let result = async {
        eprintln!(
            "Running {} teachers at {think} s think time for {} s …",
            opts.users, opts.seconds
        );
        let first =
            run_step(&base, &classes, &teachers, think, opts.seconds, opts.seed, postmaster)
                .await?;
        let mut go_on = opts.ramp && first.keeps_target();
        steps.push(first);
        while go_on && steps.len() < MAX_STEPS {
            think /= 2.0;
            eprintln!("Ramp: {think} s think time for {} s …", opts.step_seconds);
            let step = run_step(
                &base,
                &classes,
                &teachers,
                think,
                opts.step_seconds,
                opts.seed,
                postmaster,
            )
            .await?;
            go_on = step.keeps_target();
            steps.push(step);
        }
        anyhow::Ok(())
    }
    .await;
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(30), server).await;
    result?;
    eprintln!("pgbench on the same cluster …");
    let pgbench = tokio::task::block_in_place(|| pgbench(bench))?;
    Ok(Outcome {
        facts,
        emis,
        users: opts.users,
        classes: class_ids.len(),
        learners,
        steps,
        pgbench,
    })
}

impl Outcome {
    fn report(&self) -> anyhow::Result<()> {
        let f = &self.facts;
        println!(
            "\nA school day, {} scale, seed {} ({} build, PostgreSQL {}, {} CPUs)\n",
            f.scale, f.seed, f.profile, f.postgres, f.nproc
        );
        println!(
            "{} teachers of school {} ({} learners in {} classes, two classes each), each \
             waiting the think time (±50 %) after every answer; 35 % class lists, 35 % learner \
             pages, 20 % a class's attendance, 10 % a class's marks. The load generator shares \
             the machine with the server and PostgreSQL.\n",
            thousands(self.users as u64),
            self.emis,
            thousands(self.learners as u64),
            self.classes
        );
        let first = &self.steps[0];
        println!(
            "Offered about {:.0} requests/s ({} s think time) for {:.0} s:\n",
            first.offered_per_s, first.think, first.seconds
        );
        println!("{}", format_table(&first.rows));
        if let Some(cpu) = first.cpu {
            println!("Machine busy {:.0} %.\n", cpu.machine_busy * 100.0);
        }
        if self.steps.len() > 1 {
            println!(
                "| think s | offered req/s | served req/s | errors | p50 ms | p99 ms | worst route p99 ms | machine busy | keeps p99 < 100 ms |"
            );
            println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
            for s in &self.steps {
                let worst = s.rows.iter().map(|r| r.p99_ms).fold(0.0, f64::max);
                println!(
                    "| {} | {:.0} | {:.1} | {} | {:.1} | {:.1} | {:.1} | {} | {} |",
                    s.think,
                    s.offered_per_s,
                    s.all().per_second(),
                    s.all().errors,
                    s.all().p50_ms,
                    s.all().p99_ms,
                    worst,
                    s.cpu.map_or("?".into(), |c| format!("{:.0} %", c.machine_busy * 100.0)),
                    if s.keeps_target() { "yes" } else { "no" }
                );
            }
            match self.steps.iter().rfind(|s| s.keeps_target()) {
                Some(best) => println!(
                    "\nHighest rate keeping every route's p99 under {TARGET_P99_MS} ms with no \
                     error: {:.1} requests/s served ({:.0} offered).",
                    best.all().per_second(),
                    best.offered_per_s
                ),
                None => println!("\nNo step kept every route's p99 under {TARGET_P99_MS} ms."),
            }
        }
        println!(
            "\nPostgreSQL's own limit on this machine, same cluster (scale 10, 16 clients):\n"
        );
        println!("| pgbench | tps | latency average ms |\n| --- | ---: | ---: |");
        for (label, tps, latency) in &self.pgbench {
            println!("| {label} | {tps:.0} | {latency:.2} |");
        }
        for s in &self.steps {
            for sample in s.samples.iter().take(5) {
                eprintln!("  {sample}");
            }
        }
        let lines: Vec<serde_json::Value> = self
            .steps
            .iter()
            .flat_map(|s| {
                s.rows.iter().map(move |r| {
                    json!({
                        "bench": "school",
                        "date": self.facts.date,
                        "route": r.route,
                        "scale": self.facts.scale,
                        "seed": self.facts.seed,
                        "users": self.users,
                        "think_s": s.think,
                        "offered_per_s": s.offered_per_s,
                        "requests": r.requests,
                        "errors": r.errors,
                        "seconds": r.seconds,
                        "req_per_s": r.per_second(),
                        "p50_ms": r.p50_ms,
                        "p99_ms": r.p99_ms,
                        "machine_busy": s.cpu.map(|c| c.machine_busy),
                        "pgbench": self.pgbench.iter().map(|(l, t, ms)| json!({"run": l, "tps": t, "latency_ms": ms})).collect::<Vec<_>>(),
                        "machine": self.facts.machine_json(),
                    })
                })
            })
            .collect();
        append_json_lines(Path::new(RESULTS), &lines)?;
        println!("\nAppended {} lines to {RESULTS}", lines.len());
        anyhow::ensure!(
            self.steps[0].keeps_target(),
            "the first step missed the target (p99 under {TARGET_P99_MS} ms, no error)"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_seventy_twenty_ten() {
        assert_eq!(STEPS.iter().map(|s| s.1).sum::<u32>(), 100);
        let mut rng = StdRng::seed_from_u64(1);
        let mut n = [0u32; 4];
        for _ in 0..100_000 {
            n[pick(&mut rng) as usize] += 1;
        }
        let share = |i: usize| f64::from(n[i]) / 1000.0;
        assert!((share(0) + share(1) - 70.0).abs() < 1.0, "{n:?}");
        assert!((share(2) - 20.0).abs() < 1.0, "{n:?}");
        assert!((share(3) - 10.0).abs() < 1.0, "{n:?}");
    }
}
