//! The analytical SQL engine of OneClass: a DataFusion session over the Delta lake, with catalogs
//! `bronze`, `silver` and `gold`, that runs one read-only, time-, memory- and row-limited query at
//! a time, either with full access (dashboards, gold models, exports) or as an analyst (no direct
//! identifiers, pseudonymous learner ids, rows of one area).

mod access;
mod builds;
mod catalog;
mod changes;
mod encode;
mod error;
mod gold;
mod gold_setup;
mod guard;
mod marts;
pub mod meanings;
mod named;
mod outside;
mod privacy;
mod raw_keys;
pub mod wire;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deltalake::arrow::array::{ArrayRef, AsArray, StringArray};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, SchemaRef};
use deltalake::datafusion::dataframe::DataFrame;
use deltalake::datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use deltalake::datafusion::execution::session_state::SessionStateBuilder;
use deltalake::datafusion::logical_expr::{LogicalPlan, ScalarUDF, col, lit};
use deltalake::datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};
use deltalake::datafusion::sql::parser::Statement;
use futures::StreamExt;
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use crate::catalog::{LAYERS, Lake, LayerCatalog, Listing, QueryLake};
use crate::privacy::{AnalystScope, AreaSchools, PseudonymUdf};

pub use access::{Access, Area, Limits, QueryOutput};
/// Arrow as the warehouse uses it, so callers read results without depending on deltalake.
pub use deltalake::arrow;
pub use deltalake::arrow::record_batch::RecordBatch;
/// The type of named queries' parameters.
pub use deltalake::datafusion::scalar::ScalarValue;
pub use encode::{Encoder, Format, encode};
pub use error::WarehouseError;
/// The lake's layers, as the catalogs are named.
pub use gold::GoldWrite;
pub use gold::{
    BuildKind, G7_AGGREGATES, GoldReport, GoldSettings, INDICATORS, Indicator, MODELS,
    PARITY_INDICATORS, SURVIVAL_INDICATOR, SumCheck, counts_schema, indicator_codes,
    indicator_schema, steps as gold_steps,
};
pub use marts::{MART_SCHEMA, MARTS, Mart, mart};
pub use named::names as named_query_names;
pub use oneclass_lake::{BRONZE, GOLD, SILVER};
pub use privacy::pseudonym;

/// How long a listing of the lake's table names is reused. Only introspection (SHOW TABLES,
/// information_schema) reads it; tables themselves are always opened fresh.
const LISTING_TTL: Duration = Duration::from_secs(5);

pub struct Warehouse {
    lake_url: Url,
    storage_options: HashMap<String, String>,
    limits: Limits,
    gold: GoldSettings,
    pseudonym: Arc<ScalarUDF>,
    lake: OnceCell<Lake>,
    runtime: OnceCell<Arc<RuntimeEnv>>,
    listing: Mutex<Option<(Instant, Arc<Listing>)>>,
}

// The pseudonym key must never be printed.
impl fmt::Debug for Warehouse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Warehouse")
            .field("lake", &self.lake_url.as_str())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Checks that `sql` is one statement the warehouse would run (it parses, and only reads),
/// without planning it: for SQL kept to run later (an analyst's saved queries).
pub fn check_read_only(sql: &str) -> Result<(), WarehouseError> {
    guard::read_only_statement(sql).map(|_| ())
}

impl Warehouse {
    /// A warehouse over the lake at `lake` (`file:///abs/path` or `s3://bucket/prefix`). Nothing is
    /// read until the first query, so a lake that ingest has not created yet is not an error.
    pub fn new(lake: Url, pseudonym_key: Vec<u8>) -> Self {
        let key: Arc<[u8]> = pseudonym_key.into();
        Self {
            lake_url: lake,
            storage_options: HashMap::new(),
            limits: Limits::default(),
            gold: GoldSettings::default(),
            pseudonym: Arc::new(PseudonymUdf::udf(key)),
            lake: OnceCell::new(),
            runtime: OnceCell::new(),
            listing: Mutex::new(None),
        }
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How the gold indicators are counted where a deployment chooses.
    pub fn with_gold_settings(mut self, gold: GoldSettings) -> Self {
        self.gold = gold;
        self
    }

    /// Object store options (credentials, endpoint, region) as deltalake understands them.
    pub fn with_storage_options(mut self, options: HashMap<String, String>) -> Self {
        self.storage_options = options;
        self
    }

    pub fn lake_url(&self) -> &Url {
        &self.lake_url
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// A user's SQL: one read-only query (SELECT/WITH/EXPLAIN; anything else is
    /// [`WarehouseError::Refused`]), time- and memory-limited, without file access, with at most
    /// [`Limits::max_rows`] rows (the rest cut off and flagged in [`QueryOutput::truncated`]).
    pub async fn query(&self, sql: &str, access: &Access) -> Result<QueryOutput, WarehouseError> {
        let statement = guard::read_only_statement(sql)?;
        let max_rows = self.limits.max_rows;
        self.limited(async {
            let ctx = self.session(access).await?;
            let mut df = plan(&ctx, statement).await?;
            // One row past the cap tells a truncated result from one that fits exactly, and lets
            // DataFusion stop early (a top-k sort instead of a full one). EXPLAIN must stay the
            // root of its plan, and its output is small anyway.
            let explain =
                matches!(df.logical_plan(), LogicalPlan::Explain(_) | LogicalPlan::Analyze(_));
            if !explain && !matches!(df.logical_plan(), LogicalPlan::DescribeTable(_)) {
                df = df.limit(0, Some(max_rows.saturating_add(1)))?;
            }
            let out = collect_capped(df, max_rows).await?;
            // A plan names the files it reads: below the lake's root only, never where the
            // lake lives on this server.
            if explain { redact_lake_root(out, &self.lake_url) } else { Ok(out) }
        })
        .await
    }

    /// A user's SQL like [`query`](Self::query), as a stream of batches for answers too large to
    /// hold: planned and started within the time limit (so a query that fails at once fails
    /// here), then read batch by batch until the same limit, counted from the start, runs out.
    /// No row cap: the caller decides how much to read.
    pub async fn query_stream(
        &self,
        sql: &str,
        access: &Access,
    ) -> Result<QueryStream, WarehouseError> {
        let statement = guard::read_only_statement(sql)?;
        let timeout = self.limits.timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        if is_explain(&statement) {
            // Small, and its text must be redacted as a whole: the held path.
            let out = self.query(sql, access).await?;
            let schema = out.batches[0].schema();
            let batches = futures::stream::iter(out.batches.into_iter().map(Ok)).boxed();
            return Ok(QueryStream { schema, batches, deadline, timeout });
        }
        let started = tokio::time::timeout_at(deadline, async {
            let ctx = self.session(access).await?;
            let df = plan(&ctx, statement).await?;
            Ok::<_, WarehouseError>(df.execute_stream().await?)
        })
        .await
        .unwrap_or(Err(WarehouseError::Timeout(timeout)))?;
        let schema = started.schema();
        let batches = started.map(|batch| batch.map_err(WarehouseError::from)).boxed();
        Ok(QueryStream { schema, batches, deadline, timeout })
    }

    /// Every table `access` may read, with its columns and their SQL types: the lake's catalog as
    /// that account's queries see it (an analyst's without identifiers, birth month generalised).
    pub async fn tables(&self, access: &Access) -> Result<Vec<TableInfo>, WarehouseError> {
        let ctx = self.session(access).await?;
        let mut tables = Vec::new();
        for layer in LAYERS {
            let Some(catalog) = ctx.catalog(layer) else { continue };
            let mut schemas = catalog.schema_names();
            schemas.sort();
            for schema in schemas {
                let Some(provider) = catalog.schema(&schema) else { continue };
                let mut names = provider.table_names();
                names.sort();
                for name in names {
                    let Some(table) = provider.table(&name).await? else { continue };
                    let columns = table
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| (f.name().clone(), encode::sql_type(f.data_type())))
                        .collect();
                    tables.push(TableInfo { layer, schema: schema.clone(), name, columns });
                }
            }
        }
        Ok(tables)
    }

    /// A named query from `queries/<name>.sql`, with positional parameters `$1`, `$2` …, run with
    /// full access under the same time and memory limits, without a row cap.
    pub async fn named(
        &self,
        name: &str,
        params: Vec<ScalarValue>,
    ) -> Result<Vec<RecordBatch>, WarehouseError> {
        self.limited(self.named_unlimited(name, params)).await
    }

    /// [`Warehouse::named`] without the time limit, for the builds that read the whole lake
    /// (the early-warning features), under the memory limit still.
    pub async fn named_unlimited(
        &self,
        name: &str,
        params: Vec<ScalarValue>,
    ) -> Result<Vec<RecordBatch>, WarehouseError> {
        let sql =
            named::sql(name).ok_or_else(|| WarehouseError::UnknownNamedQuery(name.to_owned()))?;
        let statement = guard::read_only_statement(sql)?;
        let ctx = self.session(&Access::Full).await?;
        let df = plan(&ctx, statement).await?.with_param_values(params)?;
        Ok(df.collect().await?)
    }

    /// Rebuilds the gold indicators (see [`gold`](crate::gold)) from the lake as it is now, in
    /// one commit; `progress` hears each model as it starts (name, done, of). Runs with full
    /// access under the memory limit, without the per-query time limit (a national rebuild
    /// takes minutes).
    pub async fn rebuild_gold(
        &self,
        progress: impl FnMut(&str, usize, usize),
    ) -> Result<GoldReport, WarehouseError> {
        self.build_gold(BuildKind::Incremental, progress).await
    }

    /// [`Warehouse::rebuild_gold`], choosing how much to redo: only the schools changed since
    /// the last build (`Incremental`, the default), or everything (`Full`).
    pub async fn build_gold(
        &self,
        kind: BuildKind,
        progress: impl FnMut(&str, usize, usize),
    ) -> Result<GoldReport, WarehouseError> {
        let ctx = self.session(&Access::Full).await?;
        gold::rebuild(&ctx, &self.lake_url, &self.storage_options, self.gold, kind, progress).await
    }

    /// Writes `batches` to the gold table `(schema, table)` in one commit, as `how` says;
    /// creates the table if need be. Its new version.
    pub async fn write_gold(
        &self,
        table: (&str, &str),
        schema: deltalake::arrow::datatypes::SchemaRef,
        batches: Vec<RecordBatch>,
        how: GoldWrite,
    ) -> Result<u64, WarehouseError> {
        gold::write(&self.lake_url, &self.storage_options, table, schema, batches, how).await
    }

    /// Gold's own arithmetic, level by level: every numerator and denominator of a scope against
    /// the sum over the scopes inside it.
    pub async fn check_gold_sums(&self) -> Result<Vec<gold::SumCheck>, WarehouseError> {
        let ctx = self.session(&Access::Full).await?;
        gold::check_sums(&ctx).await
    }

    async fn limited<T>(
        &self,
        work: impl Future<Output = Result<T, WarehouseError>>,
    ) -> Result<T, WarehouseError> {
        // Dropping the plan's streams on timeout cancels its tasks too.
        tokio::time::timeout(self.limits.timeout, work)
            .await
            .unwrap_or(Err(WarehouseError::Timeout(self.limits.timeout)))
    }

    async fn session(&self, access: &Access) -> Result<SessionContext, WarehouseError> {
        let lake = self.lake().await?.clone();
        let runtime = self.runtime().await?;
        let listing = self.listing(&lake).await?;
        let full = Arc::new(QueryLake { lake, listing, analyst: None });
        let query_lake = match access {
            Access::Full => full,
            Access::Analyst { area } => {
                let schools = area_schools(&full, area, &runtime).await?;
                Arc::new(QueryLake {
                    lake: full.lake.clone(),
                    listing: full.listing.clone(),
                    analyst: Some(AnalystScope {
                        udf: self.pseudonym.clone(),
                        area: area.clone(),
                        schools,
                    }),
                })
            }
        };
        Ok(lake_context(runtime, query_lake))
    }

    async fn lake(&self) -> Result<&Lake, WarehouseError> {
        self.lake
            .get_or_try_init(|| async { Lake::new(&self.lake_url, self.storage_options.clone()) })
            .await
            .map_err(WarehouseError::from)
    }

    async fn runtime(&self) -> Result<Arc<RuntimeEnv>, WarehouseError> {
        let runtime = self
            .runtime
            .get_or_try_init(|| async {
                RuntimeEnvBuilder::new()
                    .with_memory_limit(self.limits.memory_bytes, 1.0)
                    .build_arc()
            })
            .await?;
        Ok(runtime.clone())
    }

    async fn listing(&self, lake: &Lake) -> Result<Arc<Listing>, WarehouseError> {
        let mut cached = self.listing.lock().await;
        if let Some((at, listing)) = cached.as_ref()
            && at.elapsed() < LISTING_TTL
        {
            return Ok(listing.clone());
        }
        let listing = Arc::new(lake.list().await?);
        *cached = Some((Instant::now(), listing.clone()));
        Ok(listing)
    }
}

fn is_explain(statement: &Statement) -> bool {
    use deltalake::datafusion::sql::sqlparser::ast::Statement as SqlStatement;
    match statement {
        Statement::Explain(_) => true,
        Statement::Statement(s) => matches!(s.as_ref(), SqlStatement::Explain { .. }),
        _ => false,
    }
}

/// One table of the catalog: `layer.schema.name`, its columns as (name, SQL type).
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub layer: &'static str,
    pub schema: String,
    pub name: String,
    pub columns: Vec<(String, String)>,
}

/// A running query's batches (see [`Warehouse::query_stream`]). Dropping it cancels the query.
pub struct QueryStream {
    schema: SchemaRef,
    batches: futures::stream::BoxStream<'static, Result<RecordBatch, WarehouseError>>,
    deadline: tokio::time::Instant,
    timeout: Duration,
}

impl QueryStream {
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The next batch; the time-limit error once the query's time is up.
    pub async fn next(&mut self) -> Option<Result<RecordBatch, WarehouseError>> {
        match tokio::time::timeout_at(self.deadline, self.batches.next()).await {
            Ok(next) => next,
            Err(_) => Some(Err(WarehouseError::Timeout(self.timeout))),
        }
    }
}

/// The engine's settings, as every warehouse session has them (the query benchmark gives
/// DataFusion over plain Parquet the same, so that it measures the engine as the product runs it).
pub fn engine_config() -> SessionConfig {
    // Joins choose which side to hold in memory from the inputs' statistics, and the lake's
    // scans give theirs only through DataFusion's statistics registry: without it, a question
    // joining 11 million marks to 62 thousand enrolments held the marks and ran out of memory.
    SessionConfig::new().set_bool("datafusion.optimizer.use_statistics_registry", true)
}

/// The engine's settings and its own optimizer rules, on `runtime`.
fn engine_state(config: SessionConfig, runtime: Arc<RuntimeEnv>) -> SessionStateBuilder {
    SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_optimizer_rule(Arc::new(raw_keys::RawLearnerKeys))
}

/// A session with the engine as the warehouse runs it and no tables (the query benchmark
/// registers plain Parquet files in it).
pub fn engine_context() -> SessionContext {
    SessionContext::new_with_state(
        engine_state(engine_config(), Arc::new(RuntimeEnv::default())).build(),
    )
}

/// A session whose only tables are the lake's, with no file-reading table factories.
fn lake_context(runtime: Arc<RuntimeEnv>, lake: Arc<QueryLake>) -> SessionContext {
    let mut config = engine_config()
        .with_information_schema(true)
        .with_create_default_catalog_and_schema(false)
        // Unqualified `sis.learners` means the current state, the table analysts want most.
        .with_default_catalog_and_schema(oneclass_lake::SILVER, "public");
    if lake.analyst.is_some() {
        // A dynamic filter carries values of a join's build side (or the bounds of a top-k)
        // into the other side's scan, where EXPLAIN ANALYZE prints them; analysts' joins by
        // learner run on the raw ids beneath their views (`raw_keys`), so those values would be
        // raw ids.
        config = config.set_bool("datafusion.optimizer.enable_dynamic_filter_pushdown", false);
    }
    let state = engine_state(config, runtime).with_table_factories(HashMap::new()).build();
    let ctx = SessionContext::new_with_state(state);
    for layer in LAYERS {
        ctx.register_catalog(layer, Arc::new(LayerCatalog::new(layer, lake.clone())));
    }
    ctx
}

/// Plans a statement that passed the guard, and checks the plan again: a query can still hide a
/// write (`SELECT … INTO` creates a table).
async fn plan(ctx: &SessionContext, statement: Statement) -> Result<DataFrame, WarehouseError> {
    let plan = ctx.state().statement_to_plan(statement).await?;
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(&plan)
        .map_err(|e| WarehouseError::Refused(e.to_string()))?;
    Ok(ctx.execute_logical_plan(plan).await?)
}

async fn collect_capped(df: DataFrame, max_rows: usize) -> Result<QueryOutput, WarehouseError> {
    let mut stream = df.execute_stream().await?;
    let schema = stream.schema();
    let mut batches = Vec::new();
    let mut rows = 0;
    let mut truncated = false;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let room = max_rows - rows;
        if batch.num_rows() > room {
            truncated = true;
            if room > 0 {
                batches.push(batch.slice(0, room));
            }
            break;
        }
        rows += batch.num_rows();
        if batch.num_rows() > 0 {
            batches.push(batch);
        }
    }
    if batches.is_empty() {
        batches.push(RecordBatch::new_empty(schema));
    }
    Ok(QueryOutput { batches, truncated })
}

/// The output of an EXPLAIN with every mention of the lake's root removed from its text, so
/// that file paths read `silver/sis/learners/part-….parquet`.
fn redact_lake_root(out: QueryOutput, root: &Url) -> Result<QueryOutput, WarehouseError> {
    let path = root.path().to_owned();
    let mut needles = vec![root.as_str().to_owned(), path.clone()];
    if let Some(host) = root.host_str() {
        needles.push(format!("{host}{path}"));
    }
    needles.push(path.trim_start_matches('/').to_owned());
    needles.retain(|n| n.len() > 1);
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let redact =
        |text: &str| needles.iter().fold(text.to_owned(), |t, n| t.replace(n.as_str(), ""));
    let mut batches = Vec::with_capacity(out.batches.len());
    for batch in out.batches {
        let mut columns = Vec::with_capacity(batch.num_columns());
        for column in batch.columns() {
            let column = match column.as_string_opt::<i32>() {
                Some(text) => Arc::new(text.iter().map(|v| v.map(redact)).collect::<StringArray>())
                    as ArrayRef,
                None => column.clone(),
            };
            columns.push(column);
        }
        batches.push(RecordBatch::try_new(batch.schema(), columns)?);
    }
    Ok(QueryOutput { batches, truncated: out.truncated })
}

/// The schools of an analyst's area, read from the current school register.
async fn area_schools(
    full: &Arc<QueryLake>,
    area: &Area,
    runtime: &Arc<RuntimeEnv>,
) -> Result<AreaSchools, WarehouseError> {
    let (column, value) = match area {
        Area::National => return Ok(AreaSchools::default()),
        Area::Province(p) => ("province", p),
        Area::District(d) => ("district", d),
    };
    let Some(schools) = full.lake.open(oneclass_lake::SILVER, "platform", "schools").await? else {
        return Ok(AreaSchools::default());
    };
    let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), runtime.clone());
    let batches = ctx
        .read_table(schools)?
        .filter(col(column).eq(lit(value.as_str())))?
        .select(vec![col("id"), col("emis_code"), col("district")])?
        .collect()
        .await?;
    let mut found = AreaSchools::default();
    for batch in &batches {
        let text = |i: usize| cast(batch.column(i), &DataType::Utf8);
        let (ids, emis, districts) = (text(0)?, text(1)?, text(2)?);
        found.school_ids.extend(ids.as_string::<i32>().iter().flatten().map(str::to_owned));
        found.emis_codes.extend(emis.as_string::<i32>().iter().flatten().map(str::to_owned));
        found.districts.extend(districts.as_string::<i32>().iter().flatten().map(str::to_owned));
    }
    found.districts.sort();
    found.districts.dedup();
    Ok(found)
}
