//! The bulk load, as pg_restore does it: rows first, then indexes, then constraints.
//!
//! 1. In one transaction: record in `platform.seed_state` that a seed has begun, write the
//!    definitions of the indexes, primary keys, unique constraints and foreign keys of the bulk
//!    tables to `platform.seed_deferred`, and drop them.
//! 2. Generate schools on every core (each school from its own random streams) and stream their
//!    rows as binary COPY over one connection per core.
//! 3. Rebuild: indexes in parallel, then primary keys and unique constraints on those indexes,
//!    then foreign keys added `NOT VALID` and validated in parallel, table by table. At the end
//!    every index and constraint exists and is valid, exactly as the migrations made them.
//! 4. Demo accounts and population, then `finished_at`.
//!
//! An error undoes everything at once; a crash leaves `seed_state` unfinished, and the next seed
//! (or [`undo_unfinished`]) empties the tables and restores what was recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use sqlx::{ConnectOptions, Connection, Executor};
use tokio::sync::{Mutex, mpsc};

use crate::calendar::Calendar;
use crate::copy::{Binary, pg_timestamp};
use crate::params::{SEEDED_TABLES, SeedParams, SeedSummary, SynthError};
use crate::school::{Chunk, Out, Stats, Table};
use crate::{guardians, plan, population, users};

/// Tables the seed does not write whose rows refer to rows it wrote (an analyst's saved queries,
/// sessions, invitations, examination entries, guardians, transfers, idempotency keys, teaching
/// assignments, rooms, timetables, refunds, receipt numbers, Paynow transactions, announcements,
/// fees and what is made from them, BEAM remittances, messages, support actions):
/// emptied with
/// them when an unfinished seed is undone, since TRUNCATE refuses a table that others still
/// reference.
const OF_SEEDED_ACCOUNTS: &[&str] = &[
    "platform.saved_queries",
    "platform.sessions",
    "platform.password_resets",
    "platform.invitations",
    "assessment.exam_entries",
    "platform.idempotency_keys",
    "sis.learner_guardians",
    "sis.guardians",
    "sis.transfers",
    "finance.paynow_transactions",
    "finance.refunds",
    "finance.receipt_numbers",
    "academic.lessons",
    "academic.periods",
    "academic.teaching",
    "academic.rooms",
    "comms.announcements",
    "finance.invoice_corrections",
    "finance.beam_remittances",
    "finance.fee_structures",
    "comms.messages",
    "sis.support_actions",
];

/// The tables whose indexes and constraints are set aside during the load.
fn bulk_tables() -> Vec<String> {
    Table::ALL.iter().map(|t| t.name().to_string()).collect()
}

async fn connect(opts: &PgConnectOptions) -> Result<PgConnection, SynthError> {
    // Index builds take seconds by design: no "slow statement" warnings for them.
    let opts = opts.clone().disable_statement_logging();
    let mut conn = PgConnection::connect_with(&opts).await?;
    conn.execute("SET synchronous_commit = off").await?;
    Ok(conn)
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8)
}

pub(crate) async fn seed(pool: &PgPool, p: &SeedParams) -> Result<SeedSummary, SynthError> {
    undo_unfinished(pool).await?;
    let opts = pool.connect_options();
    let mut conn = connect(&opts).await?;
    let occupied: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM platform.schools) OR EXISTS (SELECT 1 FROM platform.users)
               OR EXISTS (SELECT 1 FROM platform.seed_state) AS "occupied!""#,
    )
    .fetch_one(&mut conn)
    .await?;
    if occupied {
        return Err(SynthError::NotEmpty);
    }
    let cal = Calendar::load(&mut conn, p).await?;
    let stamp_date = chrono::NaiveDate::from_ymd_opt(p.academic_year, 1, 1)
        .ok_or(SynthError::NoTerm(p.academic_year))?;
    let stamp = pg_timestamp(stamp_date);

    set_aside(&mut conn, p.seed).await?;
    let started = Instant::now();
    let result = load(&opts, &mut conn, p, cal, stamp).await;
    let (mut summary, stats, schools) = match result {
        Ok(done) => done,
        Err(e) => {
            drop(conn);
            if let Err(undo) = undo_unfinished(pool).await {
                tracing::error!(error = %undo, "undoing the failed seed failed too");
            }
            return Err(e);
        }
    };
    summary.load_seconds = started.elapsed().as_secs_f64();
    let rebuilt = Instant::now();
    let finish = async {
        restore(&opts, cores()).await?;
        let mut tx = conn.begin().await?;
        let mut population_rows = Binary::new();
        population::population_rows(&stats.census, &schools, p, &mut population_rows);
        summary.rows += population_rows.rows() as u64;
        copy_binary(&mut tx, "ref.population", population::COLUMNS, population_rows.take().0)
            .await?;
        // The stream after the last school's.
        let mut ids = crate::params::Ids::for_stream(p.seed, schools.len() as u64 + 1);
        let stamp = stamp_date.and_time(chrono::NaiveTime::MIN).and_utc();
        summary.rows += guardians::seed_guardians(&mut tx, stamp).await?;
        summary.logins =
            users::seed_users(&mut tx, &mut ids, p, stamp, schools.first(), &stats.current_classes)
                .await?;
        let accounts: i64 = sqlx::query_scalar!(
            r#"SELECT (SELECT count(*) FROM platform.users)
                    + (SELECT count(*) FROM platform.memberships)
                    + (SELECT count(*) FROM academic.class_teachers) AS "accounts!""#,
        )
        .fetch_one(&mut *tx)
        .await?;
        summary.rows += accounts as u64;
        sqlx::query!("DELETE FROM platform.seed_deferred",).execute(&mut *tx).await?;
        sqlx::query!("UPDATE platform.seed_state SET finished_at = now()",)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        analyze(&opts).await
    };
    if let Err(e) = finish.await {
        if let Err(undo) = undo_unfinished(pool).await {
            tracing::error!(error = %undo, "undoing the failed seed failed too");
        }
        return Err(e);
    }
    summary.rebuild_seconds = rebuilt.elapsed().as_secs_f64();
    Ok(summary)
}

async fn copy_binary(
    conn: &mut PgConnection,
    table: &str,
    columns: &str,
    bytes: Vec<u8>,
) -> Result<(), SynthError> {
    let statement = format!("COPY {table} ({columns}) FROM STDIN (FORMAT binary)");
    let mut copy = conn.copy_in_raw(&statement).await?;
    copy.send(bytes).await?;
    copy.finish().await?;
    Ok(())
}

/// Schools first (small, on `conn`), then every school's rows: generators on blocking threads,
/// loaders on their own connections, joined by a bounded channel (backpressure, bounded memory).
async fn load(
    opts: &PgConnectOptions,
    conn: &mut PgConnection,
    p: &SeedParams,
    cal: Calendar,
    stamp: i64,
) -> Result<(SeedSummary, Stats, Vec<plan::School>), SynthError> {
    let mut register = Binary::new();
    let schools = plan::schools(p, stamp, &mut register);
    let mut rows = register.rows() as u64;
    copy_binary(
        conn,
        "platform.schools",
        "id, emis_code, name, province, district, level, ownership, location, created_at, \
         updated_at",
        register.take().0,
    )
    .await?;

    let n = cores();
    let (tx, rx) = mpsc::channel::<Chunk>(2 * n);
    let rx = Arc::new(Mutex::new(rx));
    let mut loaders = Vec::new();
    for _ in 0..n {
        let rx = Arc::clone(&rx);
        let mut conn = connect(opts).await?;
        loaders.push(tokio::spawn(async move {
            let mut rows = 0u64;
            loop {
                let chunk = { rx.lock().await.recv().await };
                let Some(chunk) = chunk else { break };
                rows += chunk.rows as u64;
                copy_binary(&mut conn, chunk.table.name(), chunk.table.columns(), chunk.bytes)
                    .await?;
            }
            Ok::<u64, SynthError>(rows)
        }));
    }

    let shared = Arc::new((p.clone(), cal, schools));
    let next = Arc::new(AtomicUsize::new(0));
    let mut generators = Vec::new();
    for _ in 0..n {
        let (shared, next, tx) = (Arc::clone(&shared), Arc::clone(&next), tx.clone());
        generators.push(tokio::task::spawn_blocking(move || {
            let (p, cal, schools) = &*shared;
            let mut send = |chunk: Chunk| {
                tx.blocking_send(chunk).map_err(|_| SynthError::Generator("loader stopped".into()))
            };
            let mut out = Out::new(&mut send);
            let mut mine: Vec<(usize, Stats)> = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(school) = schools.get(i) else { break };
                mine.push((i, crate::school::generate(p, cal, school, stamp, &mut out)?));
            }
            out.finish()?;
            Ok::<_, SynthError>(mine)
        }));
    }
    drop(tx);

    let mut failure: Option<SynthError> = None;
    let mut per_school: Vec<(usize, Stats)> = Vec::new();
    for g in generators {
        match g.await {
            Ok(Ok(mine)) => per_school.extend(mine),
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(e) => failure = failure.or(Some(SynthError::Generator(e.to_string()))),
        }
    }
    for l in loaders {
        match l.await {
            Ok(Ok(n)) => rows += n,
            // A loader's own error says more than the generators' "loader stopped".
            Ok(Err(e)) => failure = Some(e),
            Err(e) => failure = Some(SynthError::Generator(e.to_string())),
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    per_school.sort_by_key(|(i, _)| *i);
    let mut total = Stats::default();
    let mut summary = SeedSummary { schools: per_school.len(), ..Default::default() };
    for (i, s) in per_school {
        summary.learners += s.learners;
        summary.marks += s.marks;
        total.census.merge(s.census);
        if i == 0 {
            total.current_classes = s.current_classes;
        }
    }
    summary.rows = rows;
    let (_, _, schools) = Arc::try_unwrap(shared)
        .map_err(|_| SynthError::Generator("a generator outlived the load".into()))?;
    Ok((summary, total, schools))
}

/// Records and drops the indexes and constraints of the bulk tables, with `seed_state`, in one
/// transaction.
async fn set_aside(conn: &mut PgConnection, seed: u64) -> Result<(), SynthError> {
    let tables = bulk_tables();
    let mut tx = conn.begin().await?;
    sqlx::query!("INSERT INTO platform.seed_state (seed) VALUES ($1)", seed as i64,)
        .execute(&mut *tx)
        .await?;
    // Foreign keys from or to a bulk table; then primary keys and unique constraints; then the
    // remaining indexes. `ord` is the order of restoring.
    sqlx::query!(
        "INSERT INTO platform.seed_deferred
           (ord, kind, schema_name, table_name, name, constraint_name, definition)
         SELECT row_number() OVER (ORDER BY phase, table_name, name), kind, schema_name,
                table_name, name, constraint_name, definition
           FROM (
             SELECT 1 AS phase, 'index' AS kind, n.nspname AS schema_name,
                    format('%I.%I', n.nspname, t.relname) AS table_name, ic.relname AS name,
                    NULL::text AS constraint_name, pg_get_indexdef(i.indexrelid) AS definition
               FROM pg_index i
               JOIN pg_class ic ON ic.oid = i.indexrelid
               JOIN pg_class t ON t.oid = i.indrelid
               JOIN pg_namespace n ON n.oid = t.relnamespace
              WHERE i.indrelid = ANY ($1::text[]::regclass[])
                AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                                   AND c.contype IN ('p', 'u'))
             UNION ALL
             SELECT 1, CASE c.contype WHEN 'p' THEN 'primary_key' ELSE 'unique' END, n.nspname,
                    format('%I.%I', n.nspname, t.relname), ic.relname, c.conname,
                    pg_get_indexdef(c.conindid)
               FROM pg_constraint c
               JOIN pg_class ic ON ic.oid = c.conindid
               JOIN pg_class t ON t.oid = c.conrelid
               JOIN pg_namespace n ON n.oid = t.relnamespace
              WHERE c.contype IN ('p', 'u') AND c.conrelid = ANY ($1::text[]::regclass[])
             UNION ALL
             SELECT 2, 'foreign_key', n.nspname, format('%I.%I', n.nspname, t.relname),
                    c.conname, NULL, pg_get_constraintdef(c.oid)
               FROM pg_constraint c
               JOIN pg_class t ON t.oid = c.conrelid
               JOIN pg_namespace n ON n.oid = t.relnamespace
              WHERE c.contype = 'f' AND (c.conrelid = ANY ($1::text[]::regclass[])
                                         OR c.confrelid = ANY ($1::text[]::regclass[]))
           ) d",
        &tables,
    )
    .execute(&mut *tx)
    .await?;
    audit_triggers(&mut tx, false).await?;
    let deferred = read_deferred(&mut tx).await?;
    for d in deferred.iter().rev().filter(|d| d.kind == "foreign_key") {
        tx.execute(format!("ALTER TABLE {} DROP CONSTRAINT {}", d.table, ident(&d.name)).as_str())
            .await?;
    }
    for d in &deferred {
        match d.kind.as_str() {
            "primary_key" | "unique" => {
                let con = d.constraint_name.as_deref().unwrap_or(&d.name);
                tx.execute(
                    format!("ALTER TABLE {} DROP CONSTRAINT {}", d.table, ident(con)).as_str(),
                )
                .await?;
            }
            "index" => {
                tx.execute(format!("DROP INDEX {}.{}", ident(&d.schema), ident(&d.name)).as_str())
                    .await?;
            }
            _ => {}
        }
    }
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Deferred {
    kind: String,
    schema: String,
    table: String,
    name: String,
    constraint_name: Option<String>,
    definition: String,
}

async fn read_deferred(conn: &mut PgConnection) -> Result<Vec<Deferred>, SynthError> {
    Ok(sqlx::query_as!(
        Deferred,
        r#"SELECT kind, schema_name AS schema, table_name AS "table", name, constraint_name,
                  definition
           FROM platform.seed_deferred ORDER BY ord"#,
    )
    .fetch_all(conn)
    .await?)
}

/// A quoted identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs `jobs` over `workers` connections, largest first; each job is a list of statements run
/// in order on one connection.
async fn run_parallel(
    opts: &PgConnectOptions,
    workers: usize,
    jobs: Vec<Vec<String>>,
) -> Result<(), SynthError> {
    let queue = Arc::new(Mutex::new(jobs.into_iter()));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let queue = Arc::clone(&queue);
        let mut conn = connect(opts).await?;
        tasks.push(tokio::spawn(async move {
            conn.execute("SET maintenance_work_mem = '1GB'").await?;
            loop {
                let job = { queue.lock().await.next() };
                let Some(job) = job else { break };
                for statement in job {
                    conn.execute(statement.as_str()).await?;
                }
            }
            Ok::<(), SynthError>(())
        }));
    }
    let mut failure = None;
    for t in tasks {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(e) => failure = failure.or(Some(SynthError::Generator(e.to_string()))),
        }
    }
    failure.map_or(Ok(()), Err)
}

/// Puts back what [`set_aside`] recorded, skipping what already exists (a restore may itself
/// have been interrupted).
/// The audit's triggers on the bulk tables (`audit.record_change`, which records API writes
/// only): off while the seed loads, as pg_restore's `--disable-triggers` does (COPY would still
/// evaluate their condition for every row), on again when the indexes are restored, also after
/// a seed that stopped half-way.
async fn audit_triggers(conn: &mut PgConnection, enable: bool) -> Result<(), SynthError> {
    let tables = bulk_tables();
    let tracked: Vec<String> = sqlx::query_scalar!(
        r#"SELECT format('%I.%I', n.nspname, c.relname) AS "name!"
           FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE t.tgname = 'audit_change' AND t.tgrelid = ANY ($1::text[]::regclass[])
           ORDER BY 1"#,
        &tables,
    )
    .fetch_all(&mut *conn)
    .await?;
    let action = if enable { "ENABLE" } else { "DISABLE" };
    for table in tracked {
        conn.execute(format!("ALTER TABLE {table} {action} TRIGGER audit_change").as_str()).await?;
    }
    Ok(())
}

async fn restore(opts: &PgConnectOptions, workers: usize) -> Result<(), SynthError> {
    let mut conn = connect(opts).await?;
    audit_triggers(&mut conn, true).await?;
    let deferred = read_deferred(&mut conn).await?;
    // Biggest tables first, so that the last index to finish is a small one.
    let sizes: Vec<(String, i64)> = sqlx::query!(
        r#"SELECT table_name AS "table_name!", pg_total_relation_size(table_name::regclass) AS "size!"
           FROM (SELECT DISTINCT table_name FROM platform.seed_deferred) t"#,
    )
    .fetch_all(&mut conn)
    .await?
    .into_iter()
    .map(|r| (r.table_name, r.size))
    .collect();
    let size_of = |t: &str| sizes.iter().find(|(n, _)| n == t).map_or(0, |(_, s)| *s);

    let mut index_jobs: Vec<(i64, Vec<String>)> = Vec::new();
    for d in deferred.iter().filter(|d| d.kind != "foreign_key") {
        let exists: bool = sqlx::query_scalar!(
            r#"SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL AS "exists!""#,
            &d.schema,
            &d.name,
        )
        .fetch_one(&mut conn)
        .await?;
        if !exists {
            index_jobs.push((size_of(&d.table), vec![d.definition.clone()]));
        }
    }
    index_jobs.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    let started = Instant::now();
    let indexes = index_jobs.len();
    run_parallel(opts, workers, index_jobs.into_iter().map(|(_, j)| j).collect()).await?;
    tracing::info!(indexes, seconds = started.elapsed().as_secs_f64(), "indexes rebuilt");
    let started = Instant::now();

    let mut fk_jobs: Vec<(i64, String, Vec<String>)> = Vec::new();
    for d in &deferred {
        let con = d.constraint_name.as_deref().unwrap_or(&d.name);
        let exists: bool = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM pg_constraint
                            WHERE conrelid = $1::text::regclass AND conname = $2) AS "exists!""#,
            &d.table,
            con,
        )
        .fetch_one(&mut conn)
        .await?;
        if exists {
            continue;
        }
        match d.kind.as_str() {
            "primary_key" | "unique" => {
                let what = if d.kind == "primary_key" { "PRIMARY KEY" } else { "UNIQUE" };
                conn.execute(
                    format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} {what} USING INDEX {}",
                        d.table,
                        ident(con),
                        ident(&d.name)
                    )
                    .as_str(),
                )
                .await?;
            }
            "foreign_key" => {
                let add = format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} {} NOT VALID",
                    d.table,
                    ident(&d.name),
                    d.definition
                );
                conn.execute(add.as_str()).await?;
                let validate =
                    format!("ALTER TABLE {} VALIDATE CONSTRAINT {}", d.table, ident(&d.name));
                match fk_jobs.iter_mut().find(|(_, t, _)| *t == d.table) {
                    Some((_, _, job)) => job.push(validate),
                    None => fk_jobs.push((size_of(&d.table), d.table.clone(), vec![validate])),
                }
            }
            _ => {}
        }
    }
    // Validating takes a lock that conflicts with itself on the same table: one job per table.
    fk_jobs.sort_by_key(|(size, _, _)| std::cmp::Reverse(*size));
    run_parallel(opts, workers, fk_jobs.into_iter().map(|(_, _, j)| j).collect()).await?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "constraints attached and validated");
    Ok(())
}

async fn analyze(opts: &PgConnectOptions) -> Result<(), SynthError> {
    let jobs = SEEDED_TABLES.iter().map(|t| vec![format!("ANALYZE {t}")]).collect();
    run_parallel(opts, cores(), jobs).await
}

pub(crate) async fn undo_unfinished(pool: &PgPool) -> Result<bool, SynthError> {
    let opts = pool.connect_options();
    let mut conn = connect(&opts).await?;
    let unfinished: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM platform.seed_state WHERE finished_at IS NULL)
           AS "unfinished!""#,
    )
    .fetch_one(&mut conn)
    .await?;
    if !unfinished {
        return Ok(false);
    }
    tracing::warn!("an earlier seed did not finish: removing its rows and restoring indexes");
    // With the tables the seed writes go those whose rows refer to them.
    let tables: Vec<&str> = SEEDED_TABLES.iter().chain(OF_SEEDED_ACCOUNTS).copied().collect();
    conn.execute(format!("TRUNCATE {}", tables.join(", ")).as_str()).await?;
    restore(&opts, cores()).await?;
    conn.execute("DELETE FROM platform.seed_deferred; DELETE FROM platform.seed_state").await?;
    Ok(true)
}
