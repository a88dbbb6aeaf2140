//! Test harness: the real application on a free port over a fresh seeded database (on the
//! binary's cluster, from `oneclass-testkit`) and a fresh lake folder.

#![allow(dead_code)]

use std::time::Duration;

use oneclass::app::Application;
use oneclass::config::Settings;
use oneclass_core::db;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub use oneclass_testkit::eventually;
use oneclass_testkit::{fresh_database, passwords};

pub const PSEUDONYM_KEY: &str = "test-pseudonym-key";
pub const DEMO_PASSWORD: &str = "oneclass-demo";
/// The Paynow integration the tests' stand-in knows.
pub const PAYNOW_ID: &str = "20461";
pub const PAYNOW_KEY: &str = "c0ffee00-1111-4222-8333-944445555666";

/// The latest term that has started, as (start, end).
pub async fn current_term(owner: &PgPool) -> (chrono::NaiveDate, chrono::NaiveDate) {
    sqlx::query_as(
        "SELECT start_date, end_date FROM ref.terms WHERE start_date <= current_date
         ORDER BY start_date DESC LIMIT 1",
    )
    .fetch_one(owner)
    .await
    .expect("a term has started")
}

/// A fresh database seeded small: `per_province` schools in each province, one day of
/// attendance (the first day of the current term). Returns the owner URL, pool and seed summary.
pub async fn seeded_database(
    seed: u64,
    per_province: usize,
    class_size: (u32, u32),
) -> (String, PgPool, oneclass_synth::SeedSummary) {
    let owner_url = fresh_database().await;
    let owner = db::pool(&owner_url, 4).await.expect("owner pool");
    let (term_start, _) = current_term(&owner).await;
    let params = oneclass_synth::SeedParams {
        seed,
        schools: per_province * 10,
        class_size,
        streams: (1, 1),
        academic_year: 2026,
        years: 1,
        as_of: term_start,
        attendance_days: Some(1),
        demo_password: DEMO_PASSWORD.into(),
    };
    let summary = oneclass_synth::seed(&owner, &params).await.expect("seed");
    (owner_url, owner, summary)
}

/// Settings for a system on `owner_url` with its lake in `lake`, on any free port.
pub fn settings(owner_url: &str, lake: &std::path::Path) -> Settings {
    Settings {
        database_url: owner_url.into(),
        passwords: passwords(),
        jwt_secret: "test-jwt-secret-of-at-least-32-characters".into(),
        pseudonym_key: PSEUDONYM_KEY.into(),
        lake: url::Url::from_directory_path(lake).expect("lake url"),
        bind: "127.0.0.1:0".parse().expect("addr"),
        ingest: Default::default(),
        sql: Default::default(),
        gold_interval: None,
        gold: Default::default(),
        sql_wire: None,
        paynow: None,
        sms_gateway: None,
        sms_report_token: None,
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub owner: PgPool,
    pub owner_url: String,
    pub settings: Settings,
    pub seed: oneclass_synth::SeedSummary,
    pub shutdown: CancellationToken,
    pub lake_dir: tempfile::TempDir,
    /// The Postgres-wire SQL endpoint's port, when the settings open one.
    pub sql_port: Option<u16>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// A seeded system (one small school per province, one day of attendance: the first day of
    /// the current term) with API, dashboards and ingest running.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// [`spawn`](Self::spawn), with the settings changed by `adjust` first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let (owner_url, owner, seed) = seeded_database(7, 2, (5, 8)).await;
        Self::spawn_over(owner_url, owner, seed, adjust).await
    }

    /// A system over a fresh database seeded with `params`.
    pub async fn spawn_seeded(params: &oneclass_synth::SeedParams) -> TestApp {
        let owner_url = fresh_database().await;
        let owner = db::pool(&owner_url, 4).await.expect("owner pool");
        let seed = oneclass_synth::seed(&owner, params).await.expect("seed");
        Self::spawn_over(owner_url, owner, seed, |_| {}).await
    }

    async fn spawn_over(
        owner_url: String,
        owner: PgPool,
        seed: oneclass_synth::SeedSummary,
        adjust: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let lake_dir = tempfile::Builder::new().prefix("oneclass-lake").tempdir().expect("tempdir");
        let mut settings = settings(&owner_url, lake_dir.path());
        adjust(&mut settings);
        let app = Application::build(&settings, true).await.expect("build app");
        let base = format!("http://127.0.0.1:{}", app.port());
        let sql_port = app.sql_port();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run_until(shutdown.clone()));
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
        TestApp {
            base,
            client,
            owner,
            owner_url,
            settings,
            seed,
            shutdown,
            lake_dir,
            sql_port,
            task: Some(task),
        }
    }

    /// [`spawn`](Self::spawn), with Paynow at a local stand-in that speaks its protocol (which
    /// must outlive the app).
    pub async fn spawn_with_paynow() -> (TestApp, oneclass_paynow::StandIn) {
        let standin = oneclass_paynow::StandIn::start(PAYNOW_ID, PAYNOW_KEY)
            .await
            .expect("the Paynow stand-in");
        let base = standin.base().clone();
        let app = Self::spawn_with(|s| {
            s.paynow = Some(oneclass::config::PaynowSettings {
                url: base,
                integration_id: PAYNOW_ID.into(),
                integration_key: PAYNOW_KEY.into(),
                public_url: None,
            })
        })
        .await;
        (app, standin)
    }

    pub fn username(&self, role: &str) -> String {
        self.seed
            .logins
            .iter()
            .find(|l| l.role.as_str() == role)
            .map(|l| l.username.clone())
            .unwrap_or_else(|| panic!("no demo login for {role}"))
    }

    /// The school of the demo login for `role` (a school's staff).
    pub async fn school_of(&self, role: &str) -> uuid::Uuid {
        sqlx::query_scalar(
            "SELECT m.school_id FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
             WHERE u.username = $1",
        )
        .bind(self.username(role))
        .fetch_one(&self.owner)
        .await
        .unwrap_or_else(|e| panic!("the school of {role}: {e}"))
    }

    pub async fn token(&self, role: &str) -> String {
        let resp = self
            .client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": self.username(role), "password": DEMO_PASSWORD}))
            .send()
            .await
            .expect("login");
        assert_eq!(resp.status(), 200, "login as {role}");
        let body: Value = resp.json().await.expect("json");
        body["access_token"].as_str().expect("token").to_string()
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
    }

    /// Any method with a JSON body.
    pub async fn send(
        &self,
        method: &str,
        token: &str,
        path: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .request(method.parse().expect("method"), format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// Analyst SQL over the lake, as JSON rows.
    pub async fn sql(&self, token: &str, sql: &str) -> Vec<Value> {
        match self.try_sql(token, sql).await {
            Ok(rows) => rows,
            Err(e) => panic!("sql {sql}: {e}"),
        }
    }

    /// Analyst SQL that may fail (a table not in the lake yet).
    pub async fn try_sql(&self, token: &str, sql: &str) -> Result<Vec<Value>, String> {
        let resp = self.post(token, "/api/v1/sql", &json!({"sql": sql, "format": "json"})).await;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("{status}: {text}"));
        }
        let mut answer: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
        serde_json::from_value(answer["rows"].take()).map_err(|e| format!("{e}: {text}"))
    }

    /// Waits until silver holds as many rows as PostgreSQL for each of `tables`.
    pub async fn wait_for_snapshot(&self, analyst: &str, tables: &[&str]) {
        self.wait_for_snapshot_within(analyst, tables, Duration::from_secs(60)).await;
    }

    /// [`wait_for_snapshot`](Self::wait_for_snapshot), waiting up to `limit` for each table.
    pub async fn wait_for_snapshot_within(&self, analyst: &str, tables: &[&str], limit: Duration) {
        for table in tables {
            let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(&self.owner)
                .await
                .expect("count");
            let sql = format!("SELECT count(*) AS n FROM silver.{table}");
            eventually(limit, &format!("{table} in silver"), || async {
                let rows = self.try_sql(analyst, &sql).await.ok()?;
                (rows.first()?["n"].as_i64() == Some(total)).then_some(())
            })
            .await;
        }
    }

    /// The first class a teacher sees and its register for `date`: (class id, register JSON).
    pub async fn first_class_register(
        &self,
        token: &str,
        date: chrono::NaiveDate,
    ) -> (String, Value) {
        let classes: Vec<Value> =
            self.get(token, "/api/v1/classes").await.json().await.expect("classes");
        let class_id = classes[0]["id"].as_str().expect("class id").to_string();
        let register: Value = self
            .get(token, &format!("/api/v1/classes/{class_id}/register?date={date}"))
            .await
            .json()
            .await
            .expect("register");
        (class_id, register)
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
        }
    }
}

/// The fields a problem+json answer names, in order.
pub fn problem_fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default()
}
