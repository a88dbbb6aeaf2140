//! What changed in silver since gold was last built, so that a build redoes only the schools it
//! touches. Each silver table records the source LSN up to which it holds every change (ingest's
//! application transaction, on the table and on its pending changes); a build remembers, per
//! table, the LSN it read up to (its watermark, in the build log), and the next build asks each
//! table whose LSN moved for the rows changed after it:
//! - a table with a `school_id`: the schools of its changed rows, of their earlier versions (a
//!   row an update moved to another school leaves the old one), and of its deleted rows (a
//!   delete carries only the key); the earlier versions come from bronze; where the rows name a
//!   learner (`learner_id`, or the learners table itself), also
//!   every school the learner is enrolled at, since figures follow learners across schools
//!   (BEAM coverage counts support paid anywhere; transition counts a learner's next school);
//! - a reference table the models read (`ref.terms`, `ref.population`, `platform.schools`):
//!   anything may depend on it, so the build is whole.
//!
//! Watermarks are read before the build reads silver, so a change that lands during a build is
//! at most done twice, never missed.

use std::collections::{BTreeMap, BTreeSet};

use deltalake::arrow::array::AsArray;
use deltalake::datafusion::prelude::SessionContext;
use url::Url;

use crate::error::WarehouseError;

/// Tables the models read whose rows belong to no school: a change rebuilds everything.
pub(crate) const REFERENCE: &[(&str, &str)] =
    &[("ref", "terms"), ("ref", "population"), ("platform", "schools")];

/// Per silver table (`schema.table`), the LSN it holds every change up to.
pub(crate) type Watermarks = BTreeMap<String, i64>;

/// What a build must redo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Everything (the first build, `--full`, a reference table or a setting changed).
    All,
    /// These schools, every year (possibly none: gold is up to date).
    Schools(BTreeSet<String>),
}

/// One silver table: its name and whether it has the columns change detection uses.
#[derive(Debug, Clone)]
pub(crate) struct SilverTable {
    pub schema: String,
    pub table: String,
    pub school_id: bool,
    pub learner_id: bool,
    pub id: bool,
}

impl SilverTable {
    pub fn name(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

/// The silver tables of `ctx`'s lake, with their columns of interest.
pub(crate) async fn silver_tables(
    ctx: &SessionContext,
) -> Result<Vec<SilverTable>, WarehouseError> {
    let mut out = Vec::new();
    let Some(catalog) = ctx.catalog(oneclass_lake::SILVER) else { return Ok(out) };
    for schema in catalog.schema_names() {
        let Some(provider) = catalog.schema(&schema) else { continue };
        for table in provider.table_names() {
            let Some(t) = provider.table(&table).await? else { continue };
            let arrow = t.schema();
            let has = |c: &str| arrow.column_with_name(c).is_some();
            out.push(SilverTable {
                school_id: has("school_id"),
                learner_id: has("learner_id"),
                id: has("id"),
                schema: schema.clone(),
                table,
            });
        }
    }
    out.sort_by_key(SilverTable::name);
    Ok(out)
}

/// Each silver table's LSN now (the newer of its table's and its pending changes').
pub(crate) async fn watermarks(
    lake: &Url,
    options: &oneclass_lake::StorageOptions,
    tables: &[SilverTable],
) -> Result<Watermarks, WarehouseError> {
    let mut out = Watermarks::new();
    for t in tables {
        let url = oneclass_lake::table_url(lake, oneclass_lake::SILVER, &t.schema, &t.table);
        let mut lsn = None;
        if let Ok(table) = oneclass_lake::open_table(&url, options).await {
            lsn = oneclass_lake::silver::recorded_version(&table).await?;
        }
        if let Some(pending) = oneclass_lake::open_pending(&url, options).await? {
            lsn = lsn.max(oneclass_lake::silver::recorded_version(&pending).await?);
        }
        if let Some(lsn) = lsn {
            out.insert(t.name(), lsn);
        }
    }
    Ok(out)
}

/// What a build must redo, from the watermarks of the last build and of now.
pub(crate) async fn scope(
    ctx: &SessionContext,
    tables: &[SilverTable],
    before: &Watermarks,
    now: &Watermarks,
) -> Result<Scope, WarehouseError> {
    let mut schools = BTreeSet::new();
    for t in tables {
        let name = t.name();
        let (Some(&to), from) = (now.get(&name), before.get(&name).copied()) else { continue };
        if from == Some(to) {
            continue;
        }
        if REFERENCE.contains(&(t.schema.as_str(), t.table.as_str())) {
            return Ok(Scope::All);
        }
        if !t.school_id {
            continue;
        }
        // A table new since the last build: every school it names.
        let from = from.unwrap_or(i64::MIN);
        for sql in changed_schools_sql(t, from) {
            let batches = match ctx.sql(&sql).await {
                Ok(frame) => frame.collect().await?,
                // No bronze for the table (a lake written by other means): no deletes to follow.
                Err(e) if sql.contains("bronze.") && e.to_string().contains("not found") => {
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            for batch in &batches {
                let column = deltalake::arrow::compute::cast(
                    batch.column(0),
                    &deltalake::arrow::datatypes::DataType::Utf8,
                )?;
                schools.extend(column.as_string::<i32>().iter().flatten().map(str::to_owned));
            }
        }
    }
    Ok(Scope::Schools(schools))
}

/// The queries that name the schools of `t`'s rows changed after LSN `from`.
fn changed_schools_sql(t: &SilverTable, from: i64) -> Vec<String> {
    let (schema, table) = (&t.schema, &t.table);
    let silver = format!("silver.{schema}.{table}");
    let bronze = format!("bronze.{schema}.{table}");
    let learner = if t.learner_id {
        Some("learner_id")
    } else if (schema.as_str(), table.as_str()) == ("sis", "learners") {
        Some("id")
    } else {
        None
    };
    let mut out = vec![format!("SELECT DISTINCT school_id FROM {silver} WHERE _lsn > {from}")];
    if let Some(learner) = learner {
        // The changed learners first: the side held in memory (see below).
        out.push(format!(
            "SELECT DISTINCT e.school_id
             FROM (SELECT DISTINCT {learner} AS learner FROM {silver} WHERE _lsn > {from}) l
             JOIN silver.sis.enrolments e ON e.learner_id = l.learner"
        ));
    }
    if t.id {
        // Rows changed or deleted since: the schools (and learners) of their earlier versions,
        // from bronze, have lost them (an update may move a row to another school; a delete
        // carries only the key).
        //
        // The changed keys (a day's registers: thousands) join the whole changelog (millions)
        // with the keys first, so that they are the side held in memory: written as
        // `bronze.id IN (keys)`, the changelog was hashed and a province's ran out of memory.
        let earlier = format!(
            "SELECT DISTINCT id FROM (SELECT id FROM {silver} WHERE _lsn > {from}
             UNION ALL SELECT id FROM {bronze} WHERE _op = 'd' AND _lsn > {from})"
        );
        out.push(format!(
            "SELECT DISTINCT b.school_id FROM ({earlier}) k JOIN {bronze} b ON b.id = k.id
             WHERE b.school_id IS NOT NULL"
        ));
        if let Some(learner) = learner {
            out.push(format!(
                "SELECT DISTINCT e.school_id
                 FROM (SELECT DISTINCT b.{learner} AS learner FROM ({earlier}) k
                       JOIN {bronze} b ON b.id = k.id WHERE b.{learner} IS NOT NULL) l
                 JOIN silver.sis.enrolments e ON e.learner_id = l.learner"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_learner_table_follows_its_learners_and_its_deletes() {
        let t = SilverTable {
            schema: "finance".into(),
            table: "payments".into(),
            school_id: true,
            learner_id: true,
            id: true,
        };
        let sql = changed_schools_sql(&t, 42);
        assert_eq!(sql.len(), 4, "{sql:#?}");
        assert!(sql[0].contains("FROM silver.finance.payments WHERE _lsn > 42"));
        assert!(
            sql[1].contains("SELECT DISTINCT learner_id AS learner FROM silver.finance.payments")
        );
        assert!(sql[2].contains("k JOIN bronze.finance.payments b ON b.id = k.id"));
        assert!(sql[2].contains("bronze.finance.payments WHERE _op = 'd' AND _lsn > 42"));
        assert!(sql[3].contains("SELECT DISTINCT b.learner_id AS learner FROM"));
        let staff =
            SilverTable { table: "staff".into(), schema: "staff".into(), learner_id: false, ..t };
        assert_eq!(changed_schools_sql(&staff, 7).len(), 2);
    }
}
