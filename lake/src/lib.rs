//! Where the lake lives, for every crate that reads or writes it: `file:///abs/path` or
//! `s3://bucket/prefix` (any S3-compatible server), the table URLs below it, and opening a
//! Delta table there with the operator's storage options.
//!
//! S3 goes through object_store's S3 client. Delta's default log store writes each commit with
//! a conditional put (`If-None-Match: *`, object_store's `PutMode::Create`), so of two writers
//! racing for the same version exactly one wins and the other sees a commit conflict: no
//! DynamoDB lock table is needed on a store that honours conditional writes (AWS S3 since 2024,
//! MinIO, moto).

use std::collections::HashMap;
use std::sync::{Arc, Once};

use deltalake::logstore::object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use deltalake::logstore::object_store::path::Path as StorePath;
use deltalake::logstore::{
    LogStore, LogStoreFactory, ObjectStoreFactory, ObjectStoreRef, StorageConfig, default_logstore,
    logstore_factories, object_store_factories,
};
use deltalake::{DeltaResult, DeltaTable, DeltaTableError};
use url::Url;

pub mod contract;
mod error;
mod publication;
pub mod silver;

pub use contract::{APP_ID, BRONZE, GOLD, Layer, SILVER, column};
pub use error::{LakeError, LakeResult};
pub use publication::{PublishedTable, published_tables};

/// Object store options (credentials, endpoint, region, `aws_allow_http`, …), in object_store's
/// key names (`aws_endpoint`, `aws_access_key_id`, …). They come on top of the `AWS_*`
/// environment.
pub type StorageOptions = HashMap<String, String>;

/// `<lake>/<layer>/<schema>/<table>`.
pub fn table_url(lake: &Url, layer: &str, schema: &str, table: &str) -> Url {
    let mut url = lake.clone();
    let extended = match url.path_segments_mut() {
        Ok(mut segments) => {
            segments.pop_if_empty().extend([layer, schema, table]);
            true
        }
        Err(()) => false,
    };
    if extended {
        return url;
    }
    // A URL without a hierarchical path (never a valid lake) still gets a usable answer.
    let joined = format!("{}/{layer}/{schema}/{table}", lake.as_str().trim_end_matches('/'));
    Url::parse(&joined).unwrap_or(url)
}

/// Checks that `root` is a lake location this build can use, and makes its scheme known to
/// deltalake (idempotent). The error says what is wrong with the URL.
pub fn check_url(root: &Url) -> LakeResult<()> {
    let refuse = |reason: String| Err(LakeError::Url { url: root.to_string(), reason });
    match root.scheme() {
        "file" => {
            if root.to_file_path().is_err() {
                return refuse("not an absolute file path".into());
            }
        }
        "s3" | "s3a" => {
            if root.host_str().is_none_or(str::is_empty) {
                return refuse("names no bucket (s3://bucket/prefix)".into());
            }
            register_stores();
        }
        "memory" => {}
        other => {
            return refuse(format!("scheme {other:?} is not supported (use file:// or s3://)"));
        }
    }
    Ok(())
}

/// Opens the latest version of the Delta table at `url`; `NotATable` when nothing is there.
pub async fn open_table(url: &Url, options: &StorageOptions) -> DeltaResult<DeltaTable> {
    let mut table = unloaded(url, options)?;
    // Asked first: loading a location without a log makes the Delta kernel log an ERROR.
    if !holds_log(&table).await? {
        return Err(DeltaTableError::NotATable(format!("no Delta table at {url}")));
    }
    table.load().await?;
    Ok(table)
}

/// A handle on the table at `url`, loaded when it exists and uninitialised when it does not
/// (the first write creates it).
pub async fn table_or_new(url: &Url, options: &StorageOptions) -> DeltaResult<DeltaTable> {
    let mut table = unloaded(url, options)?;
    if holds_log(&table).await? {
        match table.load().await {
            Ok(()) | Err(DeltaTableError::NotATable(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(table)
}

/// Whether the table's location holds a Delta log (a missing folder holds none).
async fn holds_log(table: &DeltaTable) -> DeltaResult<bool> {
    match table.log_store().is_delta_table_location().await {
        Ok(found) => Ok(found),
        Err(DeltaTableError::ObjectStore {
            source: deltalake::logstore::object_store::Error::NotFound { .. },
        }) => Ok(false),
        Err(e) => Err(e),
    }
}

fn unloaded(url: &Url, options: &StorageOptions) -> DeltaResult<DeltaTable> {
    register_stores();
    deltalake::DeltaTableBuilder::from_url(url.clone())?
        .with_storage_options(options.clone())
        .build()
}

/// The current state of silver table `<schema>.<table>` (the table with its pending changes on
/// top, see [`silver`]) for DataFusion; None when the table does not exist yet.
pub async fn open_silver(
    lake: &Url,
    options: &StorageOptions,
    schema: &str,
    table: &str,
) -> LakeResult<Option<Arc<dyn deltalake::datafusion::catalog::TableProvider>>> {
    let url = table_url(lake, SILVER, schema, table);
    // Pending first, then the table: a fold in between is covered (the table then records the
    // folded rows' LSN and holds them); the other order could miss the folded rows.
    let pending = open_pending(&url, options).await?;
    let base = match open_table(&url, options).await {
        Ok(base) => base,
        Err(DeltaTableError::NotATable(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(Some(silver::silver_provider(&base, pending.as_ref()).await?))
}

/// The pending table of the silver table at `silver`, when there is one.
pub async fn open_pending(
    silver: &Url,
    options: &StorageOptions,
) -> DeltaResult<Option<DeltaTable>> {
    let url = silver::pending_url(silver);
    if let Ok(path) = url.to_file_path()
        && !path.join("_delta_log").is_dir()
    {
        return Ok(None);
    }
    match open_table(&url, options).await {
        Ok(t) => Ok(Some(t)),
        Err(DeltaTableError::NotATable(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The object store at the lake root (for listing and for tests that reach under Delta).
pub fn root_store(root: &Url, options: &StorageOptions) -> DeltaResult<ObjectStoreRef> {
    register_stores();
    deltalake::logstore::store_for(root, options.clone())
}

/// Registers `s3://` and `s3a://` with deltalake's store and log-store registries, once.
pub fn register_stores() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for scheme in ["s3://", "s3a://"] {
            let Ok(url) = Url::parse(scheme) else { continue };
            object_store_factories().insert(url.clone(), Arc::new(S3StoreFactory));
            logstore_factories().insert(url, Arc::new(S3LogStoreFactory));
        }
    });
}

struct S3StoreFactory;

impl ObjectStoreFactory for S3StoreFactory {
    fn parse_url_opts(
        &self,
        url: &Url,
        config: &StorageConfig,
    ) -> DeltaResult<(ObjectStoreRef, StorePath)> {
        let mut builder = AmazonS3Builder::from_env().with_url(url.to_string());
        for (key, value) in &config.raw {
            // Options that are not S3's (deltalake's own runtime or retry keys) are skipped.
            if let Ok(key) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                builder = builder.with_config(key, value);
            }
        }
        let store = builder.build()?;
        let path = StorePath::from_url_path(url.path())
            .map_err(|e| DeltaTableError::Generic(e.to_string()))?;
        Ok((Arc::new(store), path))
    }
}

/// Delta's default log store: commits by conditional put, which S3 honours.
struct S3LogStoreFactory;

impl LogStoreFactory for S3LogStoreFactory {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(prefixed_store, root_store, location, options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_urls() {
        let lake = Url::parse("file:///data/lake").expect("url");
        assert_eq!(
            table_url(&lake, "silver", "sis", "learners").as_str(),
            "file:///data/lake/silver/sis/learners"
        );
        let lake = Url::parse("file:///data/lake/").expect("url");
        assert_eq!(
            table_url(&lake, "bronze", "sis", "learners").as_str(),
            "file:///data/lake/bronze/sis/learners"
        );
        let lake = Url::parse("s3://bucket").expect("url");
        assert_eq!(
            table_url(&lake, "silver", "platform", "schools").as_str(),
            "s3://bucket/silver/platform/schools"
        );
    }

    #[test]
    fn checks_lake_urls() {
        for ok in ["file:///data/lake/", "s3://bucket/lake", "s3a://bucket"] {
            assert!(check_url(&Url::parse(ok).expect("url")).is_ok(), "{ok}");
        }
        for (bad, says) in
            [("gs://bucket/lake", "not supported"), ("s3:///lake", "names no bucket")]
        {
            let err = check_url(&Url::parse(bad).expect("url")).expect_err(bad);
            assert!(matches!(err, LakeError::Url { .. }), "{bad}: {err:?}");
            assert!(err.to_string().contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn s3_store_from_options() {
        let options: StorageOptions = [
            ("aws_endpoint", "http://127.0.0.1:9"),
            ("aws_allow_http", "true"),
            ("aws_access_key_id", "k"),
            ("aws_secret_access_key", "s"),
            ("aws_region", "us-east-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = Url::parse("s3://bucket/lake").expect("url");
        let store = root_store(&url, &options).expect("an S3 store from options");
        // Rooted at the lake's prefix in the bucket.
        assert!(store.to_string().contains("lake"), "{store}");
    }
}
