//! The lake as DataFusion catalogs: `bronze`, `silver` and `gold`, schemas as in PostgreSQL, one
//! table per Delta table at `<lake>/<layer>/<schema>/<table>`.
//!
//! Ingest commits every half second and creates tables as the source grows, so nothing is fixed
//! ahead of time: `table()` brings the Delta table to its latest version when a query is planned,
//! and a table created a moment ago is found at once. The listing of names (only needed for
//! `information_schema` and `SHOW TABLES`) is cached briefly.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, PoisonError};

use async_trait::async_trait;
use deltalake::datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use deltalake::datafusion::common::TableReference;
use deltalake::datafusion::error::{DataFusionError, Result as DfResult};
use deltalake::datafusion::logical_expr::TableType;
use deltalake::logstore::object_store::{self, ObjectStore, path::Path};
use deltalake::{DeltaTable, DeltaTableError};
use futures::StreamExt;
use futures::future::try_join_all;
use url::Url;

use crate::privacy::{self, AnalystScope};

/// The lake's layers, which become the catalogs.
pub(crate) const LAYERS: [&str; 3] =
    [oneclass_lake::BRONZE, oneclass_lake::SILVER, oneclass_lake::GOLD];

const DELTA_LOG: &str = "_delta_log";

/// Where the lake lives and how to reach it.
#[derive(Clone)]
pub(crate) struct Lake {
    /// The lake root without a trailing slash, to which `/<layer>/<schema>/<table>` is appended.
    pub root: String,
    /// Rooted at the lake, so paths are `<layer>/<schema>/<table>`.
    pub store: Arc<dyn ObjectStore>,
    pub storage_options: HashMap<String, String>,
    /// Tables opened before, brought up to date at each open by reading only the commits made
    /// since: ingest commits twice a second, and replaying a table's log from its last
    /// checkpoint for every query would cost far more than the query.
    tables: Arc<std::sync::Mutex<HashMap<Url, TableSlot>>>,
}

type TableSlot = Arc<tokio::sync::Mutex<Option<DeltaTable>>>;

impl Lake {
    pub(crate) fn new(
        url: &Url,
        storage_options: HashMap<String, String>,
    ) -> Result<Self, DeltaTableError> {
        let store = oneclass_lake::root_store(url, &storage_options)?;
        Ok(Self {
            root: url.as_str().trim_end_matches('/').to_owned(),
            store,
            storage_options,
            tables: Arc::default(),
        })
    }

    fn table_url(&self, layer: &str, schema: &str, table: &str) -> Result<Url, DeltaTableError> {
        let url = format!("{}/{layer}/{schema}/{table}", self.root);
        Url::parse(&url).map_err(|e| DeltaTableError::InvalidTableLocation(format!("{url}: {e}")))
    }

    /// True when `<path>/_delta_log/` holds anything: the table has been created.
    async fn has_delta_log(&self, path: &[&str]) -> Result<bool, object_store::Error> {
        let prefix = Path::from_iter(path.iter().copied().chain([DELTA_LOG]));
        match self.store.list(Some(&prefix)).next().await {
            None | Some(Err(object_store::Error::NotFound { .. })) => Ok(false),
            Some(Ok(_)) => Ok(true),
            Some(Err(e)) => Err(e),
        }
    }

    /// Opens the latest committed version of a table; `None` when it does not exist (yet).
    /// Silver is the table with its pending changes on top (`oneclass_lake::silver`).
    pub(crate) async fn open(
        &self,
        layer: &str,
        schema: &str,
        table: &str,
    ) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        if !is_identifier(schema) || !is_identifier(table) {
            return Ok(None);
        }
        let url = self.table_url(layer, schema, table).map_err(external)?;
        if layer != oneclass_lake::SILVER {
            let Some(table) = self.latest(&url, &[layer, schema, table]).await? else {
                return Ok(None);
            };
            return table.table_provider().await.map(Some);
        }
        // Pending first, then the table: a fold in between is then covered (the table records
        // the folded rows' LSN and holds them), where the other order could miss its rows.
        let pending_url = oneclass_lake::silver::pending_url(&url);
        let pending_path = [layer, schema, table, oneclass_lake::silver::PENDING_DIR];
        let pending = self.latest(&pending_url, &pending_path).await?;
        let Some(base) = self.latest(&url, &[layer, schema, table]).await? else {
            return Ok(None);
        };
        oneclass_lake::silver::silver_provider(&base, pending.as_ref()).await.map(Some)
    }

    /// The latest version of the Delta table at `url` (`path` below the lake root).
    async fn latest(
        &self,
        url: &Url,
        path: &[&str],
    ) -> Result<Option<DeltaTable>, DataFusionError> {
        let cached = self.tables.lock().unwrap_or_else(PoisonError::into_inner).get(url).cloned();
        let slot = match cached {
            Some(slot) => slot,
            None => {
                if !self.has_delta_log(path).await.map_err(external)? {
                    return Ok(None);
                }
                let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
                tables.entry(url.clone()).or_default().clone()
            }
        };
        // One query at a time brings a table up to date; the others then find it current.
        let mut slot = slot.lock().await;
        let latest = match slot.take() {
            Some(mut cached) => match cached.update_incremental(None).await {
                Ok(()) => Some(cached),
                Err(error) => {
                    // Recreated, or its old commits cleaned up: start again from the log.
                    tracing::debug!(%url, %error, "reopening Delta table");
                    self.open_fresh(url).await?
                }
            },
            None => self.open_fresh(url).await?,
        };
        slot.clone_from(&latest);
        Ok(latest)
    }

    async fn open_fresh(&self, url: &Url) -> Result<Option<DeltaTable>, DataFusionError> {
        let opened = oneclass_lake::open_table(url, &self.storage_options).await;
        match opened {
            Ok(table) => Ok(Some(table)),
            // The log directory exists but its first commit has not landed yet.
            Err(DeltaTableError::NotATable(_)) => Ok(None),
            Err(e) => Err(external(e)),
        }
    }

    /// Every table of the lake, by layer and schema.
    pub(crate) async fn list(&self) -> Result<Listing, object_store::Error> {
        let mut listing = Listing::default();
        for layer in LAYERS {
            let schemas = self.child_dirs(&Path::from(layer)).await?;
            let tables = try_join_all(schemas.iter().map(|schema| async move {
                let dirs = self.child_dirs(&Path::from_iter([layer, schema.as_str()])).await?;
                let mut tables = BTreeSet::new();
                for table in dirs {
                    if self.has_delta_log(&[layer, schema, &table]).await? {
                        tables.insert(table);
                    }
                }
                Ok::<_, object_store::Error>((schema.clone(), tables))
            }))
            .await?;
            let schemas: BTreeMap<_, _> =
                tables.into_iter().filter(|(_, t)| !t.is_empty()).collect();
            if !schemas.is_empty() {
                listing.layers.insert(layer, schemas);
            }
        }
        Ok(listing)
    }

    /// Sub-directories of `prefix` whose names can be SQL identifiers.
    async fn child_dirs(&self, prefix: &Path) -> Result<Vec<String>, object_store::Error> {
        let listed = match self.store.list_with_delimiter(Some(prefix)).await {
            Ok(listed) => listed,
            Err(object_store::Error::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_owned))
            .filter(|name| is_identifier(name))
            .collect())
    }
}

/// The lake's tables at one moment: layer → schema → table names.
#[derive(Debug, Default, Clone)]
pub(crate) struct Listing {
    layers: BTreeMap<&'static str, BTreeMap<String, BTreeSet<String>>>,
}

impl Listing {
    pub(crate) fn schemas(&self, layer: &str) -> Vec<String> {
        self.layers.get(layer).map(|s| s.keys().cloned().collect()).unwrap_or_default()
    }

    pub(crate) fn tables(&self, layer: &str, schema: &str) -> Option<&BTreeSet<String>> {
        self.layers.get(layer).and_then(|s| s.get(schema))
    }
}

/// Names that map to a directory unambiguously: lower-case, as PostgreSQL names them, and never
/// `..` or anything with a separator, so a quoted identifier cannot reach outside the lake.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= 63
}

fn external(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// What one query's catalogs share.
pub(crate) struct QueryLake {
    pub lake: Lake,
    pub listing: Arc<Listing>,
    /// `None` for full access.
    pub analyst: Option<AnalystScope>,
}

#[derive(Clone)]
pub(crate) struct LayerCatalog {
    layer: &'static str,
    lake: Arc<QueryLake>,
    /// Schemas that are not the lake's: only the Postgres-wire endpoint's `pg_catalog`.
    system: Arc<std::sync::RwLock<BTreeMap<String, Arc<dyn SchemaProvider>>>>,
}

/// The one schema a session may add to a layer: PostgreSQL clients' view of the catalog.
pub(crate) const PG_CATALOG: &str = "pg_catalog";

impl LayerCatalog {
    pub(crate) fn new(layer: &'static str, lake: Arc<QueryLake>) -> Self {
        Self { layer, lake, system: Arc::default() }
    }

    fn system_schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        self.system.read().unwrap_or_else(PoisonError::into_inner).get(name).cloned()
    }
}

impl std::fmt::Debug for LayerCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerCatalog").field("layer", &self.layer).finish_non_exhaustive()
    }
}

impl CatalogProvider for LayerCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.lake.listing.schemas(self.layer);
        names.extend(self.system.read().unwrap_or_else(PoisonError::into_inner).keys().cloned());
        names
    }

    // Any well-formed name resolves, so a schema created after the last listing is usable at
    // once; a schema without tables simply has none.
    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if let Some(system) = self.system_schema(name) {
            return Some(system);
        }
        if !is_identifier(name) || name == "information_schema" || name == PG_CATALOG {
            return None;
        }
        Some(Arc::new(LakeSchema { catalog: self.clone(), schema: name.to_owned() }))
    }

    /// Only `pg_catalog` (the Postgres-wire endpoint's catalog tables) can be added: the lake's
    /// own schemas come from the lake.
    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> DfResult<Option<Arc<dyn SchemaProvider>>> {
        if name != PG_CATALOG {
            return Err(DataFusionError::Plan(format!(
                "schema {name} cannot be created: the lake's schemas come from the lake"
            )));
        }
        let mut system = self.system.write().unwrap_or_else(PoisonError::into_inner);
        Ok(system.insert(name.to_owned(), schema))
    }
}

#[derive(Debug)]
pub(crate) struct LakeSchema {
    catalog: LayerCatalog,
    schema: String,
}

impl LakeSchema {
    fn layer(&self) -> &'static str {
        self.catalog.layer
    }
}

#[async_trait]
impl SchemaProvider for LakeSchema {
    fn table_names(&self) -> Vec<String> {
        let listing = &self.catalog.lake.listing;
        listing
            .tables(self.layer(), &self.schema)
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let lake = &self.catalog.lake;
        let Some(provider) = lake.lake.open(self.layer(), &self.schema, name).await? else {
            return Ok(None);
        };
        match &lake.analyst {
            None => Ok(Some(provider)),
            Some(scope) => {
                let table_ref = TableReference::full(self.layer(), self.schema.as_str(), name);
                privacy::analyst_view(table_ref, &self.schema, name, provider, scope).map(Some)
            }
        }
    }

    // Listing a table's type must not open every table of the lake (information_schema.tables).
    async fn table_type(&self, name: &str) -> DfResult<Option<TableType>> {
        if self.table_exist(name) {
            return Ok(Some(if self.catalog.lake.analyst.is_some() {
                TableType::View
            } else {
                TableType::Base
            }));
        }
        Ok(self.table(name).await?.map(|t| t.table_type()))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.catalog
            .lake
            .listing
            .tables(self.layer(), &self.schema)
            .is_some_and(|t| t.contains(name))
    }
}

#[cfg(test)]
mod tests {
    use super::is_identifier;

    #[test]
    fn identifiers_cannot_escape_the_lake() {
        assert!(is_identifier("learners"));
        assert!(is_identifier("daily_marks"));
        assert!(is_identifier("_tmp2"));
        for bad in ["", "..", "a/b", "A", "x.y", "1abc", "a b", "é"] {
            assert!(!is_identifier(bad), "{bad:?}");
        }
    }
}
