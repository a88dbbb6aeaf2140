//! `oneclass bench cdc`: ingest's throughput and lag against a seeded private cluster, in three
//! phases, with `pg_recvlogical` as the peer of the catch-up phase, then the cost of folding
//! the marks' pending changes (a large silver table takes its changes as pending rows).
//!
//! 1. **snapshot**: ingest (in this process) from an empty lake until every published table's
//!    silver layer records the slot's consistent point; rows/s = published rows ÷ seconds.
//! 2. **steady state**: writers issue attendance-mark writes at a target rate, 10 writes a
//!    transaction, in one of two mixes: `registers` (the school day: 9 new marks of learners of
//!    one class for a new day, and 1 correction of a mark written earlier in the run) or
//!    `history` (9 status updates of random marks of the seeded history, 1 new mark: random
//!    pages of the whole table). The new mark of every 10th transaction is a sample, its commit
//!    time taken when `COMMIT` returns, and a poller reads silver (DataFusion over the Delta
//!    table with its pending changes on top, among the rows written after the snapshot; the
//!    tables kept open and brought up to date at each poll, one partition) until the row is
//!    there: commit → visible lag.
//! 3. **catch-up**: a checkpoint, and ingest left running until its slot's restart point has
//!    passed it (so that both slots decode from the same place); ingest stopped, a second slot
//!    created, a backlog written (status updates of random marks, 100 a transaction); the WAL
//!    read once before each drain (both start with it in the page cache); then ingest drains its slot (until silver records the backlog's last
//!    commit), and `pg_recvlogical` drains the second slot to the same end position.
//! 4. **fold**: with ingest stopped, the marks' pending rows are folded into the table (one
//!    MERGE), timed.

use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use deltalake::arrow::array::{Array, AsArray};
use deltalake::datafusion::prelude::SessionContext;
use oneclass_core::db;
use oneclass_ingest::{IngestConfig, SILVER, recorded_lsn, silver_lsn};
use rand::Rng;
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::common::{BenchCluster, RunFacts, append_json_lines, server_version, thousands};
use crate::percentiles::Percentiles;

const RESULTS: &str = "bench/results/cdc.jsonl";
const WRITES_PER_TXN: u64 = 10;
const BACKLOG_WRITES_PER_TXN: usize = 100;
/// Every this many transactions, the transaction's new mark is a lag sample (every 100th write).
const SAMPLE_EVERY_TXN: u64 = 10;
const WRITERS: u64 = 8;
/// Recent marks of the run a registers transaction may correct.
const RECENT: usize = 10_000;
const PEER_SLOT: &str = "oneclass_bench_peer";
const TIMEOUT: Duration = Duration::from_secs(1800);
const STATUSES: [&str; 4] = ["present", "absent", "late", "excused"];

const SNAPSHOT_TARGET: f64 = 100_000.0;
const CATCH_UP_TARGET: f64 = 0.5;
const STEADY_TARGET_RATE: f64 = 5_000.0;
const STEADY_TARGET_P99: f64 = 5.0;
const SUSTAINED_FRACTION: f64 = 0.99;

pub struct CdcOptions {
    pub scale: oneclass_synth::Scale,
    pub seed: u64,
    /// Target writes/s of the steady-state phase, one run each (for each mix).
    pub rates: Vec<u64>,
    /// Write mixes of the steady-state phase.
    pub mixes: Vec<Mix>,
    pub seconds: u64,
    /// Changes written while ingest is stopped.
    pub backlog: u64,
}

/// The steady-state write mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// Registers being marked: new marks of learners of one class for a new day, and a
    /// correction of a mark written earlier in the run.
    Registers,
    /// Status updates of random marks of the seeded history (and one new mark).
    History,
}

impl Mix {
    pub fn name(self) -> &'static str {
        match self {
            Mix::Registers => "registers",
            Mix::History => "history",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Mix::Registers => {
                "9 new marks of one class for a new day, 1 correction of a mark of the run"
            }
            Mix::History => "9 status updates of random seeded marks, 1 new mark",
        }
    }
}

impl std::str::FromStr for Mix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "registers" => Ok(Mix::Registers),
            "history" => Ok(Mix::History),
            other => Err(format!("unknown mix {other:?} (registers or history)")),
        }
    }
}

/// A new mark: (id, school, learner, class, date).
type NewMark = (Uuid, Uuid, Uuid, Option<Uuid>, chrono::NaiveDate);

/// What the writers draw from.
struct Universe {
    marks: Vec<Uuid>,
    /// Registers' parts: 9 learners (school, class, learner) of a class, or of two classes
    /// one after the other.
    groups: Vec<Vec<(Uuid, Uuid, Uuid)>>,
    /// New marks so far (learner × far-future date stays unique).
    inserted: AtomicU64,
    /// Registers written so far (group × far-future day stays unique).
    registers: AtomicU64,
    /// Marks written in this run, newest last.
    recent: std::sync::Mutex<std::collections::VecDeque<Uuid>>,
}

impl Universe {
    fn far_day(n: u64) -> chrono::NaiveDate {
        let base = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap_or_default();
        base + chrono::Days::new(n)
    }

    /// One new mark of a learner for a day no other new mark of theirs has.
    fn new_mark(&self) -> NewMark {
        let n = self.inserted.fetch_add(1, Ordering::Relaxed);
        let len = self.groups.len().max(1) as u64;
        let group = &self.groups[usize::try_from(n % len).unwrap_or(0)];
        // The group's first learner, on days after every register's (a register day is below
        // `registers / groups`, and these run from 100 years on).
        let (school, class, learner) = group.first().copied().unwrap_or_default();
        (Uuid::now_v7(), school, learner, Some(class), Self::far_day(36_500 + n / len))
    }

    /// The next register: a group of one class, each learner's mark for the group's next day.
    fn register(&self) -> Vec<NewMark> {
        let n = self.registers.fetch_add(1, Ordering::Relaxed);
        let len = self.groups.len().max(1) as u64;
        let group = &self.groups[usize::try_from(n % len).unwrap_or(0)];
        let day = Self::far_day(n / len);
        group
            .iter()
            .map(|&(school, class, l)| (Uuid::now_v7(), school, l, Some(class), day))
            .collect()
    }

    fn remember(&self, ids: impl IntoIterator<Item = Uuid>) {
        if let Ok(mut recent) = self.recent.lock() {
            recent.extend(ids);
            while recent.len() > RECENT {
                recent.pop_front();
            }
        }
    }

    fn recent_mark(&self) -> Option<Uuid> {
        let recent = self.recent.lock().ok()?;
        if recent.is_empty() {
            return None;
        }
        recent.get(rand::thread_rng().gen_range(0..recent.len())).copied()
    }

    fn random_updates(&self, n: usize) -> (Vec<Uuid>, Vec<String>) {
        let mut rng = rand::thread_rng();
        let mut ids = Vec::with_capacity(n);
        while ids.len() < n {
            let id = self.marks[rng.gen_range(0..self.marks.len())];
            // Distinct within a statement: one UPDATE … FROM cannot update a row twice.
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        (ids, random_statuses(n))
    }
}

fn random_statuses(n: usize) -> Vec<String> {
    let mut rng = rand::thread_rng();
    (0..n).map(|_| STATUSES[rng.gen_range(0..STATUSES.len())].to_string()).collect()
}

/// Writes one steady-state transaction of `mix`; returns the writes and the id of a new mark.
async fn write_txn(pool: &PgPool, universe: &Universe, mix: Mix) -> anyhow::Result<(u64, Uuid)> {
    let (marks, updates) = match mix {
        Mix::Registers => {
            let marks = universe.register();
            let correction = universe.recent_mark();
            let n = correction.map_or(0, |_| 1);
            (marks, (correction.into_iter().collect::<Vec<_>>(), random_statuses(n)))
        }
        Mix::History => {
            (vec![universe.new_mark()], universe.random_updates((WRITES_PER_TXN - 1) as usize))
        }
    };
    let sample = marks.first().map(|m| m.0).context("an empty register")?;
    let mut t = pool.begin().await?;
    if !updates.0.is_empty() {
        update_marks(&updates.0, &updates.1).execute(&mut *t).await?;
    }
    let ids: Vec<Uuid> = marks.iter().map(|m| m.0).collect();
    let schools: Vec<Uuid> = marks.iter().map(|m| m.1).collect();
    let learners: Vec<Uuid> = marks.iter().map(|m| m.2).collect();
    let classes: Vec<Option<Uuid>> = marks.iter().map(|m| m.3).collect();
    let dates: Vec<chrono::NaiveDate> = marks.iter().map(|m| m.4).collect();
    sqlx::query!(
        "INSERT INTO attendance.daily_marks (id, school_id, learner_id, class_id, date, status)
         SELECT id, school, learner, class, day, 'present'
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::date[])
              AS v(id, school, learner, class, day)",
        &ids,
        &schools,
        &learners,
        &classes as &[Option<Uuid>],
        &dates,
    )
    .execute(&mut *t)
    .await?;
    t.commit().await?;
    let writes = (ids.len() + updates.0.len()) as u64;
    if mix == Mix::Registers {
        universe.remember(ids);
    }
    Ok((writes, sample))
}

/// Sets the status of the marks `ids` (one statement for the lot).
fn update_marks<'q>(
    ids: &'q [Uuid],
    statuses: &'q [String],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query!(
        "UPDATE attendance.daily_marks AS m SET status = v.s
         FROM unnest($1::uuid[], $2::text[]) AS v(id, s) WHERE m.id = v.id",
        ids,
        statuses,
    )
}

async fn published(pool: &PgPool) -> anyhow::Result<Vec<(String, String, u64)>> {
    let tables =
        oneclass_lake::published_tables(&mut *pool.acquire().await?, db::PUBLICATION).await?;
    let mut out = Vec::new();
    for oneclass_lake::PublishedTable { schema, table, .. } in tables {
        // Names from the catalog, quoted.
        // A table named at run time: its text is built here, not checked at compile time.
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{schema}\".\"{table}\""))
            .fetch_one(pool)
            .await?;
        out.push((schema, table, u64::try_from(n).unwrap_or(0)));
    }
    Ok(out)
}

fn check_ingest(
    ingest: &JoinHandle<Result<(), oneclass_ingest::IngestError>>,
) -> anyhow::Result<()> {
    anyhow::ensure!(!ingest.is_finished(), "ingest stopped on its own");
    Ok(())
}

/// silver.attendance.daily_marks as a long-running reader keeps it: its table and pending table
/// opened once, brought up to date before each read (pending first, as readers load them).
struct SilverWatch {
    url: url::Url,
    base: Option<deltalake::DeltaTable>,
    pending: Option<deltalake::DeltaTable>,
    ctx: SessionContext,
}

impl SilverWatch {
    fn new(lake: &url::Url) -> Self {
        // One partition: the poll is the instrument, and should leave the cores to what it
        // measures.
        let config = deltalake::datafusion::prelude::SessionConfig::new().with_target_partitions(1);
        Self {
            url: oneclass_lake::table_url(lake, oneclass_lake::SILVER, "attendance", "daily_marks"),
            base: None,
            pending: None,
            ctx: SessionContext::new_with_config(config),
        }
    }

    async fn refresh(&mut self) -> anyhow::Result<()> {
        let options = Default::default();
        match self.pending.as_mut() {
            Some(p) => p.update_incremental(None).await?,
            None => self.pending = oneclass_lake::open_pending(&self.url, &options).await?,
        }
        match self.base.as_mut() {
            Some(b) => b.update_incremental(None).await?,
            None => self.base = Some(oneclass_lake::open_table(&self.url, &options).await?),
        }
        Ok(())
    }

    /// Ids of `wanted` that silver holds now, among the rows written after the snapshot (`_lsn`
    /// above `since`): a sampled mark is always one, and the filter lets the scan skip the
    /// snapshot's files by their statistics instead of reading every id of the table.
    async fn visible(&mut self, since: i64, wanted: &[Uuid]) -> anyhow::Result<Vec<Uuid>> {
        self.refresh().await?;
        let base = self.base.as_ref().context("silver attendance.daily_marks is missing")?;
        let provider = oneclass_lake::silver::silver_provider(base, self.pending.as_ref()).await?;
        use deltalake::datafusion::prelude::{col, lit};
        let list = wanted.iter().map(|u| lit(u.to_string())).collect();
        let batches = self
            .ctx
            .read_table(provider)?
            .filter(col("_lsn").gt(lit(since)).and(col("id").in_list(list, false)))?
            .select_columns(&["id"])?
            .collect()
            .await?;
        let mut out = Vec::new();
        for b in &batches {
            let col = b.column(0);
            let strings: Vec<Option<String>> = if let Some(a) = col.as_string_opt::<i32>() {
                a.iter().map(|s| s.map(str::to_string)).collect()
            } else if let Some(a) = col.as_string_view_opt() {
                a.iter().map(|s| s.map(str::to_string)).collect()
            } else {
                anyhow::bail!("silver id column is {:?}", col.data_type());
            };
            out.extend(strings.into_iter().flatten().filter_map(|s| s.parse::<Uuid>().ok()));
        }
        Ok(out)
    }
}

struct SteadyResult {
    mix: Mix,
    target: u64,
    writes: u64,
    seconds: f64,
    /// Commit-to-silver lag of each sample seen, seconds.
    lags: Vec<f64>,
    lost: usize,
    polls: u64,
    poll_seconds: f64,
}

impl SteadyResult {
    fn lag(&self) -> Percentiles {
        Percentiles::of_seconds(self.lags.iter().copied())
    }
}

/// Writers at `rate` writes/s for `seconds`, and a poller timing each sample into silver.
#[allow(clippy::too_many_arguments)]
async fn steady(
    pool: &PgPool,
    universe: &Arc<Universe>,
    watch: &mut SilverWatch,
    since: i64,
    mix: Mix,
    rate: u64,
    seconds: u64,
    ingest: &JoinHandle<Result<(), oneclass_ingest::IngestError>>,
) -> anyhow::Result<SteadyResult> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Uuid, Instant)>();
    let txn_rate = (rate as f64 / WRITES_PER_TXN as f64).max(0.001);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let next_txn = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let (pool, universe, tx, next_txn) =
            (pool.clone(), universe.clone(), tx.clone(), next_txn.clone());
        writers.push(tokio::spawn(async move {
            let mut writes = 0u64;
            loop {
                let k = next_txn.fetch_add(1, Ordering::Relaxed);
                let due = started + Duration::from_secs_f64(k as f64 / txn_rate);
                if due >= deadline {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                let (n, id) = write_txn(&pool, &universe, mix).await?;
                let committed = Instant::now();
                writes += n;
                if k.is_multiple_of(SAMPLE_EVERY_TXN) {
                    let _ = tx.send((id, committed));
                }
            }
            anyhow::Ok((writes, Instant::now()))
        }));
    }
    drop(tx);

    let mut pending: HashMap<Uuid, Instant> = HashMap::new();
    let mut lags = Vec::new();
    let (mut polls, mut poll_seconds) = (0u64, 0.0f64);
    let mut senders_done = false;
    let mut give_up: Option<Instant> = None;
    loop {
        while let Ok((id, at)) = rx.try_recv() {
            pending.insert(id, at);
        }
        if !senders_done && rx.is_closed() && rx.is_empty() {
            senders_done = true;
            give_up = Some(Instant::now() + Duration::from_secs(120));
        }
        if senders_done && pending.is_empty() {
            break;
        }
        if give_up.is_some_and(|t| Instant::now() > t) {
            break;
        }
        check_ingest(ingest)?;
        if pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let wanted: Vec<Uuid> = pending.keys().copied().collect();
        let poll_started = Instant::now();
        let found = watch.visible(since, &wanted).await?;
        let seen_at = Instant::now();
        polls += 1;
        poll_seconds += seen_at.duration_since(poll_started).as_secs_f64();
        for id in found {
            if let Some(at) = pending.remove(&id) {
                // Visible no later than when the poll that found it returned.
                lags.push(seen_at.duration_since(at).as_secs_f64());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut writes = 0;
    let mut ended = started;
    for w in writers {
        let (n, at) = w.await??;
        writes += n;
        ended = ended.max(at);
    }
    Ok(SteadyResult {
        mix,
        target: rate,
        writes,
        seconds: ended.duration_since(started).as_secs_f64(),
        lags,
        lost: pending.len(),
        polls,
        poll_seconds,
    })
}

/// Writes `total` status updates, `BACKLOG_WRITES_PER_TXN` a transaction, on `WRITERS`
/// connections; then one last single-row transaction, alone, whose commit LSN is at or above the
/// returned position. Returns (changes written, seconds, that position).
async fn backlog(
    pool: &PgPool,
    universe: &Arc<Universe>,
    total: u64,
) -> anyhow::Result<(u64, f64, i64)> {
    let started = Instant::now();
    let txns = total.div_ceil(BACKLOG_WRITES_PER_TXN as u64);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..WRITERS {
        let (pool, universe, next) = (pool.clone(), universe.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut written = 0u64;
            while next.fetch_add(1, Ordering::Relaxed) < txns {
                let (ids, statuses) = universe.random_updates(BACKLOG_WRITES_PER_TXN);
                let done = update_marks(&ids, &statuses).execute(&pool).await?;
                written += done.rows_affected();
            }
            anyhow::Ok(written)
        }));
    }
    let mut written = 0;
    for t in tasks {
        written += t.await??;
    }
    let (ids, statuses) = universe.random_updates(1);
    let mut t = pool.begin().await?;
    written += update_marks(&ids, &statuses).execute(&mut *t).await?.rows_affected();
    let before_commit: i64 = sqlx::query_scalar!(
        r#"SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::int8 AS "lsn!""#
    )
    .fetch_one(&mut *t)
    .await?;
    t.commit().await?;
    Ok((written, started.elapsed().as_secs_f64(), before_commit))
}

/// Reads every WAL segment once, so that each drain of the catch-up starts with the WAL in the
/// page cache: whichever ran second would otherwise find it there, read by the first, while
/// the first read it from disk (at national scale the database is larger than memory).
async fn warm(wal_dir: &std::path::Path) -> anyhow::Result<()> {
    let dir = wal_dir.to_path_buf();
    let started = Instant::now();
    let bytes = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        use std::io::Read;
        let mut total = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if !path.is_file() {
                continue;
            }
            let mut f = std::fs::File::open(&path)?;
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
        }
        Ok(total)
    })
    .await??;
    eprintln!(
        "  WAL read into the page cache: {} MiB in {:.1} s",
        bytes >> 20,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn pg_recvlogical() -> anyhow::Result<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|p| p.join("pg_recvlogical")).find(|p| p.is_file())
    }) {
        return Ok(path);
    }
    let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/pg_recvlogical"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop().context("pg_recvlogical not found (install the PostgreSQL client)")
}

fn lsn_text(v: i64) -> String {
    let v = u64::try_from(v).unwrap_or(0);
    format!("{:X}/{:X}", v >> 32, v & 0xFFFF_FFFF)
}

pub async fn cdc(opts: CdcOptions) -> anyhow::Result<()> {
    let recvlogical = pg_recvlogical()?;
    let bench = BenchCluster::start().await?;
    let pool = db::pool(&bench.url, 8).await?;
    let facts = RunFacts::gather(opts.scale, opts.seed, server_version(&pool).await?);
    let params = oneclass_synth::params_for(opts.scale, opts.seed, chrono::Utc::now().date_naive());
    eprintln!("Seeding at {} scale …", facts.scale);
    oneclass_synth::seed(&pool, &params).await.context("seeding")?;
    let tables = published(&pool).await?;
    let published_rows: u64 = tables.iter().map(|t| t.2).sum();

    let lake = bench.lake_url()?;
    let source = bench.cdc_source();
    // As oneclass::app::ingest_config builds it: defaults, a slot per database.
    let mut cfg = IngestConfig::new(source, lake.clone());
    // The lake maintenance settings of the environment, as `oneclass serve` reads them.
    oneclass::config::RawSettings::load()?.ingest()?.apply(&mut cfg);
    if let Some(every) = cfg.maintenance_interval {
        eprintln!(
            "Lake maintenance every {} s, time travel {} s",
            every.as_secs(),
            cfg.time_travel.as_secs()
        );
    }

    eprintln!(
        "Silver tables from {} rows take changes into pending tables, folded in at {} rows or {} s idle",
        thousands(cfg.pending_above_rows),
        thousands(cfg.fold_rows),
        cfg.fold_idle.as_secs()
    );

    // 1. Snapshot.
    eprintln!("Snapshot of {} rows in {} tables …", thousands(published_rows), tables.len());
    let token = CancellationToken::new();
    let started = Instant::now();
    let ingest = tokio::spawn(oneclass_ingest::run(cfg.clone(), token.clone()));
    for (schema, table, _) in &tables {
        while recorded_lsn(&lake, &cfg.storage_options, SILVER, schema, table).await?.is_none() {
            check_ingest(&ingest)?;
            anyhow::ensure!(started.elapsed() < TIMEOUT, "snapshot did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let snapshot_seconds = started.elapsed().as_secs_f64();
    let snapshot_rate = published_rows as f64 / snapshot_seconds;
    eprintln!("Snapshot: {snapshot_seconds:.2} s");
    let since = recorded_lsn(&lake, &cfg.storage_options, SILVER, "attendance", "daily_marks")
        .await?
        .context("silver attendance.daily_marks records no snapshot")?;

    // 2. Steady state.
    let marks: Vec<Uuid> =
        sqlx::query_scalar!("SELECT id FROM attendance.daily_marks").fetch_all(&pool).await?;
    // The current year's learners, class by class, in groups of 9 (one register's part).
    let enrolled: Vec<(Uuid, Uuid, Uuid)> = sqlx::query!(
        r#"SELECT school_id, class_id AS "class_id!", learner_id FROM sis.enrolments
           WHERE end_date IS NULL AND class_id IS NOT NULL
             AND academic_year = (SELECT max(academic_year) FROM sis.enrolments)
           ORDER BY class_id, learner_id"#,
    )
    .fetch_all(&pool)
    .await?
    .into_iter()
    .map(|r| (r.school_id, r.class_id, r.learner_id))
    .collect();
    let groups: Vec<Vec<(Uuid, Uuid, Uuid)>> =
        enrolled.chunks((WRITES_PER_TXN - 1) as usize).map(<[_]>::to_vec).collect();
    anyhow::ensure!(marks.len() >= 1000 && !groups.is_empty(), "the seed left too few marks");
    let universe = Arc::new(Universe {
        marks,
        groups,
        inserted: AtomicU64::new(0),
        registers: AtomicU64::new(0),
        recent: Default::default(),
    });
    let mut watch = SilverWatch::new(&lake);
    let mut steady_results = Vec::new();
    for &mix in &opts.mixes {
        for &rate in &opts.rates {
            eprintln!(
                "Steady state, {} mix, at {rate} writes/s for {} s …",
                mix.name(),
                opts.seconds
            );
            let r = steady(&pool, &universe, &mut watch, since, mix, rate, opts.seconds, &ingest)
                .await?;
            eprintln!(
                "  achieved {:.0} writes/s, {} samples, p50 {:?} s, p99 {:?} s",
                r.writes as f64 / r.seconds,
                r.lags.len(),
                r.lag().seconds(50.0),
                r.lag().seconds(99.0)
            );
            steady_results.push(r);
        }
    }

    // Both slots of the catch-up start decoding at the same place: ingest's restart point (the
    // WAL the server decodes again on a restart) past a checkpoint's running-transactions
    // record, as a new slot's is.
    let before =
        sqlx::query_scalar!(r#"SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8 AS "lsn!""#)
            .fetch_one(&pool)
            .await?;
    sqlx::query!("CHECKPOINT").execute(&pool).await?;
    let waited = Instant::now();
    loop {
        let restart: Option<i64> = sqlx::query_scalar!(
            "SELECT (restart_lsn - '0/0'::pg_lsn)::int8 AS restart
               FROM pg_replication_slots WHERE slot_name = $1",
            cfg.slot,
        )
        .fetch_optional(&pool)
        .await?
        .flatten();
        if restart.is_some_and(|r| r >= before) {
            break;
        }
        check_ingest(&ingest)?;
        if waited.elapsed() > Duration::from_secs(120) {
            eprintln!("  ingest's slot restart point did not pass the checkpoint in 120 s");
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // 3. Catch-up.
    token.cancel();
    ingest.await?.context("ingest")?;
    sqlx::query!("SELECT pg_create_logical_replication_slot($1, 'pgoutput') AS slot", PEER_SLOT)
        .fetch_one(&pool)
        .await
        .context("creating the peer's slot")?;
    eprintln!("Ingest stopped; writing a backlog of {} changes …", thousands(opts.backlog));
    let (backlog_changes, backlog_seconds, last_commit_at_least) =
        backlog(&pool, &universe, opts.backlog).await?;
    let end_lsn =
        sqlx::query_scalar!(r#"SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8 AS "lsn!""#)
            .fetch_one(&pool)
            .await?;
    let wal_bytes = sqlx::query_scalar!(
        r#"SELECT (pg_current_wal_lsn() - restart_lsn)::int8 AS "bytes!"
             FROM pg_replication_slots WHERE slot_name = $1"#,
        PEER_SLOT,
    )
    .fetch_one(&pool)
    .await?;
    eprintln!("Backlog written in {backlog_seconds:.1} s ({} MiB of WAL)", wal_bytes >> 20);
    let slots: Vec<(String, i64, i64)> = sqlx::query!(
        r#"SELECT slot_name::text AS "slot!", (pg_current_wal_lsn() - restart_lsn)::int8 AS "restart!",
                  (pg_current_wal_lsn() - confirmed_flush_lsn)::int8 AS "confirmed!"
             FROM pg_replication_slots"#,
    )
    .fetch_all(&pool)
    .await?
    .into_iter()
    .map(|r| (r.slot, r.restart, r.confirmed))
    .collect();
    for (slot, restart, confirmed) in &slots {
        eprintln!(
            "  slot {slot}: restart {} MiB behind, confirmed {} MiB behind",
            restart >> 20,
            confirmed >> 20
        );
    }
    let wal_dir = bench.dir().join("pg").join("pg_wal");
    warm(&wal_dir).await?;
    eprintln!("Ingest catching up …");

    let token = CancellationToken::new();
    let started = Instant::now();
    let ingest = tokio::spawn(oneclass_ingest::run(cfg.clone(), token.clone()));
    loop {
        // Applied: in the table or in its pending changes.
        let v = silver_lsn(&lake, &cfg.storage_options, "attendance", "daily_marks").await?;
        if v.is_some_and(|v| v >= last_commit_at_least) {
            break;
        }
        check_ingest(&ingest)?;
        anyhow::ensure!(started.elapsed() < TIMEOUT, "ingest did not catch up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ours_seconds = started.elapsed().as_secs_f64();
    token.cancel();
    ingest.await?.context("ingest")?;

    warm(&wal_dir).await?;
    eprintln!("pg_recvlogical draining the same changes …");
    let started = Instant::now();
    let out = tokio::process::Command::new(&recvlogical)
        .args(["-h", "127.0.0.1", "-p"])
        .arg(bench.cluster.port().to_string())
        .args(["-U", db::CDC_ROLE, "-d", crate::common::DATABASE, "--start", "-S", PEER_SLOT])
        .args(["-f", "/dev/null", "--no-loop", "-E"])
        .arg(lsn_text(end_lsn))
        .args(["-o", "proto_version=1", "-o"])
        .arg(format!("publication_names={}", db::PUBLICATION))
        .env("PGPASSWORD", bench.passwords.cdc.expose_secret())
        .output()
        .await
        .context("running pg_recvlogical")?;
    let peer_seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        out.status.success(),
        "pg_recvlogical failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let _ = sqlx::query!("SELECT pg_drop_replication_slot($1) AS dropped", PEER_SLOT)
        .fetch_one(&pool)
        .await;
    pool.close().await;

    // 4. What the marks' pending changes cost to fold in (ingest stopped; not a target).
    eprintln!("Folding the pending changes of silver attendance.daily_marks …");
    let started = Instant::now();
    let folded = oneclass_ingest::fold_silver(&cfg, "attendance", "daily_marks").await?;
    let fold_seconds = started.elapsed().as_secs_f64();

    let ours_rate = backlog_changes as f64 / ours_seconds;
    let peer_rate = backlog_changes as f64 / peer_seconds;
    let ratio = ours_rate / peer_rate;

    // The table.
    let yes = |b: bool| if b { "yes" } else { "**no**" };
    println!(
        "\nCDC throughput and lag, {} scale, seed {} ({} build, PostgreSQL {}, {} CPUs)\n",
        facts.scale, facts.seed, facts.profile, facts.postgres, facts.nproc
    );
    println!("| phase | changes | seconds | changes/s | p50 lag | p99 lag | target | met |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |");
    println!(
        "| snapshot ({} tables) | {} rows | {:.2} | {} | – | – | ≥ 100,000 rows/s | {} |",
        tables.len(),
        thousands(published_rows),
        snapshot_seconds,
        thousands(snapshot_rate.round() as u64),
        yes(snapshot_rate >= SNAPSHOT_TARGET)
    );
    let mut lines = vec![json!({
        "bench": "cdc", "phase": "snapshot", "date": facts.date, "scale": facts.scale,
        "seed": facts.seed, "rows": published_rows, "tables": tables.len(),
        "seconds": snapshot_seconds, "rows_per_s": snapshot_rate, "machine": facts.machine_json(),
    })];
    for r in &steady_results {
        let achieved = r.writes as f64 / r.seconds;
        let lag = r.lag();
        let (p50, p99) = (lag.seconds(50.0), lag.seconds(99.0));
        let fmt = |v: Option<f64>| v.map_or_else(|| "–".into(), |v| format!("{v:.2} s"));
        let target = r.target as f64 >= STEADY_TARGET_RATE;
        // The writers offer exactly the target rate (rate × seconds writes), so the achieved
        // rate is at most the target: within 1 % of it counts as sustained.
        let met = achieved >= STEADY_TARGET_RATE * SUSTAINED_FRACTION
            && p99.is_some_and(|p| p < STEADY_TARGET_P99)
            && r.lost == 0;
        println!(
            "| steady, {} mix, target {} writes/s ({} samples{}) | {} | {:.1} | {} | {} | {} | {} | {} |",
            r.mix.name(),
            thousands(r.target),
            r.lags.len(),
            if r.lost > 0 { format!(", {} never seen", r.lost) } else { String::new() },
            thousands(r.writes),
            r.seconds,
            thousands(achieved.round() as u64),
            fmt(p50),
            fmt(p99),
            if target {
                "≥ 5,000 changes/s (99 % of the offered rate), p99 < 5 s"
            } else {
                "–"
            },
            if target { yes(met) } else { "–" }
        );
        lines.push(json!({
            "bench": "cdc", "phase": "steady", "date": facts.date, "scale": facts.scale,
            "seed": facts.seed, "mix": r.mix.name(), "writers": WRITERS, "target_writes_per_s": r.target, "writes": r.writes,
            "seconds": r.seconds, "writes_per_s": achieved, "writes_per_txn": WRITES_PER_TXN,
            "samples": r.lags.len(), "lost": r.lost, "lag_p50_s": p50, "lag_p99_s": p99,
            "lag_max_s": r.lags.iter().copied().reduce(f64::max), "polls": r.polls,
            "mean_poll_s": if r.polls > 0 { r.poll_seconds / r.polls as f64 } else { 0.0 },
            "machine": facts.machine_json(),
        }));
    }
    println!(
        "| catch-up, oneclass ingest | {} | {:.2} | {} | – | – | ≥ 0.5 × pg_recvlogical | {} ({:.2}) |",
        thousands(backlog_changes),
        ours_seconds,
        thousands(ours_rate.round() as u64),
        yes(ratio >= CATCH_UP_TARGET),
        ratio
    );
    println!(
        "| catch-up, pg_recvlogical (peer) | {} | {:.2} | {} | – | – | – | – |",
        thousands(backlog_changes),
        peer_seconds,
        thousands(peer_rate.round() as u64)
    );
    if folded > 0 {
        println!(
            "| fold of the marks' pending changes (one MERGE, ingest stopped) | {} rows | {:.2} | {} | – | – | – | – |",
            thousands(folded),
            fold_seconds,
            thousands((folded as f64 / fold_seconds).round() as u64)
        );
    }
    println!(
        "\nBacklog: {} changes in {} transactions, {:.1} MiB of WAL, written in {:.1} s. Steady-state \
         writes: {} a transaction, {} writer connections; lag polled through DataFusion over \
         silver (mean poll {:.0} ms).",
        thousands(backlog_changes),
        thousands(backlog_changes.div_ceil(BACKLOG_WRITES_PER_TXN as u64)),
        wal_bytes as f64 / f64::from(1u32 << 20),
        backlog_seconds,
        WRITES_PER_TXN,
        WRITERS,
        steady_results
            .iter()
            .map(|r| if r.polls > 0 { r.poll_seconds / r.polls as f64 } else { 0.0 })
            .fold(0.0, f64::max)
            * 1000.0
    );
    for mix in &opts.mixes {
        println!("Mix {}: {}.", mix.name(), mix.describe());
    }
    for (who, changes, seconds, rate) in [
        ("oneclass ingest", backlog_changes, ours_seconds, ours_rate),
        ("pg_recvlogical", backlog_changes, peer_seconds, peer_rate),
    ] {
        lines.push(json!({
            "bench": "cdc", "phase": "catch-up", "who": who, "date": facts.date,
            "scale": facts.scale, "seed": facts.seed, "changes": changes, "seconds": seconds,
            "changes_per_s": rate, "ratio_to_pg_recvlogical": rate / peer_rate,
            "writes_per_txn": BACKLOG_WRITES_PER_TXN, "wal_bytes": wal_bytes,
            "machine": facts.machine_json(),
        }));
    }
    if folded > 0 {
        lines.push(json!({
            "bench": "cdc", "phase": "fold", "date": facts.date, "scale": facts.scale,
            "seed": facts.seed, "rows": folded, "seconds": fold_seconds,
            "machine": facts.machine_json(),
        }));
    }
    append_json_lines(std::path::Path::new(RESULTS), &lines)?;
    println!("\nAppended {} lines to {RESULTS}", lines.len());
    bench.stop().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsn_text_form() {
        assert_eq!(lsn_text(0x16_B374_D848), "16/B374D848");
        assert_eq!(lsn_text(0), "0/0");
    }
}
