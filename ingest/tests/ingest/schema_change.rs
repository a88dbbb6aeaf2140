//! Schema evolution while streaming: columns added at the source while ingest runs appear in
//! bronze and silver; rows written before the change (by the snapshot or by the stream) read
//! null in them, rows changed after it carry their values, and reconcile finds silver equal to
//! PostgreSQL.

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use oneclass_core::db::PUBLICATION;
use oneclass_ingest::{IngestError, reconcile};
use oneclass_testkit::ingest::{Fixture, LakeKind, Rows, ensure_running, pg_rows};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The table whose columns change under ingest.
const EVOLVING: (&str, &str) = ("ref.evolving", "id int PRIMARY KEY, name text NOT NULL");
/// Its first columns, as the lake and as PostgreSQL select them.
const EVOLVING_NAMES: &str = "CAST(id AS VARCHAR), name";
const EVOLVING_NAMES_PG: &str = "id::text, name";

/// Waits until silver's `ref.evolving` equals PostgreSQL's on `columns` (as the lake and as
/// PostgreSQL select them), then returns silver's rows of those columns.
async fn evolving_in_sync(
    fx: &Fixture,
    ingest: &mut JoinHandle<Result<(), IngestError>>,
    (columns, columns_pg): (&str, &str),
) -> anyhow::Result<Rows> {
    wait_in_sync(fx, "evolving", ingest, columns, columns_pg).await?;
    evolving_rows(fx, "silver", &format!("SELECT {columns} FROM t")).await
}

/// `reconcile` finds silver's `ref.evolving` equal to PostgreSQL's.
async fn evolving_reconciled(fx: &Fixture) -> anyhow::Result<()> {
    let reports = reconcile(&fx.source, &fx.lake, &fx.options, PUBLICATION).await?;
    let evolving = reports
        .iter()
        .find(|r| r.table == "ref.evolving")
        .context("reconcile covers ref.evolving")?;
    ensure!(evolving.is_clean(), "reconcile: {evolving}");
    Ok(())
}

/// `ref.evolving` published with `rows` rows (copied by the snapshot), and ingest streaming it,
/// flushing every 100 ms, once they are in silver.
async fn evolving_streamed(
    fx: &Fixture,
    rows: u32,
) -> anyhow::Result<(CancellationToken, JoinHandle<Result<(), IngestError>>)> {
    fx.publish(&[EVOLVING]).await?;
    fx.execute(&[&format!(
        "INSERT INTO ref.evolving SELECT g, 'snapshot ' || g FROM generate_series(1, {rows}) g"
    )])
    .await?;
    let mut cfg = fx.config();
    cfg.flush_interval = Duration::from_millis(100);
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg, token.clone()));
    wait_in_sync(fx, "evolving", &mut ingest, EVOLVING_NAMES, EVOLVING_NAMES_PG)
        .await
        .context("after the snapshot")?;
    Ok((token, ingest))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_added_while_streaming_reaches_silver_with_old_rows_null() -> anyhow::Result<()> {
    let fx = Fixture::start("ingest-schema", LakeKind::Folder).await?;
    let pool = fx.pool.clone();
    let (token, mut ingest) = evolving_streamed(&fx, 5).await?;
    let (before, before_pg) = (EVOLVING_NAMES, EVOLVING_NAMES_PG);
    // Streamed under the old schema.
    sqlx::query("INSERT INTO ref.evolving VALUES (6, 'streamed 6'), (7, 'streamed 7')")
        .execute(&pool)
        .await?;
    sqlx::query("UPDATE ref.evolving SET name = 'streamed update' WHERE id = 5")
        .execute(&pool)
        .await?;
    wait_in_sync(&fx, "evolving", &mut ingest, before, before_pg)
        .await
        .context("before the change")?;

    // The change, while ingest streams; then rows that use the new columns, one old row that
    // gets a value, and one old row changed without touching them.
    sqlx::query("ALTER TABLE ref.evolving ADD COLUMN grade int, ADD COLUMN remark text")
        .execute(&pool)
        .await?;
    sqlx::query("INSERT INTO ref.evolving VALUES (8, 'after 8', 3, 'new row')")
        .execute(&pool)
        .await?;
    sqlx::query("UPDATE ref.evolving SET grade = 5, remark = 'old row, new value' WHERE id = 2")
        .execute(&pool)
        .await?;
    sqlx::query("UPDATE ref.evolving SET name = 'renamed' WHERE id = 3").execute(&pool).await?;
    let after = (
        "CAST(id AS VARCHAR), name, CAST(grade AS VARCHAR), remark",
        "id::text, name, grade::text, remark",
    );
    // Spelled out: the untouched old rows read null in the new columns.
    let silver = evolving_in_sync(&fx, &mut ingest, after).await.context("after the change")?;
    let row = |id: &str, name: &str, grade: Option<&str>, remark: Option<&str>| {
        vec![
            Some(id.to_string()),
            Some(name.to_string()),
            grade.map(String::from),
            remark.map(String::from),
        ]
    };
    assert_eq!(
        silver,
        vec![
            row("1", "snapshot 1", None, None),
            row("2", "snapshot 2", Some("5"), Some("old row, new value")),
            row("3", "renamed", None, None),
            row("4", "snapshot 4", None, None),
            row("5", "streamed update", None, None),
            row("6", "streamed 6", None, None),
            row("7", "streamed 7", None, None),
            row("8", "after 8", Some("3"), Some("new row")),
        ],
        "silver after ADD COLUMN"
    );
    // Bronze has the columns too: null in every change before the ALTER, set after it.
    let bronze = evolving_rows(
        &fx,
        "bronze",
        "SELECT _op, CAST(id AS VARCHAR), CAST(grade AS VARCHAR), remark FROM t ORDER BY _lsn, _seq",
    )
    .await?;
    let ops: Vec<(String, String, Option<String>)> = bronze
        .into_iter()
        .map(|r| (r[0].clone().unwrap_or_default(), r[1].clone().unwrap_or_default(), r[2].clone()))
        .collect();
    let expected: Vec<(String, String, Option<String>)> = [
        ("r", "1", None),
        ("r", "2", None),
        ("r", "3", None),
        ("r", "4", None),
        ("r", "5", None),
        ("c", "6", None),
        ("c", "7", None),
        ("u", "5", None),
        ("c", "8", Some("3")),
        ("u", "2", Some("5")),
        ("u", "3", None),
    ]
    .into_iter()
    .map(|(op, id, grade)| (op.to_string(), id.to_string(), grade.map(String::from)))
    .collect();
    let mut sorted_ops = ops.clone();
    sorted_ops[..5].sort();
    assert_eq!(sorted_ops, expected, "bronze changes (op, id, grade) in commit order");

    evolving_reconciled(&fx).await?;
    token.cancel();
    ingest.await??;
    Ok(())
}

/// Waits until silver equals PostgreSQL on the given select lists (same text on both sides) for
/// `ref.<table>`.
async fn wait_in_sync(
    fx: &Fixture,
    table: &str,
    ingest: &mut JoinHandle<Result<(), IngestError>>,
    lake_cols: &str,
    pg_cols: &str,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        ensure_running(ingest).await?;
        let pg =
            pg_rows(&fx.pool, &format!("SELECT {pg_cols} FROM ref.{table} ORDER BY id")).await?;
        let silver = ref_rows(fx, table, "silver", &format!("SELECT {lake_cols} FROM t")).await;
        match silver {
            Ok(silver) if silver == pg => return Ok(()),
            Ok(silver) if Instant::now() > deadline => {
                bail!("silver differs from PostgreSQL: {silver:?} vs {pg:?}")
            }
            Err(e) if Instant::now() > deadline => bail!("reading silver: {e:#}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn evolving_rows(fx: &Fixture, layer: &str, sql: &str) -> anyhow::Result<Rows> {
    ref_rows(fx, "evolving", layer, sql).await
}

/// Rows of `ref.<table>` in a lake layer; silver's by id (the first column), as PostgreSQL's
/// side is ordered.
async fn ref_rows(fx: &Fixture, table: &str, layer: &str, sql: &str) -> anyhow::Result<Rows> {
    let mut out = fx.lake_rows(layer, "ref", table, sql).await?;
    if layer == "silver" {
        out.sort_by_key(|r| r.first().cloned().flatten().and_then(|id| id.parse::<i64>().ok()));
    }
    Ok(out)
}

/// A column added with a constant default: PostgreSQL shows the default in the rows that
/// existed before (without rewriting them, so nothing about them is in the WAL); silver does
/// too (ingest reads `pg_attribute.attmissingval`), bronze does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_added_with_a_default_while_streaming() -> anyhow::Result<()> {
    let fx = Fixture::start("ingest-schema-default", LakeKind::Folder).await?;
    let pool = fx.pool.clone();
    let (token, mut ingest) = evolving_streamed(&fx, 3).await?;
    // One transaction: a row inserted before the change (decoded without the columns, in the
    // same batch as the rows after it), the change, a row that sets the columns.
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO ref.evolving VALUES (4, 'before')").execute(&mut *tx).await?;
    sqlx::query(
        "ALTER TABLE ref.evolving ADD COLUMN flag text NOT NULL DEFAULT 'yes', \
         ADD COLUMN level int DEFAULT 7",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO ref.evolving VALUES (5, 'after', 'no', 1)").execute(&mut *tx).await?;
    tx.commit().await?;
    // An old row changed afterwards carries the default in its new tuple.
    sqlx::query("UPDATE ref.evolving SET name = 'touched' WHERE id = 1").execute(&pool).await?;
    let after = (
        "CAST(id AS VARCHAR), name, flag, CAST(level AS VARCHAR)",
        "id::text, name, flag, level::text",
    );
    let silver =
        evolving_in_sync(&fx, &mut ingest, after).await.context("after ADD COLUMN … DEFAULT")?;
    let row = |id: &str, name: &str, flag: &str, level: &str| {
        vec![Some(id.into()), Some(name.into()), Some(flag.into()), Some(level.into())]
    };
    assert_eq!(
        silver,
        vec![
            row("1", "touched", "yes", "7"),
            row("2", "snapshot 2", "yes", "7"),
            row("3", "snapshot 3", "yes", "7"),
            row("4", "before", "yes", "7"),
            row("5", "after", "no", "1"),
        ],
        "silver after ADD COLUMN … DEFAULT"
    );
    // The added columns stay nullable in silver: an old row set to null later.
    sqlx::query("UPDATE ref.evolving SET level = NULL WHERE id = 2").execute(&pool).await?;
    wait_in_sync(&fx, "evolving", &mut ingest, after.0, after.1)
        .await
        .context("level set to null")?;
    // Bronze is the changelog: the insert decoded before the change carries null.
    let bronze = evolving_rows(
        &fx,
        "bronze",
        "SELECT _op, CAST(id AS VARCHAR), flag FROM t WHERE _op <> 'r' ORDER BY _lsn, _seq",
    )
    .await?;
    let some = |v: &str| Some(v.to_string());
    assert_eq!(
        bronze,
        vec![
            vec![some("c"), some("4"), None],
            vec![some("c"), some("5"), some("no")],
            vec![some("u"), some("1"), some("yes")],
            vec![some("u"), some("2"), some("yes")],
        ],
        "bronze changes (op, id, flag)"
    );
    evolving_reconciled(&fx).await?;
    token.cancel();
    ingest.await??;
    Ok(())
}

/// A column's type changed at the source (int → text): the lake cannot follow, so ingest stops
/// that table with a clear, durable reason and goes on with the others. Restarting keeps it
/// stopped; deleting its lake tables brings it back, copied anew with the new type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incompatible_type_change_stops_only_that_table() -> anyhow::Result<()> {
    let fx = Fixture::start("ingest-retype", LakeKind::Folder).await?;
    fx.publish(&[("ref.retyped", "id int PRIMARY KEY, amount int"), EVOLVING]).await?;
    fx.execute(&[
        "INSERT INTO ref.retyped SELECT g, g * 10 FROM generate_series(1, 3) g",
        "INSERT INTO ref.evolving SELECT g, 'snapshot ' || g FROM generate_series(1, 3) g",
    ])
    .await?;
    let mut cfg = fx.config();
    cfg.flush_interval = Duration::from_millis(100);
    let (retyped_lake, retyped_pg) =
        ("CAST(id AS VARCHAR), CAST(amount AS VARCHAR)", "id::text, amount::text");
    let (evolving_lake, evolving_pg) = ("CAST(id AS VARCHAR), name", "id::text, name");
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg.clone(), token.clone()));
    wait_in_sync(&fx, "retyped", &mut ingest, retyped_lake, retyped_pg).await?;
    fx.execute(&["INSERT INTO ref.retyped VALUES (4, 40)"]).await?;
    wait_in_sync(&fx, "retyped", &mut ingest, retyped_lake, retyped_pg)
        .await
        .context("streamed before the change")?;

    // One transaction: a row under the old type, the change, a row under the new one. None of
    // it reaches the lake (whole transactions only).
    sqlx::raw_sql(
        "INSERT INTO ref.retyped VALUES (7, 70); \
         ALTER TABLE ref.retyped ALTER COLUMN amount TYPE text USING 'USD ' || amount; \
         INSERT INTO ref.retyped VALUES (5, 'USD 50')",
    )
    .execute(&fx.pool)
    .await?;
    fx.execute(&[
        "UPDATE ref.retyped SET amount = 'USD 11' WHERE id = 1",
        // Another table goes on.
        "INSERT INTO ref.evolving VALUES (4, 'after the change')",
    ])
    .await?;
    wait_in_sync(&fx, "evolving", &mut ingest, evolving_lake, evolving_pg)
        .await
        .context("other tables go on")?;
    let marker = fx.dir.path().join("lake/_ingest/stopped/ref.retyped.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !marker.exists() {
        ensure!(!ingest.is_finished(), "ingest ended instead of stopping one table");
        ensure!(Instant::now() < deadline, "no stop marker at {}", marker.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reason: serde_json::Value = serde_json::from_slice(&std::fs::read(&marker)?)?;
    let why = reason["reason"].as_str().unwrap_or_default();
    ensure!(
        why.contains("column amount changed type") && why.contains("Int32") && why.contains("Utf8"),
        "stop reason: {reason}"
    );
    ensure!(reason["table"] == "ref.retyped", "marker names {}", reason["table"]);
    ensure!(reason["schema"] == "ref" && reason["name"] == "retyped", "marker: {reason}");
    // Silver keeps what it had before the change, with its old type: nothing half-applied.
    let held = ref_rows(&fx, "retyped", "silver", &format!("SELECT {retyped_lake} FROM t")).await?;
    let row = |id: &str, amount: &str| vec![Some(id.to_string()), Some(amount.to_string())];
    assert_eq!(held, vec![row("1", "10"), row("2", "20"), row("3", "30"), row("4", "40")]);
    let reports = reconcile(&fx.source, &fx.lake, &fx.options, PUBLICATION).await?;
    let retyped = reports.iter().find(|r| r.table == "ref.retyped").context("reconciled")?;
    ensure!(!retyped.is_clean(), "reconcile must show the stopped table's differences");
    let evolving = reports.iter().find(|r| r.table == "ref.evolving").context("reconciled")?;
    ensure!(evolving.is_clean(), "reconcile: {evolving}");

    // A restart keeps it stopped, even after the type is changed back: silver lacks row 5.
    token.cancel();
    ingest.await??;
    fx.execute(&[
        "ALTER TABLE ref.retyped ALTER COLUMN amount TYPE int USING 7",
        "INSERT INTO ref.retyped VALUES (6, 60)",
        "INSERT INTO ref.evolving VALUES (5, 'after the restart')",
    ])
    .await?;
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg.clone(), token.clone()));
    wait_in_sync(&fx, "evolving", &mut ingest, evolving_lake, evolving_pg).await?;
    let held = ref_rows(&fx, "retyped", "silver", &format!("SELECT {retyped_lake} FROM t")).await?;
    assert_eq!(held.len(), 4, "a stopped table stays stopped across restarts: {held:?}");
    ensure!(marker.exists(), "marker kept");
    token.cancel();
    ingest.await??;

    // Silver alone deleted: not copied (it would hold text beside bronze's int); still stopped.
    fx.execute(&["ALTER TABLE ref.retyped ALTER COLUMN amount TYPE text"]).await?;
    let layer_dir = |layer: &str| fx.dir.path().join(format!("lake/{layer}/ref/retyped"));
    std::fs::remove_dir_all(layer_dir("silver"))?;
    fx.execute(&["INSERT INTO ref.evolving VALUES (6, 'one layer gone')"]).await?;
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg.clone(), token.clone()));
    wait_in_sync(&fx, "evolving", &mut ingest, evolving_lake, evolving_pg).await?;
    ensure!(marker.exists(), "one layer deleted must not bring the table back");
    ensure!(!layer_dir("silver").join("_delta_log").exists(), "silver copied beside old bronze");
    token.cancel();
    ingest.await??;

    // The way back: delete both; the restart copies it under a fresh snapshot.
    std::fs::remove_dir_all(layer_dir("bronze"))?;
    if layer_dir("silver").exists() {
        std::fs::remove_dir_all(layer_dir("silver"))?;
    }
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg, token.clone()));
    wait_in_sync(&fx, "retyped", &mut ingest, "CAST(id AS VARCHAR), amount", "id::text, amount")
        .await
        .context("copied anew")?;
    fx.execute(&["UPDATE ref.retyped SET amount = 'changed' WHERE id = 6"]).await?;
    wait_in_sync(&fx, "retyped", &mut ingest, "CAST(id AS VARCHAR), amount", "id::text, amount")
        .await
        .context("streams again")?;
    ensure!(!marker.exists(), "marker removed once the table is copied again");
    token.cancel();
    ingest.await??;
    Ok(())
}
