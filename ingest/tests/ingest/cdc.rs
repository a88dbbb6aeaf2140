//! End to end against a real private PostgreSQL cluster and a real lake, in a temporary folder
//! and in a bucket of a local S3 server (the same scenario and assertions on both):
//! initial snapshot, streaming inserts/updates/deletes (including a key change, a rolled-back
//! transaction and an unchanged TOASTed value), a clean stop with changes made while stopped,
//! a restart, and the exactly-once properties of bronze.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use oneclass_ingest::{IngestError, lake_table_url};
use oneclass_testkit::ingest::{Fixture, LakeKind, delta_rows, ensure_running, pg_rows};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const LEARNER_LAKE_COLUMNS: &str = "id, school_id, learner_number, first_name, last_name, sex, \
    CAST(date_of_birth AS VARCHAR), national_id, disability, CAST(is_ovc AS VARCHAR), status, \
    CAST(CAST(created_at AS BIGINT) AS VARCHAR), CAST(CAST(updated_at AS BIGINT) AS VARCHAR)";
const LEARNER_PG_COLUMNS: &str = "id::text, school_id::text, learner_number, first_name, last_name, sex, \
    date_of_birth::text, national_id, disability, is_ovc::text, status, \
    (extract(epoch FROM created_at) * 1000000)::int8::text, (extract(epoch FROM updated_at) * 1000000)::int8::text";
const SCHOOL_LAKE_COLUMNS: &str =
    "id, emis_code, name, province, district, level, ownership, location";
const SCHOOL_PG_COLUMNS: &str =
    "id::text, emis_code, name, province, district, level, ownership, location";
const TERM_LAKE_COLUMNS: &str = "CAST(academic_year AS VARCHAR), CAST(term AS VARCHAR), CAST(start_date AS VARCHAR), CAST(end_date AS VARCHAR)";
const TERM_PG_COLUMNS: &str = "academic_year::text, term::text, start_date::text, end_date::text";
const PROBE_LAKE_COLUMNS: &str = "CAST(id AS VARCHAR), CAST(small AS VARCHAR), \
    CAST(amount AS VARCHAR), CAST(free AS VARCHAR), CAST(ratio AS VARCHAR), CAST(real_ratio AS VARCHAR), \
    CAST(flag AS VARCHAR), CAST(born AS VARCHAR), CAST(CAST(at AS BIGINT) AS VARCHAR), \
    CAST(CAST(local_at AS BIGINT) AS VARCHAR), doc, tags, code, note";
const PROBE_PG_COLUMNS: &str = "id::text, small::text, amount::text, free::numeric(38,10)::text, \
    ratio::text, real_ratio::float8::text, flag::text, born::text, \
    (extract(epoch FROM at) * 1000000)::int8::text, (extract(epoch FROM local_at) * 1000000)::int8::text, \
    doc::text, tags::text, code, note";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_stream_restart_exactly_once() -> anyhow::Result<()> {
    exactly_once(LakeKind::Folder, false).await
}

/// The same scenario and assertions with every silver table taking its changes into its pending
/// table (as large tables do), read through the table with its pending changes on top; then the
/// pending changes folded in when ingest is idle, after which the Delta tables alone equal
/// PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_stream_restart_exactly_once_through_pending_changes() -> anyhow::Result<()> {
    exactly_once(LakeKind::Folder, true).await
}

/// The same scenario and assertions with the lake in a bucket of a local S3 server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_stream_restart_exactly_once_on_s3() -> anyhow::Result<()> {
    exactly_once(LakeKind::S3, false).await
}

async fn exactly_once(kind: LakeKind, pending: bool) -> anyhow::Result<()> {
    let name = match (kind, pending) {
        (LakeKind::Folder, false) => "ingest",
        (LakeKind::Folder, true) => "ingest-pending",
        (LakeKind::S3, _) => "ingest-s3",
    };
    let fx = Fixture::start(name, kind).await?;
    let pool = fx.pool.clone();
    // The terms the migrations ship: copied by the snapshot.
    let seeded_terms: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ref.terms").fetch_one(&pool).await?;

    let school = insert_school(&pool, "Chipembere Primary").await?;
    let mut ops = Expected::default();
    let mut learners = Vec::new();
    for i in 0..20 {
        learners.push(insert_learner(&pool, school, i, None).await?);
    }
    ops.r += 20;

    // Every mapped type, through the snapshot and then the stream.
    for stmt in [
        "CREATE TABLE ref.type_probe (id bigint PRIMARY KEY, small smallint, amount numeric(14,2),
            free numeric, ratio double precision, real_ratio real, flag boolean, born date,
            at timestamptz, local_at timestamp, doc jsonb, tags text[], code char(3), note varchar(20))",
        "GRANT SELECT ON ref.type_probe TO oneclass_cdc",
        "INSERT INTO ref.type_probe VALUES
            (1, -7, 1234.50, 3.14159, 0.1, 1.5, true, '1969-07-20', '2026-01-13 08:30:00.123456+02',
             '2026-01-13 08:30:00', '{\"a\": [1, 2]}', '{x,\"y z\"}', 'ZW', 'tab\there'),
            (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
        "ALTER PUBLICATION oneclass_lake ADD TABLE ref.type_probe",
    ] {
        sqlx::query(stmt).execute(&pool).await?;
    }

    let mut cfg = fx.config();
    if pending {
        cfg.pending_above_rows = 0;
        cfg.fold_idle = Duration::from_secs(3600);
    }

    // First run: snapshot, then streaming.
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg.clone(), token.clone()));
    wait_in_sync(&fx, &mut ingest, Duration::from_secs(90), BASE_CHECKS)
        .await
        .context("after the snapshot")?;

    let mut tx = pool.begin().await?;
    for i in 20..25 {
        learners.push(insert_learner(&mut *tx, school, i, None).await?);
    }
    tx.commit().await?;
    ops.c += 5;
    let big = (0..700).map(|_| Uuid::new_v4().simple().to_string()).collect::<String>();
    let toasted = insert_learner(&pool, school, 25, Some(&big)).await?;
    ops.c += 1;
    let updated = sqlx::query("UPDATE sis.learners SET status = 'transferred' WHERE id = ANY($1)")
        .bind(&learners[0..3])
        .execute(&pool)
        .await?
        .rows_affected();
    ops.u += updated;
    sqlx::query("DELETE FROM sis.learners WHERE id = ANY($1)")
        .bind(&learners[3..5])
        .execute(&pool)
        .await?;
    ops.d += 2;
    sqlx::query("INSERT INTO ref.type_probe (id, amount, at, local_at) VALUES (3, -0.05, now(), localtimestamp)")
        .execute(&pool)
        .await?;
    sqlx::query(
        "UPDATE ref.type_probe SET note = 'new\nline', free = 2.5, flag = false WHERE id = 1",
    )
    .execute(&pool)
    .await?;
    // Never committed: must not reach the lake.
    let mut tx = pool.begin().await?;
    insert_learner(&mut *tx, school, 99, None).await?;
    tx.rollback().await?;
    // Insert, update and delete of one row inside one transaction: three bronze rows, no silver row.
    let mut tx = pool.begin().await?;
    let fleeting = insert_learner(&mut *tx, school, 98, None).await?;
    sqlx::query("UPDATE sis.learners SET first_name = 'Fleeting' WHERE id = $1")
        .bind(fleeting)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sis.learners WHERE id = $1").bind(fleeting).execute(&mut *tx).await?;
    tx.commit().await?;
    ops.c += 1;
    ops.u += 1;
    ops.d += 1;
    wait_in_sync(&fx, &mut ingest, Duration::from_secs(30), BASE_CHECKS)
        .await
        .context("after the first changes")?;

    // The TOASTed value is not resent by an update that does not touch it.
    sqlx::query("UPDATE sis.learners SET first_name = 'Rudo' WHERE id = $1")
        .bind(toasted)
        .execute(&pool)
        .await?;
    ops.u += 1;
    wait_in_sync(&fx, &mut ingest, Duration::from_secs(30), BASE_CHECKS)
        .await
        .context("after the TOAST update")?;

    token.cancel();
    ingest.await??;
    // A copy of the slot at this position lets a later run replay everything after it: what a
    // crash between the Delta commits and the acknowledgement looks like to the next start.
    // Slot names are cluster-wide: the copy is named after this database's slot.
    let replay_slot = format!("{}_replay", cfg.slot);
    sqlx::query("SELECT 1 FROM pg_copy_logical_replication_slot($1, $2)")
        .bind(&cfg.slot)
        .bind(&replay_slot)
        .execute(&pool)
        .await?;

    // Changes while ingest is down.
    learners.push(insert_learner(&pool, school, 30, None).await?);
    learners.push(insert_learner(&pool, school, 31, None).await?);
    ops.c += 2;
    sqlx::query("UPDATE sis.learners SET national_id = '63-123456A-42' WHERE id = $1")
        .bind(learners[6])
        .execute(&pool)
        .await?;
    ops.u += 1;
    sqlx::query("DELETE FROM sis.learners WHERE id = $1").bind(learners[7]).execute(&pool).await?;
    ops.d += 1;
    sqlx::query("UPDATE platform.schools SET name = 'Chipembere Primary School' WHERE id = $1")
        .bind(school)
        .execute(&pool)
        .await?;

    // Second run: resumes from what the lake records.
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg.clone(), token.clone()));
    for i in 40..43 {
        insert_learner(&pool, school, i, None).await?;
    }
    ops.c += 3;
    sqlx::query(
        "UPDATE sis.learners SET last_name = 'Moyo', status = 'completed' WHERE id = ANY($1)",
    )
    .bind(&learners[8..10])
    .execute(&pool)
    .await?;
    ops.u += 2;
    sqlx::query("UPDATE sis.learners SET first_name = 'Tatenda' WHERE id = $1")
        .bind(toasted)
        .execute(&pool)
        .await?;
    ops.u += 1;
    // A key change: silver must drop the old key and hold the new one.
    sqlx::query("UPDATE sis.learners SET id = $2 WHERE id = $1")
        .bind(learners[10])
        .bind(Uuid::now_v7())
        .execute(&pool)
        .await?;
    ops.u += 1;
    sqlx::query("DELETE FROM sis.learners WHERE id = $1").bind(learners[11]).execute(&pool).await?;
    ops.d += 1;
    // A composite key, and a TRUNCATE followed by an insert in the same transaction.
    let (teacher1, teacher2, class) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    sqlx::query(
        "INSERT INTO platform.users (id, username, password_hash, role, display_name)
         VALUES ($1, 'teacher1', 'x', 'teacher', 'Teacher One'), ($2, 'teacher2', 'x', 'teacher', 'Teacher Two')",
    )
    .bind(teacher1)
    .bind(teacher2)
    .execute(&pool)
    .await?;
    sqlx::query("INSERT INTO academic.classes (id, school_id, academic_year, grade, name) VALUES ($1, $2, 2026, 'G1', 'G1 Blue')")
        .bind(class)
        .bind(school)
        .execute(&pool)
        .await?;
    sqlx::query(
        "INSERT INTO academic.class_teachers (class_id, user_id, school_id) VALUES ($1, $2, $3)",
    )
    .bind(class)
    .bind(teacher1)
    .bind(school)
    .execute(&pool)
    .await?;
    wait_in_sync(&fx, &mut ingest, Duration::from_secs(30), BASE_CHECKS)
        .await
        .context("after the restart")?;
    let mut tx = pool.begin().await?;
    sqlx::query("TRUNCATE academic.class_teachers").execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO academic.class_teachers (class_id, user_id, school_id) VALUES ($1, $2, $3)",
    )
    .bind(class)
    .bind(teacher2)
    .bind(school)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    wait_in_sync(&fx, &mut ingest, Duration::from_secs(30), BASE_CHECKS)
        .await
        .context("after the truncate")?;

    token.cancel();
    ingest.await??;

    // Third run, simulating two crashes at once: the slot is behind the lake (every transaction
    // since the first stop is sent again), and silver lost its last learners commit while bronze
    // kept it (a crash between the two commits of one batch).
    if pending {
        fx.remove_newest_commit_at(&["silver", "sis", "learners", "_pending"])
            .await
            .context("pending silver commits")?;
    } else {
        fx.remove_newest_commit("silver", "sis", "learners").await.context("silver commits")?;
    }
    // A column added at the source reaches both layers.
    sqlx::query("ALTER TABLE ref.terms ADD COLUMN label text").execute(&pool).await?;
    sqlx::query(
        "UPDATE ref.terms SET label = 'First term' WHERE academic_year = 2026 AND term = 1",
    )
    .execute(&pool)
    .await?;
    sqlx::query("INSERT INTO ref.terms VALUES (2027, 1, '2027-01-12', '2027-04-01', 'First term')")
        .execute(&pool)
        .await?;
    insert_learner(&pool, school, 50, None).await?;
    ops.c += 1;
    let mut replay = cfg.clone();
    replay.slot = replay_slot;
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(replay.clone(), token.clone()));
    let labelled: &[Check] = &[(
        "ref",
        "terms",
        "CAST(academic_year AS VARCHAR), CAST(term AS VARCHAR), label",
        "academic_year::text, term::text, label",
    )];
    wait_in_sync(&fx, &mut ingest, Duration::from_secs(30), &[BASE_CHECKS, labelled].concat())
        .await
        .context("after the replay")?;

    // A table added to the publication while ingest runs is copied, then kept.
    for stmt in [
        "CREATE TABLE ref.late_joiner (id int PRIMARY KEY, v text)",
        "GRANT SELECT ON ref.late_joiner TO oneclass_cdc",
        "INSERT INTO ref.late_joiner SELECT g, 'before ' || g FROM generate_series(1, 5) g",
        "ALTER PUBLICATION oneclass_lake ADD TABLE ref.late_joiner",
        "INSERT INTO ref.late_joiner VALUES (6, 'after'), (7, 'after')",
        "UPDATE ref.late_joiner SET v = 'changed' WHERE id IN (1, 6)",
        "DELETE FROM ref.late_joiner WHERE id = 2",
    ] {
        sqlx::query(stmt).execute(&pool).await?;
    }
    let joined: &[Check] =
        &[("ref", "late_joiner", "CAST(id AS VARCHAR), v", "id::text, v"), labelled[0]];
    wait_in_sync(&fx, &mut ingest, Duration::from_secs(30), &[BASE_CHECKS, joined].concat())
        .await
        .context("after a table joined the publication")?;
    token.cancel();
    ingest.await??;

    // Bronze: every change exactly once, nothing twice; deletes carry the key only.
    fx.check_bronze_once("sis", "learners", "id", "first_name").await?;
    let by_op = fx.bronze_ops("sis", "learners").await?;
    let want: BTreeMap<String, u64> = [("c", ops.c), ("d", ops.d), ("r", ops.r), ("u", ops.u)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    ensure!(by_op == want, "bronze changes per op: got {by_op:?}, want {want:?}");

    let terms = format!("c=1 r={seeded_terms} u=1");
    for (schema, table, want) in
        [("ref", "terms", terms.as_str()), ("academic", "class_teachers", "c=2")]
    {
        let got = fx
            .lake_rows(
                "bronze",
                schema,
                table,
                "SELECT _op, CAST(count(*) AS VARCHAR) FROM t GROUP BY _op ORDER BY _op",
            )
            .await?
            .into_iter()
            .map(|r| {
                format!("{}={}", r[0].clone().unwrap_or_default(), r[1].clone().unwrap_or_default())
            })
            .collect::<Vec<_>>()
            .join(" ");
        ensure!(got == want, "bronze {schema}.{table} changes per op: got {got}, want {want}");
    }

    let toast_lost =
        format!("id = '{toasted}' AND (disability IS NULL OR length(disability) <> {})", big.len());
    let toast_lost = fx.bronze_count("sis", "learners", &toast_lost).await?;
    ensure!(toast_lost == 0, "bronze lost the unchanged TOASTed value");
    let incomplete = fx
        .bronze_count(
            "sis",
            "learners",
            "_lsn IS NULL OR _seq IS NULL OR _commit_ts IS NULL OR _commit_date IS NULL \
             OR CAST(_commit_ts AS DATE) <> _commit_date",
        )
        .await?;
    ensure!(incomplete == 0, "bronze bookkeeping columns incomplete");

    // The application transaction recorded in the lake.
    for layer in ["bronze", "silver"] {
        let table = oneclass_lake::open_table(
            &lake_table_url(&fx.lake, layer, "sis", "learners"),
            &fx.options,
        )
        .await?;
        let version = table
            .snapshot()?
            .transaction_version(table.log_store().as_ref(), oneclass_ingest::APP_ID)
            .await?;
        ensure!(
            version.is_some_and(|v| v > 0),
            "{layer} has no {} version",
            oneclass_ingest::APP_ID
        );
    }
    if pending {
        fold_when_idle(&fx, replay).await?;
    }
    pool.close().await;
    Ok(())
}

/// With changes pending (the Delta table alone behind PostgreSQL), ingest started with a short
/// idle time folds them in: the pending tables are emptied, and the Delta tables alone equal
/// PostgreSQL.
async fn fold_when_idle(
    fx: &Fixture,
    mut cfg: oneclass_ingest::IngestConfig,
) -> anyhow::Result<()> {
    let learners = lake_table_url(&fx.lake, "silver", "sis", "learners");
    let held =
        oneclass_lake::open_pending(&learners, &fx.options).await?.context("no pending table")?;
    ensure!(oneclass_lake::silver::holds_files(&held), "nothing pending for sis.learners");
    let pg = pg_rows(&fx.pool, "SELECT count(*)::text FROM sis.learners").await?;
    let alone =
        delta_rows(&learners, &fx.options, "SELECT CAST(count(*) AS VARCHAR) FROM t").await?;
    ensure!(
        alone != pg,
        "the learners table alone already equals PostgreSQL ({pg:?}): changes did not go to the pending table"
    );

    cfg.fold_idle = Duration::from_secs(1);
    let token = CancellationToken::new();
    let ingest = tokio::spawn(oneclass_ingest::run(cfg, token.clone()));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        ensure!(!ingest.is_finished(), "ingest stopped on its own");
        let diff = silver_diff_with(fx, BASE_CHECKS, true).await;
        let emptied = match oneclass_lake::open_pending(&learners, &fx.options).await? {
            Some(t) => !oneclass_lake::silver::holds_files(&t),
            None => false,
        };
        match diff {
            Ok(None) if emptied => break,
            Ok(what) if Instant::now() > deadline => {
                bail!("not folded in 60 s (pending emptied: {emptied}): {what:?}")
            }
            Err(e) if Instant::now() > deadline => return Err(e.context("reading the lake")),
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
    // What the table records now covers everything applied.
    let table =
        oneclass_ingest::recorded_lsn(&fx.lake, &fx.options, "silver", "sis", "learners").await?;
    let applied = oneclass_ingest::silver_lsn(&fx.lake, &fx.options, "sis", "learners").await?;
    ensure!(
        table.is_some() && table == applied,
        "after the fold the table records {table:?}, silver {applied:?}"
    );
    // A reader that loaded the pending table before the fold and the table after it (the
    // order readers use) still sees the current state: the folded rows are hidden by the LSN
    // the table now records, and the table holds them.
    let folded = oneclass_lake::open_table(&learners, &fx.options).await?;
    let provider = oneclass_lake::silver::silver_provider(&folded, Some(&held)).await?;
    let ctx = deltalake::datafusion::prelude::SessionContext::new();
    let seen = ctx.read_table(provider)?.count().await?;
    ensure!(
        pg == vec![vec![Some(seen.to_string())]],
        "pending loaded before the fold, table after it: {seen} learners, PostgreSQL {pg:?}"
    );
    token.cancel();
    ingest.await??;
    Ok(())
}

#[derive(Default, Debug)]
struct Expected {
    r: u64,
    c: u64,
    u: u64,
    d: u64,
}

/// A government primary school in Harare Central, EMIS 0001.
async fn insert_school(pool: &sqlx::PgPool, name: &str) -> anyhow::Result<Uuid> {
    let school = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO platform.schools
             (id, emis_code, name, province, district, level, ownership, location)
         VALUES ($1, 'EMIS-0001', $2, 'Harare', 'Harare Central', 'primary', 'government', 'urban')",
    )
    .bind(school)
    .bind(name)
    .execute(pool)
    .await?;
    Ok(school)
}

async fn insert_learner<'e>(
    db: impl sqlx::PgExecutor<'e>,
    school: Uuid,
    n: u32,
    disability: Option<&str>,
) -> anyhow::Result<Uuid> {
    let id = Uuid::now_v7();
    let dob = chrono::NaiveDate::from_ymd_opt(2012 + (n % 6) as i32, 1 + n % 12, 1 + n % 28)
        .context("date")?;
    sqlx::query(
        "INSERT INTO sis.learners (id, school_id, learner_number, first_name, last_name, sex, date_of_birth,
                                   national_id, disability, is_ovc)
         VALUES ($1, $2, $3, $4, 'Chikore', $5, $6, NULL, $7, $8)",
    )
    .bind(id)
    .bind(school)
    .bind(format!("L{n:05}"))
    .bind(format!("Learner{n}"))
    .bind(if n.is_multiple_of(2) { "F" } else { "M" })
    .bind(dob)
    .bind(disability)
    .bind(n.is_multiple_of(5))
    .execute(db)
    .await?;
    Ok(id)
}

/// Polls until silver equals PostgreSQL for `checks`.
async fn wait_in_sync(
    fx: &Fixture,
    ingest: &mut JoinHandle<Result<(), IngestError>>,
    timeout: Duration,
    checks: &[Check],
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        ensure_running(ingest).await?;
        let diff = silver_diff(fx, checks).await;
        match diff {
            Ok(None) => return Ok(()),
            Ok(Some(what)) if Instant::now() > deadline => {
                bail!("silver differs from PostgreSQL: {what}")
            }
            Err(e) if Instant::now() > deadline => return Err(e.context("reading the lake")),
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// A table to compare: schema, name, the lake's select list, PostgreSQL's select list. Both
/// lists render every value as text the same way.
type Check = (&'static str, &'static str, &'static str, &'static str);

const BASE_CHECKS: &[Check] = &[
    ("sis", "learners", LEARNER_LAKE_COLUMNS, LEARNER_PG_COLUMNS),
    ("platform", "schools", SCHOOL_LAKE_COLUMNS, SCHOOL_PG_COLUMNS),
    ("ref", "terms", TERM_LAKE_COLUMNS, TERM_PG_COLUMNS),
    ("ref", "type_probe", PROBE_LAKE_COLUMNS, PROBE_PG_COLUMNS),
    (
        "academic",
        "class_teachers",
        "class_id, user_id, school_id",
        "class_id::text, user_id::text, school_id::text",
    ),
];

async fn silver_diff(fx: &Fixture, checks: &[Check]) -> anyhow::Result<Option<String>> {
    silver_diff_with(fx, checks, false).await
}

/// [`silver_diff`], reading the Delta tables alone (without pending changes) when `alone`.
async fn silver_diff_with(
    fx: &Fixture,
    checks: &[Check],
    alone: bool,
) -> anyhow::Result<Option<String>> {
    let checks = checks.iter().copied();
    for (schema, table, lake_cols, pg_cols) in checks {
        let mut pg = pg_rows(&fx.pool, &format!("SELECT {pg_cols} FROM {schema}.{table}")).await?;
        let sql = format!("SELECT {lake_cols} FROM t");
        let mut silver = if alone {
            delta_rows(&lake_table_url(&fx.lake, "silver", schema, table), &fx.options, &sql)
                .await?
        } else {
            fx.lake_rows("silver", schema, table, &sql).await?
        };
        pg.sort();
        silver.sort();
        if pg != silver {
            return Ok(Some(format!(
                "{schema}.{table}: PostgreSQL has {} rows, silver {} (first PostgreSQL row {:?}, first silver row {:?})",
                pg.len(),
                silver.len(),
                pg.iter().find(|r| !silver.contains(r)),
                silver.iter().find(|r| !pg.contains(r)),
            )));
        }
    }
    Ok(None)
}

/// Throughput probe, not a check: one 200 000-row transaction through the stream.
/// `cargo test -p oneclass-ingest --test cdc -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bulk_transaction_throughput() -> anyhow::Result<()> {
    let fx = Fixture::start("ingest-bulk", LakeKind::Folder).await?;
    let pool = fx.pool.clone();
    let mut cfg = fx.config();
    cfg.flush_interval = Duration::from_millis(500);
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg, token.clone()));
    wait_in_sync(&fx, &mut ingest, Duration::from_secs(60), &BASE_CHECKS[..3]).await?;
    let school = insert_school(&pool, "Bulk Primary").await?;
    let started = Instant::now();
    sqlx::query(
        "WITH l AS (
           INSERT INTO sis.learners (id, school_id, learner_number, first_name, last_name, sex, date_of_birth)
           SELECT gen_random_uuid(), $1, 'L' || g, 'First' || g, 'Last', 'F', date '2015-01-01' + g % 1000
           FROM generate_series(1, 1000) g RETURNING id)
         INSERT INTO attendance.daily_marks (id, school_id, learner_id, date, status)
         SELECT gen_random_uuid(), $1, l.id, date '2026-01-13' + d, 'present'
         FROM l, generate_series(0, 199) d",
    )
    .bind(school)
    .execute(&pool)
    .await?;
    println!("inserted 201 000 rows in {:?}", started.elapsed());
    let started = Instant::now();
    let marks: &[Check] =
        &[("attendance", "daily_marks", "CAST(count(*) AS VARCHAR)", "count(*)::text")];
    wait_in_sync(&fx, &mut ingest, Duration::from_secs(600), marks).await?;
    println!("in silver after {:?}", started.elapsed());
    for round in 0..3 {
        let started = Instant::now();
        sqlx::query(
            "UPDATE attendance.daily_marks SET status = 'late'
             WHERE id IN (SELECT id FROM attendance.daily_marks WHERE status <> 'late' LIMIT 1000)",
        )
        .execute(&pool)
        .await?;
        // The trailing comment swallows the " FROM t" that silver_diff appends.
        let late: &[Check] = &[(
            "attendance",
            "daily_marks",
            "CAST(count(*) AS VARCHAR) FROM t WHERE status = 'late' --",
            "count(*)::text FROM attendance.daily_marks WHERE status = 'late' --",
        )];
        wait_in_sync(&fx, &mut ingest, Duration::from_secs(600), late).await?;
        println!(
            "round {round}: 1 000 updates merged into 200 000 rows after {:?}",
            started.elapsed()
        );
    }
    token.cancel();
    ingest.await??;
    Ok(())
}

/// Two writers holding stale handles on one S3 table append at the same time: Delta's commit is
/// a conditional put, so each version is written by exactly one of them and the loser retries on
/// top; no commit is overwritten and no row is lost. A plain `PutMode::Create` over an existing
/// commit is refused by the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_on_s3_cannot_overwrite_a_commit() -> anyhow::Result<()> {
    use deltalake::arrow::array::{Int64Array, RecordBatch};
    use deltalake::arrow::datatypes::{DataType, Field, Schema};
    use deltalake::logstore::object_store::path::Path as StorePath;
    use deltalake::logstore::object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
    use deltalake::protocol::SaveMode;

    oneclass_testkit::ingest::init_tracing();
    let moto = oneclass_testkit::s3::Moto::start()?;
    moto.create_bucket("writers").await?;
    let options = moto.options();
    let lake = url::Url::parse("s3://writers/lake/")?;
    let url = lake_table_url(&lake, "silver", "ref", "contended");
    let schema = Arc::new(Schema::new(vec![
        Field::new("writer", DataType::Int64, false),
        Field::new("n", DataType::Int64, false),
    ]));
    let batch = move |writer: i64, n: i64| {
        RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from(vec![writer])), Arc::new(Int64Array::from(vec![n]))],
        )
    };
    let created = oneclass_lake::table_or_new(&url, &options)
        .await?
        .write(vec![batch(0, 0)?])
        .with_save_mode(SaveMode::Append)
        .await?;
    ensure!(created.version() == Some(0), "created at version {:?}", created.version());

    const APPENDS: i64 = 8;
    let writers = (1..=2).map(|writer| {
        // Both start from version 0 and never reload: every commit after the first of each
        // round finds its version taken.
        let mut table = created.clone();
        let batch = batch.clone();
        tokio::spawn(async move {
            for n in 1..=APPENDS {
                table =
                    table.write(vec![batch(writer, n)?]).with_save_mode(SaveMode::Append).await?;
            }
            anyhow::Ok(())
        })
    });
    for w in futures::future::join_all(writers).await {
        w??;
    }
    let table = oneclass_lake::open_table(&url, &options).await?;
    ensure!(
        table.version() == Some(2 * APPENDS as u64),
        "expected version {} after {} appends, got {:?}",
        2 * APPENDS,
        2 * APPENDS,
        table.version()
    );
    let ctx = deltalake::datafusion::prelude::SessionContext::new();
    ctx.register_table("t", table.table_provider().await?)?;
    let counted = ctx
        .sql("SELECT count(*) AS rows, count(DISTINCT (writer, n)) AS distinct_rows FROM t")
        .await?
        .collect()
        .await?;
    let column =
        |i: usize| counted[0].column(i).as_any().downcast_ref::<Int64Array>().map(|a| a.value(0));
    ensure!(
        column(0) == Some(2 * APPENDS + 1) && column(1) == Some(2 * APPENDS + 1),
        "rows after the race: {:?} (distinct {:?}), want {}",
        column(0),
        column(1),
        2 * APPENDS + 1
    );

    // The store itself refuses to replace a commit.
    let store = oneclass_lake::root_store(&lake, &options)?;
    // The store is rooted at the lake URL (`s3://writers/lake/`).
    let first = StorePath::from("silver/ref/contended/_delta_log/00000000000000000001.json");
    let original = store.get(&first).await?.bytes().await?;
    let refused = store
        .put_opts(
            &first,
            PutPayload::from_static(b"{}"),
            PutOptions { mode: PutMode::Create, ..Default::default() },
        )
        .await;
    ensure!(
        matches!(refused, Err(deltalake::logstore::object_store::Error::AlreadyExists { .. })),
        "a conditional put over an existing commit must fail with AlreadyExists: {refused:?}"
    );
    ensure!(store.get(&first).await?.bytes().await? == original, "commit 1 was changed");
    Ok(())
}

/// Small files from many batches are compacted on the schedule, between batches: silver still
/// equals PostgreSQL, the recorded LSN survives, and time travel to a version before the
/// compaction reads what it read then. Vacuum then deletes the files no version within the
/// time-travel window needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_and_vacuum_on_a_schedule() -> anyhow::Result<()> {
    let fx = Fixture::start("ingest-maintenance", LakeKind::Folder).await?;
    fx.publish(&[("ref.busy", "id int PRIMARY KEY, v text NOT NULL")]).await?;
    fx.execute(&["INSERT INTO ref.busy SELECT g, 'snapshot' FROM generate_series(1, 50) g"])
        .await?;
    let busy: &[Check] = &[("ref", "busy", "CAST(id AS VARCHAR), v", "id::text, v")];
    let mut cfg = fx.config();
    // No pass while the small files are made.
    cfg.maintenance_interval = None;
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg.clone(), token.clone()));
    wait_in_sync(&fx, &mut ingest, Duration::from_secs(60), busy).await?;
    // One batch, one commit, one small file per layer for each of these.
    for round in 0..12 {
        // Inserts only: a MERGE that updates rewrites the files it touches, one that inserts
        // adds a file and leaves the others.
        sqlx::query(
            "INSERT INTO ref.busy SELECT g, $1 FROM generate_series($2::int, $2::int + 2) g",
        )
        .bind(format!("round {round}"))
        .bind(100 + 10 * round)
        .execute(&fx.pool)
        .await?;
        wait_in_sync(&fx, &mut ingest, Duration::from_secs(30), busy).await?;
    }
    token.cancel();
    ingest.await??;

    let open_silver = || async {
        oneclass_lake::open_table(&lake_table_url(&fx.lake, "silver", "ref", "busy"), &fx.options)
            .await
    };
    let before = open_silver().await?;
    let version_before = before.version().context("silver version")?;
    let lsn_before = before
        .snapshot()?
        .transaction_version(before.log_store().as_ref(), oneclass_ingest::APP_ID)
        .await?;
    let files_before = before.snapshot()?.log_data().num_files();
    let rows_before = pg_rows(&fx.pool, "SELECT id::text, v FROM ref.busy").await?;
    ensure!(files_before >= 10, "expected many small silver files, got {files_before}");
    let bronze_files_before = fx.count_files("bronze", "ref", "busy").await?.0;

    // Second run: a pass every second, history kept for an hour.
    let mut cfg = fx.config();
    cfg.maintenance_interval = Some(Duration::from_secs(1));
    cfg.compact_min_files = 4;
    cfg.time_travel = Duration::from_secs(3600);
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg.clone(), token.clone()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let compacted = loop {
        ensure!(!ingest.is_finished(), "ingest stopped");
        let t = open_silver().await?;
        let files = t.snapshot()?.log_data().num_files();
        if files <= 2 {
            break t;
        }
        ensure!(Instant::now() < deadline, "silver still has {files} files");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // A change after the compaction still lands; silver equals PostgreSQL.
    sqlx::query("UPDATE ref.busy SET v = 'after' WHERE id = 1").execute(&fx.pool).await?;
    wait_in_sync(&fx, &mut ingest, Duration::from_secs(30), busy).await?;
    token.cancel();
    ingest.await??;
    let lsn_compacted = compacted
        .snapshot()?
        .transaction_version(compacted.log_store().as_ref(), oneclass_ingest::APP_ID)
        .await?;
    ensure!(lsn_compacted == lsn_before, "recorded LSN {lsn_compacted:?} != {lsn_before:?}");
    let (bronze_files, _) = fx.count_files("bronze", "ref", "busy").await?;
    let bronze =
        oneclass_lake::open_table(&lake_table_url(&fx.lake, "bronze", "ref", "busy"), &fx.options)
            .await?;
    let bronze_live = bronze.snapshot()?.log_data().num_files();
    ensure!(
        bronze_live < bronze_files_before,
        "bronze not compacted: {bronze_live} live files of {bronze_files_before}"
    );
    // Time travel to before the compaction: the old files are still there.
    let mut old = open_silver().await?;
    old.load_version(version_before).await?;
    let ctx = deltalake::datafusion::prelude::SessionContext::new();
    ctx.register_table("t", old.table_provider().await?)?;
    let mut then = Vec::new();
    for b in ctx.sql("SELECT CAST(id AS VARCHAR), v FROM t").await?.collect().await? {
        for row in 0..b.num_rows() {
            let cell = |c: usize| {
                deltalake::arrow::util::display::array_value_to_string(b.column(c), row).ok()
            };
            then.push(vec![cell(0), cell(1)]);
        }
    }
    let (mut then, mut want) = (then, rows_before);
    then.sort();
    want.sort();
    ensure!(then == want, "time travel to version {version_before} reads other rows");
    ensure!(bronze_files > bronze_live, "compacted bronze files were deleted within the window");

    // Third run with the shortest window (a minute): once the compaction is a minute old,
    // vacuum deletes what no current file needs.
    let mut cfg = fx.config();
    cfg.time_travel = Duration::ZERO;
    let err = oneclass_ingest::run(cfg.clone(), CancellationToken::new()).await;
    ensure!(
        matches!(&err, Err(e) if e.to_string().contains("time_travel")),
        "a zero time-travel window was accepted: {err:?}"
    );
    cfg.maintenance_interval = Some(Duration::from_secs(1));
    cfg.time_travel = Duration::from_secs(60);
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg, token.clone()));
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        ensure!(!ingest.is_finished(), "ingest stopped");
        let on_disk = fx.count_files("silver", "ref", "busy").await?.0;
        let live = open_silver().await?.snapshot()?.log_data().num_files();
        if on_disk == live {
            break;
        }
        ensure!(Instant::now() < deadline, "vacuum left {on_disk} files for {live} live ones");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    wait_in_sync(&fx, &mut ingest, Duration::from_secs(30), busy).await?;
    token.cancel();
    ingest.await??;
    Ok(())
}
