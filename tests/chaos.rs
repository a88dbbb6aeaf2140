//! Chaos: `oneclass ingest` runs as a separate process and is killed with SIGKILL at random
//! points (at least 20 times, restarted after a short random pause), and PostgreSQL is restarted
//! twice, while a writer commits a mixed workload as the owner: inserts, updates and deletes,
//! key changes, wide rows whose text is TOASTed (updated with and without touching it), one
//! transaction of 100,000 inserts (plus 1,000 updates, so it spills), and a TRUNCATE. At the end
//! `oneclass reconcile` finds no difference, and bronze holds every committed change exactly
//! once: no (_lsn, _seq) twice, and per table and operation as many rows as the writer committed.
//! Silver tables above 100 rows take their changes into pending tables that are folded in
//! every 500 rows and when idle, so kills also land in pending appends and folds.
//!
//! The cluster is private to this binary (it is restarted). The randomness comes from one seed,
//! printed; `ONECLASS_CHAOS_SEED=N` replays a run's schedule and workload.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use oneclass_core::cluster::{ClusterOptions, PgCluster, find_bindir};
use oneclass_warehouse::{Access, Format, Warehouse};
use rand::distributions::Alphanumeric;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use sqlx::{Connection, PgConnection};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

/// The published tables of the test, in schema `chaos`.
const TABLES: [&str; 4] = ["narrow", "wide", "bulk", "scratch"];
/// Ingest kills during the workload (one more happens during the initial snapshot).
const KILLS: usize = 22;
const BULK_ROWS: i64 = 100_000;
const BULK_UPDATES: i64 = 1_000;
/// Rows present before ingest first starts (bronze `r` rows).
const NARROW_BEFORE: i64 = 200;
const WIDE_BEFORE: i64 = 20;
const SCRATCH_BEFORE: i64 = 10;

/// Changes per operation, as bronze's `_op` names them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Ops {
    r: u64,
    c: u64,
    u: u64,
    d: u64,
}

type Tally = BTreeMap<&'static str, Ops>;

fn bump(tally: &mut Tally, table: &'static str, op: char, n: u64) {
    let ops = tally.entry(table).or_default();
    match op {
        'r' => ops.r += n,
        'c' => ops.c += n,
        'u' => ops.u += n,
        'd' => ops.d += n,
        other => panic!("unknown op {other}"),
    }
}

fn merge(into: &mut Tally, from: &Tally) {
    for (table, ops) in from {
        for (op, n) in [('r', ops.r), ('c', ops.c), ('u', ops.u), ('d', ops.d)] {
            bump(into, table, op, n);
        }
    }
}

/// One statement of a writer transaction, its parameters drawn beforehand.
#[derive(Debug)]
enum Action {
    NarrowInsert {
        from: i64,
        to: i64,
    },
    NarrowUpdate {
        ids: Vec<i64>,
        v: String,
    },
    NarrowDelete {
        ids: Vec<i64>,
    },
    /// An update that changes the primary key.
    NarrowRekey {
        from: i64,
        to: i64,
    },
    WideInsert {
        id: i64,
        payload: String,
    },
    /// Leaves the TOASTed payload alone: pgoutput does not resend it.
    WideTouch {
        ids: Vec<i64>,
        note: String,
    },
    WideRewrite {
        id: i64,
        payload: String,
    },
    WideDelete {
        id: i64,
    },
    ScratchInsert {
        from: i64,
        to: i64,
    },
    ScratchUpdate {
        ids: Vec<i64>,
    },
    ScratchDelete {
        id: i64,
    },
    /// 100,000 inserts and 1,000 updates in one transaction.
    Bulk {
        from: i64,
    },
    Truncate,
}

/// Runs one action; returns the rows it changed per (table, op).
async fn apply(
    conn: &mut PgConnection,
    action: &Action,
) -> Result<Vec<(&'static str, char, u64)>, sqlx::Error> {
    let n = |r: sqlx::postgres::PgQueryResult| r.rows_affected();
    Ok(match action {
        Action::NarrowInsert { from, to } => {
            let r = sqlx::query(
                "INSERT INTO chaos.narrow (id, n, v)
                 SELECT g, 0, md5(g::text) FROM generate_series($1::bigint, $2::bigint) g",
            )
            .bind(from)
            .bind(to)
            .execute(&mut *conn)
            .await?;
            vec![("narrow", 'c', n(r))]
        }
        Action::NarrowUpdate { ids, v } => {
            let r = sqlx::query("UPDATE chaos.narrow SET n = n + 1, v = $2 WHERE id = ANY($1)")
                .bind(ids)
                .bind(v)
                .execute(&mut *conn)
                .await?;
            vec![("narrow", 'u', n(r))]
        }
        Action::NarrowDelete { ids } => {
            let r = sqlx::query("DELETE FROM chaos.narrow WHERE id = ANY($1)")
                .bind(ids)
                .execute(&mut *conn)
                .await?;
            vec![("narrow", 'd', n(r))]
        }
        Action::NarrowRekey { from, to } => {
            let r = sqlx::query("UPDATE chaos.narrow SET id = $2, v = 'moved' WHERE id = $1")
                .bind(from)
                .bind(to)
                .execute(&mut *conn)
                .await?;
            vec![("narrow", 'u', n(r))]
        }
        Action::WideInsert { id, payload } => {
            let r = sqlx::query(
                "INSERT INTO chaos.wide (id, counter, note, payload) VALUES ($1, 0, 'new', $2)",
            )
            .bind(id)
            .bind(payload)
            .execute(&mut *conn)
            .await?;
            vec![("wide", 'c', n(r))]
        }
        Action::WideTouch { ids, note } => {
            let r = sqlx::query(
                "UPDATE chaos.wide SET counter = counter + 1, note = $2 WHERE id = ANY($1)",
            )
            .bind(ids)
            .bind(note)
            .execute(&mut *conn)
            .await?;
            vec![("wide", 'u', n(r))]
        }
        Action::WideRewrite { id, payload } => {
            let r = sqlx::query(
                "UPDATE chaos.wide SET counter = counter + 1, payload = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(payload)
            .execute(&mut *conn)
            .await?;
            vec![("wide", 'u', n(r))]
        }
        Action::WideDelete { id } => {
            let r = sqlx::query("DELETE FROM chaos.wide WHERE id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            vec![("wide", 'd', n(r))]
        }
        Action::ScratchInsert { from, to } => {
            let r = sqlx::query(
                "INSERT INTO chaos.scratch (id, v)
                 SELECT g, 'scratch ' || g FROM generate_series($1::bigint, $2::bigint) g",
            )
            .bind(from)
            .bind(to)
            .execute(&mut *conn)
            .await?;
            vec![("scratch", 'c', n(r))]
        }
        Action::ScratchUpdate { ids } => {
            let r = sqlx::query("UPDATE chaos.scratch SET v = v || '+' WHERE id = ANY($1)")
                .bind(ids)
                .execute(&mut *conn)
                .await?;
            vec![("scratch", 'u', n(r))]
        }
        Action::ScratchDelete { id } => {
            let r = sqlx::query("DELETE FROM chaos.scratch WHERE id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            vec![("scratch", 'd', n(r))]
        }
        Action::Bulk { from } => {
            let inserted = sqlx::query(
                "INSERT INTO chaos.bulk (id, v)
                 SELECT g, md5(g::text) FROM generate_series($1::bigint, $2::bigint) g",
            )
            .bind(from)
            .bind(from + BULK_ROWS - 1)
            .execute(&mut *conn)
            .await?;
            let updated = sqlx::query(
                "UPDATE chaos.bulk SET v = 'updated in the same transaction'
                 WHERE id >= $1 AND id < $2",
            )
            .bind(from)
            .bind(from + BULK_UPDATES)
            .execute(&mut *conn)
            .await?;
            vec![("bulk", 'c', n(inserted)), ("bulk", 'u', n(updated))]
        }
        Action::Truncate => {
            sqlx::query("TRUNCATE chaos.scratch").execute(&mut *conn).await?;
            Vec::new()
        }
    })
}

/// One transaction: a ledger row (not published) that tells, after a lost connection, whether
/// the transaction committed, then the actions. Returns the changes it made and the outcome.
async fn transaction(
    conn: &mut PgConnection,
    tx_id: i64,
    actions: &[Action],
) -> (Tally, Result<(), sqlx::Error>) {
    let mut local = Tally::new();
    let result = async {
        let mut tx = conn.begin().await?;
        sqlx::query("INSERT INTO chaos.ledger (tx) VALUES ($1)")
            .bind(tx_id)
            .execute(&mut *tx)
            .await?;
        for action in actions {
            for (table, op, n) in apply(&mut tx, action).await? {
                bump(&mut local, table, op, n);
            }
        }
        tx.commit().await
    }
    .await;
    (local, result)
}

/// Connects, retrying while PostgreSQL restarts.
async fn connect(url: &str) -> PgConnection {
    let start = Instant::now();
    loop {
        match PgConnection::connect(url).await {
            Ok(conn) => return conn,
            Err(e) if start.elapsed() > Duration::from_secs(120) => {
                panic!("cannot reconnect to PostgreSQL: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Whether transaction `tx_id` committed (asked after its connection was lost).
async fn committed(url: &str, conn: &mut PgConnection, tx_id: i64) -> bool {
    loop {
        match sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM chaos.ledger WHERE tx = $1)",
        )
        .bind(tx_id)
        .fetch_one(&mut *conn)
        .await
        {
            Ok(found) => return found,
            Err(_) => *conn = connect(url).await,
        }
    }
}

#[derive(Default)]
struct Requests {
    bulk: AtomicBool,
    bulk_done: AtomicBool,
    truncate: AtomicBool,
    truncate_done: AtomicBool,
}

#[derive(Debug, Default)]
struct WriterReport {
    tally: Tally,
    committed: u64,
    failed: u64,
    /// Transactions whose commit was in flight when the connection broke, and that committed.
    committed_unacknowledged: u64,
}

/// Next free keys per table (never reused, so a failed transaction leaves a gap only).
struct Keys {
    narrow: i64,
    wide: i64,
    scratch: i64,
    bulk: i64,
}

fn payload(rng: &mut StdRng) -> String {
    let len = rng.gen_range(3_000..9_000);
    rng.sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

fn some_ids(rng: &mut StdRng, below: i64, max: usize) -> Vec<i64> {
    let k = rng.gen_range(1..=max);
    (0..k).map(|_| rng.gen_range(0..below.max(1))).collect()
}

/// One to three random actions.
fn random_actions(rng: &mut StdRng, keys: &mut Keys) -> Vec<Action> {
    let count = rng.gen_range(1..=3);
    let mut actions = Vec::new();
    for _ in 0..count {
        let action = match rng.gen_range(0..100) {
            0..=19 => {
                let k = rng.gen_range(1..=20);
                let from = keys.narrow;
                keys.narrow += k;
                Action::NarrowInsert { from, to: from + k - 1 }
            }
            20..=34 => Action::NarrowUpdate {
                ids: some_ids(rng, keys.narrow, 10),
                v: format!("v{}", rng.r#gen::<u32>()),
            },
            35..=41 => Action::NarrowDelete { ids: some_ids(rng, keys.narrow, 3) },
            42..=44 => {
                let to = keys.narrow;
                keys.narrow += 1;
                Action::NarrowRekey { from: rng.gen_range(0..keys.narrow), to }
            }
            45..=54 => {
                let id = keys.wide;
                keys.wide += 1;
                Action::WideInsert { id, payload: payload(rng) }
            }
            55..=69 => Action::WideTouch {
                ids: some_ids(rng, keys.wide, 4),
                note: format!("touched {}", rng.r#gen::<u32>()),
            },
            70..=76 => {
                Action::WideRewrite { id: rng.gen_range(0..keys.wide), payload: payload(rng) }
            }
            77..=81 => Action::WideDelete { id: rng.gen_range(0..keys.wide) },
            82..=89 => {
                let k = rng.gen_range(1..=5);
                let from = keys.scratch;
                keys.scratch += k;
                Action::ScratchInsert { from, to: from + k - 1 }
            }
            90..=96 => Action::ScratchUpdate { ids: some_ids(rng, keys.scratch, 5) },
            _ => Action::ScratchDelete { id: rng.gen_range(0..keys.scratch) },
        };
        actions.push(action);
    }
    actions
}

/// Commits random transactions until `stop`; performs the bulk transaction and the TRUNCATE
/// once each when asked (retrying until they commit). Survives PostgreSQL restarts.
async fn writer(
    url: String,
    seed: u64,
    stop: CancellationToken,
    requests: Arc<Requests>,
) -> WriterReport {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut keys =
        Keys { narrow: NARROW_BEFORE, wide: WIDE_BEFORE, scratch: SCRATCH_BEFORE, bulk: 0 };
    let mut report = WriterReport::default();
    let mut conn = connect(&url).await;
    let mut tx_id = 0i64;
    while !stop.is_cancelled() {
        let (actions, special) =
            if requests.bulk.load(Ordering::SeqCst) && !requests.bulk_done.load(Ordering::SeqCst) {
                let from = keys.bulk;
                keys.bulk += BULK_ROWS;
                (vec![Action::Bulk { from }], Some(&requests.bulk_done))
            } else if requests.truncate.load(Ordering::SeqCst)
                && !requests.truncate_done.load(Ordering::SeqCst)
            {
                (vec![Action::Truncate], Some(&requests.truncate_done))
            } else {
                (random_actions(&mut rng, &mut keys), None)
            };
        tx_id += 1;
        let (local, result) = transaction(&mut conn, tx_id, &actions).await;
        let ok = match result {
            Ok(()) => true,
            Err(_) => {
                report.failed += 1;
                conn = connect(&url).await;
                let ok = committed(&url, &mut conn, tx_id).await;
                report.committed_unacknowledged += u64::from(ok);
                ok
            }
        };
        if ok {
            merge(&mut report.tally, &local);
            report.committed += 1;
            if let Some(done) = special {
                done.store(true, Ordering::SeqCst);
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(5..40))).await;
    }
    report
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// `pg_ctl -D pgdata ARGS`, as the postgres user when we are root (as `PgCluster` does).
async fn pg_ctl(pgdata: &Path, args: &[&str]) {
    let pg_ctl = find_bindir().expect("PostgreSQL binaries").join("pg_ctl");
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
        c
    } else {
        Command::new(&pg_ctl)
    };
    let out =
        cmd.arg("-D").arg(pgdata).args(args).current_dir("/").output().await.expect("run pg_ctl");
    assert!(
        out.status.success(),
        "pg_ctl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Fast shutdown, `downtime`, start again on the same port (clients reconnect to the same URL).
async fn restart_postgres(pgdata: &Path, port: u16, downtime: Duration) {
    pg_ctl(pgdata, &["-m", "fast", "-w", "-t", "120", "stop"]).await;
    tokio::time::sleep(downtime).await;
    let log = pgdata.join("server.log");
    pg_ctl(
        pgdata,
        &["-l", &log.to_string_lossy(), "-w", "-t", "120", "-o", &format!("-p {port}"), "start"],
    )
    .await;
}

/// `oneclass ingest` or `oneclass reconcile` with the system's environment.
fn oneclass(env: &[(&str, String)], command: &str, log: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oneclass"));
    cmd.arg(command)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env(
            "RUST_LOG",
            "info,sqlx=warn,deltalake=warn,deltalake_core=warn,datafusion=warn,buoyant_kernel=warn",
        )
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if command == "ingest" {
        let file =
            std::fs::OpenOptions::new().create(true).append(true).open(log).expect("ingest log");
        cmd.stdout(file.try_clone().expect("log")).stderr(file);
    }
    cmd
}

fn spawn_ingest(env: &[(&str, String)], log: &Path) -> Child {
    oneclass(env, "ingest", log).spawn().expect("spawn oneclass ingest")
}

/// SIGKILL (what `Child::kill` sends on unix); fails the test if ingest had exited by itself.
async fn kill_ingest(child: &mut Child, log: &Path) {
    if let Some(status) = child.try_wait().expect("try_wait") {
        panic!("oneclass ingest exited on its own ({status})\n{}", tail(log));
    }
    child.kill().await.expect("SIGKILL ingest");
}

/// The last lines of the ingest log, for failure messages.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(40);
    format!("--- last lines of {} ---\n{}", log.display(), lines[from..].join("\n"))
}

async fn lake_rows(wh: &Warehouse, sql: &str) -> Result<Vec<Value>, String> {
    let out = wh.query(sql, &Access::Full).await.map_err(|e| e.to_string())?;
    let json = oneclass_warehouse::encode(&out, Format::Json).map_err(|e| e.to_string())?.1;
    let mut answer: Value = serde_json::from_slice(&json).map_err(|e| e.to_string())?;
    serde_json::from_value(answer["rows"].take()).map_err(|e| e.to_string())
}

/// Bronze rows per table and `_op`.
async fn bronze_tally(wh: &Warehouse) -> Result<Tally, String> {
    let mut tally = Tally::new();
    for table in TABLES {
        tally.insert(table, Ops::default());
        let sql = format!("SELECT _op, count(*) AS n FROM bronze.chaos.{table} GROUP BY _op");
        for row in lake_rows(wh, &sql).await? {
            let op = row["_op"].as_str().and_then(|s| s.chars().next()).ok_or("no _op")?;
            let n = row["n"].as_u64().ok_or("no count")?;
            bump(&mut tally, table, op, n);
        }
    }
    Ok(tally)
}

/// Polls `check` every 250 ms until it holds, failing with the ingest log after `timeout`.
async fn wait_for<F, Fut>(timeout: Duration, what: &str, log: &Path, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, String>>,
{
    let start = Instant::now();
    let mut last = String::new();
    loop {
        match check().await {
            Ok(true) => return,
            Ok(false) => {}
            Err(e) => last = e,
        }
        if start.elapsed() > timeout {
            panic!(
                "timed out after {timeout:?} waiting for {what} (last error: {last})\n{}",
                tail(log)
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_survives_kills_and_postgres_restarts() {
    let started = Instant::now();
    let seed: u64 = std::env::var("ONECLASS_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().r#gen());
    println!("chaos seed {seed} (replay with ONECLASS_CHAOS_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);

    // A private cluster: this test restarts it.
    let dir = tempfile::Builder::new().prefix("oneclass-chaos-").tempdir().expect("tempdir");
    // The server runs as the postgres user when we are root: it must reach the folder.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut cluster = PgCluster::start(
        &dir.path().join("pg"),
        "chaos-owner-password",
        &ClusterOptions { unsafe_fast: true },
    )
    .expect("start PostgreSQL");
    cluster.stop_when_process_exits(std::process::id()).expect("watchdog");
    cluster.ensure_database("oneclass").await.expect("create database");
    let owner_url = cluster.url("oneclass");
    oneclass_core::db::migrate(&owner_url, &oneclass_testkit::passwords()).await.expect("migrate");
    let pgdata: PathBuf = cluster.pgdata().to_path_buf();
    let port = cluster.port();

    let mut owner = PgConnection::connect(&owner_url).await.expect("owner connection");
    for stmt in [
        "CREATE SCHEMA chaos",
        "GRANT USAGE ON SCHEMA chaos TO oneclass_cdc",
        "CREATE TABLE chaos.narrow (id bigint PRIMARY KEY, n int NOT NULL, v text)",
        "CREATE TABLE chaos.wide (id bigint PRIMARY KEY, counter int NOT NULL, note text, payload text)",
        // Out of line and uncompressed: every payload of more than ~2 KB is TOASTed.
        "ALTER TABLE chaos.wide ALTER COLUMN payload SET STORAGE EXTERNAL",
        "CREATE TABLE chaos.bulk (id bigint PRIMARY KEY, v text)",
        "CREATE TABLE chaos.scratch (id bigint PRIMARY KEY, v text)",
        // Not published: which writer transactions committed.
        "CREATE TABLE chaos.ledger (tx bigint PRIMARY KEY)",
        "GRANT SELECT ON chaos.narrow, chaos.wide, chaos.bulk, chaos.scratch TO oneclass_cdc",
        "ALTER PUBLICATION oneclass_lake ADD TABLE chaos.narrow, chaos.wide, chaos.bulk, chaos.scratch",
        "INSERT INTO chaos.narrow SELECT g, 0, md5(g::text) FROM generate_series(0, 199) g",
        "INSERT INTO chaos.scratch SELECT g, 'before ' || g FROM generate_series(0, 9) g",
    ] {
        sqlx::query(stmt).execute(&mut owner).await.unwrap_or_else(|e| panic!("{stmt}: {e}"));
    }
    for id in 0..WIDE_BEFORE {
        sqlx::query("INSERT INTO chaos.wide VALUES ($1, 0, 'before', $2)")
            .bind(id)
            .bind(payload(&mut rng))
            .execute(&mut owner)
            .await
            .expect("wide row");
    }
    let mut expected = Tally::new();
    bump(&mut expected, "narrow", 'r', NARROW_BEFORE as u64);
    bump(&mut expected, "wide", 'r', WIDE_BEFORE as u64);
    bump(&mut expected, "scratch", 'r', SCRATCH_BEFORE as u64);
    bump(&mut expected, "bulk", 'r', 0);

    let lake = tempfile::Builder::new().prefix("oneclass-chaos-lake").tempdir().expect("lake");
    let logs = tempfile::Builder::new().prefix("oneclass-chaos-logs").tempdir().expect("logs");
    let log = logs.path().join("ingest.log");
    let env: Vec<(&str, String)> = vec![
        ("DATABASE_URL", owner_url.clone()),
        ("ONECLASS_APP_PASSWORD", oneclass_testkit::APP_PASSWORD.into()),
        ("ONECLASS_CDC_PASSWORD", oneclass_testkit::CDC_PASSWORD.into()),
        ("ONECLASS_JWT_SECRET", "chaos-test-jwt-secret-of-at-least-32-characters".into()),
        ("ONECLASS_PSEUDONYM_KEY", support::PSEUDONYM_KEY.into()),
        ("ONECLASS_LAKE", lake.path().to_string_lossy().into_owned()),
        // Tables above 100 rows (narrow from the start, bulk after its large transaction) take
        // their changes into pending tables, folded in every 500 rows and when idle for 2 s:
        // kills land in appends, folds and MERGEs alike.
        ("ONECLASS_LAKE_PENDING_ABOVE_ROWS", "100".into()),
        ("ONECLASS_LAKE_FOLD_ROWS", "500".into()),
        ("ONECLASS_LAKE_FOLD_IDLE", "2s".into()),
    ];
    let wh = Warehouse::new(
        url::Url::from_directory_path(lake.path()).expect("lake url"),
        support::PSEUDONYM_KEY.as_bytes().to_vec(),
    );

    // The initial snapshot, killed once at a random moment (perhaps in the middle of it), then
    // completed before the writer starts.
    let mut kills = 0usize;
    let mut ingest = spawn_ingest(&env, &log);
    tokio::time::sleep(Duration::from_millis(rng.gen_range(100..2_000))).await;
    kill_ingest(&mut ingest, &log).await;
    kills += 1;
    let mut ingest = spawn_ingest(&env, &log);
    wait_for(Duration::from_secs(120), "the initial snapshot in bronze", &log, || async {
        Ok(bronze_tally(&wh).await? == expected)
    })
    .await;
    println!("snapshot done after {:.1} s", started.elapsed().as_secs_f64());

    // The workload, and the chaos around it.
    let stop_writer = CancellationToken::new();
    let requests = Arc::new(Requests::default());
    let writer =
        tokio::spawn(writer(owner_url.clone(), rng.r#gen(), stop_writer.clone(), requests.clone()));
    let bulk_at = rng.gen_range(2..6);
    let truncate_at = rng.gen_range(8..14);
    let restarts_at = [rng.gen_range(7..11), rng.gen_range(13..20)];
    let mut pg_restarts = 0usize;
    let chaos_start = Instant::now();
    for i in 0..KILLS {
        if i == bulk_at {
            requests.bulk.store(true, Ordering::SeqCst);
        }
        if i == truncate_at {
            requests.truncate.store(true, Ordering::SeqCst);
        }
        let uptime = Duration::from_millis(rng.gen_range(200..5_000));
        if i == bulk_at + 1 {
            // Aim at the large transaction: killed while it streams in, spills or is applied.
            wait_for(Duration::from_secs(60), "the bulk transaction to commit", &log, || async {
                Ok(requests.bulk_done.load(Ordering::SeqCst))
            })
            .await;
            // It reaches the lake in a second or two after its commit.
            tokio::time::sleep(uptime / 4).await;
            println!("kill aimed at the large transaction at {}", chrono::Utc::now());
        } else if restarts_at.contains(&i) {
            // PostgreSQL goes away under the running ingest and writer, and comes back.
            tokio::time::sleep(uptime / 2).await;
            let downtime = Duration::from_millis(rng.gen_range(200..2_000));
            let t = Instant::now();
            restart_postgres(&pgdata, port, downtime).await;
            pg_restarts += 1;
            println!(
                "PostgreSQL restarted ({:.1} s, {downtime:?} down) before kill {}",
                t.elapsed().as_secs_f64(),
                kills + 1
            );
            tokio::time::sleep(uptime / 2).await;
        } else {
            tokio::time::sleep(uptime).await;
        }
        kill_ingest(&mut ingest, &log).await;
        kills += 1;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..1_000))).await;
        ingest = spawn_ingest(&env, &log);
    }
    println!(
        "chaos: {kills} kills, {pg_restarts} PostgreSQL restarts in {:.1} s",
        chaos_start.elapsed().as_secs_f64()
    );
    wait_for(Duration::from_secs(120), "the bulk transaction and the TRUNCATE", &log, || async {
        Ok(requests.bulk_done.load(Ordering::SeqCst)
            && requests.truncate_done.load(Ordering::SeqCst))
    })
    .await;
    stop_writer.cancel();
    let report = writer.await.expect("writer");
    println!(
        "writer: {} transactions committed ({} of them while the connection broke), {} failed",
        report.committed, report.committed_unacknowledged, report.failed
    );
    merge(&mut expected, &report.tally);

    // A last transaction touching every table: once silver has it everywhere, ingest is done.
    let mut owner = connect(&owner_url).await;
    let mut tx = owner.begin().await.expect("begin");
    for table in TABLES {
        let sql = match table {
            "wide" => "INSERT INTO chaos.wide VALUES (-1, 0, 'last', 'last')".to_string(),
            "narrow" => "INSERT INTO chaos.narrow VALUES (-1, 0, 'last')".to_string(),
            t => format!("INSERT INTO chaos.{t} VALUES (-1, 'last')"),
        };
        sqlx::query(&sql).execute(&mut *tx).await.expect("last insert");
        bump(&mut expected, table, 'c', 1);
    }
    tx.commit().await.expect("commit");
    let catch_up = Instant::now();
    wait_for(Duration::from_secs(180), "ingest to catch up (the last row in silver)", &log, || {
        let wh = &wh;
        async move {
            for table in TABLES {
                let sql = format!("SELECT count(*) AS n FROM silver.chaos.{table} WHERE id = -1");
                if lake_rows(wh, &sql).await?.first().and_then(|r| r["n"].as_i64()) != Some(1) {
                    return Ok(false);
                }
            }
            Ok(true)
        }
    })
    .await;
    println!("caught up in {:.1} s", catch_up.elapsed().as_secs_f64());

    // Silver equals PostgreSQL.
    let out = oneclass(&env, "reconcile", &log).output().await.expect("run oneclass reconcile");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "oneclass reconcile found differences (seed {seed}):\n{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        tail(&log)
    );
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| table") && !l.starts_with("| ---"))
        .collect();
    assert!(
        rows.iter().any(|l| l.starts_with("| chaos.wide |")),
        "reconcile covers the test's tables"
    );
    for line in &rows {
        let cells: Vec<&str> = line.split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
        assert_eq!(cells.len(), 6, "a reconcile row: {line}");
        assert_eq!(cells[1], cells[2], "PostgreSQL and silver row counts: {line}");
        assert_eq!(&cells[3..], ["0", "0", "0"], "no missing, extra or different rows: {line}");
    }

    // Bronze: every committed change exactly once.
    for table in TABLES {
        let sql = format!(
            "SELECT count(*) AS n FROM (SELECT _lsn, _seq FROM bronze.chaos.{table}
             GROUP BY _lsn, _seq HAVING count(*) > 1)"
        );
        let dup = lake_rows(&wh, &sql).await.expect("bronze duplicates");
        assert_eq!(dup[0]["n"], 0, "no change is in bronze.chaos.{table} twice (seed {seed})");
    }
    let bronze = bronze_tally(&wh).await.expect("bronze tally");
    assert_eq!(
        bronze, expected,
        "bronze rows per table and _op (left) = the changes the writer committed (right), seed {seed}"
    );
    println!("bronze per table and op: {bronze:?}");

    kill_ingest(&mut ingest, &log).await;
    cluster.stop().expect("stop PostgreSQL");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let count = |what: &str| text.lines().filter(|l| l.contains(what)).count();
    println!(
        "ingest log: {} starts streaming, {} times the large transaction began spilling, {} times \
         it was applied, {} restarts after an error (PostgreSQL away), {} TOAST fills from nothing",
        count("streaming changes"),
        count("large transaction: spilling"),
        count("spilled transaction applied"),
        count("ingest stopped; restarting"),
        count("no current row to fill an unchanged TOASTed value"),
    );
    for line in text.lines().filter(|l| l.contains("spill")) {
        println!("  {line}");
    }
    println!(
        "{kills} ingest kills, {pg_restarts} PostgreSQL restarts, {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= 20 && pg_restarts == 2);
}

/// An update that changes the primary key of a row whose TOASTed value it leaves alone, when the
/// row's earlier change is not in the same batch. pgoutput sends the value as "unchanged" (`u`);
/// ingest looks the current value up in silver under the row's NEW key (which silver does not
/// have yet) instead of its old key, so the value is stored as null in bronze and silver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toasted_value_survives_a_key_change() {
    let owner_url = oneclass_testkit::fresh_database().await;
    let mut owner = PgConnection::connect(&owner_url).await.expect("owner connection");
    let big: String =
        StdRng::seed_from_u64(1).sample_iter(&Alphanumeric).take(6_000).map(char::from).collect();
    for stmt in [
        "CREATE SCHEMA chaos",
        "GRANT USAGE ON SCHEMA chaos TO oneclass_cdc",
        "CREATE TABLE chaos.rekeyed (id bigint PRIMARY KEY, note text, payload text)",
        "ALTER TABLE chaos.rekeyed ALTER COLUMN payload SET STORAGE EXTERNAL",
        "GRANT SELECT ON chaos.rekeyed TO oneclass_cdc",
        "ALTER PUBLICATION oneclass_lake ADD TABLE chaos.rekeyed",
    ] {
        sqlx::query(stmt).execute(&mut owner).await.unwrap_or_else(|e| panic!("{stmt}: {e}"));
    }
    let lake = tempfile::Builder::new().prefix("oneclass-lake").tempdir().expect("tempdir");
    let settings = support::settings(&owner_url, lake.path());
    let mut cfg = oneclass::app::ingest_config(&settings).expect("config");
    cfg.flush_interval = Duration::from_millis(100);
    let token = CancellationToken::new();
    let ingest = tokio::spawn(oneclass_ingest::run(cfg, token.clone()));
    let wh = oneclass::app::warehouse(&settings);
    let log = lake.path().join("no-log");
    let silver = |id: i64| {
        let wh = wh.clone();
        async move {
            let sql = format!(
                "SELECT note, length(payload) AS len FROM silver.chaos.rekeyed WHERE id = {id}"
            );
            lake_rows(&wh, &sql).await
        }
    };

    sqlx::query("INSERT INTO chaos.rekeyed VALUES (1, 'inserted', $1)")
        .bind(&big)
        .execute(&mut owner)
        .await
        .expect("insert");
    wait_for(Duration::from_secs(60), "the row in silver", &log, || async {
        Ok(silver(1).await?.len() == 1)
    })
    .await;
    // The key changes; the payload is not touched.
    sqlx::query("UPDATE chaos.rekeyed SET id = 2, note = 'moved' WHERE id = 1")
        .execute(&mut owner)
        .await
        .expect("key change");
    wait_for(Duration::from_secs(60), "the moved row in silver", &log, || async {
        Ok(silver(2).await?.len() == 1 && silver(1).await?.is_empty())
    })
    .await;
    let rows = silver(2).await.expect("silver");
    assert_eq!(
        rows[0]["len"].as_i64(),
        Some(6_000),
        "BUG: silver lost the unchanged TOASTed payload of a row whose key changed: {rows:?}"
    );
    let reports = oneclass::app::reconcile(&settings).await.expect("reconcile");
    let (text, outcome) = oneclass::app::reconcile_outcome(&reports);
    assert!(outcome.is_ok(), "reconcile:\n{text}");
    token.cancel();
    let _ = ingest.await;
}
