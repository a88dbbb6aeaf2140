//! Outside clients of the lake:
//! - the Postgres-wire SQL endpoint, spoken to by `psql` (the simple protocol and its catalog
//!   queries), psycopg (the extended protocol with parameters) and sqlx, over TLS and not: the
//!   same account sees the same rows as through `POST /api/v1/sql`;
//! - engines that read the Delta tables themselves (Python's deltalake, DuckDB over the views
//!   `oneclass lake views` generates), pending changes included.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use oneclass::config::WireSettings;
use serde_json::Value;
use support::{DEMO_PASSWORD, TestApp};

/// One client run: (succeeded, stdout, stderr).
struct Run {
    ok: bool,
    out: String,
    err: String,
}

fn run(mut command: Command) -> Run {
    let output = command.output().expect("the client runs");
    Run {
        ok: output.status.success(),
        out: String::from_utf8_lossy(&output.stdout).into_owned(),
        err: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `psql` as `user`, unaligned and tuples-only, running `commands` (each a `-c`).
async fn psql(port: u16, user: &str, password: &str, ssl: &str, commands: &[&str]) -> Run {
    let mut command = Command::new("psql");
    command
        .arg(format!("host=127.0.0.1 port={port} user={user} dbname=lake sslmode={ssl}"))
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10");
    for c in commands {
        command.args(["-c", c]);
    }
    tokio::task::spawn_blocking(move || run(command)).await.expect("psql")
}

/// Python's psycopg (3) running `script` with the connection string in `DSN`.
async fn psycopg(port: u16, user: &str, script: &str) -> Run {
    let dsn = format!(
        "host=127.0.0.1 port={port} user={user} password={DEMO_PASSWORD} dbname=lake \
         sslmode=disable connect_timeout=10"
    );
    python(script, &[("DSN", dsn)]).await
}

/// A self-signed certificate for 127.0.0.1 made by `openssl`.
fn tls_files(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    let made = run({
        let mut c = Command::new("openssl");
        c.args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj"])
            .arg("/CN=127.0.0.1")
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert);
        c
    });
    assert!(made.ok, "openssl: {}", made.err);
    (cert, key)
}

/// An analyst limited to one district, with a password for HTTP and SCRAM.
async fn district_analyst(app: &TestApp) -> (String, String) {
    let (province, district): (String, String) = sqlx::query_as(
        "SELECT province, district FROM platform.schools ORDER BY emis_code LIMIT 1",
    )
    .fetch_one(&app.owner)
    .await
    .expect("a school");
    let hash = oneclass_core::password::hash(DEMO_PASSWORD).expect("hash");
    let scram = oneclass_core::password::scram_secret(DEMO_PASSWORD);
    sqlx::query(
        "INSERT INTO platform.users (id, username, password_hash, role, display_name, province,
             district, scram_salt, scram_iterations, scram_salted_password)
         VALUES ($1, 'analyst.district', $2, 'analyst', 'District analyst', $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(hash)
    .bind(&province)
    .bind(&district)
    .bind(&scram.salt[..])
    .bind(scram.iterations as i32)
    .bind(&scram.salted_password[..])
    .execute(&app.owner)
    .await
    .expect("insert the district analyst");
    ("analyst.district".into(), district)
}

async fn http_token(app: &TestApp, username: &str) -> String {
    let resp = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&serde_json::json!({"username": username, "password": DEMO_PASSWORD}))
        .send()
        .await
        .expect("login");
    let body: Value = resp.json().await.expect("json");
    body["access_token"].as_str().expect("token").to_string()
}

fn lines(out: &str) -> Vec<String> {
    out.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn analysts_query_the_lake_from_psql_and_psycopg_within_their_scope_and_limits() {
    let tls_dir = oneclass_testkit::cluster::scratch_dir("oneclass-wire-tls");
    let (cert, key) = tls_files(tls_dir.path());
    let app = TestApp::spawn_with(|s| {
        s.sql.time_limit = Some(Duration::from_secs(3));
        s.sql_wire =
            Some(WireSettings { port: 0, tls: Some((cert, key)), sign_ins_per_minute: 600 });
    })
    .await;
    let port = app.sql_port.expect("the endpoint is open");
    let analyst = app.username("analyst");
    let token = app.token("analyst").await;
    app.wait_for_snapshot(&token, &["platform.schools", "sis.learners", "sis.enrolments"]).await;

    // psql's own catalog queries: \dt and \d work, and show what an analyst may read. (The
    // lake's list of tables is cached for a few seconds: the snapshot's tables appear within it.)
    support::eventually(Duration::from_secs(30), "\\dt lists sis.learners", || async {
        let listed = psql(port, &analyst, DEMO_PASSWORD, "disable", &["\\dt sis.*"]).await;
        assert!(listed.ok, "\\dt: {}", listed.err);
        listed.out.contains("|learners|table|").then_some(())
    })
    .await;
    let described = psql(port, &analyst, DEMO_PASSWORD, "disable", &["\\d sis.learners"]).await;
    assert!(described.ok, "\\d: {}", described.err);
    assert!(described.out.contains("sex"), "\\d shows the columns: {}", described.out);
    for hidden in ["first_name", "last_name", "national_id", "date_of_birth"] {
        assert!(!described.out.contains(hidden), "\\d shows {hidden}: {}", described.out);
    }

    // The same rows as over HTTP, pseudonymised alike.
    let sql = "SELECT id FROM sis.learners ORDER BY id LIMIT 5";
    let over_wire = psql(port, &analyst, DEMO_PASSWORD, "disable", &[sql]).await;
    assert!(over_wire.ok, "{sql}: {}", over_wire.err);
    let over_http: Vec<String> = app
        .sql(&token, sql)
        .await
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(lines(&over_wire.out), over_http);
    let raw: Vec<String> = sqlx::query_scalar("SELECT id::text FROM sis.learners")
        .fetch_all(&app.owner)
        .await
        .expect("raw ids");
    let everything =
        psql(port, &analyst, DEMO_PASSWORD, "disable", &["SELECT * FROM sis.learners"]).await;
    assert!(everything.ok, "{}", everything.err);
    assert!(!raw.iter().any(|id| everything.out.contains(id.as_str())), "a raw learner id leaked");

    // Nothing but reading: no writes, no files, no engine settings. Each refusal says why.
    let refusals = [
        ("INSERT INTO sis.learners (sex) VALUES ('F')", "not allowed"),
        ("DROP TABLE sis.learners", "not allowed"),
        ("SELECT 1 AS a INTO t", "not allowed"),
        ("COPY (SELECT 1) TO '/tmp/oneclass-wire.csv'", ""),
        ("CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'", ""),
        ("SELECT * FROM '/etc/passwd'", ""),
        ("SET datafusion.execution.memory_limit = '100G'", "not allowed"),
        ("SET datafusion.runtime.memory_limit = '100G'", "not allowed"),
        ("SELECT first_name FROM sis.learners", ""),
    ];
    for (sql, reason) in refusals {
        let refused = psql(port, &analyst, DEMO_PASSWORD, "disable", &[sql]).await;
        assert!(!refused.ok, "{sql} ran: {}", refused.out);
        assert!(refused.err.contains(reason), "{sql}: {}", refused.err);
        assert!(!refused.out.contains("root:"), "{sql} read a file: {}", refused.out);
    }
    assert!(!Path::new("/tmp/oneclass-wire.csv").exists(), "COPY wrote a file");

    // A runaway query stops at the time limit with a clear error; the server keeps answering.
    let started = Instant::now();
    let runaway = psql(
        port,
        &analyst,
        DEMO_PASSWORD,
        "disable",
        &["SELECT count(*) FROM sis.learners a, sis.learners b, sis.learners c \
           WHERE a.id < b.id AND b.id < c.id"],
    )
    .await;
    assert!(!runaway.ok, "the runaway query finished: {}", runaway.out);
    assert!(runaway.err.contains("time limit"), "{}", runaway.err);
    assert!(started.elapsed() < Duration::from_secs(20), "cancelled late: {:?}", started.elapsed());
    let after = psql(port, &analyst, DEMO_PASSWORD, "disable", &["SELECT 1"]).await;
    assert!(after.ok && after.out.trim() == "1", "unresponsive after the limit: {}", after.err);

    // Sign-in: a wrong password, an unknown user and a non-analyst are all turned away.
    for (user, password) in [
        (analyst.as_str(), "wrong-password"),
        ("nobody", DEMO_PASSWORD),
        ("ministry", DEMO_PASSWORD),
    ] {
        let denied = psql(port, user, password, "disable", &["SELECT 1"]).await;
        assert!(!denied.ok, "{user} signed in with {password}");
        assert!(
            denied.err.to_lowercase().contains("password authentication failed"),
            "{user}: {}",
            denied.err
        );
    }

    // EXPLAIN names the files a plan reads below the lake's root, never where the lake is.
    let explained = psql(
        port,
        &analyst,
        DEMO_PASSWORD,
        "disable",
        &["EXPLAIN SELECT count(*) FROM sis.learners WHERE sex = 'F'"],
    )
    .await;
    assert!(explained.ok, "EXPLAIN: {}", explained.err);
    let root = app.lake_dir.path().to_string_lossy().into_owned();
    assert!(explained.out.contains("silver/sis/learners"), "{}", explained.out);
    assert!(!explained.out.contains(&root), "the lake's path leaked: {}", explained.out);

    // TLS when the client asks for it.
    let secure = psql(port, &analyst, DEMO_PASSWORD, "require", &["\\conninfo"]).await;
    assert!(secure.ok, "TLS: {}", secure.err);
    assert!(secure.out.contains("SSL connection"), "{}", secure.out);

    // A district analyst over psycopg (extended protocol, a bound parameter): their district's
    // schools only, and the same count as over HTTP.
    let (district_user, district) = district_analyst(&app).await;
    let district_token = http_token(&app, &district_user).await;
    let script = r#"
import os, psycopg
with psycopg.connect(os.environ["DSN"]) as conn:
    districts = conn.execute("SELECT DISTINCT district FROM platform.schools").fetchall()
    print(",".join(sorted(d for (d,) in districts)))
    (n,) = conn.execute("SELECT count(*) FROM sis.learners WHERE sex = %s", ("F",)).fetchone()
    print(n)
"#;
    let answered = psycopg(port, &district_user, script).await;
    assert!(answered.ok, "psycopg: {}", answered.err);
    let out = lines(&answered.out);
    assert_eq!(out[0], district, "another district's schools reached psycopg");
    let over_http =
        app.sql(&district_token, "SELECT count(*) AS n FROM sis.learners WHERE sex = 'F'").await;
    assert_eq!(out[1], over_http[0]["n"].to_string());
    let all: i64 = sqlx::query_scalar("SELECT count(*) FROM sis.learners WHERE sex = 'F'")
        .fetch_one(&app.owner)
        .await
        .expect("count");
    assert!(out[1].parse::<i64>().expect("a count") < all, "the district saw every learner");

    // A new password without a new SCRAM secret: the old password stops working over the wire.
    sqlx::query("UPDATE platform.users SET password_hash = 'changed' WHERE username = $1")
        .bind(&district_user)
        .execute(&app.owner)
        .await
        .expect("change the password");
    let stale = psql(port, &district_user, DEMO_PASSWORD, "disable", &["SELECT 1"]).await;
    assert!(!stale.ok, "the old password still signs in over the wire");

    // sqlx, a third client (extended protocol, SCRAM).
    let url = format!("postgres://{analyst}:{DEMO_PASSWORD}@127.0.0.1:{port}/lake?sslmode=disable");
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.expect("sqlx");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM sis.learners")
        .fetch_one(&mut conn)
        .await
        .expect("count over sqlx");
    let raw_total: i64 = sqlx::query_scalar("SELECT count(*) FROM sis.learners")
        .fetch_one(&app.owner)
        .await
        .expect("count");
    assert_eq!(n, raw_total);
    app.stop().await;
}

/// `python` (the test venv's) running `script` with `env`.
async fn python(script: &str, env: &[(&str, String)]) -> Run {
    let python = oneclass_testkit::python::clients().expect("the Python clients for the tests");
    let mut command = Command::new(python);
    command.args(["-c", script]);
    for (k, v) in env {
        command.env(k, v);
    }
    tokio::task::spawn_blocking(move || run(command)).await.expect("python3")
}

/// DuckDB runs the generated views; `delta_scan` (DuckDB's delta extension, which cannot be
/// downloaded here) is stood in for by each Delta table's files as Python's deltalake lists them.
const DUCKDB_OVER_VIEWS: &str = r#"
import os, re, sys, duckdb
from deltalake import DeltaTable
script = open(os.environ["VIEWS"]).read()
con = duckdb.connect()
tables = {}
def table(m):
    name = "delta_%d" % len(tables)
    tables[name] = DeltaTable(m.group(1).removeprefix("file://")).to_pyarrow_dataset()
    return name
script = re.sub(r"delta_scan\('([^']*)'\)", table, script)
script = script.replace("INSTALL delta;", "").replace("LOAD delta;", "")
for name, dataset in tables.items():
    con.register(name, dataset)
con.execute(script)
for status, n in con.execute(
        "SELECT status, count(*) FROM attendance.daily_marks GROUP BY status ORDER BY status").fetchall():
    print(f"{status} {n}")
sys.stdout.flush()
os._exit(0)  # as below: deltalake can abort at interpreter exit
"#;

/// Python's deltalake reading one Delta table alone: its status counts.
const DELTALAKE_ALONE: &str = r#"
import os, sys, collections
from deltalake import DeltaTable
rows = DeltaTable(os.environ["TABLE"]).to_pyarrow_table(columns=["status"]).column("status")
for status, n in sorted(collections.Counter(rows.to_pylist()).items()):
    print(f"{status} {n}")
# deltalake's Python package can abort at interpreter exit ("terminate called without an active
# exception", from a thread still running) after its work is done: leave at once instead.
sys.stdout.flush()
os._exit(0)
"#;

async fn status_counts(owner: &sqlx::PgPool) -> Vec<String> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, count(*) FROM attendance.daily_marks GROUP BY status ORDER BY status",
    )
    .fetch_all(owner)
    .await
    .expect("status counts");
    rows.into_iter().map(|(s, n)| format!("{s} {n}")).collect()
}

/// Sign-in over the wire is guarded like sign-in over HTTP: five wrong passwords in a row lock
/// the account (over HTTP too, and the right password no longer opens it) and not another;
/// past its budget of sign-ins a minute, an address is refused with a clear message.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_over_the_wire_lock_the_account_and_floods_are_refused() {
    let app = TestApp::spawn_with(|s| {
        s.sql_wire = Some(WireSettings { port: 0, tls: None, sign_ins_per_minute: 12 });
    })
    .await;
    let port = app.sql_port.expect("the endpoint is open");
    // A second analyst, with the first one's password and SCRAM secret.
    sqlx::query(
        "INSERT INTO platform.users (id, username, password_hash, role, display_name, scram_salt,
                                     scram_iterations, scram_salted_password)
         SELECT gen_random_uuid(), 'analyst.two', password_hash, role, 'Analyst Two', scram_salt,
                scram_iterations, scram_salted_password
         FROM platform.users WHERE username = $1",
    )
    .bind(app.username("analyst"))
    .execute(&app.owner)
    .await
    .expect("a second analyst");
    let sign_in =
        |password: &'static str| psql(port, "analyst.two", password, "disable", &["SELECT 1"]);
    assert!(sign_in(DEMO_PASSWORD).await.ok, "the account works");
    for _ in 0..5 {
        let wrong = sign_in("not-the-password").await;
        assert!(!wrong.ok && wrong.err.contains("assword authentication failed"), "{}", wrong.err);
    }
    let locked = sign_in(DEMO_PASSWORD).await;
    assert!(!locked.ok, "a locked account does not open with the right password");
    let http = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&serde_json::json!({"username": "analyst.two", "password": DEMO_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(http.status(), 429, "locked over HTTP as well");
    let failures: i32 = sqlx::query_scalar(
        "SELECT failed_logins FROM platform.users WHERE username = 'analyst.two'",
    )
    .fetch_one(&app.owner)
    .await
    .expect("failures");
    assert_eq!(failures, 5);
    let other = psql(port, &app.username("analyst"), DEMO_PASSWORD, "disable", &["SELECT 1"]).await;
    assert!(other.ok, "another account signs in: {}", other.err);
    // Eight sign-ins so far this minute from this address, whose budget here is 12: the
    // thirteenth is refused before any password is asked.
    let mut refused_at = None;
    for attempt in 9..=14 {
        let run = sign_in(DEMO_PASSWORD).await;
        if run.err.contains("too many sign-in attempts") {
            refused_at = Some(attempt);
            break;
        }
    }
    assert_eq!(refused_at, Some(13));
    app.stop().await;
}

/// A connection opened before an account was locked, before its area changed or before its
/// password changed can do no more with it: every statement re-checks the account.
#[tokio::test(flavor = "multi_thread")]
async fn an_open_connection_stops_when_its_account_is_locked_or_moved() {
    let app = TestApp::spawn_with(|s| {
        s.sql_wire = Some(WireSettings { port: 0, tls: None, sign_ins_per_minute: 600 });
    })
    .await;
    let port = app.sql_port.expect("the endpoint is open");
    let analyst = app.username("analyst");
    const SCRIPT: &str = r#"
import os, psycopg
lake = psycopg.connect(os.environ["DSN"], autocommit=True)
owner = psycopg.connect(os.environ["OWNER"], autocommit=True)
print("before", lake.execute("SELECT 1 AS one").fetchone()[0])
owner.execute(os.environ["CHANGE"], (os.environ["WHO"],))
try:
    lake.execute("SELECT 1 AS one").fetchone()
    print("after still allowed")
except Exception as e:
    print("after refused:", e)
if os.environ["UNDO"]:
    owner.execute(os.environ["UNDO"], (os.environ["WHO"],))
os._exit(0)
"#;
    let dsn = format!(
        "host=127.0.0.1 port={port} user={analyst} password={DEMO_PASSWORD} dbname=lake sslmode=disable"
    );
    let secret = "scram_salted_password";
    for (change, undo) in [
        (
            "UPDATE platform.users SET province = 'Harare' WHERE username = %s".to_owned(),
            "UPDATE platform.users SET province = NULL WHERE username = %s".to_owned(),
        ),
        // The password changed elsewhere: the secret the connection signed in with is gone.
        (
            format!(
                "UPDATE platform.users SET {secret} = set_byte({secret}, 0, \
                 (get_byte({secret}, 0) + 1) %% 256) WHERE username = %s"
            ),
            format!(
                "UPDATE platform.users SET {secret} = set_byte({secret}, 0, \
                 (get_byte({secret}, 0) + 255) %% 256) WHERE username = %s"
            ),
        ),
        (
            "UPDATE platform.users SET locked_until = now() + interval '15 minutes' \
             WHERE username = %s"
                .to_owned(),
            String::new(),
        ),
    ] {
        let run = python(
            SCRIPT,
            &[
                ("DSN", dsn.clone()),
                ("OWNER", app.owner_url.clone()),
                ("CHANGE", change.clone()),
                ("UNDO", undo),
                ("WHO", analyst.clone()),
            ],
        )
        .await;
        assert!(run.out.contains("before 1"), "{}{}", run.out, run.err);
        assert!(
            run.out.contains("after refused: this account may no longer query"),
            "{change}: {}{}",
            run.out,
            run.err
        );
    }
    app.stop().await;
}

/// A client cancels its running statement as it would with PostgreSQL (psql's Ctrl-C, psycopg's
/// `cancel_safe`): the statement stops at once with 57014, and the connection goes on.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_cancels_its_running_statement() {
    let app = TestApp::spawn_with(|s| {
        s.sql.time_limit = Some(Duration::from_secs(120));
        s.sql_wire = Some(WireSettings { port: 0, tls: None, sign_ins_per_minute: 600 });
    })
    .await;
    let port = app.sql_port.expect("the endpoint is open");
    let token = app.token("analyst").await;
    app.wait_for_snapshot(&token, &["attendance.daily_marks"]).await;
    const SCRIPT: &str = r#"
import os, threading, time, psycopg
conn = psycopg.connect(os.environ["DSN"], autocommit=True)
def cancel_soon():
    time.sleep(1.5)
    conn.cancel_safe()
threading.Thread(target=cancel_soon).start()
start = time.time()
try:
    # A trillion hashes: far more than any machine computes in the time the test waits, whatever
    # the seed (a self-join of the marks is quick when a seed gives few of them).
    conn.execute("SELECT count(*) FROM range(0, 1000000000000) AS r(value) "
                 "WHERE md5(CAST(value AS VARCHAR)) LIKE '00000%%'").fetchone()
    print("finished after %.1f s" % (time.time() - start))
except psycopg.errors.QueryCanceled as e:
    print("cancelled after %.1f s: %s" % (time.time() - start, e))
print("after", conn.execute("SELECT 1 AS one").fetchone()[0])
os._exit(0)
"#;
    let run = psycopg(port, &app.username("analyst"), SCRIPT).await;
    assert!(run.out.contains("due to user request"), "{}{}", run.out, run.err);
    let seconds: f64 = run
        .out
        .split("cancelled after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the time it took");
    // Not before the request (1.5 s in), and long before the 120 s limit.
    assert!((1.4..30.0).contains(&seconds), "cancelled at the request: {}", run.out);
    assert!(run.out.contains("after 1"), "the connection goes on: {}{}", run.out, run.err);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn outside_engines_read_the_current_lake_pending_changes_included() {
    // Every silver table takes changes as pending rows and nothing is folded in while the test
    // runs: the Delta tables alone stay at the snapshot.
    let app = TestApp::spawn_with(|s| {
        s.ingest.pending_above_rows = Some(1);
        s.ingest.fold_rows = Some(u64::MAX / 2);
        s.ingest.fold_idle = Some(Duration::from_secs(3600));
        s.ingest.maintenance_interval = Some(Duration::ZERO);
    })
    .await;
    let token = app.token("analyst").await;
    app.wait_for_snapshot(&token, &["attendance.daily_marks"]).await;
    let at_snapshot = status_counts(&app.owner).await;

    // Changes after the snapshot: two marks flipped, one deleted.
    sqlx::query(
        "UPDATE attendance.daily_marks SET status = CASE status WHEN 'absent' THEN 'present'
             ELSE 'absent' END
         WHERE id IN (SELECT id FROM attendance.daily_marks ORDER BY id LIMIT 2)",
    )
    .execute(&app.owner)
    .await
    .expect("update");
    sqlx::query(
        "DELETE FROM attendance.daily_marks
         WHERE id = (SELECT id FROM attendance.daily_marks ORDER BY id DESC LIMIT 1)",
    )
    .execute(&app.owner)
    .await
    .expect("delete");
    let now = status_counts(&app.owner).await;
    assert_ne!(now, at_snapshot, "the changes change the counts");
    app.wait_for_snapshot(&token, &["attendance.daily_marks"]).await;
    support::eventually(Duration::from_secs(60), "the flipped marks in silver", || async {
        let rows = app
            .try_sql(
                &token,
                "SELECT status, count(*) AS n FROM silver.attendance.daily_marks GROUP BY status \
                 ORDER BY status",
            )
            .await
            .ok()?;
        let seen: Vec<String> = rows
            .iter()
            .map(|r| format!("{} {}", r["status"].as_str().unwrap_or("?"), r["n"]))
            .collect();
        (seen == now).then_some(())
    })
    .await;

    let table = app.lake_dir.path().join("silver/attendance/daily_marks");
    assert!(table.join("_pending/_delta_log").is_dir(), "the changes are pending rows");
    // The Delta table alone, read by Python's deltalake: the state at the snapshot.
    let alone = python(DELTALAKE_ALONE, &[("TABLE", table.to_string_lossy().into_owned())]).await;
    assert!(alone.ok, "deltalake: {}\n{}", alone.err, alone.out);
    assert_eq!(lines(&alone.out), at_snapshot, "the Delta table alone");

    // The generated views, run by DuckDB: the current state.
    let views = oneclass::app::warehouse(&app.settings).duckdb_views().await.expect("views");
    assert!(views.contains("CREATE OR REPLACE VIEW \"attendance\".\"daily_marks\""), "{views}");
    assert!(views.contains("silver/attendance/daily_marks/_pending"), "{views}");
    let dir = oneclass_testkit::cluster::scratch_dir("oneclass-views");
    let file = dir.path().join("views.sql");
    std::fs::write(&file, &views).expect("write the views");
    let current =
        python(DUCKDB_OVER_VIEWS, &[("VIEWS", file.to_string_lossy().into_owned())]).await;
    assert!(current.ok, "duckdb: {}\n{views}", current.err);
    assert_eq!(lines(&current.out), now, "DuckDB over the generated views");
    app.stop().await;
}

/// `POST /api/v1/sql` as a script or a spreadsheet asks for it: the format from `Accept` when the
/// body names none; CSV and Arrow streamed whole past the JSON row cap, JSON cut at the cap with
/// `truncated` saying so.
#[tokio::test(flavor = "multi_thread")]
async fn http_sql_answers_in_the_accepted_format_and_streams_large_answers() {
    let app = TestApp::spawn().await;
    let token = app.token("analyst").await;
    let big = "SELECT value AS n FROM generate_series(1, 250000)";
    let ask = |accept: &'static str, body: Value| {
        app.client
            .post(format!("{}/api/v1/sql", app.base))
            .bearer_auth(&token)
            .header("accept", accept)
            .json(&body)
            .send()
    };

    let csv = ask("text/csv", serde_json::json!({"sql": big})).await.expect("csv");
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap_or("").starts_with("text/csv"));
    let text = csv.text().await.expect("csv body");
    let mut rows = text.lines();
    assert_eq!(rows.next(), Some("n"));
    assert_eq!(rows.clone().count(), 250_000, "every row, past the JSON cap");
    assert_eq!(rows.last(), Some("250000"));

    let arrow = ask("application/vnd.apache.arrow.stream", serde_json::json!({"sql": big}))
        .await
        .expect("arrow");
    assert_eq!(arrow.status(), 200);
    let bytes = arrow.bytes().await.expect("arrow body");
    let reader = oneclass_warehouse::arrow::ipc::reader::StreamReader::try_new(&bytes[..], None)
        .expect("ipc");
    let n: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
    assert_eq!(n, 250_000);

    // The body's format wins over Accept; JSON stops at the cap and says so.
    let json =
        ask("text/csv", serde_json::json!({"sql": big, "format": "json"})).await.expect("json");
    assert_eq!(json.status(), 200);
    let answer: Value = json.json().await.expect("json body");
    assert_eq!(answer["rows"].as_array().map(Vec::len), Some(100_000));
    assert_eq!(answer["truncated"], true);
    assert_eq!(answer["columns"][0]["name"], "n");

    // A query that fails at once still gets its own status, whatever the format.
    let refused = ask("text/csv", serde_json::json!({"sql": "DROP TABLE sis.learners"}))
        .await
        .expect("refused");
    assert_eq!(refused.status(), 422);
    app.stop().await;
}

/// Saved queries: an analyst's own, checked when saved, answered as `POST /sql` answers.
#[tokio::test(flavor = "multi_thread")]
async fn analysts_save_and_run_queries_that_no_one_else_sees() {
    let app = TestApp::spawn().await;
    let token = app.token("analyst").await;
    app.wait_for_snapshot(&token, &["platform.schools"]).await;
    let (other, _) = district_analyst(&app).await;
    let other = http_token(&app, &other).await;
    let saved = "/api/v1/sql/saved";
    let body = serde_json::json!({"name": "Schools by province",
        "sql": "SELECT province, count(*) AS n FROM silver.platform.schools GROUP BY province"});

    let created = app.post(&token, saved, &body).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    // The name is the analyst's own: a second query of the same name is refused by field.
    let again = app.post(&token, saved, &body).await;
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap_or_default().contains("name"));
    // SQL that does not parse or writes is refused when saved, not when run.
    for (sql, field) in [("SELEC 1", "sql"), ("DROP TABLE silver.sis.learners", "sql")] {
        let refused =
            app.post(&token, saved, &serde_json::json!({"name": "bad", "sql": sql})).await;
        assert_eq!(refused.status(), 422, "{sql}");
        assert!(refused.text().await.unwrap_or_default().contains(field), "{sql}");
    }

    let listed: Value = app.get(&token, saved).await.json().await.expect("json");
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    let ran = app.post(&token, &format!("{saved}/{id}/run"), &serde_json::json!({})).await;
    assert_eq!(ran.status(), 200);
    let ran: Value = ran.json().await.expect("json");
    let schools: i64 =
        ran["rows"].as_array().expect("rows").iter().map(|r| r["n"].as_i64().unwrap_or(0)).sum();
    let all: i64 = sqlx::query_scalar("SELECT count(*) FROM platform.schools")
        .fetch_one(&app.owner)
        .await
        .expect("count");
    assert_eq!(schools, all);
    let csv =
        app.post(&token, &format!("{saved}/{id}/run"), &serde_json::json!({"format": "csv"})).await;
    assert!(csv.text().await.unwrap_or_default().starts_with("province,n\n"));

    // Another analyst sees none of it: not in their list, not by id, not to run or delete.
    let theirs: Value = app.get(&other, saved).await.json().await.expect("json");
    assert_eq!(theirs["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(app.get(&other, &format!("{saved}/{id}")).await.status(), 404);
    let run_theirs = app.post(&other, &format!("{saved}/{id}/run"), &serde_json::json!({})).await;
    assert_eq!(run_theirs.status(), 404);
    let delete = |who: &str| {
        app.client.delete(format!("{}{saved}/{id}", app.base)).bearer_auth(who.to_owned()).send()
    };
    assert_eq!(delete(&other).await.expect("delete").status(), 404);
    // A teacher may not use them at all.
    let teacher = app.token("teacher").await;
    assert_eq!(app.get(&teacher, saved).await.status(), 403);
    // The owner renames, then deletes.
    let renamed = app
        .client
        .put(format!("{}{saved}/{id}", app.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Schools", "sql": "SELECT count(*) AS n FROM silver.platform.schools"}))
        .send()
        .await
        .expect("put");
    assert_eq!(renamed.status(), 200);
    assert_eq!(delete(&token).await.expect("delete").status(), 204);
    assert_eq!(app.get(&token, &format!("{saved}/{id}")).await.status(), 404);
    app.stop().await;
}

/// The analysts' catalog: every table and column they may read, each with its meaning (from
/// PostgreSQL's comments and the warehouse's own), as JSON and as a page.
#[tokio::test(flavor = "multi_thread")]
async fn the_catalog_lists_what_an_analyst_may_read_with_every_columns_meaning() {
    let app = TestApp::spawn().await;
    let token = app.token("analyst").await;
    app.wait_for_snapshot(&token, &["platform.schools", "sis.learners", "sis.enrolments"]).await;
    oneclass::app::warehouse(&app.settings).rebuild_gold(|_, _, _| {}).await.expect("gold");

    // The lake's listing of tables is reused for a few seconds (LISTING_TTL): it may predate
    // the end of the snapshot by that much.
    let (catalog, _) = oneclass_testkit::wait::eventually(
        Duration::from_secs(20),
        "the catalog to list the learners",
        || async {
            let resp = app.get(&token, "/api/v1/sql/catalog").await;
            assert_eq!(resp.status(), 200);
            let catalog: Value = resp.json().await.expect("json");
            let listed = catalog["tables"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["name"] == "silver.sis.learners"));
            listed.then_some(catalog)
        },
    )
    .await;
    let tables = catalog["tables"].as_array().expect("tables");
    let table = |name: &str| {
        tables.iter().find(|t| t["name"] == name).unwrap_or_else(|| {
            let names: Vec<&Value> = tables.iter().map(|t| &t["name"]).collect();
            panic!("no {name} in {names:?}")
        })
    };
    let learners = table("silver.sis.learners");
    assert!(learners["meaning"].as_str().unwrap_or("").starts_with("Learners"));
    let columns: Vec<&str> = learners["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    for hidden in ["first_name", "last_name", "national_id", "date_of_birth", "learner_number"] {
        assert!(!columns.contains(&hidden), "{hidden} is listed for an analyst");
    }
    assert!(columns.contains(&"birth_month") && columns.contains(&"sex"), "{columns:?}");
    assert!(
        table("bronze.sis.learners")["meaning"].as_str().unwrap_or("").starts_with("Every change")
    );
    table("gold.indicators.values");
    // Every column of every table has a meaning: a published column without a comment fails here.
    for t in tables {
        for c in t["columns"].as_array().expect("columns") {
            assert!(
                c["meaning"].as_str().is_some_and(|m| !m.is_empty()),
                "{}.{} has no meaning",
                t["name"],
                c["name"]
            );
            assert!(c["type"].as_str().is_some_and(|k| !k.is_empty()));
        }
    }
    // Analysts only.
    let teacher = app.token("teacher").await;
    assert_eq!(app.get(&teacher, "/api/v1/sql/catalog").await.status(), 403);

    // The same as a page, behind the sign-in form.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let signed_in = client
        .post(format!("{}/app/login", app.base))
        .form(&[("username", app.username("analyst").as_str()), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .expect("sign in");
    let cookie = signed_in.headers()["set-cookie"].to_str().expect("cookie").to_string();
    let session = cookie.split(';').next().expect("pair").to_string();
    let page = client
        .get(format!("{}/app/catalog", app.base))
        .header("cookie", &session)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("silver.sis.learners") && html.contains("birth_month"));
    assert!(!html.contains("first_name"));
    app.stop().await;
}
