//! Schema evolution while streaming: columns added at the source while ingest runs appear in
//! bronze and silver; rows written before the change (by the snapshot or by the stream) read
//! null in them, rows changed after it carry their values, and reconcile finds silver equal to
//! PostgreSQL.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use deltalake::arrow::array::{Array, RecordBatch};
use deltalake::arrow::util::display::array_value_to_string;
use deltalake::datafusion::prelude::SessionContext;
use oneclass_core::cluster::{ClusterOptions, PgCluster};
use oneclass_core::db::{CDC_ROLE, PUBLICATION, RolePasswords};
use oneclass_ingest::{IngestConfig, IngestError, SourceConfig, lake_table_url, reconcile};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

type Rows = Vec<Vec<Option<String>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_added_while_streaming_reaches_silver_with_old_rows_null() -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,buoyant_kernel=off".into()),
        )
        .with_test_writer()
        .try_init();
    let dir = tempfile::Builder::new().prefix("oneclass-ingest-schema-").tempdir_in("/tmp")?;
    // The server runs as the postgres user, which must reach the data folder inside.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
    let cluster =
        PgCluster::start(&dir.path().join("pg"), "pw", &ClusterOptions { unsafe_fast: true })?;
    cluster.ensure_database("oneclass").await?;
    let owner_url = cluster.url("oneclass");
    oneclass_core::db::migrate(
        &owner_url,
        &RolePasswords { app: "app-pw".into(), cdc: "cdc-pw".into() },
    )
    .await?;
    let pool = PgPool::connect(&owner_url).await?;
    for stmt in [
        "CREATE TABLE ref.evolving (id int PRIMARY KEY, name text NOT NULL)",
        "GRANT SELECT ON ref.evolving TO oneclass_cdc",
        "ALTER PUBLICATION oneclass_lake ADD TABLE ref.evolving",
        // Copied by the snapshot.
        "INSERT INTO ref.evolving SELECT g, 'snapshot ' || g FROM generate_series(1, 5) g",
    ] {
        sqlx::query(stmt).execute(&pool).await.with_context(|| stmt.to_string())?;
    }

    let lake = Url::from_directory_path(dir.path().join("lake"))
        .map_err(|()| anyhow::anyhow!("lake path"))?;
    let source = SourceConfig {
        host: "127.0.0.1".into(),
        port: cluster.port(),
        user: CDC_ROLE.into(),
        password: "cdc-pw".into(),
        database: "oneclass".into(),
    };
    let mut cfg = IngestConfig::new(source.clone(), lake.clone());
    cfg.flush_interval = Duration::from_millis(100);
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg, token.clone()));

    let before = "CAST(id AS VARCHAR), name";
    let before_pg = "id::text, name";
    wait_in_sync(&pool, &lake, &mut ingest, before, before_pg)
        .await
        .context("after the snapshot")?;
    // Streamed under the old schema.
    sqlx::query("INSERT INTO ref.evolving VALUES (6, 'streamed 6'), (7, 'streamed 7')")
        .execute(&pool)
        .await?;
    sqlx::query("UPDATE ref.evolving SET name = 'streamed update' WHERE id = 5")
        .execute(&pool)
        .await?;
    wait_in_sync(&pool, &lake, &mut ingest, before, before_pg)
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
    let after = "CAST(id AS VARCHAR), name, CAST(grade AS VARCHAR), remark";
    let after_pg = "id::text, name, grade::text, remark";
    wait_in_sync(&pool, &lake, &mut ingest, after, after_pg).await.context("after the change")?;

    // Spelled out: the untouched old rows read null in the new columns.
    let silver = lake_rows(&lake, "silver", &format!("SELECT {after} FROM t")).await?;
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
    let bronze = lake_rows(
        &lake,
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

    let reports = reconcile(&source, &lake, PUBLICATION).await?;
    let evolving = reports
        .iter()
        .find(|r| r.table == "ref.evolving")
        .context("reconcile covers ref.evolving")?;
    ensure!(evolving.is_clean(), "reconcile: {evolving}");

    token.cancel();
    ingest.await??;
    Ok(())
}

/// Waits until silver equals PostgreSQL on the given select lists (same text on both sides).
async fn wait_in_sync(
    pool: &PgPool,
    lake: &Url,
    ingest: &mut JoinHandle<Result<(), IngestError>>,
    lake_cols: &str,
    pg_cols: &str,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if ingest.is_finished() {
            match ingest.await {
                Ok(Ok(())) => bail!("ingest stopped on its own"),
                Ok(Err(e)) => bail!("ingest failed: {e}"),
                Err(e) => bail!("ingest panicked: {e}"),
            }
        }
        let pg: Rows = {
            let sql = format!("SELECT {pg_cols} FROM ref.evolving ORDER BY id");
            let rows = sqlx::query(&sql).fetch_all(pool).await?;
            use sqlx::Row;
            rows.iter()
                .map(|r| (0..r.len()).map(|i| r.get::<Option<String>, _>(i)).collect())
                .collect()
        };
        let silver = lake_rows(lake, "silver", &format!("SELECT {lake_cols} FROM t")).await;
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

async fn lake_rows(lake: &Url, layer: &str, sql: &str) -> anyhow::Result<Rows> {
    let delta = deltalake::open_table(lake_table_url(lake, layer, "ref", "evolving")).await?;
    let ctx = SessionContext::new();
    ctx.register_table("t", delta.table_provider().await?)?;
    let batches: Vec<RecordBatch> = ctx.sql(sql).await?.collect().await?;
    let mut out: Rows = Vec::new();
    for b in &batches {
        for row in 0..b.num_rows() {
            let mut values = Vec::with_capacity(b.num_columns());
            for col in b.columns() {
                values.push(if col.is_null(row) {
                    None
                } else {
                    Some(array_value_to_string(col, row)?)
                });
            }
            out.push(values);
        }
    }
    if layer == "silver" {
        // By id (the first column), as PostgreSQL's side is ordered.
        out.sort_by_key(|r| r.first().cloned().flatten().and_then(|id| id.parse::<i64>().ok()));
    }
    Ok(out)
}

/// A column added with a constant default: PostgreSQL shows the default in the rows that
/// existed before (without rewriting them, so nothing about them is in the WAL); silver does
/// too (ingest reads `pg_attribute.attmissingval`), bronze does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_added_with_a_default_while_streaming() -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,buoyant_kernel=off".into()),
        )
        .with_test_writer()
        .try_init();
    let dir = tempfile::Builder::new().prefix("oneclass-ingest-schema-").tempdir_in("/tmp")?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
    let cluster =
        PgCluster::start(&dir.path().join("pg"), "pw", &ClusterOptions { unsafe_fast: true })?;
    cluster.ensure_database("oneclass").await?;
    let owner_url = cluster.url("oneclass");
    oneclass_core::db::migrate(
        &owner_url,
        &RolePasswords { app: "app-pw".into(), cdc: "cdc-pw".into() },
    )
    .await?;
    let pool = PgPool::connect(&owner_url).await?;
    for stmt in [
        "CREATE TABLE ref.evolving (id int PRIMARY KEY, name text NOT NULL)",
        "GRANT SELECT ON ref.evolving TO oneclass_cdc",
        "ALTER PUBLICATION oneclass_lake ADD TABLE ref.evolving",
        "INSERT INTO ref.evolving SELECT g, 'snapshot ' || g FROM generate_series(1, 3) g",
    ] {
        sqlx::query(stmt).execute(&pool).await.with_context(|| stmt.to_string())?;
    }
    let lake = Url::from_directory_path(dir.path().join("lake"))
        .map_err(|()| anyhow::anyhow!("lake path"))?;
    let source = SourceConfig {
        host: "127.0.0.1".into(),
        port: cluster.port(),
        user: CDC_ROLE.into(),
        password: "cdc-pw".into(),
        database: "oneclass".into(),
    };
    let mut cfg = IngestConfig::new(source.clone(), lake.clone());
    cfg.flush_interval = Duration::from_millis(100);
    let token = CancellationToken::new();
    let mut ingest = tokio::spawn(oneclass_ingest::run(cfg, token.clone()));
    wait_in_sync(&pool, &lake, &mut ingest, "CAST(id AS VARCHAR), name", "id::text, name")
        .await
        .context("after the snapshot")?;
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
    let after = "CAST(id AS VARCHAR), name, flag, CAST(level AS VARCHAR)";
    let after_pg = "id::text, name, flag, level::text";
    wait_in_sync(&pool, &lake, &mut ingest, after, after_pg)
        .await
        .context("after ADD COLUMN … DEFAULT")?;
    let silver = lake_rows(&lake, "silver", &format!("SELECT {after} FROM t")).await?;
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
    wait_in_sync(&pool, &lake, &mut ingest, after, after_pg).await.context("level set to null")?;
    // Bronze is the changelog: the insert decoded before the change carries null.
    let bronze = lake_rows(
        &lake,
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
    let reports = reconcile(&source, &lake, PUBLICATION).await?;
    let evolving = reports
        .iter()
        .find(|r| r.table == "ref.evolving")
        .context("reconcile covers ref.evolving")?;
    ensure!(evolving.is_clean(), "reconcile: {evolving}");
    token.cancel();
    ingest.await??;
    Ok(())
}
