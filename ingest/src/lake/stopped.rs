//! Tables ingest has stopped because the source changed them in a way the lake cannot follow
//! (a column's type changed: Delta tables do not change a column's type in place). Their
//! changes are no longer applied, every other table goes on, and the reason is kept durably in
//! the lake at `_ingest/stopped/<schema>.<table>.json`, so a restart does not quietly resume a
//! table whose silver would then be missing what happened while it was stopped.
//!
//! To bring a stopped table back: delete its `bronze/<schema>/<table>` and
//! `silver/<schema>/<table>` folders (prefixes on S3) and restart ingest; it is copied again
//! under a fresh snapshot, with the new types, and the marker is removed.

use std::collections::BTreeMap;

use deltalake::arrow::datatypes::{DataType, Schema};
use deltalake::logstore::ObjectStoreRef;
use deltalake::logstore::object_store::path::Path as StorePath;
use deltalake::logstore::object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use futures::TryStreamExt;
use url::Url;

use crate::error::IngestError;
use crate::lsn::Lsn;
use crate::metrics::METRIC_STOPPED_TABLES;
use crate::table::{TableDef, TableName};

const PREFIX: [&str; 2] = ["_ingest", "stopped"];

pub(crate) struct StoppedTables {
    store: ObjectStoreRef,
    root: Url,
    tables: BTreeMap<TableName, String>,
}

impl StoppedTables {
    /// The markers under the lake root.
    pub(crate) async fn load(
        root: &Url,
        options: &oneclass_lake::StorageOptions,
    ) -> Result<Self, IngestError> {
        let store =
            oneclass_lake::root_store(root, options).map_err(IngestError::delta(root.as_str()))?;
        let mut tables = BTreeMap::new();
        let prefix = StorePath::from_iter(PREFIX);
        let listed: Vec<_> = match store.list(Some(&prefix)).try_collect().await {
            Ok(listed) => listed,
            Err(deltalake::logstore::object_store::Error::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(store_error(root, e)),
        };
        for meta in listed {
            let Some(name) = meta.location.filename().and_then(|f| f.strip_suffix(".json")) else {
                continue;
            };
            let body = store.get(&meta.location).await.map_err(|e| store_error(root, e))?;
            let bytes = body.bytes().await.map_err(|e| store_error(root, e))?;
            let v = serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_default();
            let field = |k: &str| v.get(k).and_then(|r| r.as_str()).map(str::to_owned);
            // The body names the table (names may hold dots); the file name is the fallback.
            let table = match (field("schema"), field("name")) {
                (Some(schema), Some(table)) => TableName::new(&schema, &table),
                _ => match name.split_once('.') {
                    Some((schema, table)) => TableName::new(schema, table),
                    None => continue,
                },
            };
            tables.insert(table, field("reason").unwrap_or_else(|| "stopped".into()));
        }
        for (table, reason) in &tables {
            tracing::error!(table = %table, reason, "table stays stopped: its changes are not applied (see ingest/README.md to bring it back)");
        }
        metrics::gauge!(METRIC_STOPPED_TABLES).set(tables.len() as f64);
        Ok(Self { store, root: root.clone(), tables })
    }

    pub(crate) fn is_stopped(&self, table: &TableName) -> bool {
        self.tables.contains_key(table)
    }

    /// Records that `table` is stopped, durably, before anything after `lsn` is acknowledged.
    pub(crate) async fn stop(
        &mut self,
        table: &TableName,
        reason: String,
        lsn: Lsn,
    ) -> Result<(), IngestError> {
        tracing::error!(
            table = %table, %lsn, reason,
            "incompatible schema change: ingest stops this table (other tables go on); to bring it \
             back, delete its bronze and silver tables in the lake and restart ingest"
        );
        let body = serde_json::json!({
            "table": table.to_string(),
            "schema": table.schema,
            "name": table.name,
            "reason": reason,
            "lsn": lsn.to_string(),
            "stopped_at": chrono::Utc::now().to_rfc3339(),
        });
        let payload = PutPayload::from(body.to_string().into_bytes());
        self.store.put(&marker(table), payload).await.map_err(|e| store_error(&self.root, e))?;
        self.tables.insert(table.clone(), reason);
        metrics::gauge!(METRIC_STOPPED_TABLES).set(self.tables.len() as f64);
        Ok(())
    }

    /// Forgets a stopped table (its lake tables are gone and about to be copied anew).
    pub(crate) async fn resume(&mut self, table: &TableName) -> Result<(), IngestError> {
        if self.tables.remove(table).is_some() {
            match self.store.delete(&marker(table)).await {
                Ok(()) | Err(deltalake::logstore::object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(store_error(&self.root, e)),
            }
            tracing::warn!(table = %table, "stopped table has no lake tables any more: copying it again");
            metrics::gauge!(METRIC_STOPPED_TABLES).set(self.tables.len() as f64);
        }
        Ok(())
    }
}

fn marker(table: &TableName) -> StorePath {
    StorePath::from_iter([PREFIX[0], PREFIX[1], &format!("{}.{}.json", table.schema, table.name)])
}

fn store_error(root: &Url, e: deltalake::logstore::object_store::Error) -> IngestError {
    IngestError::Io(std::io::Error::other(format!("lake {root}: {e}")))
}

/// Why the lake cannot take `def`'s rows: a column it already holds under another type.
/// Added and dropped columns are compatible (the schema grows; a dropped column reads null).
pub(crate) fn incompatibility(def: &TableDef, lake: &Schema) -> Option<String> {
    let changed: Vec<String> = def
        .source_fields()
        .iter()
        .filter_map(|field| {
            let held = lake.field_with_name(field.name()).ok()?;
            (canonical(held.data_type()) != canonical(field.data_type())).then(|| {
                format!(
                    "column {} changed type: the lake holds {}, the source now sends {}",
                    field.name(),
                    held.data_type(),
                    field.data_type()
                )
            })
        })
        .collect();
    (!changed.is_empty()).then(|| changed.join("; "))
}

/// Types as the lake reads them back (Delta names no string width and one UTC zone).
fn canonical(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Timestamp(unit, Some(_)) => format!("timestamp({unit:?}, utc)"),
        DataType::List(f) | DataType::LargeList(f) | DataType::ListView(f) => {
            format!("list({})", canonical(f.data_type()))
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::ColumnDef;

    fn def(types: &[(&str, u32)]) -> TableDef {
        TableDef {
            table: TableName::new("ref", "t"),
            columns: types
                .iter()
                .map(|&(name, type_oid)| ColumnDef {
                    name: name.into(),
                    type_oid,
                    typmod: -1,
                    key: name == "id",
                })
                .collect(),
        }
    }

    #[test]
    fn type_changes_are_incompatible_added_columns_are_not() {
        // int4 = 23, int8 = 20, text = 25, varchar = 1043.
        let lake = def(&[("id", 23), ("amount", 23), ("note", 25)]).silver_schema();
        assert_eq!(incompatibility(&def(&[("id", 23), ("amount", 23), ("note", 25)]), &lake), None);
        // Added and dropped columns, and text ↔ varchar, keep the lake's types.
        assert_eq!(incompatibility(&def(&[("id", 23), ("note", 1043), ("new", 20)]), &lake), None);
        let why = incompatibility(&def(&[("id", 23), ("amount", 25), ("note", 25)]), &lake)
            .expect("int4 → text is incompatible");
        assert!(why.contains("column amount changed type"), "{why}");
        assert!(
            incompatibility(&def(&[("id", 20), ("amount", 23), ("note", 25)]), &lake).is_some()
        );
    }
}
