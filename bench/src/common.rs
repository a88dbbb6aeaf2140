//! What the benchmarks share: the throwaway cluster, run facts, tables and JSON lines, and
//! the bulk-load benchmark (`oneclass bench load`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use oneclass::config::{Settings, lake_url};
use oneclass_core::cluster::{ClusterOptions, PgCluster};
use oneclass_core::db::{self, RolePasswords};
use rand::RngCore;
use serde_json::json;

use oneclass_synth::SEEDED_TABLES;

pub(crate) const DATABASE: &str = "oneclass";
const RESULTS: &str = "bench/results/load.jsonl";

pub struct LoadOptions {
    pub scale: oneclass_synth::Scale,
    pub seed: u64,
}

/// One row of a benchmark's table.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub benchmark: String,
    pub rows: u64,
    pub seconds: f64,
    /// This row's rows/s over the peer's; `None` when there is no peer to compare with.
    pub ratio_to_peer: Option<f64>,
}

impl Measurement {
    pub fn rows_per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.rows as f64 / self.seconds } else { 0.0 }
    }
}

/// What a figure depends on besides the code: recorded with every JSON line.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFacts {
    pub date: String,
    pub scale: String,
    pub seed: u64,
    pub nproc: usize,
    pub mem_total_kib: Option<u64>,
    pub postgres: String,
    /// Our code's build profile: an unoptimised build generates rows several times slower.
    pub profile: &'static str,
}

impl RunFacts {
    /// The facts of this machine and build, for a run at `scale` against PostgreSQL `postgres`.
    pub fn gather(scale: oneclass_synth::Scale, seed: u64, postgres: String) -> Self {
        Self::of_run(format!("{scale:?}").to_lowercase(), seed, postgres)
    }

    /// The same for a run whose data is not a seeded scale (`scale` is then `-`, seed 0).
    pub fn unscaled(postgres: String) -> Self {
        Self::of_run("-".into(), 0, postgres)
    }

    fn of_run(scale: String, seed: u64, postgres: String) -> Self {
        Self {
            date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            scale,
            seed,
            nproc: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            mem_total_kib: std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|t| mem_total_kib(&t)),
            postgres,
            profile: if cfg!(debug_assertions) { "dev" } else { "release" },
        }
    }

    /// The `machine` object of every JSON line.
    pub fn machine_json(&self) -> serde_json::Value {
        json!({
            "nproc": self.nproc,
            "mem_total_kib": self.mem_total_kib,
            "postgres": self.postgres,
            "profile": self.profile,
        })
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn format_table(rows: &[Measurement]) -> String {
    let mut out = String::from(
        "| benchmark | rows | seconds | rows/s | ratio to psql \\copy |\n| --- | ---: | ---: | ---: | ---: |\n",
    );
    for m in rows {
        let ratio = m.ratio_to_peer.map_or_else(|| "–".to_string(), |r| format!("{r:.2}"));
        out.push_str(&format!(
            "| {} | {} | {:.2} | {} | {} |\n",
            m.benchmark,
            thousands(m.rows),
            m.seconds,
            thousands(m.rows_per_second().round() as u64),
            ratio
        ));
    }
    out
}

pub fn json_line(facts: &RunFacts, m: &Measurement) -> serde_json::Value {
    json!({
        "bench": "load",
        "date": facts.date,
        "benchmark": m.benchmark,
        "scale": facts.scale,
        "seed": facts.seed,
        "rows": m.rows,
        "seconds": m.seconds,
        "rows_per_s": m.rows_per_second(),
        "ratio_to_psql_copy": m.ratio_to_peer,
        "machine": facts.machine_json(),
    })
}

/// `MemTotal` from the text of /proc/meminfo, in KiB.
pub fn mem_total_kib(meminfo: &str) -> Option<u64> {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// A folder removed when dropped; dropped after the cluster so that the server is stopped
/// before its data folder goes.
pub(crate) struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create() -> anyhow::Result<Self> {
        let mut suffix = [0u8; 6];
        rand::rngs::OsRng.fill_bytes(&mut suffix);
        let name: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        // Under /tmp and world-traversable: as root the server runs as `postgres`, which must
        // reach its data folder inside.
        let path = PathBuf::from(format!("/tmp/oneclass-bench-{name}"));
        std::fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        Ok(Self(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(error = %e, dir = %self.0.display(), "removing the scratch folder failed");
        }
    }
}

pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn count_rows(pool: &sqlx::PgPool) -> anyhow::Result<Vec<u64>> {
    let mut counts = Vec::with_capacity(SEEDED_TABLES.len());
    for table in SEEDED_TABLES {
        // Table names are our constants, never input.
        // A table named at run time: its text is built here, not checked at compile time.
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(pool)
            .await
            .with_context(|| format!("counting {table}"))?;
        counts.push(u64::try_from(n).unwrap_or(0));
    }
    Ok(counts)
}

/// Runs one `psql -c` command against the cluster and returns its wall time in seconds,
/// connection set-up included (as a user timing `psql` would see it).
pub(crate) async fn psql(
    cluster: &PgCluster,
    password: &str,
    command: &str,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let out = tokio::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U"])
        .arg(oneclass_core::cluster::OWNER_ROLE)
        .arg("-p")
        .arg(cluster.port().to_string())
        .arg("-d")
        .arg(DATABASE)
        .arg("-c")
        .arg(command)
        // In the environment, not the command line: never visible in `ps` or our output.
        .env("PGPASSWORD", password)
        .output()
        .await
        .context("running psql (is the PostgreSQL client installed?)")?;
    let seconds = started.elapsed().as_secs_f64();
    if !out.status.success() {
        anyhow::bail!("psql {command:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(seconds)
}

/// A private throwaway cluster under /tmp, with the `oneclass` database migrated.
pub(crate) struct BenchCluster {
    // Fields drop in order: the server stops before its scratch folder is removed.
    pub(crate) cluster: PgCluster,
    pub(crate) scratch: ScratchDir,
    /// The owner role's password (for psql).
    pub(crate) password: String,
    /// The owner's URL of the `oneclass` database.
    pub url: String,
    pub passwords: RolePasswords,
}

impl BenchCluster {
    /// The CDC role's connection to the benchmark database, as `oneclass` derives it.
    pub(crate) fn cdc_source(&self) -> oneclass_ingest::SourceConfig {
        oneclass_ingest::SourceConfig {
            host: "127.0.0.1".into(),
            port: self.cluster.port(),
            user: db::CDC_ROLE.into(),
            password: self.passwords.cdc.clone(),
            database: DATABASE.into(),
        }
    }

    /// The lake, in the cluster's scratch folder.
    pub(crate) fn lake_url(&self) -> anyhow::Result<url::Url> {
        url::Url::from_directory_path(self.dir().join("lake"))
            .map_err(|()| anyhow::anyhow!("lake path"))
    }

    pub(crate) async fn start() -> anyhow::Result<Self> {
        let scratch = ScratchDir::create()?;
        let password = random_secret();
        let pgdata = scratch.0.join("pg");
        let cluster = {
            let password = password.clone();
            // pg_ctl waits for the server: off the async threads.
            tokio::task::spawn_blocking(move || {
                PgCluster::start(&pgdata, &password, &ClusterOptions::default())
            })
            .await??
        };
        cluster.ensure_database(DATABASE).await?;
        let url = cluster.url(DATABASE);
        let passwords = RolePasswords { app: random_secret().into(), cdc: random_secret().into() };
        db::migrate(&url, &passwords).await.context("migrating")?;
        Ok(Self { cluster, scratch, password, url, passwords })
    }

    /// Settings for the application over this cluster: fresh secrets, the lake in the scratch
    /// folder, a free port of 127.0.0.1, no ingest loop, gold or Postgres-wire endpoint.
    pub(crate) fn app_settings(&self) -> anyhow::Result<Settings> {
        Ok(Settings {
            database_url: self.url.as_str().into(),
            passwords: self.passwords.clone(),
            jwt_secret: random_secret().into(),
            pseudonym_key: random_secret().into(),
            lake: lake_url(&self.dir().join("lake").to_string_lossy())?,
            bind: ([127, 0, 0, 1], 0).into(),
            ingest: Default::default(),
            sql: Default::default(),
            gold_interval: None,
            gold: Default::default(),
            sql_wire: None,
            paynow: None,
            sms_gateway: None,
            sms_report_token: None,
        })
    }

    /// The scratch folder, for files of the run; removed with the cluster.
    pub(crate) fn dir(&self) -> &Path {
        &self.scratch.0
    }

    /// Stops the server (here rather than in drop so that a failed shutdown is reported), then
    /// removes the scratch folder.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        let Self { mut cluster, scratch, .. } = self;
        tokio::task::spawn_blocking(move || cluster.stop()).await??;
        drop(scratch);
        Ok(())
    }
}

/// `SHOW server_version`.
pub(crate) async fn server_version(pool: &sqlx::PgPool) -> anyhow::Result<String> {
    Ok(sqlx::query_scalar!(r#"SELECT current_setting('server_version') AS "version!""#)
        .fetch_one(pool)
        .await?)
}

/// `oneclass bench load`: our seeder's bulk load rate beside `psql \copy` of the biggest seeded
/// table, in one private cluster.
pub async fn load(opts: LoadOptions) -> anyhow::Result<()> {
    let bench = BenchCluster::start().await?;
    let pool = db::pool(&bench.url, 4).await?;
    let facts = RunFacts::gather(opts.scale, opts.seed, server_version(&pool).await?);

    // Migrations may put reference rows in some of these tables: count what the seed adds.
    let before = count_rows(&pool).await?;
    let params = oneclass_synth::params_for(opts.scale, opts.seed, chrono::Utc::now().date_naive());
    eprintln!("Seeding at {} scale …", facts.scale);
    let started = Instant::now();
    let summary = oneclass_synth::seed(&pool, &params).await.context("seeding")?;
    let seed_seconds = started.elapsed().as_secs_f64();
    let after = count_rows(&pool).await?;
    let per_table: Vec<(&str, u64)> = SEEDED_TABLES
        .iter()
        .zip(before.iter().zip(&after))
        .map(|(t, (b, a))| (*t, a.saturating_sub(*b)))
        .collect();
    let seeded_rows: u64 = per_table.iter().map(|(_, n)| n).sum();
    let marks =
        per_table.iter().find(|(t, _)| *t == "attendance.daily_marks").map_or(0, |(_, n)| *n);
    let database_bytes: i64 =
        sqlx::query_scalar!(r#"SELECT pg_database_size(current_database()) AS "bytes!""#)
            .fetch_one(&pool)
            .await?;

    // The peer: the same marks, out through psql and back into a twin of the table with the
    // same columns, checks and indexes (`LIKE … INCLUDING ALL`; no foreign keys), as a user
    // loading a file with `psql \copy` would.
    let export = bench.dir().join("daily_marks.copy");
    let export_s = export.to_string_lossy();
    eprintln!("Exporting and reloading {} marks with psql \\copy …", thousands(marks));
    psql(
        &bench.cluster,
        &bench.password,
        &format!("\\copy attendance.daily_marks TO '{export_s}'"),
    )
    .await?;
    sqlx::raw_sql("CREATE TABLE public.bench_marks (LIKE attendance.daily_marks INCLUDING ALL)")
        .execute(&pool)
        .await
        .context("creating the peer's table")?;
    let seconds = psql(
        &bench.cluster,
        &bench.password,
        &format!("\\copy public.bench_marks FROM '{export_s}'"),
    )
    .await?;
    let copied: i64 =
        // The table is made by this benchmark, not by the migrations: no compile-time check.
        sqlx::query_scalar("SELECT count(*) FROM public.bench_marks").fetch_one(&pool).await?;
    let peers = vec![Measurement {
        benchmark: "psql \\copy attendance.daily_marks, indexes in place (peer)".into(),
        rows: u64::try_from(copied).unwrap_or(0),
        seconds,
        ratio_to_peer: None,
    }];
    pool.close().await;

    let peer_rate = peers.first().map_or(0.0, Measurement::rows_per_second);
    let ours = [
        Measurement {
            benchmark: format!(
                "oneclass seed, all {} tables, end to end (rows, indexes, constraints)",
                SEEDED_TABLES.len()
            ),
            rows: seeded_rows,
            seconds: seed_seconds,
            ratio_to_peer: None,
        },
        Measurement {
            benchmark: "oneclass seed, row loading only (binary COPY, parallel)".into(),
            rows: seeded_rows,
            seconds: summary.load_seconds,
            ratio_to_peer: None,
        },
    ];
    let rows: Vec<Measurement> = ours
        .into_iter()
        .chain(peers)
        .map(|m| {
            let ratio = (peer_rate > 0.0).then(|| m.rows_per_second() / peer_rate);
            Measurement { ratio_to_peer: ratio, ..m }
        })
        .collect();

    println!(
        "\nBulk load, {} scale, seed {} ({} build, PostgreSQL {}, {} CPUs)\n",
        facts.scale, facts.seed, facts.profile, facts.postgres, facts.nproc
    );
    println!("{}", format_table(&rows));
    println!(
        "Rebuilding indexes and constraints took {:.1} s of the seed's {:.1} s. Database size \
         after the seed: {:.2} GiB.\n",
        summary.rebuild_seconds,
        seed_seconds,
        database_bytes as f64 / f64::from(1u32 << 30)
    );
    println!("Rows the seed wrote:\n");
    println!("| table | rows |\n| --- | ---: |");
    for (table, n) in &per_table {
        println!("| {table} | {} |", thousands(*n));
    }
    let mut lines: Vec<serde_json::Value> = rows.iter().map(|m| json_line(&facts, m)).collect();
    lines.push(json!({
        "bench": "load",
        "date": facts.date,
        "benchmark": "database size after the seed",
        "scale": facts.scale,
        "seed": facts.seed,
        "bytes": database_bytes,
        "rows": seeded_rows,
        "machine": facts.machine_json(),
    }));
    append_json_lines(Path::new(RESULTS), &lines)?;
    println!("\nAppended {} lines to {RESULTS}", lines.len());
    bench.stop().await
}

/// Appends one JSON document a line to `path`, creating it and its folder if need be.
pub(crate) fn append_json_lines(path: &Path, lines: &[serde_json::Value]) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    for line in lines {
        writeln!(file, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> RunFacts {
        RunFacts {
            date: "2026-11-25T14:30:00Z".into(),
            scale: "district".into(),
            seed: 2026,
            nproc: 2,
            mem_total_kib: Some(24_684_084),
            postgres: "15.18".into(),
            profile: "dev",
        }
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(410_742), "410,742");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }

    #[test]
    fn table_has_a_row_per_measurement() {
        let rows = [
            Measurement {
                benchmark: "ours".into(),
                rows: 1_000,
                seconds: 2.0,
                ratio_to_peer: Some(0.25),
            },
            Measurement {
                benchmark: "peer".into(),
                rows: 4_000,
                seconds: 2.0,
                ratio_to_peer: None,
            },
        ];
        let table = format_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "| benchmark | rows | seconds | rows/s | ratio to psql \\copy |");
        assert_eq!(lines[2], "| ours | 1,000 | 2.00 | 500 | 0.25 |");
        assert_eq!(lines[3], "| peer | 4,000 | 2.00 | 2,000 | – |");
    }

    #[test]
    fn json_line_carries_the_run_facts() {
        let m = Measurement {
            benchmark: "peer".into(),
            rows: 10,
            seconds: 0.5,
            ratio_to_peer: Some(1.0),
        };
        let line = json_line(&facts(), &m).to_string();
        assert!(!line.contains('\n'), "one line per measurement");
        let v: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(v["bench"], "load");
        assert_eq!(v["date"], "2026-11-25T14:30:00Z");
        assert_eq!(v["scale"], "district");
        assert_eq!(v["seed"], 2026);
        assert_eq!(v["rows"], 10);
        assert_eq!(v["rows_per_s"], 20.0);
        assert_eq!(v["ratio_to_psql_copy"], 1.0);
        assert_eq!(v["machine"]["nproc"], 2);
        assert_eq!(v["machine"]["mem_total_kib"], 24_684_084);
        assert_eq!(v["machine"]["postgres"], "15.18");
        let none = Measurement { ratio_to_peer: None, ..m };
        assert!(json_line(&facts(), &none)["ratio_to_psql_copy"].is_null());
    }

    #[test]
    fn meminfo_total_is_read_in_kib() {
        let text = "MemTotal:       24684084 kB\nMemFree:         1000 kB\n";
        assert_eq!(mem_total_kib(text), Some(24_684_084));
        assert_eq!(mem_total_kib("nothing here"), None);
    }

    #[test]
    fn zero_seconds_gives_no_rate() {
        let m = Measurement { benchmark: "x".into(), rows: 5, seconds: 0.0, ratio_to_peer: None };
        assert_eq!(m.rows_per_second(), 0.0);
    }
}
