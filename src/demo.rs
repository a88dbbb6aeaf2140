//! `oneclass demo`: the whole system on one machine with zero configuration. A private
//! PostgreSQL cluster under `DIR/pg` (unless DATABASE_URL is set), the lake under `DIR/lake`,
//! secrets generated once into `DIR/secrets.json`, a synthetic Zimbabwe seeded once.

use std::path::{Path, PathBuf};

use std::os::unix::fs::OpenOptionsExt;

use anyhow::Context;
use oneclass_core::cluster::{ClusterOptions, PgCluster};
use oneclass_core::db::{self, RolePasswords};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use std::time::Duration;

use crate::app::{Application, shutdown_signal, wait_for_lake};
use crate::config::{RawSettings, Settings, lake_url};
use secrecy::ExposeSecret;

pub const DATABASE: &str = "oneclass";

/// Secrets generated on the first run and reused after: the data must stay readable.
#[derive(Serialize, Deserialize)]
struct DemoSecrets {
    owner_password: String,
    app_password: String,
    cdc_password: String,
    jwt_secret: String,
    pseudonym_key: String,
}

fn random_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn load_secrets(dir: &Path) -> anyhow::Result<DemoSecrets> {
    let path = dir.join("secrets.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()));
    }
    let secrets = DemoSecrets {
        owner_password: random_secret(),
        app_password: random_secret(),
        cdc_password: random_secret(),
        jwt_secret: random_secret(),
        pseudonym_key: random_secret(),
    };
    // Created owner-only from the first byte, then renamed into place: never readable by
    // others, never half-written.
    let tmp = dir.join("secrets.json.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    std::io::Write::write_all(&mut file, &serde_json::to_vec_pretty(&secrets)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(secrets)
}

/// Data seeded before the Postgres-wire endpoint existed has analyst accounts without a SCRAM
/// secret: those whose password is still the demo's get one, so `psql` can sign in at once.
async fn give_analysts_scram_secrets(owner: &sqlx::PgPool, password: &str) -> anyhow::Result<()> {
    let missing = sqlx::query!(
        "SELECT id, password_hash FROM platform.users
         WHERE role = 'analyst' AND scram_salt IS NULL",
    )
    .fetch_all(owner)
    .await?;
    for user in missing {
        let (pw, hash) = (password.to_owned(), user.password_hash);
        let scram = tokio::task::spawn_blocking(move || {
            oneclass_core::password::verify(&pw, &hash)
                .then(|| oneclass_core::password::scram_secret(&pw))
        })
        .await?;
        if let Some(scram) = scram {
            sqlx::query!(
                "UPDATE platform.users
                 SET scram_salt = $2, scram_iterations = $3, scram_salted_password = $4
                 WHERE id = $1",
                user.id,
                &scram.salt[..],
                scram.iterations as i32,
                &scram.salted_password[..],
            )
            .execute(owner)
            .await?;
        }
    }
    Ok(())
}

pub struct DemoOptions {
    pub data: PathBuf,
    pub port: u16,
}

pub async fn run(opts: DemoOptions) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&opts.data)
        .with_context(|| format!("creating the data folder {}", opts.data.display()))?;
    let data = opts.data.canonicalize()?;
    let secrets = load_secrets(&data)?;

    // The cluster is started on a blocking thread: pg_ctl waits for the server.
    // The demo makes its own secrets; ingest's tuning and DATABASE_URL still come from the
    // environment or the settings file.
    let configured = RawSettings::load()?;
    let (cluster, database_url) = match &configured.database_url {
        Some(url) => (None, url.expose_secret().to_string()),
        None => {
            let pgdata = data.join("pg");
            let password = secrets.owner_password.clone();
            eprintln!("Starting PostgreSQL under {} …", pgdata.display());
            let cluster = tokio::task::spawn_blocking(move || {
                PgCluster::start(&pgdata, &password, &ClusterOptions::default())
            })
            .await??;
            cluster.ensure_database(DATABASE).await?;
            let url = cluster.url(DATABASE);
            (Some(cluster), url)
        }
    };

    let passwords = RolePasswords {
        app: secrets.app_password.as_str().into(),
        cdc: secrets.cdc_password.as_str().into(),
    };
    db::migrate(&database_url, &passwords).await.context("migrating")?;
    let owner = db::pool(&database_url, 4).await?;
    let demo = oneclass_synth::SeedParams::demo(chrono::Utc::now().date_naive());
    if !oneclass_synth::is_seeded(&owner).await? {
        eprintln!("Seeding a synthetic Zimbabwe …");
        let summary = oneclass_synth::seed(&owner, &demo).await.context("seeding")?;
        eprintln!(
            "Seeded {} schools, {} learners, {} attendance marks.",
            summary.schools, summary.learners, summary.marks
        );
    }
    give_analysts_scram_secrets(&owner, &demo.demo_password).await?;
    let logins: Vec<(String, String)> = sqlx::query!(
        "SELECT role, username FROM platform.users
             ORDER BY array_position(ARRAY['platform_admin', 'ministry', 'province_officer',
                 'district_officer', 'school_head', 'deputy', 'teacher', 'bursar', 'registrar',
                 'parent', 'analyst'], role), username",
    )
    .fetch_all(&owner)
    .await?
    .into_iter()
    .map(|r| (r.role, r.username))
    .collect();
    owner.close().await;

    // Fee payments through Paynow: the deployment's own integration when configured, otherwise
    // a local stand-in that speaks Paynow's protocol (its payer's page has Pay and Cancel).
    let (paynow, _paynow_standin) = match configured.paynow()? {
        Some(p) => (Some(p), None),
        None => {
            let key = random_secret();
            let standin = oneclass_paynow::StandIn::start("demo", &key).await?;
            let settings = crate::config::PaynowSettings {
                url: standin.base().clone(),
                integration_id: "demo".into(),
                integration_key: key.into(),
                public_url: None,
            };
            (Some(settings), Some(standin))
        }
    };
    let settings = Settings {
        database_url: database_url.as_str().into(),
        passwords,
        jwt_secret: secrets.jwt_secret.as_str().into(),
        pseudonym_key: secrets.pseudonym_key.as_str().into(),
        lake: lake_url(&data.join("lake").to_string_lossy())?,
        bind: format!("127.0.0.1:{}", opts.port).parse()?,
        ingest: configured.ingest()?,
        sql: configured.sql()?,
        gold_interval: configured.gold_interval(),
        gold: configured.gold()?,
        sql_wire: configured.sql_wire(Some(if opts.port == 0 { 0 } else { opts.port + 1 }))?,
        paynow,
        sms_gateway: configured.sms_gateway()?,
        sms_report_token: configured.sms_report_token.clone(),
    };
    let app = Application::build(&settings, true).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let sql_port = app.sql_port();
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("Stopping …");
        trigger.cancel();
    });
    let running = tokio::spawn(app.run_until(shutdown.clone()));
    wait_for_lake(&settings, Duration::from_secs(600)).await?;
    eprintln!("Building the gold indicators …");
    let gold = crate::app::warehouse(&settings).rebuild_gold(|_, _, _| {}).await?;
    eprintln!("Gold: {} indicator rows.", gold.rows());
    println!("API: {base}/api/v1/ (docs: {base}/api/docs)");
    println!("Dashboards: {base}/dash/");
    println!("Database: {database_url}");
    println!("Lake: {}", settings.lake);
    if let Some(p) = &settings.paynow {
        println!("Paynow: {}", p.url);
    }
    if let Some(port) = sql_port {
        let analyst = logins.iter().find(|(role, _)| role == "analyst").map(|(_, u)| u.as_str());
        println!("SQL: postgres://{}@127.0.0.1:{port}/lake", analyst.unwrap_or("analyst"));
    }
    for (role, username) in &logins {
        println!("login: {role} {username} {}", demo.demo_password);
    }
    eprintln!("Ready in {:.1} s. Press Ctrl-C to stop.", started.elapsed().as_secs_f64());

    let result = running.await.context("the server task failed")?;
    if let Some(mut cluster) = cluster {
        tokio::task::spawn_blocking(move || cluster.stop()).await??;
    }
    result
}
