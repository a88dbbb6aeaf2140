//! `oneclass bench api`: the real HTTP application (API, staff pages, middleware) served
//! in-process on a free port of 127.0.0.1, over a seeded throwaway cluster, under N concurrent
//! simulated staff of one school. Each user loops without pause until the time is up, so the
//! figures are the server's capacity on this machine, shared with the load generator.

use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{Datelike, Duration as Days, NaiveDate, Weekday};
use oneclass_api::AuthUser;
use oneclass_api::auth::SESSION_COOKIE;
use oneclass_core::db;
use oneclass_core::types::Role;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::common::{BenchCluster, RunFacts, append_json_lines, server_version, thousands};
use crate::cpu::{CpuMeter, CpuUse, load_runtime, postmaster_pid};
use crate::percentiles::Percentiles;
use oneclass::app::Application;
use oneclass::config::Settings;

const RESULTS: &str = "bench/results/api.jsonl";
/// A route answering more than this share of its requests with anything but 2xx fails the run.
pub const MAX_ERROR_RATE: f64 = 0.01;
/// Sign-ins through `POST /api/v1/auth/login`, one after another before the load (argon2 is
/// slow by design, and the per-address limit allows 120 a minute); the other users' tokens are
/// minted with the API's own `auth::issue` and the server's key.
const SIGN_INS: usize = 20;
/// Every tenth simulated user is a registrar (learner reads only); the rest are teachers.
const REGISTRAR_EVERY: usize = 10;
/// The token lifetime `Application::build` gives its keys.
const TOKEN_TTL: Duration = Duration::from_secs(3600);
const LEARNER_PAGE: usize = 50;
/// Registers are read and written for a random weekday among the last this many days.
const DAYS_BACK: i64 = 28;
const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);
const MAX_USERS: usize = 5_000;
/// Error messages kept per route, to show what broke.
const MAX_SAMPLES: usize = 5;

pub struct ApiOptions {
    pub scale: oneclass_synth::Scale,
    pub seed: u64,
    pub users: usize,
    pub seconds: u64,
}

/// The measured routes; `SignIn` is measured on its own, before the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    ListLearners = 0,
    GetLearner = 1,
    GetRegister = 2,
    PostRegister = 3,
    RegisterPage = 4,
    SignIn = 5,
}

impl Route {
    /// The routes of the load phase, in table order.
    pub const LOAD: [Route; 5] = [
        Route::ListLearners,
        Route::GetLearner,
        Route::GetRegister,
        Route::PostRegister,
        Route::RegisterPage,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Route::ListLearners => "GET /api/v1/learners",
            Route::GetLearner => "GET /api/v1/learners/{id}",
            Route::GetRegister => "GET /api/v1/classes/{id}/register",
            Route::PostRegister => "POST /api/v1/classes/{id}/register",
            Route::RegisterPage => "GET /app/classes/{id}/register (HTML page)",
            Route::SignIn => "POST /api/v1/auth/login",
        }
    }
}

/// One route's requests as recorded by the load generator: latency is from sending the request
/// to the last byte of the answer, on the client's clock.
#[derive(Debug, Clone, Default)]
pub struct RouteStats {
    pub requests: u64,
    pub errors: u64,
    pub latencies_us: Vec<u64>,
    pub samples: Vec<String>,
}

impl RouteStats {
    /// A request answered (or failed) after `latency`; `problem` is why it counts as an error.
    pub fn record(&mut self, latency: Duration, problem: Option<String>) {
        self.requests += 1;
        self.latencies_us.push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
        if let Some(p) = problem {
            self.errors += 1;
            self.sample(p);
        }
    }

    /// A 2xx answer whose body was unusable: an error after all.
    pub fn reject(&mut self, problem: String) {
        self.errors = (self.errors + 1).min(self.requests);
        self.sample(problem);
    }

    fn sample(&mut self, problem: String) {
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(problem);
        }
    }

    pub fn merge(&mut self, other: RouteStats) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
        for s in other.samples {
            self.sample(s);
        }
    }

    /// The table row: throughput over `seconds`, latency percentiles.
    pub fn row(&self, route: &str, seconds: f64) -> RouteRow {
        let latencies = Percentiles::of_micros(self.latencies_us.iter().copied());
        let ms = |p| latencies.millis(p).unwrap_or(0.0);
        RouteRow {
            route: route.to_string(),
            requests: self.requests,
            errors: self.errors,
            seconds,
            p50_ms: ms(50.0),
            p99_ms: ms(99.0),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteRow {
    pub route: String,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl RouteRow {
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.requests as f64 / self.seconds } else { 0.0 }
    }

    /// Errors over requests; a route that was never answered counts as all errors.
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 { 1.0 } else { self.errors as f64 / self.requests as f64 }
    }
}

pub fn format_table(rows: &[RouteRow]) -> String {
    let mut out = String::from(
        "| route | requests | errors | req/s | p50 ms | p99 ms |\n\
         | --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} |\n",
            r.route,
            thousands(r.requests),
            thousands(r.errors),
            r.per_second(),
            r.p50_ms,
            r.p99_ms
        ));
    }
    out
}

/// The rows whose error rate is above [`MAX_ERROR_RATE`], described.
pub fn over_error_budget(rows: &[RouteRow]) -> Vec<String> {
    rows.iter()
        .filter(|r| r.error_rate() > MAX_ERROR_RATE)
        .map(|r| {
            format!(
                "{}: {} errors in {} requests ({:.1} %)",
                r.route,
                r.errors,
                r.requests,
                r.error_rate() * 100.0
            )
        })
        .collect()
}

/// One simulated user: a token and, for a teacher, the classes they teach.
struct SimUser {
    role: Role,
    token: String,
    classes: Vec<Uuid>,
}

/// A created bench account.
pub(crate) struct Account {
    pub(crate) id: Uuid,
    username: String,
    role: Role,
    pub(crate) classes: Vec<Uuid>,
}

#[derive(Deserialize)]
struct PageBody {
    items: Vec<IdBody>,
}

#[derive(Deserialize)]
struct IdBody {
    id: Uuid,
}

#[derive(Deserialize)]
struct RegisterBody {
    learners: Vec<LineBody>,
}

#[derive(Deserialize)]
struct LineBody {
    learner_id: Uuid,
}

#[derive(Deserialize)]
struct LoginBody {
    access_token: String,
}

/// Sends a request and reads the whole answer; records it. The body when the status is 2xx.
pub(crate) async fn call(stats: &mut RouteStats, req: reqwest::RequestBuilder) -> Option<Vec<u8>> {
    let started = Instant::now();
    let result = async {
        let resp = req.send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        Ok::<_, reqwest::Error>((status, body))
    }
    .await;
    let latency = started.elapsed();
    match result {
        Ok((status, body)) if status.is_success() => {
            stats.record(latency, None);
            Some(body.to_vec())
        }
        Ok((status, body)) => {
            let text = String::from_utf8_lossy(&body);
            let snippet: String = text.chars().take(200).collect();
            stats.record(latency, Some(format!("{status}: {snippet}")));
            None
        }
        Err(e) => {
            stats.record(latency, Some(format!("{e}")));
            None
        }
    }
}

fn parse<'a, T: Deserialize<'a>>(stats: &mut RouteStats, body: &'a [u8]) -> Option<T> {
    match serde_json::from_slice(body) {
        Ok(v) => Some(v),
        Err(e) => {
            stats.reject(format!("unreadable answer: {e}"));
            None
        }
    }
}

/// A weekday among the last [`DAYS_BACK`] days up to `today` (never in the future).
pub(crate) fn pick_day(rng: &mut StdRng, today: NaiveDate) -> NaiveDate {
    loop {
        let day = today - Days::days(rng.gen_range(0..DAYS_BACK));
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            return day;
        }
    }
}

/// Mostly present, as in a real register.
pub(crate) fn pick_status(rng: &mut StdRng) -> &'static str {
    match rng.gen_range(0..100) {
        0..85 => "present",
        85..95 => "absent",
        95..98 => "late",
        _ => "excused",
    }
}

/// One user's loop until `deadline`: a registrar lists learners and opens one; a teacher does
/// that, then reads a class register for a day, saves it for the whole class and opens the
/// register's staff page. A failed step ends the round.
async fn run_user(
    client: reqwest::Client,
    base: Arc<str>,
    school: Uuid,
    user: SimUser,
    deadline: Instant,
    seed: u64,
) -> Vec<RouteStats> {
    let mut stats = vec![RouteStats::default(); Route::LOAD.len()];
    let mut rng = StdRng::seed_from_u64(seed);
    let bearer = format!("Bearer {}", user.token);
    let cookie = format!("{SESSION_COOKIE}={}", user.token);
    let auth = reqwest::header::AUTHORIZATION;
    let over = || Instant::now() >= deadline;
    let mut round = 0usize;
    while !over() {
        round += 1;
        let s = &mut stats[Route::ListLearners as usize];
        let url = format!("{base}/api/v1/learners?school_id={school}&limit={LEARNER_PAGE}");
        let Some(body) = call(s, client.get(url).header(auth.clone(), &bearer)).await else {
            continue;
        };
        let Some(page) = parse::<PageBody>(s, &body) else { continue };
        if page.items.is_empty() {
            s.reject("an empty learner list".into());
            continue;
        }
        if over() {
            break;
        }
        let learner = page.items[rng.gen_range(0..page.items.len())].id;
        let s = &mut stats[Route::GetLearner as usize];
        let url = format!("{base}/api/v1/learners/{learner}");
        if call(s, client.get(url).header(auth.clone(), &bearer)).await.is_none() {
            continue;
        }
        if user.role != Role::Teacher || user.classes.is_empty() || over() {
            continue;
        }
        let class = user.classes[round % user.classes.len()];
        let day = pick_day(&mut rng, chrono::Utc::now().date_naive());
        let s = &mut stats[Route::GetRegister as usize];
        let url = format!("{base}/api/v1/classes/{class}/register?date={day}");
        let Some(body) = call(s, client.get(url).header(auth.clone(), &bearer)).await else {
            continue;
        };
        let Some(register) = parse::<RegisterBody>(s, &body) else { continue };
        if register.learners.is_empty() {
            s.reject("an empty register".into());
            continue;
        }
        if over() {
            break;
        }
        // In learner id order, as the staff page sends them: concurrent saves of one class then
        // lock its marks in the same order.
        let mut ids: Vec<Uuid> = register.learners.iter().map(|l| l.learner_id).collect();
        ids.sort_unstable();
        let marks: Vec<serde_json::Value> = ids
            .iter()
            .map(|id| json!({ "learner_id": id, "status": pick_status(&mut rng) }))
            .collect();
        let s = &mut stats[Route::PostRegister as usize];
        let url = format!("{base}/api/v1/classes/{class}/register");
        let req = client
            .post(url)
            .header(auth.clone(), &bearer)
            .json(&json!({ "date": day, "marks": marks }));
        if call(s, req).await.is_none() || over() {
            continue;
        }
        let s = &mut stats[Route::RegisterPage as usize];
        let url = format!("{base}/app/classes/{class}/register?date={day}");
        let _ = call(s, client.get(url).header(reqwest::header::COOKIE, &cookie)).await;
    }
    stats
}

/// Creates `n` staff accounts of `school` as the owner: with `registrars`, every
/// [`REGISTRAR_EVERY`]th a registrar; the others teachers of two classes each (round robin over
/// `classes`).
pub(crate) async fn create_accounts(
    owner: &sqlx::PgPool,
    school: Uuid,
    classes: &[Uuid],
    n: usize,
    password_hash: &str,
    registrars: bool,
) -> anyhow::Result<Vec<Account>> {
    let mut accounts = Vec::with_capacity(n);
    let mut teachers = 0usize;
    for i in 0..n {
        let role = if registrars && i % REGISTRAR_EVERY == REGISTRAR_EVERY - 1 {
            Role::Registrar
        } else {
            Role::Teacher
        };
        let mine = if role == Role::Teacher {
            let first = teachers % classes.len();
            teachers += 1;
            let mut mine = vec![classes[first]];
            if classes.len() > 1 {
                mine.push(classes[(first + 1) % classes.len()]);
            }
            mine
        } else {
            Vec::new()
        };
        accounts.push(Account {
            id: Uuid::now_v7(),
            username: format!("bench.{}.{i:05}", role.as_str()),
            role,
            classes: mine,
        });
    }
    let ids: Vec<Uuid> = accounts.iter().map(|a| a.id).collect();
    let usernames: Vec<String> = accounts.iter().map(|a| a.username.clone()).collect();
    let roles: Vec<String> = accounts.iter().map(|a| a.role.as_str().to_owned()).collect();
    let mut tx = owner.begin().await?;
    sqlx::query!(
        "INSERT INTO platform.users (id, username, password_hash, role, display_name)
         SELECT id, username, $3, role, 'Bench ' || username
         FROM UNNEST($1::uuid[], $2::text[], $4::text[]) AS t(id, username, role)",
        &ids,
        &usernames,
        password_hash,
        &roles,
    )
    .execute(&mut *tx)
    .await
    .context("creating the bench users")?;
    sqlx::query!(
        "INSERT INTO platform.memberships (user_id, school_id, role)
         SELECT id, $2, role FROM UNNEST($1::uuid[], $3::text[]) AS t(id, role)",
        &ids,
        school,
        &roles,
    )
    .execute(&mut *tx)
    .await
    .context("creating the bench users' memberships")?;
    // The users not signed in through the API get a session each (named by the user's id) for
    // the tokens minted for them.
    sqlx::query!(
        "INSERT INTO platform.sessions (id, user_id, expires_at)
         SELECT id, id, now() + interval '1 day' FROM UNNEST($1::uuid[]) AS t(id)",
        &ids,
    )
    .execute(&mut *tx)
    .await
    .context("creating the bench users' sessions")?;
    let (class_ids, teacher_ids): (Vec<Uuid>, Vec<Uuid>) =
        accounts.iter().flat_map(|a| a.classes.iter().map(|c| (*c, a.id))).unzip();
    sqlx::query!(
        "INSERT INTO academic.class_teachers (class_id, user_id, school_id)
         SELECT class_id, user_id, $3 FROM UNNEST($1::uuid[], $2::uuid[]) AS t(class_id, user_id)",
        &class_ids,
        &teacher_ids,
        school,
    )
    .execute(&mut *tx)
    .await
    .context("assigning the bench teachers' classes")?;
    tx.commit().await?;
    Ok(accounts)
}

/// What a run measured, before it is printed.
struct Outcome {
    facts: RunFacts,
    emis: String,
    users: usize,
    teachers: usize,
    classes: usize,
    /// Learners enrolled in those classes.
    learners: u64,
    signed_in: usize,
    load_seconds: f64,
    cpu: Option<CpuUse>,
    rows: Vec<RouteRow>,
    /// The load routes' error samples, then sign-in's.
    samples: Vec<(String, Vec<String>)>,
}

/// `oneclass bench api`.
pub async fn api(opts: ApiOptions) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=MAX_USERS).contains(&opts.users),
        "--users must be between 1 and {MAX_USERS}"
    );
    anyhow::ensure!(opts.seconds >= 1, "--seconds must be at least 1");
    let bench = BenchCluster::start().await?;
    let outcome = run(&bench, &opts).await;
    let stopped = bench.stop().await;
    let outcome = outcome?;
    stopped?;
    report(&outcome)
}

async fn run(bench: &BenchCluster, opts: &ApiOptions) -> anyhow::Result<Outcome> {
    let owner = db::pool(&bench.url, 4).await?;
    let facts = RunFacts::gather(opts.scale, opts.seed, server_version(&owner).await?);
    let params = oneclass_synth::params_for(opts.scale, opts.seed, chrono::Utc::now().date_naive());
    eprintln!("Seeding at {} scale …", facts.scale);
    oneclass_synth::seed(&owner, &params).await.context("seeding")?;

    let first =
        sqlx::query!("SELECT id, emis_code FROM platform.schools ORDER BY emis_code LIMIT 1")
            .fetch_one(&owner)
            .await
            .context("finding the first school")?;
    let (school, emis) = (first.id, first.emis_code);
    let classes: Vec<Uuid> = sqlx::query_scalar!(
        "SELECT c.id FROM academic.classes c
         WHERE c.school_id = $1 AND c.academic_year = $2
           AND EXISTS (SELECT 1 FROM sis.enrolments e WHERE e.class_id = c.id AND e.end_date IS NULL)
         ORDER BY c.grade, c.name",
        school,
        params.academic_year,
    )
    .fetch_all(&owner)
    .await?;
    anyhow::ensure!(!classes.is_empty(), "school {emis} has no class with learners");
    let learners: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM sis.enrolments WHERE class_id = ANY($1) AND end_date IS NULL"#,
        &classes,
    )
    .fetch_one(&owner)
    .await?;

    let password = crate::common::random_secret();
    let hash = {
        let password = password.clone();
        tokio::task::spawn_blocking(move || oneclass_core::password::hash(&password)).await??
    };
    eprintln!("Creating {} staff accounts of school {emis} …", thousands(opts.users as u64));
    let accounts = create_accounts(&owner, school, &classes, opts.users, &hash, true).await?;
    owner.close().await;

    let settings = bench.app_settings()?;
    let app = Application::build(&settings, false).await?;
    let base: Arc<str> = format!("http://127.0.0.1:{}", app.port()).into();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until(shutdown.clone()));

    let postmaster = postmaster_pid(bench.cluster.pgdata());
    let measured = measure(&base, school, &settings, &password, accounts, opts, postmaster).await;
    shutdown.cancel();
    match tokio::time::timeout(Duration::from_secs(30), server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "the server stopped with an error"),
        Ok(Err(e)) => tracing::warn!(error = %e, "the server task failed"),
        Err(_) => tracing::warn!("the server did not stop within 30 s"),
    }
    let (load_seconds, cpu, load, sign_in, signed_in, teachers) = measured?;

    let mut rows = Vec::new();
    let mut samples = Vec::new();
    let mut all = RouteStats::default();
    for (route, stats) in Route::LOAD.iter().zip(load) {
        rows.push(stats.row(route.label(), load_seconds));
        samples.push((route.label().to_string(), stats.samples.clone()));
        all.merge(stats);
    }
    rows.push(all.row("all five routes", load_seconds));
    let sign_in_seconds = sign_in.latencies_us.iter().sum::<u64>() as f64 / 1e6;
    rows.push(sign_in.row(
        &format!("{} (one at a time, before the load)", Route::SignIn.label()),
        sign_in_seconds,
    ));
    samples.push((Route::SignIn.label().to_string(), sign_in.samples));
    Ok(Outcome {
        facts,
        emis,
        users: opts.users,
        teachers,
        classes: classes.len(),
        learners: u64::try_from(learners).unwrap_or(0),
        signed_in,
        load_seconds,
        cpu,
        rows,
        samples,
    })
}

type Measured = (f64, Option<CpuUse>, Vec<RouteStats>, RouteStats, usize, usize);

/// Signs in the first few accounts, mints the others' tokens, then runs every user until the
/// time is up. The load's wall seconds, CPU use, per-route stats, sign-in stats, the number of
/// users signed in and of teachers.
async fn measure(
    base: &Arc<str>,
    school: Uuid,
    settings: &Settings,
    password: &str,
    accounts: Vec<Account>,
    opts: &ApiOptions,
    postmaster: Option<u32>,
) -> anyhow::Result<Measured> {
    // Redirects are answers, not successes: a page that sends the user to sign in is an error.
    let new_client = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(CLIENT_TIMEOUT)
            .pool_max_idle_per_host(opts.users + 16)
            .build()
    };
    let client = new_client()?;

    eprintln!("Signing in {} users one at a time …", accounts.len().min(SIGN_INS));
    let mut sign_in = RouteStats::default();
    let mut tokens: HashMap<Uuid, String> = HashMap::new();
    for account in accounts.iter().take(SIGN_INS) {
        let req = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "username": account.username, "password": password }));
        if let Some(body) = call(&mut sign_in, req).await
            && let Some(login) = parse::<LoginBody>(&mut sign_in, &body)
        {
            tokens.insert(account.id, login.access_token);
        }
    }
    let signed_in = tokens.len();
    let keys =
        oneclass_api::JwtKeys::new(settings.jwt_secret.expose_secret().as_bytes(), TOKEN_TTL);
    let mut users = Vec::with_capacity(accounts.len());
    for a in accounts {
        let token = match tokens.remove(&a.id) {
            Some(t) => t,
            None => {
                let user = AuthUser {
                    id: a.id.into(),
                    session: a.id.into(),
                    role: a.role,
                    schools: vec![school.into()],
                    province: None,
                    district: None,
                };
                oneclass_api::auth::issue(&keys, &user)
                    .map_err(|e| anyhow::anyhow!("minting a token: {e}"))?
            }
        };
        users.push(SimUser { role: a.role, token, classes: a.classes });
    }
    let teachers = users.iter().filter(|u| u.role == Role::Teacher).count();
    // A fresh client, so that all its connections belong to the load generator's runtime.
    drop(client);
    let client = new_client()?;

    eprintln!(
        "Running {} users for {} s against {base} …",
        thousands(users.len() as u64),
        opts.seconds
    );
    // The simulated users run on a runtime of their own, with named threads: their tasks do not
    // queue on the server's workers, and their CPU time can be told apart from the server's.
    let runtime = load_runtime()?;
    let cpu = CpuMeter::start(postmaster);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(opts.seconds);
    let (base, seed) = (base.clone(), opts.seed);
    let load = runtime.spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, user) in users.into_iter().enumerate() {
            let seed = seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
            tasks.spawn(run_user(client.clone(), base.clone(), school, user, deadline, seed));
        }
        let mut load = vec![RouteStats::default(); Route::LOAD.len()];
        while let Some(done) = tasks.join_next().await {
            for (total, one) in load.iter_mut().zip(done.context("a simulated user failed")?) {
                total.merge(one);
            }
        }
        anyhow::Ok(load)
    });
    let load = load.await.context("the load generator failed");
    // Until the last answer: requests in flight at the deadline are waited for and counted.
    let load_seconds = started.elapsed().as_secs_f64();
    let cpu = cpu.stop();
    runtime.shutdown_background();
    let load = load??;
    Ok((load_seconds, cpu, load, sign_in, signed_in, teachers))
}

fn json_line(o: &Outcome, r: &RouteRow) -> serde_json::Value {
    json!({
        "bench": "api",
        "date": o.facts.date,
        "route": r.route,
        "scale": o.facts.scale,
        "seed": o.facts.seed,
        "users": o.users,
        "teachers": o.teachers,
        "school_emis": o.emis,
        "school_classes": o.classes,
        "school_learners": o.learners,
        "requests": r.requests,
        "errors": r.errors,
        "seconds": r.seconds,
        "req_per_s": r.per_second(),
        "p50_ms": r.p50_ms,
        "p99_ms": r.p99_ms,
        "machine_busy": o.cpu.map(|c| c.machine_busy),
        "oneclass_process_cpu": o.cpu.map(|c| c.ours),
        "load_generator_cpu": o.cpu.and_then(|c| c.load),
        "postgres_cpu": o.cpu.and_then(|c| c.postgres),
        "other_cpu": o.cpu.and_then(|c| c.other()),
        "load_generator": "in-process, sharing the machine with the server and PostgreSQL",
        "machine": o.facts.machine_json(),
    })
}

fn report(o: &Outcome) -> anyhow::Result<()> {
    let f = &o.facts;
    println!(
        "\nAPI load, {} scale, seed {} ({} build, PostgreSQL {}, {} CPUs)\n",
        f.scale, f.seed, f.profile, f.postgres, f.nproc
    );
    println!(
        "{} users of school {} ({} learners in {} classes): {} teachers of two classes each and \
         {} registrars, each looping without pause for {:.1} s; {} signed in through the API, \
         the rest with tokens minted by the API's own code.",
        thousands(o.users as u64),
        o.emis,
        thousands(o.learners),
        o.classes,
        thousands(o.teachers as u64),
        thousands((o.users - o.teachers) as u64),
        o.load_seconds,
        o.signed_in
    );
    println!(
        "The load generator runs in the same process as the server, on the same machine as \
         PostgreSQL: all three share its {} CPUs.\n",
        f.nproc
    );
    println!("{}", format_table(&o.rows));
    if let Some(cpu) = o.cpu {
        let share =
            |v: Option<f64>| v.map_or_else(|| "?".to_string(), |v| format!("{:.0}", v * 100.0));
        println!(
            "CPU during the load, as shares of the whole machine: {:.0} % busy; the oneclass \
             process {:.0} % (server {} %, load generator {} %), PostgreSQL {} %, other work on \
             the machine {} %.",
            cpu.machine_busy * 100.0,
            cpu.ours * 100.0,
            share(cpu.load.map(|l| (cpu.ours - l).max(0.0))),
            share(cpu.load),
            share(cpu.postgres),
            share(cpu.other())
        );
    }
    let failures = over_error_budget(&o.rows);
    if !failures.is_empty() {
        eprintln!("\nMore than {:.0} % errors:", MAX_ERROR_RATE * 100.0);
        for f in &failures {
            eprintln!("- {f}");
        }
        for (route, samples) in &o.samples {
            for s in samples {
                eprintln!("  {route}: {s}");
            }
        }
        anyhow::bail!(
            "the API failed under load ({} routes over the error budget); nothing appended to \
             {RESULTS}",
            failures.len()
        );
    }
    let lines: Vec<serde_json::Value> = o.rows.iter().map(|r| json_line(o, r)).collect();
    append_json_lines(Path::new(RESULTS), &lines)?;
    println!("\nAppended {} lines to {RESULTS}", lines.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_merge_and_give_a_row() {
        let mut a = RouteStats::default();
        a.record(Duration::from_millis(10), None);
        a.record(Duration::from_millis(30), Some("500: boom".into()));
        let mut b = RouteStats::default();
        b.record(Duration::from_millis(20), None);
        b.reject("unreadable".into());
        a.merge(b);
        assert_eq!((a.requests, a.errors), (3, 2));
        assert_eq!(a.samples, ["500: boom", "unreadable"]);
        let row = a.row("GET /x", 2.0);
        assert_eq!(row.per_second(), 1.5);
        // To the histogram's precision (0.1 %).
        assert!((row.p50_ms - 20.0).abs() <= 0.02, "{}", row.p50_ms);
        assert!((row.p99_ms - 30.0).abs() <= 0.03, "{}", row.p99_ms);
        // A rejected body never makes more errors than requests.
        let mut c = RouteStats::default();
        c.reject("nothing was sent".into());
        assert_eq!((c.requests, c.errors), (0, 0));
    }

    #[test]
    fn error_budget_is_one_percent_per_route() {
        let row = |errors, requests| RouteRow {
            route: "r".into(),
            requests,
            errors,
            seconds: 1.0,
            p50_ms: 1.0,
            p99_ms: 2.0,
        };
        assert!(over_error_budget(&[row(1, 100), row(0, 5)]).is_empty());
        assert_eq!(over_error_budget(&[row(2, 100)]).len(), 1);
        // Never answered: a failure, not a clean zero.
        assert_eq!(over_error_budget(&[row(0, 0)]).len(), 1);
    }

    #[test]
    fn table_has_a_row_per_route() {
        let rows = [RouteRow {
            route: "GET /api/v1/learners".into(),
            requests: 12_345,
            errors: 3,
            seconds: 15.0,
            p50_ms: 12.34,
            p99_ms: 250.0,
        }];
        let table = format_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "| route | requests | errors | req/s | p50 ms | p99 ms |");
        assert_eq!(lines[2], "| GET /api/v1/learners | 12,345 | 3 | 823.0 | 12.3 | 250.0 |");
    }

    #[test]
    fn days_are_weekdays_in_the_past() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..200 {
            let d = pick_day(&mut rng, today);
            assert!(d <= today && d > today - Days::days(DAYS_BACK));
            assert!(!matches!(d.weekday(), Weekday::Sat | Weekday::Sun));
        }
    }
}
