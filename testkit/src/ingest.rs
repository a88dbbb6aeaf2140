//! The ingest fixture: a fresh migrated database on the binary's cluster, with its own slot
//! (ADR 0004), and a lake in a temporary folder or in a bucket of a local S3 server; reading
//! lake tables with SQL; waiting until silver matches PostgreSQL.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use deltalake::arrow::array::{Array, RecordBatch};
use deltalake::arrow::util::display::array_value_to_string;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::logstore::object_store::ObjectStoreExt;
use deltalake::logstore::object_store::path::Path as StorePath;
use futures::TryStreamExt;
use oneclass_core::db::{CDC_ROLE, PUBLICATION};
use oneclass_ingest::{
    IngestConfig, IngestError, SourceConfig, StorageOptions, lake_table_url, reconcile,
};
use sqlx::{PgPool, Row};
use tokio::task::JoinHandle;
use url::Url;

use crate::cluster::{CDC_PASSWORD, fresh_named_database, scratch_dir, shared_cluster};
use crate::s3;

pub type Rows = Vec<Vec<Option<String>>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LakeKind {
    Folder,
    S3,
}

pub struct Fixture {
    pub pool: PgPool,
    pub source: SourceConfig,
    pub lake: Url,
    pub options: StorageOptions,
    pub moto: Option<s3::Moto>,
    /// The test's scratch folder; the lake is `lake/` inside when it is a folder.
    pub dir: tempfile::TempDir,
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,buoyant_kernel=off".into()),
        )
        .with_test_writer()
        .try_init();
}

impl Fixture {
    /// A fresh migrated database on the binary's cluster, and an empty lake of the given kind.
    pub async fn start(name: &str, kind: LakeKind) -> anyhow::Result<Self> {
        init_tracing();
        let dir = scratch_dir(&format!("oneclass-{name}-"));
        let (database, owner_url) = fresh_named_database().await;
        let pool = PgPool::connect(&owner_url).await?;
        let source = SourceConfig {
            host: "127.0.0.1".into(),
            port: shared_cluster().port(),
            user: CDC_ROLE.into(),
            password: CDC_PASSWORD.into(),
            database,
        };
        let (lake, options, moto) = match kind {
            LakeKind::Folder => {
                let lake = Url::from_directory_path(dir.path().join("lake"))
                    .map_err(|()| anyhow::anyhow!("lake path"))?;
                (lake, StorageOptions::new(), None)
            }
            LakeKind::S3 => {
                let moto = s3::Moto::start()?;
                let bucket = name.replace('_', "-");
                moto.create_bucket(&bucket).await?;
                let lake = Url::parse(&format!("s3://{bucket}/lake/"))?;
                (lake, moto.options(), Some(moto))
            }
        };
        Ok(Self { pool, source, lake, options, moto, dir })
    }

    /// Ingest's defaults over this fixture's database and lake (the database's own slot), with
    /// a short flush interval.
    pub fn config(&self) -> IngestConfig {
        let mut cfg = IngestConfig::new(self.source.clone(), self.lake.clone());
        cfg.storage_options = self.options.clone();
        cfg.flush_interval = Duration::from_millis(200);
        cfg
    }

    /// Runs statements in order, naming the one that failed.
    pub async fn execute(&self, statements: &[&str]) -> anyhow::Result<()> {
        for stmt in statements {
            sqlx::query(stmt).execute(&self.pool).await.with_context(|| stmt.to_string())?;
        }
        Ok(())
    }

    /// Creates each table (name, column definitions), lets the CDC role read it and adds it to
    /// the publication: a table ingest will copy and stream.
    pub async fn publish(&self, tables: &[(&str, &str)]) -> anyhow::Result<()> {
        for (name, columns) in tables {
            self.execute(&[
                &format!("CREATE TABLE {name} ({columns})"),
                &format!("GRANT SELECT ON {name} TO {CDC_ROLE}"),
                &format!("ALTER PUBLICATION {PUBLICATION} ADD TABLE {name}"),
            ])
            .await?;
        }
        Ok(())
    }

    /// The rows of a bronze table matching `condition`.
    pub async fn bronze_count(
        &self,
        schema: &str,
        table: &str,
        condition: &str,
    ) -> anyhow::Result<u64> {
        let sql = format!("SELECT CAST(count(*) AS VARCHAR) FROM t WHERE {condition}");
        self.bronze_number(schema, table, &sql).await
    }

    /// The one number `sql` (over the bronze table as `t`) answers.
    async fn bronze_number(&self, schema: &str, table: &str, sql: &str) -> anyhow::Result<u64> {
        let rows = self.lake_rows("bronze", schema, table, sql).await?;
        let n = rows.first().and_then(|r| r.first().cloned().flatten()).context("no number")?;
        Ok(n.parse()?)
    }

    /// A bronze table's changes per operation (`c`, `u`, `d`, `r`).
    pub async fn bronze_ops(
        &self,
        schema: &str,
        table: &str,
    ) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
        let sql = "SELECT _op, CAST(count(*) AS VARCHAR) FROM t GROUP BY _op";
        Ok(self
            .lake_rows("bronze", schema, table, sql)
            .await?
            .into_iter()
            .filter_map(|r| Some((r.first()?.clone()?, r.get(1)?.clone()?.parse().ok()?)))
            .collect())
    }

    /// Bronze's exactly-once shape for one table: no change (`_lsn`, `_seq`) twice, and a
    /// delete carries the key only (`key` is a key column, `value` one that is not).
    pub async fn check_bronze_once(
        &self,
        schema: &str,
        table: &str,
        key: &str,
        value: &str,
    ) -> anyhow::Result<()> {
        let twice = "SELECT CAST(count(*) AS VARCHAR) \
                     FROM (SELECT _lsn, _seq FROM t GROUP BY _lsn, _seq HAVING count(*) > 1) d";
        let twice = self.bronze_number(schema, table, twice).await?;
        anyhow::ensure!(twice == 0, "{twice} changes of {schema}.{table} twice in bronze");
        let deletes = format!("_op = 'd' AND ({value} IS NOT NULL OR {key} IS NULL)");
        let deletes = self.bronze_count(schema, table, &deletes).await?;
        anyhow::ensure!(
            deletes == 0,
            "{deletes} bronze deletes of {schema}.{table} carry more than the key"
        );
        Ok(())
    }

    pub async fn lake_rows(
        &self,
        layer: &str,
        schema: &str,
        table: &str,
        sql: &str,
    ) -> anyhow::Result<Rows> {
        lake_rows(&self.lake, &self.options, layer, schema, table, sql).await
    }

    /// Deletes a table's newest commit file: what a crash just before that commit leaves.
    pub async fn remove_newest_commit(
        &self,
        layer: &str,
        schema: &str,
        table: &str,
    ) -> anyhow::Result<String> {
        self.remove_newest_commit_at(&[layer, schema, table]).await
    }

    /// [`remove_newest_commit`](Self::remove_newest_commit) of the Delta table at `path` below
    /// the lake root (a pending table: `silver/<schema>/<table>/_pending`).
    pub async fn remove_newest_commit_at(&self, path: &[&str]) -> anyhow::Result<String> {
        let store = oneclass_lake::root_store(&self.lake, &self.options)?;
        let prefix = StorePath::from_iter(path.iter().copied().chain(["_delta_log"]));
        let newest = store
            .list(Some(&prefix))
            .try_collect::<Vec<_>>()
            .await?
            .into_iter()
            .map(|m| m.location)
            .filter(|p| p.extension() == Some("json"))
            .max_by(|a, b| a.as_ref().cmp(b.as_ref()))
            .context("no commits")?;
        store.delete(&newest).await?;
        Ok(newest.to_string())
    }

    /// Files (data and log) below a lake table.
    pub async fn count_files(
        &self,
        layer: &str,
        schema: &str,
        table: &str,
    ) -> anyhow::Result<(usize, usize)> {
        let store = oneclass_lake::root_store(&self.lake, &self.options)?;
        let prefix = StorePath::from_iter([layer, schema, table]);
        let all: Vec<_> = store.list(Some(&prefix)).try_collect().await?;
        let parquet = all.iter().filter(|m| m.location.extension() == Some("parquet")).count();
        Ok((parquet, all.len() - parquet))
    }
}

pub async fn pg_rows(pool: &PgPool, sql: &str) -> anyhow::Result<Rows> {
    let rows = sqlx::query(sql).fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            (0..r.len()).map(|i| r.try_get::<Option<String>, _>(i).map_err(Into::into)).collect()
        })
        .collect()
}

/// Runs `sql` over one lake table registered as `t`; silver as readers see it (the table with
/// its pending changes on top).
pub async fn lake_rows(
    lake: &Url,
    options: &StorageOptions,
    layer: &str,
    schema: &str,
    table: &str,
    sql: &str,
) -> anyhow::Result<Rows> {
    if layer != "silver" {
        return delta_rows(&lake_table_url(lake, layer, schema, table), options, sql).await;
    }
    let provider = oneclass_lake::open_silver(lake, options, schema, table)
        .await?
        .with_context(|| format!("no silver table {schema}.{table}"))?;
    provider_rows(provider, sql).await
}

/// [`lake_rows`] of the Delta table at `table_url` alone (for silver: without its pending
/// changes).
pub async fn delta_rows(
    table_url: &Url,
    options: &StorageOptions,
    sql: &str,
) -> anyhow::Result<Rows> {
    let delta = oneclass_lake::open_table(table_url, options).await?;
    provider_rows(delta.table_provider().await?, sql).await
}

async fn provider_rows(
    provider: std::sync::Arc<dyn deltalake::datafusion::catalog::TableProvider>,
    sql: &str,
) -> anyhow::Result<Rows> {
    let ctx = SessionContext::new();
    ctx.register_table("t", provider)?;
    let batches: Vec<RecordBatch> = ctx.sql(sql).await?.collect().await?;
    let mut out = Vec::new();
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
    Ok(out)
}

/// Waits until `reconcile` finds silver equal to PostgreSQL in every published table, failing
/// when ingest stops or `timeout` passes.
pub async fn wait_reconciled(
    fx: &Fixture,
    ingest: &mut JoinHandle<Result<(), IngestError>>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        ensure_running(ingest).await?;
        let last = match reconcile(&fx.source, &fx.lake, &fx.options, PUBLICATION).await {
            Ok(reports) if reports.iter().all(|r| r.is_clean()) => return Ok(()),
            Ok(reports) => format!("{reports:?}"),
            Err(e) => e.to_string(),
        };
        if Instant::now() > deadline {
            bail!("silver differs from PostgreSQL: {last}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Fails when ingest has stopped (on its own, with an error, or by a panic).
pub async fn ensure_running(
    ingest: &mut JoinHandle<Result<(), IngestError>>,
) -> anyhow::Result<()> {
    if ingest.is_finished() {
        match ingest.await {
            Ok(Ok(())) => bail!("ingest stopped on its own"),
            Ok(Err(e)) => bail!("ingest failed: {e}"),
            Err(e) => bail!("ingest panicked: {e}"),
        }
    }
    Ok(())
}
