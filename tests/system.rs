//! End-to-end tests of the whole system: real PostgreSQL, real logical replication, a real Delta
//! lake in a temporary folder, the real HTTP server.

mod support;

#[path = "system/academic.rs"]
mod academic;
#[path = "system/access.rs"]
mod access;
#[path = "system/assessment.rs"]
mod assessment;
#[path = "system/attendance.rs"]
mod attendance;
#[path = "system/comms.rs"]
mod comms;
#[path = "system/enrolment.rs"]
mod enrolment;
#[path = "system/fuzz.rs"]
mod fuzz;
#[path = "system/invoicing.rs"]
mod invoicing;
#[path = "system/messages.rs"]
mod messages;
#[path = "system/money.rs"]
mod money;
#[path = "system/outbox.rs"]
mod outbox;
#[path = "system/pages.rs"]
mod pages;
#[path = "system/paynow.rs"]
mod paynow;
#[path = "system/portal.rs"]
mod portal;
#[path = "system/predict.rs"]
mod predict;
#[path = "system/timetable.rs"]
mod timetable;

use std::time::Duration;

use oneclass_testkit::APP_PASSWORD;
use serde_json::{Value, json};
use support::{PSEUDONYM_KEY, TestApp, eventually};
use uuid::Uuid;

/// Acceptance 2: a mark saved through the API reaches silver (seen through analyst SQL) and the
/// attendance dashboard within 10 seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn attendance_mark_flows_to_lake_and_dashboard() {
    let app = TestApp::spawn().await;
    let teacher = app.token("teacher").await;
    let analyst = app.token("analyst").await;

    let (term_start, _) = support::current_term(&app.owner).await;
    let (class_id, register) = app.first_class_register(&teacher, term_start).await;
    let line = &register["learners"][0];
    let learner_id = line["learner_id"].as_str().expect("learner").to_string();
    let new_status = if line["status"] == "absent" { "present" } else { "absent" };

    // Wait for the initial snapshot to be in silver, then take the dashboard as it is.
    let (school_id, province, district): (Uuid, String, String) = sqlx::query_as(
        "SELECT s.id, s.province, s.district FROM academic.classes c
         JOIN platform.schools s ON s.id = c.school_id WHERE c.id = $1::uuid",
    )
    .bind(&class_id)
    .fetch_one(&app.owner)
    .await
    .expect("school");
    app.wait_for_snapshot(&analyst, &["platform.schools", "ref.terms", "attendance.daily_marks"])
        .await;
    let dash_path = format!(
        "/dash/attendance?province={}&district={}",
        urlencode(&province),
        urlencode(&district)
    );
    // Schools are listed for the officials of their area: look as the ministry.
    let officer = app.token("ministry").await;
    let before = app
        .client
        .get(format!("{}{dash_path}", app.base))
        .bearer_auth(&officer)
        .send()
        .await
        .expect("dash");
    assert_eq!(before.status(), 200);
    let before = before.text().await.expect("html");
    assert!(before.contains("<svg"), "the dashboard has an inline chart");

    let resp = app
        .post(
            &teacher,
            &format!("/api/v1/classes/{class_id}/register"),
            &json!({"date": term_start, "marks": [{"learner_id": learner_id, "status": new_status}]}),
        )
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap_or_default());

    let pseudonym = oneclass_warehouse::pseudonym(PSEUDONYM_KEY.as_bytes(), &learner_id);
    let query = format!(
        "SELECT status FROM silver.attendance.daily_marks
         WHERE learner_id = '{pseudonym}' AND date = DATE '{term_start}'"
    );
    let (_, in_silver) = eventually(Duration::from_secs(10), "the mark in silver", || async {
        let rows = app.sql(&analyst, &query).await;
        (rows.len() == 1 && rows[0]["status"] == new_status).then_some(())
    })
    .await;

    // The school's rate as PostgreSQL has it now; the dashboard must show it.
    let rate: f64 = sqlx::query_scalar(
        "SELECT (100.0 * count(*) FILTER (WHERE status IN ('present', 'late')) / count(*))::float8
         FROM attendance.daily_marks WHERE school_id = $1",
    )
    .bind(school_id)
    .fetch_one(&app.owner)
    .await
    .expect("rate");
    let expected = format!("{rate:.1}");
    let (after, on_dashboard) =
        eventually(Duration::from_secs(10), "the dashboard to change", || async {
            let html = app
                .client
                .get(format!("{}{dash_path}", app.base))
                .bearer_auth(&officer)
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            (html != before && html.contains(&expected)).then_some(html)
        })
        .await;
    assert!(after.contains("<svg"));
    eprintln!("write→silver {in_silver:?}, write→dashboard {on_dashboard:?}");
    app.stop().await;
}

fn urlencode(s: &str) -> String {
    s.replace(' ', "%20")
}

/// Acceptance 3 (API): a teacher of school A gets 404 for a learner of school B, and 200 for a
/// learner in their own class (which is audited).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teacher_sees_only_their_learners() {
    let app = TestApp::spawn().await;
    let teacher = app.token("teacher").await;
    let username = app.username("teacher");
    let own: Uuid = sqlx::query_scalar(
        "SELECT e.learner_id FROM sis.enrolments e
         JOIN academic.class_teachers ct ON ct.class_id = e.class_id
         JOIN platform.users u ON u.id = ct.user_id WHERE u.username = $1 LIMIT 1",
    )
    .bind(&username)
    .fetch_one(&app.owner)
    .await
    .expect("own learner");
    let other: Uuid = sqlx::query_scalar(
        "SELECT l.id FROM sis.learners l WHERE l.school_id <> (
            SELECT m.school_id FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
            WHERE u.username = $1) LIMIT 1",
    )
    .bind(&username)
    .fetch_one(&app.owner)
    .await
    .expect("other learner");

    let resp = app.get(&teacher, &format!("/api/v1/learners/{other}")).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let resp = app.get(&teacher, &format!("/api/v1/learners/{own}")).await;
    assert_eq!(resp.status(), 200);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit.events WHERE entity = 'sis.learners' AND entity_id = $1",
    )
    .bind(own)
    .fetch_one(&app.owner)
    .await
    .expect("audit");
    assert_eq!(audited, 1, "the read is audited once");

    // The list holds only learners of the teacher's classes.
    let page: Value =
        app.get(&teacher, "/api/v1/learners?limit=500").await.json().await.expect("json");
    let ids: Vec<&str> =
        page["items"].as_array().expect("items").iter().filter_map(|l| l["id"].as_str()).collect();
    assert!(ids.contains(&own.to_string().as_str()));
    assert!(!ids.contains(&other.to_string().as_str()));
    let listed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit.events WHERE action = 'list' AND entity = 'sis.learners'",
    )
    .fetch_one(&app.owner)
    .await
    .expect("audit");
    assert_eq!(listed, ids.len() as i64, "every learner on the list is audited");
    app.stop().await;
}

/// Acceptance 3 (SQL): the app role with school A in its session sees no row of school B, and
/// cannot write one.
#[tokio::test]
async fn row_level_security_scopes_the_app_role() {
    let (owner_url, owner, _) = support::seeded_database(1, 1, (3, 4)).await;
    let schools: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM platform.schools ORDER BY id LIMIT 2")
            .fetch_all(&owner)
            .await
            .expect("schools");
    let (a, b) = (schools[0], schools[1]);
    let a_count: i64 = sqlx::query_scalar("SELECT count(*) FROM sis.learners WHERE school_id = $1")
        .bind(a)
        .fetch_one(&owner)
        .await
        .expect("count");

    let app = oneclass_core::db::role_options(&owner_url, "oneclass_app", &APP_PASSWORD.into())
        .expect("options");
    let app = oneclass_core::db::pool_with(app, 2).await.expect("app pool");

    // No session settings: nothing at all.
    let none: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sis.learners").fetch_one(&app).await.expect("q");
    assert_eq!(none, 0);

    let mut tx = app.begin().await.expect("tx");
    sqlx::query("SELECT set_config('app.school_ids', $1, true)")
        .bind(format!("{{{a}}}"))
        .execute(&mut *tx)
        .await
        .expect("set");
    let of_b: i64 = sqlx::query_scalar("SELECT count(*) FROM sis.learners WHERE school_id = $1")
        .bind(b)
        .fetch_one(&mut *tx)
        .await
        .expect("q");
    assert_eq!(of_b, 0, "no learner of school B is visible");
    let marks_of_b: i64 =
        sqlx::query_scalar("SELECT count(*) FROM attendance.daily_marks WHERE school_id = $1")
            .bind(b)
            .fetch_one(&mut *tx)
            .await
            .expect("q");
    assert_eq!(marks_of_b, 0);
    let all: i64 = sqlx::query_scalar("SELECT count(*) FROM sis.learners")
        .fetch_one(&mut *tx)
        .await
        .expect("q");
    assert_eq!(all, a_count, "exactly school A's learners");
    let write = sqlx::query(
        "INSERT INTO sis.learners (id, school_id, learner_number, first_name, last_name, sex, date_of_birth)
         VALUES ($1, $2, 'X1', 'Rudo', 'Moyo', 'F', '2015-03-01')",
    )
    .bind(Uuid::now_v7())
    .bind(b)
    .execute(&mut *tx)
    .await;
    assert!(write.is_err(), "writing a row of school B is refused");
    drop(tx);

    // The app role cannot read accounts' password hashes' neighbours it has no grant for, nor bypass RLS.
    let bypass: bool =
        sqlx::query_scalar("SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&app)
            .await
            .expect("q");
    assert!(!bypass);
}

/// Acceptance 4: bad input gets 422 problem+json naming the field, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let registrar = app.token("registrar").await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sis.learners")
            .fetch_one(&app.owner)
            .await
            .expect("count")
    };
    let before = count().await;
    let good = json!({"learner_number": "N-1", "first_name": "Tariro", "last_name": "Moyo",
                      "sex": "F", "date_of_birth": "2016-04-02"});
    let mut missing = good.clone();
    missing.as_object_mut().expect("object").remove("last_name");
    let mut unknown_sex = good.clone();
    unknown_sex["sex"] = json!("X");
    let mut future = good.clone();
    future["date_of_birth"] = json!("2099-01-01");
    let mut bad_id = good.clone();
    bad_id["national_id"] = json!("12345");
    let cases: Vec<(String, &str)> = vec![
        (missing.to_string(), "last_name"),
        (unknown_sex.to_string(), "sex"),
        (future.to_string(), "date_of_birth"),
        (bad_id.to_string(), "national_id"),
        ("{\"learner_number\": \"N-1\", ".to_string(), "body"),
    ];
    for (body, field) in cases {
        let resp = app
            .client
            .post(format!("{}/api/v1/learners", app.base))
            .bearer_auth(&registrar)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 422, "{body}");
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let problem: Value = resp.json().await.expect("json");
        assert_eq!(problem["status"], 422);
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert!(fields.contains(&field), "{body}: expected {field} in {fields:?}");
    }
    assert_eq!(count().await, before, "nothing was written");

    // The good one is accepted, and a register naming a learner outside the class writes nothing.
    let resp = app.post(&registrar, "/api/v1/learners", &good).await;
    assert_eq!(resp.status(), 201);
    let teacher = app.token("teacher").await;
    let classes: Vec<Value> =
        app.get(&teacher, "/api/v1/classes").await.json().await.expect("json");
    let class_id = classes[0]["id"].as_str().expect("id");
    let register: Value = app
        .get(&teacher, &format!("/api/v1/classes/{class_id}/register?date=2026-03-02"))
        .await
        .json()
        .await
        .expect("json");
    let member = register["learners"][0]["learner_id"].clone();
    let marks_before: i64 = sqlx::query_scalar("SELECT count(*) FROM attendance.daily_marks")
        .fetch_one(&app.owner)
        .await
        .expect("q");
    let resp = app
        .post(&teacher, &format!("/api/v1/classes/{class_id}/register"), &json!({"date": "2026-03-02",
            "marks": [{"learner_id": member, "status": "present"}, {"learner_id": Uuid::now_v7(), "status": "absent"}]}))
        .await;
    assert_eq!(resp.status(), 422);
    let problem: Value = resp.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "marks[1].learner_id");
    let marks_after: i64 = sqlx::query_scalar("SELECT count(*) FROM attendance.daily_marks")
        .fetch_one(&app.owner)
        .await
        .expect("q");
    assert_eq!(marks_before, marks_after, "all or nothing");
    app.stop().await;
}

/// Sign-in: wrong passwords are 401, repeated failures lock the account, the token works, and
/// the OpenAPI document, docs page, health and metrics are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_lockout_openapi_and_operations() {
    let app = TestApp::spawn().await;
    let login = |username: String, password: &'static str| {
        let client = app.client.clone();
        let url = format!("{}/api/v1/auth/login", app.base);
        async move {
            client
                .post(url)
                .json(&json!({"username": username, "password": password}))
                .send()
                .await
                .expect("login")
        }
    };
    let head = app.username("school_head");
    let resp = login(head.clone(), "wrong").await;
    assert_eq!(resp.status(), 401);
    for _ in 0..4 {
        login(head.clone(), "wrong").await;
    }
    let resp = login(head.clone(), "oneclass-demo").await;
    assert_eq!(resp.status(), 429, "locked after five failures, even with the right password");

    // Oversized credentials are refused before any hashing.
    let long = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": "u".repeat(65), "password": "p".repeat(300)}))
        .send()
        .await
        .expect("login");
    assert_eq!(long.status(), 422);
    let problem: Value = long.json().await.expect("json");
    let fields: Vec<&str> = support::problem_fields(&problem);
    assert_eq!(fields, vec!["username", "password"]);

    let resp = login(app.username("registrar"), "oneclass-demo").await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().expect("expires") > 0);

    let resp = app.client.get(format!("{}/api/v1/learners", app.base)).send().await.expect("get");
    assert_eq!(resp.status(), 401, "no token, no data");

    let doc: Value = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    for path in
        ["/api/v1/auth/login", "/api/v1/learners", "/api/v1/classes/{id}/register", "/api/v1/sql"]
    {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    let docs = app.client.get(format!("{}/api/docs", app.base)).send().await.expect("get");
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.expect("html").contains("/api/v1/classes/{id}/register"));
    let health = app.client.get(format!("{}/healthz", app.base)).send().await.expect("get");
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-request-id"));
    // A caller's id is kept when it looks like one, replaced when it does not.
    for (sent, kept) in [("trace-42.a_b", true), ("<script>", false)] {
        let resp = app
            .client
            .get(format!("{}/healthz", app.base))
            .header("x-request-id", sent)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.headers()["x-request-id"] == sent, kept, "{sent}");
    }
    let ready = app.client.get(format!("{}/readyz", app.base)).send().await.expect("get");
    assert_eq!(ready.status(), 200);
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("oneclass_http_requests_total"));
    app.stop().await;
}

/// Acceptance 1 and the demo's contract: `oneclass demo --data DIR --port N` prints the URLs and
/// logins, serves the dashboard with an inline SVG, survives kill -9 and a restart on the same
/// DIR (its PostgreSQL still running), and stops cleanly on Ctrl-C.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_command_starts_survives_kill_and_stops() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::Builder::new().prefix("oneclass-demo").tempdir().expect("tempdir");
    let data = dir.path().join("data");
    // The demo serves on the port and its Postgres-wire endpoint on the next: both must be free.
    let port = (0..100)
        .find_map(|_| {
            let first = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
            let port = first.local_addr().ok()?.port();
            std::net::TcpListener::bind(("127.0.0.1", port.checked_add(1)?)).ok()?;
            Some(port)
        })
        .expect("two free ports in a row");
    let data_arg = data.to_string_lossy().into_owned();
    let start = move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_oneclass"))
            .args(["demo", "--data", &data_arg, "--port", &port.to_string()])
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn demo");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("line");
            let done = line.starts_with("login: analyst");
            lines.push(line);
            if done {
                break;
            }
        }
        (child, lines)
    };

    let (child, lines) = tokio::task::spawn_blocking(start.clone()).await.expect("join");
    let mut first = StopOnDrop(Some(child));
    let dash = format!("http://127.0.0.1:{port}/dash/");
    assert!(lines.iter().any(|l| l.starts_with("API: http://")), "{lines:?}");
    assert!(lines.iter().any(|l| l == &format!("Dashboards: {dash}")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("Database: postgres://")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("Lake: file://")), "{lines:?}");
    for role in ["platform_admin", "ministry", "school_head", "teacher", "registrar", "analyst"] {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("login: {role} "))),
            "{role}: {lines:?}"
        );
    }
    // Announced only once the snapshot has landed whole: the marks (copied in several
    // commits) are all in silver.
    let field = |prefix: &str| {
        lines.iter().find_map(|l| l.strip_prefix(prefix)).expect("printed").trim().to_string()
    };
    let pool = sqlx::PgPool::connect(&field("Database: ")).await.expect("database");
    let in_pg: i64 = sqlx::query_scalar("SELECT count(*) FROM attendance.daily_marks")
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    let lake = url::Url::parse(&field("Lake: ")).expect("lake url");
    let silver =
        oneclass_lake::open_silver(&lake, &Default::default(), "attendance", "daily_marks")
            .await
            .expect("open")
            .expect("silver marks");
    let in_lake = deltalake::datafusion::prelude::SessionContext::new()
        .read_table(silver)
        .expect("read")
        .count()
        .await
        .expect("count");
    assert!(in_pg > 250_000, "the demo seeds more marks than one snapshot commit: {in_pg}");
    assert_eq!(in_lake as i64, in_pg, "silver marks when the URLs were printed");

    let page = reqwest::get(format!("{dash}attendance")).await.expect("get");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("<svg"));

    // kill -9: PostgreSQL keeps running; the next start adopts it and reuses the data.
    let mut child = first.0.take().expect("the first demo");
    let status = Command::new("kill").args(["-9", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let _ = child.wait();
    let (child, lines) = tokio::task::spawn_blocking(start).await.expect("join");
    let mut second = StopOnDrop(Some(child));
    assert!(lines.iter().any(|l| l.starts_with("login: teacher ")), "{lines:?}");
    let page = reqwest::get(format!("{dash}attendance")).await.expect("get");
    assert_eq!(page.status(), 200);

    // Ctrl-C: everything stops, PostgreSQL included.
    let mut child = second.0.take().expect("the second demo");
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    let status =
        tokio::task::spawn_blocking(move || child.wait()).await.expect("join").expect("wait");
    assert!(status.success(), "clean exit: {status:?}");
    assert!(!data.join("pg").join("postmaster.pid").exists(), "PostgreSQL stopped");
}

/// Stops a demo process that a failing assertion left running: Ctrl-C first (which also stops
/// its PostgreSQL), a kill after ten seconds.
struct StopOnDrop(Option<std::process::Child>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let Some(mut child) = self.0.take() else { return };
        let _ = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        for _ in 0..100 {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Acceptance 5: ingest killed (its task aborted mid-stream, connection dropped, no clean stop)
/// and restarted repeatedly while a writer changes attendance; afterwards silver equals
/// PostgreSQL row for row and bronze holds no change twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ingest_killed_mid_stream_converges() {
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeSet;

    let (owner_url, owner, _) = support::seeded_database(3, 1, (4, 6)).await;
    let lake = tempfile::Builder::new().prefix("oneclass-lake").tempdir().expect("tempdir");
    let settings = support::settings(&owner_url, lake.path());
    let mut cfg = oneclass::app::ingest_config(&settings).expect("config");
    cfg.flush_interval = Duration::from_millis(100);
    let spawn_ingest = |cfg: oneclass_ingest::IngestConfig| {
        let token = tokio_util::sync::CancellationToken::new();
        (tokio::spawn(oneclass::app::supervise_ingest(cfg, token.clone())), token)
    };

    // The writer flips marks and adds new days, in small transactions, until told to stop.
    let stop_writer = tokio_util::sync::CancellationToken::new();
    let writer = {
        let owner = owner.clone();
        let stop = stop_writer.clone();
        tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(9);
            let mut day = 1;
            let mut transactions = 0u32;
            while !stop.is_cancelled() {
                let mut tx = owner.begin().await.expect("tx");
                sqlx::query(
                    "UPDATE attendance.daily_marks SET status = CASE status WHEN 'absent' THEN 'present' ELSE 'absent' END
                     WHERE id IN (SELECT id FROM attendance.daily_marks ORDER BY md5(id::text || $1) LIMIT 20)",
                )
                .bind(rng.r#gen::<u32>().to_string())
                .execute(&mut *tx)
                .await
                .expect("update");
                sqlx::query(
                    "INSERT INTO attendance.daily_marks (id, school_id, learner_id, class_id, date, status)
                     SELECT gen_random_uuid(), school_id, learner_id, class_id, date + $1, 'present'
                     FROM attendance.daily_marks WHERE date = (SELECT min(date) FROM attendance.daily_marks)
                     ON CONFLICT DO NOTHING",
                )
                .bind(day)
                .execute(&mut *tx)
                .await
                .expect("insert");
                tx.commit().await.expect("commit");
                day += 1;
                transactions += 1;
                tokio::time::sleep(Duration::from_millis(rng.gen_range(10..60))).await;
            }
            transactions
        })
    };

    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    for _ in 0..6 {
        let (task, _token) = spawn_ingest(cfg.clone());
        tokio::time::sleep(Duration::from_millis(rng.gen_range(300..1500))).await;
        task.abort();
        let _ = task.await;
    }
    stop_writer.cancel();
    let transactions = writer.await.expect("writer");
    assert!(transactions > 10, "the writer ran ({transactions} transactions)");

    let (task, token) = spawn_ingest(cfg.clone());
    let wh = oneclass::app::warehouse(&settings);
    let pg: BTreeSet<(String, String)> = sqlx::query_as::<_, (String, String)>(
        "SELECT id::text, status FROM attendance.daily_marks",
    )
    .fetch_all(&owner)
    .await
    .expect("pg rows")
    .into_iter()
    .collect();
    let lake_rows = || async {
        let out = wh
            .query(
                "SELECT id, status FROM silver.attendance.daily_marks",
                &oneclass_warehouse::Access::Full,
            )
            .await
            .ok()?;
        let json = oneclass_warehouse::encode(&out, oneclass_warehouse::Format::Json).ok()?.1;
        let mut answer: serde_json::Value = serde_json::from_slice(&json).ok()?;
        let rows: Vec<serde_json::Value> = serde_json::from_value(answer["rows"].take()).ok()?;
        Some(
            rows.iter()
                .map(|r| {
                    (
                        r["id"].as_str().unwrap_or_default().to_string(),
                        r["status"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect::<BTreeSet<_>>(),
        )
    };
    eventually(Duration::from_secs(120), "silver to equal PostgreSQL", || async {
        (lake_rows().await? == pg).then_some(())
    })
    .await;
    let dup = wh
        .query(
            "SELECT count(*) AS n FROM (SELECT _lsn, _seq FROM bronze.attendance.daily_marks
             GROUP BY _lsn, _seq HAVING count(*) > 1)",
            &oneclass_warehouse::Access::Full,
        )
        .await
        .expect("bronze");
    let json = oneclass_warehouse::encode(&dup, oneclass_warehouse::Format::Json).expect("json").1;
    let answer: Value = serde_json::from_slice(&json).expect("json");
    let rows = &answer["rows"];
    assert_eq!(rows[0]["n"], 0, "no change is in bronze twice");
    token.cancel();
    let _ = task.await;
}

/// The same seed gives byte-identical tables (a hash of every seeded table); another seed does
/// not. The data is sane: ages fit grades within the over-age rule, district enrolments sum to the
/// national figure, marks fall on school days within each enrolment, no payment takes an invoice
/// above what was owed, results follow attendance, and every index and constraint is valid.
#[tokio::test]
async fn seeding_is_deterministic_and_sane() {
    use oneclass_synth::SEEDED_TABLES as TABLES;
    async fn hashes(owner: &sqlx::PgPool) -> Vec<Option<String>> {
        let mut out = Vec::new();
        for table in TABLES {
            let sql =
                format!("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t");
            out.push(sqlx::query_scalar(&sql).fetch_one(owner).await.expect("hash"));
        }
        out
    }
    async fn seeded(seed: u64) -> sqlx::PgPool {
        let owner = oneclass_core::db::pool(&oneclass_testkit::fresh_database().await, 4)
            .await
            .expect("pool");
        let params = oneclass_synth::SeedParams {
            seed,
            // Two a province: primary and secondary schools.
            schools: 20,
            class_size: (3, 5),
            streams: (1, 2),
            academic_year: 2026,
            // Two years, the past one complete (examinations, BEAM) and this one to late November.
            years: 2,
            as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date"),
            // The last 150 school days: across the change of year.
            attendance_days: Some(150),
            demo_password: support::DEMO_PASSWORD.into(),
        };
        oneclass_synth::seed(&owner, &params).await.expect("seed");
        owner
    }
    async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.expect(sql)
    }
    let (first, second, other) = (seeded(11).await, seeded(11).await, seeded(12).await);
    let (a, b, c) = (hashes(&first).await, hashes(&second).await, hashes(&other).await);
    assert!(a.iter().all(Option::is_some), "every seeded table has rows: {a:?}");
    assert_eq!(a, b, "same seed, same bytes");
    assert_ne!(a[5], c[5], "another seed, other learners");

    // Age on 1 January of each year fits that year's grade: official age up to two years over.
    let misfits = count(
        &first,
        "SELECT count(*) FROM sis.enrolments e JOIN sis.learners l ON l.id = e.learner_id
         WHERE extract(year FROM age(make_date(e.academic_year, 1, 1), l.date_of_birth))
               - CASE e.grade WHEN 'ECD_A' THEN 4 WHEN 'ECD_B' THEN 5
                   WHEN 'F1' THEN 13 WHEN 'F2' THEN 14 WHEN 'F3' THEN 15 WHEN 'F4' THEN 16
                   WHEN 'F5' THEN 17 WHEN 'F6' THEN 18
                   ELSE 5 + substr(e.grade, 2)::int END NOT BETWEEN 0 AND 2",
    )
    .await;
    assert_eq!(misfits, 0, "every learner's age fits their grade");
    // District enrolments sum to the national figure: no enrolment outside a known district.
    let national =
        count(&first, "SELECT count(*) FROM sis.enrolments WHERE academic_year = 2026").await;
    let by_district = count(
        &first,
        "SELECT coalesce(sum(n), 0)::bigint FROM (
           SELECT s.province, s.district, count(*) AS n FROM sis.enrolments e
             JOIN platform.schools s ON s.id = e.school_id
            WHERE e.academic_year = 2026 AND s.district IN (SELECT district FROM ref.population)
            GROUP BY s.province, s.district) d",
    )
    .await;
    assert!(national > 0);
    assert_eq!(by_district, national, "district enrolments sum to the national figure");
    let off_days = count(
        &first,
        "SELECT count(*) FROM attendance.daily_marks m
          WHERE extract(isodow FROM m.date) > 5
             OR NOT EXISTS (SELECT 1 FROM ref.terms t WHERE m.date BETWEEN t.start_date AND t.end_date)
             OR NOT EXISTS (SELECT 1 FROM sis.enrolments e WHERE e.learner_id = m.learner_id
                              AND e.class_id = m.class_id
                              AND m.date BETWEEN e.start_date AND coalesce(e.end_date, m.date))",
    )
    .await;
    assert_eq!(off_days, 0, "marks only on school days while enrolled");
    let wrong_class = count(
        &first,
        "SELECT count(*) FROM sis.enrolments e JOIN academic.classes c ON c.id = e.class_id
         WHERE c.grade <> e.grade OR c.school_id <> e.school_id OR c.academic_year <> e.academic_year",
    )
    .await;
    assert_eq!(wrong_class, 0);
    // No payment takes an invoice above what was owed: running totals in payment order.
    let overpaid = count(
        &first,
        "SELECT count(*) FROM (
           SELECT i.amount, sum(p.amount_applied) OVER (PARTITION BY p.invoice_id
                    ORDER BY p.paid_on, p.id) AS paid, p.paid_on, i.issued_on
             FROM finance.payments p JOIN finance.invoices i ON i.id = p.invoice_id) r
          WHERE paid > amount OR paid_on < issued_on OR paid_on > date '2026-11-25'",
    )
    .await;
    assert_eq!(overpaid, 0, "no payment beyond what was owed, none before the invoice");
    let bad_rates = count(
        &first,
        "SELECT count(*) FROM finance.payments
          WHERE (currency = 'ZWG') <> (exchange_rate IS NOT NULL)
             OR (currency = 'ZWG' AND abs(amount - amount_applied * exchange_rate) > 0.01)
             OR (currency = 'USD' AND amount <> amount_applied)",
    )
    .await;
    assert_eq!(bad_rates, 0, "every conversion records its rate and adds up");
    let beam = count(&first, "SELECT count(*) FROM finance.payments WHERE method = 'beam'").await;
    let arrears = count(
        &first,
        "SELECT count(*) FROM finance.invoices i
          WHERE i.amount > (SELECT coalesce(sum(amount_applied), 0) FROM finance.payments p
                            WHERE p.invoice_id = i.id)",
    )
    .await;
    assert!(beam > 0 && arrears > 0, "BEAM payments {beam}, invoices in arrears {arrears}");
    let exams = count(
        &first,
        "SELECT count(DISTINCT exam) FROM assessment.exam_results WHERE academic_year = 2025",
    )
    .await;
    assert!(exams >= 2, "last year's Grade 7 and O-level candidates have results");
    // Results follow attendance: learners absent more often score lower.
    let corr: f64 = sqlx::query_scalar(
        "SELECT corr(att, score) FROM (
           SELECT m.learner_id, avg((m.status IN ('present', 'late'))::int) AS att,
                  (SELECT avg(r.score) FROM assessment.results r
                    WHERE r.learner_id = m.learner_id)::float8 AS score
             FROM attendance.daily_marks m GROUP BY m.learner_id) x WHERE score IS NOT NULL",
    )
    .fetch_one(&first)
    .await
    .expect("correlation");
    assert!(corr > 0.1, "attendance and results correlate: {corr}");
    // The bulk load put every index and constraint back, valid.
    let invalid = count(
        &first,
        "SELECT (SELECT count(*) FROM pg_constraint WHERE NOT convalidated)
              + (SELECT count(*) FROM pg_index WHERE NOT indisvalid)",
    )
    .await;
    assert_eq!(invalid, 0, "no constraint or index left invalid");
    let indexes = count(
        &first,
        "SELECT count(*) FROM pg_indexes WHERE schemaname || '.' || tablename = 'attendance.daily_marks'",
    )
    .await;
    assert_eq!(indexes, 3, "daily_marks has its primary key, unique and school-date indexes");
    let foreign_keys = count(
        &first,
        "SELECT count(*) FROM pg_constraint
          WHERE conrelid = 'attendance.daily_marks'::regclass AND contype = 'f'",
    )
    .await;
    assert_eq!(foreign_keys, 3);
    let state =
        count(&first, "SELECT count(*) FROM platform.seed_state WHERE finished_at IS NOT NULL")
            .await;
    assert_eq!(state, 1, "the seed is recorded as finished");
    assert!(oneclass_synth::is_seeded(&first).await.expect("is_seeded"));
}

/// A seed that fails part-way leaves nothing behind: no rows, every index and constraint back.
#[tokio::test]
async fn a_failed_seed_leaves_nothing_half_written() {
    let owner =
        oneclass_core::db::pool(&oneclass_testkit::fresh_database().await, 4).await.expect("pool");
    let constraints = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT (SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                      WHERE n.nspname IN ('sis', 'attendance', 'academic', 'assessment', 'finance'))
                  + (SELECT count(*) FROM pg_indexes
                      WHERE schemaname IN ('sis', 'attendance', 'academic', 'assessment', 'finance'))",
        )
        .fetch_one(&pool)
        .await
        .expect("count")
    };
    let before = constraints(owner.clone()).await;
    // A check that the generator's fees break, added for this test: the load fails part-way.
    sqlx::query("ALTER TABLE finance.invoices ADD CONSTRAINT test_no_fees CHECK (amount < 1)")
        .execute(&owner)
        .await
        .expect("add check");
    let params = oneclass_synth::SeedParams {
        schools: 10,
        class_size: (3, 4),
        attendance_days: Some(2),
        ..oneclass_synth::SeedParams::demo(
            chrono::NaiveDate::from_ymd_opt(2026, 9, 10).expect("date"),
        )
    };
    let err = oneclass_synth::seed(&owner, &params).await.expect_err("the check fails the seed");
    assert!(err.to_string().contains("test_no_fees"), "{err}");
    let rows: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM platform.schools) + (SELECT count(*) FROM sis.learners)
              + (SELECT count(*) FROM attendance.daily_marks) + (SELECT count(*) FROM platform.seed_state)",
    )
    .fetch_one(&owner)
    .await
    .expect("rows");
    assert_eq!(rows, 0, "nothing half-written");
    sqlx::query("ALTER TABLE finance.invoices DROP CONSTRAINT test_no_fees")
        .execute(&owner)
        .await
        .expect("drop check");
    assert_eq!(constraints(owner.clone()).await, before, "every index and constraint is back");
    let audit_off = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_change' AND tgenabled = 'D'",
        )
        .fetch_one(&owner)
        .await
        .expect("triggers")
    };
    assert_eq!(audit_off().await, 0, "the audit's triggers are on again");
    assert!(!oneclass_synth::is_seeded(&owner).await.expect("is_seeded"));
    // And the database can be seeded afterwards, the audit on at the end.
    oneclass_synth::seed(&owner, &params).await.expect("a later seed succeeds");
    assert_eq!(audit_off().await, 0);
}

/// `oneclass migrate`, `oneclass seed` and `oneclass sql` need only their environment: migrate
/// is repeatable, seed refuses a non-empty database with a clear message, sql reads the lake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_migrate_seed_and_sql() {
    use std::process::Command;
    let owner_url = oneclass_testkit::fresh_database().await;
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        let out = Command::new(env!("CARGO_BIN_EXE_oneclass"))
            .args(args)
            .env("DATABASE_URL", &owner_url)
            .env("RUST_LOG", "warn")
            .envs(envs.iter().copied())
            .output()
            .expect("run oneclass");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let pw = [
        ("ONECLASS_APP_PASSWORD", oneclass_testkit::APP_PASSWORD),
        ("ONECLASS_CDC_PASSWORD", oneclass_testkit::CDC_PASSWORD),
    ];
    let (ok, out, err) = run(&["migrate"], &pw);
    assert!(ok && out.contains("migrated"), "{out}{err}");
    let (ok, _, err) = run(&["migrate"], &[]);
    assert!(!ok && err.contains("ONECLASS_APP_PASSWORD"), "names the missing setting: {err}");
    let (ok, out, err) =
        run(&["seed", "--seed", "5", "--schools", "10", "--attendance-days", "5"], &[]);
    assert!(ok && out.contains("seeded 10 schools"), "{out}{err}");
    let (ok, _, err) = run(&["seed"], &[]);
    assert!(!ok && err.contains("already has schools"), "{err}");

    // A lake with one table, written by ingest, read back by `oneclass sql`.
    let lake = tempfile::Builder::new().prefix("oneclass-lake").tempdir().expect("tempdir");
    let settings = support::settings(&owner_url, lake.path());
    let token = tokio_util::sync::CancellationToken::new();
    let ingest = tokio::spawn(oneclass::app::supervise_ingest(
        oneclass::app::ingest_config(&settings).expect("config"),
        token.clone(),
    ));
    oneclass::app::wait_for_lake(&settings, Duration::from_secs(120)).await.expect("lake");
    token.cancel();
    let _ = ingest.await;
    let lake_path = lake.path().to_string_lossy().into_owned();
    let (ok, out, err) = run(
        &["sql", "SELECT count(*) AS schools FROM silver.platform.schools"],
        &[("ONECLASS_LAKE", &lake_path)],
    );
    assert!(ok, "{err}");
    assert!(out.contains("schools") && out.contains("| 10 "), "{out}");
    let (ok, _, err) =
        run(&["sql", "DROP TABLE silver.platform.schools"], &[("ONECLASS_LAKE", &lake_path)]);
    assert!(!ok && err.to_lowercase().contains("drop"), "a write is refused: {err}");
}

/// Staff pages: the sign-in form sets a secure session cookie; the teacher's classes and the
/// register are plain HTML forms; saving the form writes the marks (and refuses bad input).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_pages_sign_in_and_mark_a_register() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = client.get(format!("{}/app/", app.base)).send().await.expect("get");
    assert_eq!(resp.status(), 303, "signed out: to the sign-in form");
    assert_eq!(resp.headers()["location"], "/app/login");
    let form = client.get(format!("{}/app/login", app.base)).send().await.expect("get");
    assert!(
        form.text().await.expect("html").contains("<form method=\"post\" action=\"/app/login\">")
    );

    let wrong = client
        .post(format!("{}/app/login", app.base))
        .form(&[("username", app.username("teacher").as_str()), ("password", "nope")])
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), 401);
    let resp = client
        .post(format!("{}/app/login", app.base))
        .form(&[
            ("username", app.username("teacher").as_str()),
            ("password", support::DEMO_PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    let cookie = resp.headers()["set-cookie"].to_str().expect("cookie").to_string();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    let session = cookie.split(';').next().expect("pair").to_string();
    let page_get = |path: String| {
        let request = client.get(format!("{}{path}", app.base)).header("cookie", &session);
        async move { request.send().await.expect("get") }
    };

    let classes = page_get("/app/".to_string()).await;
    assert_eq!(classes.status(), 200);
    let html = classes.text().await.expect("html");
    let class_id = html
        .split("/app/classes/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a class link")
        .to_string();
    let (term_start, _) = support::current_term(&app.owner).await;
    let page = page_get(format!("/app/classes/{class_id}/register?date={term_start}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    let learner = html
        .split("name=\"m.")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("learner")
        .to_string();

    let resp = client
        .post(format!("{}/app/classes/{class_id}/register", app.base))
        .header("cookie", &session)
        .form(&[
            ("date", term_start.to_string()),
            (format!("m.{learner}").as_str(), "late".to_string()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    let status: String = sqlx::query_scalar(
        "SELECT status FROM attendance.daily_marks WHERE learner_id = $1::uuid AND date = $2",
    )
    .bind(&learner)
    .bind(term_start)
    .fetch_one(&app.owner)
    .await
    .expect("mark");
    assert_eq!(status, "late");

    let resp = client
        .post(format!("{}/app/classes/{class_id}/register", app.base))
        .header("cookie", &session)
        .form(&[("date", "2999-01-01"), (format!("m.{learner}").as_str(), "absent")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 422, "a future day is refused");
    assert!(resp.text().await.expect("html").contains("must not be in the future"));
    app.stop().await;
}

/// `oneclass reconcile`: after ingest has caught up every published table is clean; a mark
/// updated, one deleted and one inserted behind ingest's back show up as exactly one different,
/// one extra and one missing key of `attendance.daily_marks` (library and binary alike); once
/// ingest runs again, everything is clean again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_finds_changes_made_behind_ingests_back() {
    use std::process::Command;
    let (owner_url, owner, _) = support::seeded_database(13, 1, (4, 6)).await;
    let lake = tempfile::Builder::new().prefix("oneclass-lake").tempdir().expect("tempdir");
    let settings = support::settings(&owner_url, lake.path());
    let mut cfg = oneclass::app::ingest_config(&settings).expect("config");
    cfg.flush_interval = Duration::from_millis(100);
    let spawn_ingest = |cfg: oneclass_ingest::IngestConfig| {
        let token = tokio_util::sync::CancellationToken::new();
        (tokio::spawn(oneclass::app::supervise_ingest(cfg, token.clone())), token)
    };
    let all_clean = || async {
        let reports = oneclass::app::reconcile(&settings).await.ok()?;
        reports.iter().all(|r| r.is_clean()).then_some(reports)
    };

    let (task, token) = spawn_ingest(cfg.clone());
    oneclass::app::wait_for_lake(&settings, Duration::from_secs(120)).await.expect("lake");
    eventually(Duration::from_secs(60), "silver to catch up", all_clean).await;
    token.cancel();
    let _ = task.await;
    let reports = oneclass::app::reconcile(&settings).await.expect("reconcile");
    let published: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'oneclass_lake'",
    )
    .fetch_one(&owner)
    .await
    .expect("publication");
    assert_eq!(reports.len() as i64, published, "one report a published table");
    assert!(reports.iter().all(|r| r.is_clean()), "{reports:#?}");
    let (text, outcome) = oneclass::app::reconcile_outcome(&reports);
    assert!(outcome.is_ok(), "{text}");

    // Behind ingest's back: one mark changed, one deleted, one added.
    let ids: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM attendance.daily_marks ORDER BY id LIMIT 3")
            .fetch_all(&owner)
            .await
            .expect("marks");
    let (changed, deleted, template) = (ids[0], ids[1], ids[2]);
    sqlx::query(
        "UPDATE attendance.daily_marks SET status = CASE status WHEN 'absent' THEN 'present' ELSE 'absent' END
         WHERE id = $1",
    )
    .bind(changed)
    .execute(&owner)
    .await
    .expect("update");
    sqlx::query("DELETE FROM attendance.daily_marks WHERE id = $1")
        .bind(deleted)
        .execute(&owner)
        .await
        .expect("delete");
    let added = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO attendance.daily_marks (id, school_id, learner_id, class_id, date, status)
         SELECT $1, school_id, learner_id, class_id, date + 1, 'present'
         FROM attendance.daily_marks WHERE id = $2",
    )
    .bind(added)
    .bind(template)
    .execute(&owner)
    .await
    .expect("insert");

    let reports = oneclass::app::reconcile(&settings).await.expect("reconcile");
    let marks = reports
        .iter()
        .find(|r| r.table == "attendance.daily_marks")
        .expect("a report for the marks");
    let pg_marks: i64 = sqlx::query_scalar("SELECT count(*) FROM attendance.daily_marks")
        .fetch_one(&owner)
        .await
        .expect("count");
    assert!(marks.in_silver);
    assert_eq!(marks.pg_rows as i64, pg_marks);
    assert_eq!(marks.silver_rows, marks.pg_rows, "one deleted, one added: same count");
    assert_eq!(
        (marks.different, marks.extra_in_silver, marks.missing_in_silver),
        (1, 1, 1),
        "{marks:#?}"
    );
    assert_eq!(marks.different_examples, vec![changed.to_string()]);
    assert_eq!(marks.extra_examples, vec![deleted.to_string()]);
    assert_eq!(marks.missing_examples, vec![added.to_string()]);
    assert!(!marks.is_clean());
    let others: Vec<_> = reports.iter().filter(|r| r.table != "attendance.daily_marks").collect();
    assert!(others.iter().all(|r| r.is_clean()), "{others:#?}");

    // The binary says the same, and fails.
    let lake_path = lake.path().to_string_lossy().into_owned();
    let out = Command::new(env!("CARGO_BIN_EXE_oneclass"))
        .arg("reconcile")
        .env("DATABASE_URL", &owner_url)
        .env("ONECLASS_APP_PASSWORD", oneclass_testkit::APP_PASSWORD)
        .env("ONECLASS_CDC_PASSWORD", oneclass_testkit::CDC_PASSWORD)
        .env("ONECLASS_JWT_SECRET", "test-jwt-secret-of-at-least-32-characters")
        .env("ONECLASS_PSEUDONYM_KEY", PSEUDONYM_KEY)
        .env("ONECLASS_LAKE", &lake_path)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run oneclass reconcile");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "differences fail the command: {stdout}{stderr}");
    assert!(
        stdout.contains("| table | postgres | silver | missing | extra | different |"),
        "{stdout}"
    );
    let row = format!("| attendance.daily_marks | {pg_marks} | {pg_marks} | 1 | 1 | 1 |");
    assert!(stdout.contains(&row), "{stdout}");
    for key in [changed, deleted, added] {
        assert!(stdout.contains(&key.to_string()), "example key {key} printed: {stdout}");
    }
    assert!(stderr.contains("1 table differs"), "{stderr}");

    // Ingest carries the changes over; everything is clean again.
    let (task, token) = spawn_ingest(cfg.clone());
    eventually(Duration::from_secs(60), "silver to take the changes", all_clean).await;
    token.cancel();
    let _ = task.await;
}

/// A runaway query is stopped by its limit, with a status and problem type of its own (not a
/// bad field), and the server answers other requests while it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_query_stops_at_its_limit_and_the_server_stays_responsive() {
    let app = TestApp::spawn_with(|s| {
        s.sql.time_limit = Some(Duration::from_secs(2));
        s.sql.memory_bytes = Some(16 << 20);
    })
    .await;
    let analyst = app.token("analyst").await;
    let runaway =
        json!({"sql": "SELECT count(*) FROM generate_series(1, 10000000000) WHERE value % 7 = 3"});
    let started = std::time::Instant::now();
    let (resp, health) = tokio::join!(app.post(&analyst, "/api/v1/sql", &runaway), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let asked = std::time::Instant::now();
        let resp = app.client.get(format!("{}/healthz", app.base)).send().await.expect("healthz");
        (resp.status(), asked.elapsed())
    });
    assert_eq!(resp.status(), 504);
    let problem: Value = resp.json().await.expect("problem");
    assert_eq!(problem["type"], "urn:oneclass:problem:query-time-limit", "{problem}");
    assert!(problem["detail"].as_str().unwrap_or("").contains("time limit of 2 s"), "{problem}");
    assert!(problem.get("errors").is_none(), "not a field error: {problem}");
    assert!(started.elapsed() < Duration::from_secs(15), "cancelled at its limit");
    assert_eq!(health.0, 200);
    assert!(health.1 < Duration::from_secs(1), "healthz took {:?} beside the query", health.1);

    let greedy = json!({"sql": "SELECT array_agg(value) FROM generate_series(1, 50000000)"});
    let resp = app.post(&analyst, "/api/v1/sql", &greedy).await;
    assert_eq!(resp.status(), 503);
    let problem: Value = resp.json().await.expect("problem");
    assert_eq!(problem["type"], "urn:oneclass:problem:query-memory-limit", "{problem}");
    // And the next query runs as usual; its JSON names every column, null ones too.
    let resp = app.post(&analyst, "/api/v1/sql", &json!({"sql": "SELECT 1 AS a, NULL AS b"})).await;
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.expect("json");
    assert_eq!(
        answer,
        json!({"columns": [{"name": "a", "type": "bigint"}, {"name": "b", "type": "unknown"}],
               "rows": [{"a": 1, "b": null}], "truncated": false})
    );
    app.stop().await;
}

/// Gold over the synthetic country: every indicator is built, each scope's numerators and
/// denominators are the sums over the scopes inside it, and an analyst reads the figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gold_over_synthetic_data_adds_up_and_analysts_read_it() {
    let app = TestApp::spawn().await;
    let analyst = app.token("analyst").await;
    app.wait_for_snapshot(
        &analyst,
        &[
            "platform.schools",
            "ref.terms",
            "sis.learners",
            "sis.enrolments",
            "staff.staff",
            "attendance.daily_marks",
        ],
    )
    .await;
    let warehouse = oneclass::app::warehouse(&app.settings);
    let report = warehouse.rebuild_gold(|_, _, _| {}).await.expect("gold");
    assert!(report.skipped.is_empty(), "{report:?}");
    // The synthetic country here has one school year, so the flow rates (which compare a year
    // with the next) have nothing yet, and it stops on the first day of the current term,
    // before the year's examinations (survival follows the flow rates); every other model has
    // rows.
    let waiting = ["gold_flow_rates", "gold_g7_pass_rate", "gold_o_level_pass_rate", "survival"];
    for (code, rows) in &report.built {
        assert!(*rows > 0 || waiting.contains(code), "{code} has no rows: {report:?}");
    }
    for check in warehouse.check_gold_sums().await.expect("check") {
        assert!(check.outer_rows > 0 && check.wrong == 0, "{check:?}");
    }
    let rows = app
        .sql(
            &analyst,
            "SELECT indicator, value FROM gold.indicators.values
             WHERE scope_level = 'national' AND sex = 'T' AND grade IS NULL ORDER BY indicator",
        )
        .await;
    let value = |code: &str| {
        rows.iter()
            .find(|r| r["indicator"] == code)
            .and_then(|r| r["value"].as_f64())
            .unwrap_or_else(|| panic!("no national {code}: {rows:?}"))
    };
    let flows = [
        "REPETITION_RATE",
        "PROMOTION_RATE",
        "DROPOUT_RATE",
        "TRANSITION_RATE",
        "G7_PASS_RATE",
        "O_LEVEL_PASS_RATE",
    ];
    let codes: Vec<&str> = oneclass_warehouse::indicator_codes()
        .filter(|c| !flows.contains(c) && *c != oneclass_warehouse::SURVIVAL_INDICATOR)
        .collect();
    for code in &codes {
        value(code);
    }
    assert_eq!(rows.len(), codes.len(), "{rows:?}");
    let ptr = value("PTR");
    assert!((5.0..80.0).contains(&ptr), "a plausible national PTR: {ptr}");
    // The synthetic country covers a few schools of many districts: ratios over the districts'
    // whole population are low, but not nothing.
    assert!(value("GIR") > 0.0 && value("GER_PRIMARY") > value("NER_PRIMARY"), "{rows:?}");

    // The national PTR recomputed straight from silver, on the census date (the first Monday of
    // March), equals gold's; and the dashboard shows gold's figure.
    let year = 2026;
    let census = (1..=7)
        .filter_map(|d| chrono::NaiveDate::from_ymd_opt(year, 3, d))
        .find(|d| chrono::Datelike::weekday(d) == chrono::Weekday::Mon)
        .expect("a Monday in the first week of March");
    let count = |sql: String| {
        let warehouse = &warehouse;
        async move {
            let out = warehouse.query(&sql, &oneclass_warehouse::Access::Full).await.expect(&sql);
            let json =
                oneclass_warehouse::encode(&out, oneclass_warehouse::Format::Json).expect("json").1;
            let answer: Value = serde_json::from_slice(&json).expect("json");
            answer["rows"][0]["n"].as_f64().expect("a count")
        }
    };
    let learners = count(format!(
        "SELECT count(*) AS n FROM silver.sis.enrolments WHERE academic_year = {year}
         AND start_date <= DATE '{census}' AND (end_date IS NULL OR end_date > DATE '{census}')"
    ))
    .await;
    let teachers = count(format!(
        "SELECT count(*) AS n FROM silver.staff.staff WHERE post = 'teacher'
         AND start_date <= DATE '{census}' AND (end_date IS NULL OR end_date > DATE '{census}')"
    ))
    .await;
    let gold = app
        .sql(
            &analyst,
            &format!(
                "SELECT numerator, denominator, value FROM gold.indicators.values WHERE indicator = 'PTR'
                 AND year = {year} AND scope_level = 'national' AND sex = 'T' AND grade IS NULL"
            ),
        )
        .await;
    assert_eq!(
        (gold[0]["numerator"].as_f64(), gold[0]["denominator"].as_f64()),
        (Some(learners), Some(teachers))
    );
    let resp = app
        .client
        .get(format!("{}/dash/indicator?code=PTR&year={year}", app.base))
        .send()
        .await
        .expect("page");
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.expect("html");
    let shown = format!(
        "{} ({learners:.0} learners ÷ {teachers:.0} teachers)",
        oneclass_dashboards::chart::format_value(learners / teachers)
    );
    assert!(page.contains(&shown), "the page shows {shown}: {page}");

    // The same at every level below: a province, one of its districts and one of its schools,
    // each page's PTR is gold's and a recomputation over silver of that area's schools.
    let ministry = app.token("ministry").await;
    let (province, district, school): (String, String, String) = sqlx::query_as(
        "SELECT province, district, id::text FROM platform.schools ORDER BY emis_code LIMIT 1",
    )
    .fetch_one(&app.owner)
    .await
    .expect("a school");
    let levels = [
        (
            "province",
            province.clone(),
            format!("s.province = '{province}'"),
            vec![("province", province.clone())],
        ),
        (
            "district",
            district.clone(),
            format!("s.district = '{district}'"),
            vec![("province", province.clone()), ("district", district.clone())],
        ),
        (
            "school",
            school.clone(),
            format!("s.id = '{school}'"),
            vec![
                ("province", province.clone()),
                ("district", district.clone()),
                ("school", school.clone()),
            ],
        ),
    ];
    for (level, code, area, params) in levels {
        let in_area =
            format!("school_id IN (SELECT s.id FROM silver.platform.schools s WHERE {area})");
        let learners = count(format!(
            "SELECT count(*) AS n FROM silver.sis.enrolments WHERE academic_year = {year}
             AND start_date <= DATE '{census}' AND (end_date IS NULL OR end_date > DATE '{census}')
             AND {in_area}"
        ))
        .await;
        let teachers = count(format!(
            "SELECT count(*) AS n FROM silver.staff.staff WHERE post = 'teacher'
             AND start_date <= DATE '{census}' AND (end_date IS NULL OR end_date > DATE '{census}')
             AND {in_area}"
        ))
        .await;
        let gold = app
            .sql(
                &analyst,
                &format!(
                    "SELECT numerator, denominator FROM gold.indicators.values WHERE indicator = 'PTR'
                     AND year = {year} AND scope_level = '{level}' AND scope_code = '{code}'
                     AND sex = 'T' AND grade IS NULL"
                ),
            )
            .await;
        assert_eq!(
            (gold[0]["numerator"].as_f64(), gold[0]["denominator"].as_f64()),
            (Some(learners), Some(teachers)),
            "{level} {code}"
        );
        let mut query = vec![("code", "PTR".to_owned()), ("year", year.to_string())];
        query.extend(params.iter().map(|(k, v)| (*k, v.clone())));
        let page = app
            .client
            .get(format!("{}/dash/indicator", app.base))
            .query(&query)
            .bearer_auth(&ministry)
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        let shown = format!(
            "{} ({learners:.0} learners ÷ {teachers:.0} teachers)",
            oneclass_dashboards::chart::format_value(learners / teachers)
        );
        // A figure of fewer than 5 learners is suppressed, and then must not be shown at all.
        if learners >= 5.0 {
            assert!(page.contains(&shown), "the {level} page shows {shown}: {page}");
        } else {
            assert!(!page.contains(&shown), "{level}: a small figure is shown: {page}");
        }
    }

    // Scope through HTTP: the district officer's dashboards list the schools of their district
    // (page and CSV), none of another district's, and refuse another district's school; signed
    // out, no school is listed or shown at all.
    let officer = app.token("district_officer").await;
    let (province, district): (String, String) =
        sqlx::query_as("SELECT province, district FROM platform.users WHERE username = $1")
            .bind(app.username("district_officer"))
            .fetch_one(&app.owner)
            .await
            .expect("the officer's area");
    let schools: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id::text, name, district FROM platform.schools WHERE province = $1 ORDER BY name",
    )
    .bind(&province)
    .fetch_all(&app.owner)
    .await
    .expect("the province's schools");
    let other = schools.iter().find(|s| s.2 != district).map(|s| s.2.clone());
    assert!(other.is_some(), "the synthetic province has a second district: {schools:?}");
    let dash = |who: Option<&str>, district: &str, extra: &str| {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/dash/indicator?code=PTR&year={year}{extra}", app.base),
            [("province", province.as_str()), ("district", district)],
        )
        .expect("url");
        let request = app.client.get(url);
        let request = match who {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        async move {
            let resp = request.send().await.expect("page");
            (resp.status().as_u16(), resp.text().await.expect("body"))
        }
    };
    for format in ["", "&format=csv"] {
        let (status, body) = dash(Some(&officer), &district, format).await;
        assert_eq!(status, 200, "{body}");
        for (_, name, in_district) in &schools {
            assert_eq!(body.contains(name.as_str()), *in_district == district, "{name}: {body}");
        }
        let (_, public) = dash(None, &district, format).await;
        assert!(schools.iter().all(|s| !public.contains(s.1.as_str())), "{public}");
        if let Some(other) = &other {
            let (_, body) = dash(Some(&officer), other, format).await;
            assert!(schools.iter().all(|s| !body.contains(s.1.as_str())), "{body}");
        }
    }
    let own = schools.iter().find(|s| s.2 == district).expect("a school of the district");
    let (status, _) = dash(Some(&officer), &district, &format!("&school={}", own.0)).await;
    assert_eq!(status, 200);
    let (status, _) = dash(None, &district, &format!("&school={}", own.0)).await;
    assert_eq!(status, 403);
    if let Some(foreign) = schools.iter().find(|s| s.2 != district) {
        let (status, _) = dash(Some(&officer), &foreign.2, &format!("&school={}", foreign.0)).await;
        assert_eq!(status, 403);
    }

    // The operator's commands over the same lake: a rebuild writes a new version, the check
    // finds every scope adding up, and a bad setting is named rather than ignored.
    let oneclass = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_oneclass"));
        command.args(args).env_remove("DATABASE_URL").env("ONECLASS_LAKE", app.lake_dir.path());
        for (k, v) in env {
            command.env(k, v);
        }
        let out = command.output().expect("run oneclass");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = oneclass(&["gold", "rebuild", "--full"], &[]);
    assert!(
        ok && stdout.contains("gold full; gold/indicators/values version 1:"),
        "{stdout}{stderr}"
    );
    // Incremental by default: nothing or little has changed since.
    let (ok, stdout, stderr) = oneclass(&["gold", "rebuild"], &[]);
    assert!(
        ok && (stdout.contains("up to date") || stdout.contains("incremental")),
        "{stdout}{stderr}"
    );
    let (ok, stdout, stderr) = oneclass(&["gold", "check"], &[]);
    assert!(ok && stdout.contains("national = sum of its provinces:"), "{stdout}{stderr}");
    assert!(stdout.lines().all(|l| l.ends_with(" 0 wrong")), "{stdout}");
    let (ok, _, stderr) = oneclass(&["gold", "check"], &[("ONECLASS_SQL_MEMORY_LIMIT", "1000")]);
    assert!(!ok && stderr.contains("ONECLASS_SQL_MEMORY_LIMIT"), "{stderr}");
    app.stop().await;
}

/// Over the synthetic country, no combination of school, sex and birth month an analyst can see
/// describes fewer than five learners, and no exact birth date reaches them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_see_no_small_group_of_birth_month_sex_and_school() {
    let app = TestApp::spawn().await;
    let analyst = app.token("analyst").await;
    app.wait_for_snapshot(&analyst, &["platform.schools", "sis.learners"]).await;
    let small = app
        .sql(
            &analyst,
            "SELECT school_id, sex, birth_month, count(*) AS n FROM silver.sis.learners
             WHERE birth_month IS NOT NULL GROUP BY school_id, sex, birth_month
             HAVING count(*) < 5",
        )
        .await;
    assert!(small.is_empty(), "groups under five: {small:?}");
    let shown = app
        .sql(
            &analyst,
            "SELECT count(*) AS learners, count(birth_month) AS with_month FROM silver.sis.learners",
        )
        .await;
    assert!(shown[0]["learners"].as_i64() > Some(0), "{shown:?}");
    let refused = app
        .post(
            &analyst,
            "/api/v1/sql",
            &json!({"sql": "SELECT date_of_birth FROM silver.sis.learners"}),
        )
        .await;
    assert_eq!(refused.status(), 422);
    app.stop().await;
}

/// The running system rebuilds gold on its schedule, without anyone asking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_system_rebuilds_gold_on_its_schedule() {
    let app = TestApp::spawn_with(|s| s.gold_interval = Some(Duration::from_secs(1))).await;
    let analyst = app.token("analyst").await;
    app.wait_for_snapshot(&analyst, &["platform.schools", "staff.staff", "sis.enrolments"]).await;
    let sql = "SELECT count(*) AS n FROM gold.indicators.values WHERE indicator = 'PTR'";
    eventually(Duration::from_secs(60), "gold built by the schedule", || async {
        let rows = app.try_sql(&analyst, sql).await.ok()?;
        (rows.first()?["n"].as_i64()? > 0).then_some(())
    })
    .await;
    app.stop().await;
}

/// The learners who need attention, over HTTP on the synthetic country: the head of a school
/// gets its flagged learners, each with reasons in words; the over-age ones are exactly those a
/// direct count in PostgreSQL finds; every learner listed is audited; a teacher is refused and
/// another school is not found; the staff page shows the same list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heads_see_the_learners_who_need_attention_with_reasons_audited() {
    let app = TestApp::spawn().await;
    let analyst = app.token("analyst").await;
    app.wait_for_snapshot(
        &analyst,
        &[
            "platform.schools",
            "ref.terms",
            "sis.learners",
            "sis.enrolments",
            "academic.classes",
            "attendance.daily_marks",
            "assessment.assessments",
            "assessment.results",
            "finance.invoices",
            "finance.payments",
        ],
    )
    .await;
    let head = app.token("school_head").await;
    let school: Uuid = app.school_of("school_head").await;
    let today = chrono::Utc::now().date_naive();
    let resp = app.get(&head, &format!("/api/v1/schools/{school}/attention?as_of={today}")).await;
    assert_eq!(resp.status(), 200);
    let list: Value = resp.json().await.expect("json");
    let learners = list["learners"].as_array().expect("learners");
    assert!(!learners.is_empty(), "the synthetic school has learners to watch: {list}");
    let codes = ["chronic_absence", "falling_marks", "over_age", "arrears"];
    for l in learners {
        let reasons = l["reasons"].as_array().expect("reasons");
        assert!(!reasons.is_empty(), "{l}");
        for r in reasons {
            assert!(codes.contains(&r["code"].as_str().unwrap_or("")), "{r}");
            assert!(r["text"].as_str().is_some_and(|t| !t.is_empty()), "{r}");
        }
        assert!(l["name"].as_str().is_some_and(|n| n.contains(' ')), "{l}");
    }
    let over_age: usize = learners
        .iter()
        .filter(|l| {
            l["reasons"].as_array().is_some_and(|r| r.iter().any(|r| r["code"] == "over_age"))
        })
        .count();
    let counted: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sis.enrolments e JOIN sis.learners l ON l.id = e.learner_id
         JOIN (VALUES ('ECD_A', 4), ('ECD_B', 5), ('G1', 6), ('G2', 7), ('G3', 8), ('G4', 9),
                      ('G5', 10), ('G6', 11), ('G7', 12), ('F1', 13), ('F2', 14), ('F3', 15),
                      ('F4', 16), ('F5', 17), ('F6', 18)) AS o(grade, age) ON o.grade = e.grade
         WHERE e.school_id = $1 AND e.start_date <= $2 AND (e.end_date IS NULL OR e.end_date > $2)
           AND e.academic_year - extract(year FROM l.date_of_birth)::int
               - CASE WHEN to_char(l.date_of_birth, 'MM-DD') = '01-01' THEN 0 ELSE 1 END
               - o.age >= 2",
    )
    .bind(school)
    .bind(today)
    .fetch_one(&app.owner)
    .await
    .expect("over-age count");
    assert_eq!(over_age as i64, counted, "over-age learners");
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit.events e JOIN platform.users u ON u.id = e.user_id
         WHERE u.username = $1 AND e.action = 'list' AND e.entity = 'sis.learners'",
    )
    .bind(app.username("school_head"))
    .fetch_one(&app.owner)
    .await
    .expect("audit");
    assert_eq!(audited, learners.len() as i64, "one audit row per learner listed");

    let teacher = app.token("teacher").await;
    assert_eq!(
        app.get(&teacher, &format!("/api/v1/schools/{school}/attention")).await.status(),
        403
    );
    let other: Uuid = sqlx::query_scalar("SELECT id FROM platform.schools WHERE id <> $1 LIMIT 1")
        .bind(school)
        .fetch_one(&app.owner)
        .await
        .expect("another school");
    assert_eq!(app.get(&head, &format!("/api/v1/schools/{other}/attention")).await.status(), 404);

    let home = app.get(&head, "/app/").await.text().await.expect("html");
    assert!(
        home.contains(r#"<a href="/app/attention">"#),
        "the head's pages link the list: {home}"
    );
    let page = app.get(&head, "/app/attention").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    let first = learners[0]["name"].as_str().expect("a name");
    assert!(html.contains(first), "the page lists {first}: {html}");
    app.stop().await;
}
