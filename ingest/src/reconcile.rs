//! Reconciliation: compares PostgreSQL with silver table by table — row counts, and a hash of
//! every row keyed by its replica identity key — and reports what differs.
//!
//! PostgreSQL is read as the CDC role in one REPEATABLE READ, READ ONLY transaction through the
//! snapshot's own path (`COPY (SELECT …) TO STDOUT`, text format, the same parser), so every
//! value lands in exactly the Arrow type silver holds it in. Silver is read with DataFusion,
//! source columns only. Both sides render each value with Arrow's display formatting, so a row
//! hashes the same on both sides exactly when every value is equal.
//!
//! Memory: one `HashMap<key, row hash>` of PostgreSQL's rows per table (the key's text and 8
//! bytes of hash a row); silver is streamed batch by batch against it. Fine for a province;
//! a national table of tens of millions of rows wants a sorted, chunked comparison instead.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::Hasher;

use std::sync::Arc;

use deltalake::arrow::array::{Array, ArrayRef, RecordBatch, new_null_array};
use deltalake::arrow::compute::cast;
use deltalake::arrow::util::display::array_value_to_string;
use deltalake::datafusion::catalog::TableProvider;
use deltalake::datafusion::common::Column;
use deltalake::datafusion::prelude::{Expr, SessionContext};
use futures::StreamExt;
use sqlx::PgConnection;
use url::Url;

use crate::config::SourceConfig;
use crate::copy_text::CopyTextParser;
use crate::error::IngestError;
use crate::lake::delta::{Lake, SILVER};
use crate::source::sql::{self, PublishedTable};
use crate::table::TableName;
use oneclass_lake::StorageOptions;

/// How many example keys of each kind a report keeps.
pub const EXAMPLES: usize = 5;

/// What reconciliation found for one published table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableReport {
    /// `schema.table`.
    pub table: String,
    /// False when the lake has no silver table for it at all.
    pub in_silver: bool,
    pub pg_rows: u64,
    pub silver_rows: u64,
    /// Keys in PostgreSQL that silver does not have.
    pub missing_in_silver: u64,
    /// Keys in silver that PostgreSQL does not have (deleted at the source, still in silver).
    pub extra_in_silver: u64,
    /// Keys on both sides whose rows differ in at least one source column.
    pub different: u64,
    /// Silver rows whose key another silver row already has (silver holds one row per key).
    pub duplicate_keys_in_silver: u64,
    /// Up to [`EXAMPLES`] keys of each kind, as text (several key columns: `("a", "b")`).
    pub missing_examples: Vec<String>,
    pub extra_examples: Vec<String>,
    pub different_examples: Vec<String>,
}

impl TableReport {
    pub fn is_clean(&self) -> bool {
        self.in_silver
            && self.missing_in_silver == 0
            && self.extra_in_silver == 0
            && self.different == 0
            && self.duplicate_keys_in_silver == 0
            && self.pg_rows == self.silver_rows
    }
}

impl fmt::Display for TableReport {
    /// One line: the table and what differs (or `clean`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.table)?;
        if self.is_clean() {
            return write!(f, "clean ({} rows)", self.pg_rows);
        }
        if !self.in_silver {
            write!(f, "not in the lake; ")?;
        }
        write!(
            f,
            "postgres {}, silver {}, missing {}, extra {}, different {}",
            self.pg_rows,
            self.silver_rows,
            self.missing_in_silver,
            self.extra_in_silver,
            self.different
        )?;
        if self.duplicate_keys_in_silver > 0 {
            write!(f, ", duplicate keys in silver {}", self.duplicate_keys_in_silver)?;
        }
        Ok(())
    }
}

/// Compares every table of `publication` in PostgreSQL (as `source`, the CDC role) with its
/// silver table under `lake`. Read-only on both sides; creates nothing in the lake.
///
/// PostgreSQL is read under one snapshot, silver as of each table's latest version: run it
/// while ingest has caught up (or is stopped), or in-flight changes show up as differences.
pub async fn reconcile(
    source: &SourceConfig,
    lake: &Url,
    options: &StorageOptions,
    publication: &str,
) -> Result<Vec<TableReport>, IngestError> {
    if publication.is_empty() {
        return Err(IngestError::Config("publication name is empty".into()));
    }
    let lake = Lake::new(lake, options)?;
    let mut conn = sql::connect(source).await?;
    sql::execute(&mut conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?;
    let tables = sql::published_tables(&mut conn, publication).await?;
    let mut reports = Vec::with_capacity(tables.len());
    for published in &tables {
        reports.push(reconcile_table(&mut conn, &lake, published).await?);
    }
    sql::execute(&mut conn, "COMMIT").await?;
    Ok(reports)
}

async fn reconcile_table(
    conn: &mut PgConnection,
    lake: &Lake,
    published: &PublishedTable,
) -> Result<TableReport, IngestError> {
    let def = sql::table_def(conn, published).await?;
    // A table without a key (and no FULL identity) has no silver (ingest keeps bronze only);
    // comparing whole rows is then the best there is.
    let key_indices = match def.key_indices() {
        k if k.is_empty() => (0..def.columns.len()).collect(),
        k => k,
    };
    let mut report = TableReport { table: def.table.to_string(), ..TableReport::default() };

    // PostgreSQL: key → (row hash, seen in silver).
    let mut pg: HashMap<String, (u64, bool)> = HashMap::new();
    let mut parser = CopyTextParser::new(&def);
    let mut stream = sql::copy_out(conn, published, &def).await?;
    while let Some(chunk) = stream.next().await {
        parser.feed(&chunk?)?;
        if parser.buffered_rows() >= 65_536 {
            for batch in parser.take_batches()? {
                hash_pg_batch(&batch, &key_indices, &mut pg, &mut report)?;
            }
        }
    }
    drop(stream);
    for batch in parser.finish()? {
        hash_pg_batch(&batch, &key_indices, &mut pg, &mut report)?;
    }

    // Silver, streamed against the map.
    let mut extra_seen: HashSet<String> = HashSet::new();
    let ctx = SessionContext::new();
    if let Some(provider) = open_silver(lake, &def.table, &ctx).await? {
        report.in_silver = true;
        let silver_schema = provider.schema();
        // Only the source columns PostgreSQL has now, in its order; a column silver lacks
        // (added at the source, no change seen yet) reads as null.
        let present: Vec<Option<usize>> =
            def.columns.iter().map(|c| silver_schema.index_of(&c.name).ok()).collect();
        let projection: Vec<Expr> = def
            .columns
            .iter()
            .zip(&present)
            .filter(|(_, p)| p.is_some())
            .map(|(c, _)| Expr::Column(Column::new_unqualified(&c.name)))
            .collect();
        let expected = def.source_fields();
        let mut batches = if projection.is_empty() {
            None
        } else {
            Some(ctx.read_table(provider)?.select(projection)?.execute_stream().await?)
        };
        while let Some(stream) = batches.as_mut() {
            let Some(batch) = stream.next().await else { break };
            let batch = batch?;
            // Line the silver columns up with PostgreSQL's, in its types.
            let mut arrays: Vec<ArrayRef> = Vec::with_capacity(expected.len());
            let mut next = 0;
            for (field, p) in expected.iter().zip(&present) {
                if p.is_some() {
                    let array = batch.column(next);
                    next += 1;
                    arrays.push(if array.data_type() == field.data_type() {
                        array.clone()
                    } else {
                        cast(array, field.data_type())?
                    });
                } else {
                    arrays.push(new_null_array(field.data_type(), batch.num_rows()));
                }
            }
            for row in 0..batch.num_rows() {
                report.silver_rows += 1;
                let key = render_key(&arrays, &key_indices, row)?;
                let hash = hash_row(&arrays, row)?;
                match pg.get_mut(&key) {
                    Some((_, seen)) if *seen => report.duplicate_keys_in_silver += 1,
                    Some((pg_hash, seen)) => {
                        *seen = true;
                        if *pg_hash != hash {
                            report.different += 1;
                            push_example(&mut report.different_examples, &key);
                        }
                    }
                    None => {
                        if extra_seen.contains(&key) {
                            report.duplicate_keys_in_silver += 1;
                        } else {
                            report.extra_in_silver += 1;
                            push_example(&mut report.extra_examples, &key);
                            extra_seen.insert(key);
                        }
                    }
                }
            }
        }
    }
    let mut missing: Vec<&String> =
        pg.iter().filter(|(_, (_, seen))| !seen).map(|(k, _)| k).collect();
    report.missing_in_silver = missing.len() as u64;
    // Sorted, so that the examples are the same from one run to the next.
    missing.sort_unstable();
    report.missing_examples = missing.into_iter().take(EXAMPLES).cloned().collect();
    report.different_examples.sort_unstable();
    report.extra_examples.sort_unstable();
    Ok(report)
}

fn hash_pg_batch(
    batch: &RecordBatch,
    key_indices: &[usize],
    pg: &mut HashMap<String, (u64, bool)>,
    report: &mut TableReport,
) -> Result<(), IngestError> {
    let arrays = batch.columns();
    for row in 0..batch.num_rows() {
        report.pg_rows += 1;
        let key = render_key(arrays, key_indices, row)?;
        // A repeated key is possible only without a key (whole rows compared): it counts
        // once, and silver's copy of it is then seen as a duplicate.
        pg.insert(key, (hash_row(arrays, row)?, false));
    }
    Ok(())
}

/// Silver as it is now, or None when the lake has no such table. Never creates anything.
/// Silver as readers see it (the table with its pending changes on top), its stores known to
/// `ctx`; None when the table does not exist.
async fn open_silver(
    lake: &Lake,
    table: &TableName,
    ctx: &SessionContext,
) -> Result<Option<Arc<dyn TableProvider>>, IngestError> {
    let url = lake.table_url(SILVER, table);
    if let Ok(path) = url.to_file_path() {
        // The local store fails on a missing folder rather than reporting an empty table.
        if !path.join("_delta_log").is_dir() {
            return Ok(None);
        }
    }
    // Pending first, then the table: a fold in between is then covered (see
    // `oneclass_lake::open_silver`).
    let pending = oneclass_lake::open_pending(&url, lake.options())
        .await
        .map_err(IngestError::delta(&url))?;
    let base = oneclass_lake::table_or_new(&url, lake.options())
        .await
        .map_err(IngestError::delta(&url))?;
    if base.version().is_none() {
        return Ok(None);
    }
    for t in std::iter::once(&base).chain(pending.as_ref()) {
        t.update_datafusion_session(&ctx.state()).map_err(IngestError::delta(&url))?;
    }
    Ok(Some(oneclass_lake::silver::silver_provider(&base, pending.as_ref()).await?))
}

/// One key column: its text. Several: each quoted, `("a", "b")`, so that no two keys collide.
fn render_key(
    arrays: &[ArrayRef],
    key_indices: &[usize],
    row: usize,
) -> Result<String, IngestError> {
    let cell = |i: usize| -> Result<Option<String>, IngestError> {
        let array = arrays.get(i).ok_or_else(|| {
            IngestError::Config(format!("key column {i} is not among the row's columns"))
        })?;
        Ok(if array.is_null(row) { None } else { Some(array_value_to_string(array, row)?) })
    };
    if let [only] = key_indices {
        return Ok(cell(*only)?.unwrap_or_else(|| "NULL".into()));
    }
    let mut parts = Vec::with_capacity(key_indices.len());
    for &i in key_indices {
        parts.push(match cell(i)? {
            Some(v) => format!("{v:?}"),
            None => "NULL".into(),
        });
    }
    Ok(format!("({})", parts.join(", ")))
}

/// A 64-bit hash of every column's canonical text (Arrow's display form; null distinct from
/// any text). The hasher has fixed keys: both sides are hashed in this process, so equal rows
/// hash equal; collisions are a 2^-64 matter.
fn hash_row(arrays: &[ArrayRef], row: usize) -> Result<u64, IngestError> {
    let mut h = DefaultHasher::new();
    for array in arrays {
        if array.is_null(row) {
            h.write_u8(0);
        } else {
            let text = array_value_to_string(array, row)?;
            h.write_u8(1);
            h.write_usize(text.len());
            h.write(text.as_bytes());
        }
    }
    Ok(h.finish())
}

fn push_example(examples: &mut Vec<String>, key: &str) {
    if examples.len() < EXAMPLES {
        examples.push(key.to_string());
    }
}

/// The reports as a Markdown table, then the example keys of each table that differs.
pub fn format_reports(reports: &[TableReport]) -> String {
    let mut out = String::from(
        "| table | postgres | silver | missing | extra | different |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for r in reports {
        let silver = if r.in_silver { r.silver_rows.to_string() } else { "absent".into() };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.table, r.pg_rows, silver, r.missing_in_silver, r.extra_in_silver, r.different
        ));
    }
    for r in reports.iter().filter(|r| !r.is_clean()) {
        out.push_str(&format!("\n{r}\n"));
        for (what, keys) in [
            ("missing in silver", &r.missing_examples),
            ("extra in silver", &r.extra_examples),
            ("different", &r.different_examples),
        ] {
            if !keys.is_empty() {
                out.push_str(&format!("  {what}: {}\n", keys.join(", ")));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{Int32Array, StringArray};
    use std::sync::Arc;

    fn arrays() -> Vec<ArrayRef> {
        vec![
            Arc::new(Int32Array::from(vec![Some(1), Some(1), None])),
            Arc::new(StringArray::from(vec![Some("a"), Some("b"), Some("")])),
        ]
    }

    #[test]
    fn keys_and_hashes() -> Result<(), IngestError> {
        let a = arrays();
        assert_eq!(render_key(&a, &[0], 0)?, "1");
        assert_eq!(render_key(&a, &[0, 1], 1)?, "(\"1\", \"b\")");
        assert_eq!(render_key(&a, &[0, 1], 2)?, "(NULL, \"\")");
        assert_ne!(hash_row(&a, 0)?, hash_row(&a, 1)?);
        assert_eq!(hash_row(&a, 0)?, hash_row(&arrays(), 0)?);
        // Null and empty text are different values.
        let null_text: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![None::<&str>]))];
        let empty_text: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![Some("")]))];
        assert_ne!(hash_row(&null_text, 0)?, hash_row(&empty_text, 0)?);
        Ok(())
    }

    #[test]
    fn clean_and_formatted() {
        let clean = TableReport {
            table: "s.t".into(),
            in_silver: true,
            pg_rows: 2,
            silver_rows: 2,
            ..TableReport::default()
        };
        assert!(clean.is_clean());
        let absent = TableReport { table: "s.u".into(), ..TableReport::default() };
        assert!(!absent.is_clean(), "a table missing from the lake is not clean");
        let differs =
            TableReport { different: 1, different_examples: vec!["k1".into()], ..clean.clone() };
        let text = format_reports(&[clean, absent, differs]);
        assert!(text.starts_with("| table | postgres | silver | missing | extra | different |"));
        assert!(text.contains("| s.u | 0 | absent | 0 | 0 | 0 |"), "{text}");
        assert!(text.contains("  different: k1"), "{text}");
        assert!(!text.contains("s.t: clean"), "clean tables have no detail: {text}");
    }
}
