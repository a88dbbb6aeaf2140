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

/// Changed keys looked up in bronze one by one at most; more, and a whole build is cheaper.
pub(crate) const MAX_LOOKED_UP_KEYS: usize = 50_000;

/// What a build must redo, from the watermarks of the last build and of now. `most` is the
/// number of schools past which a whole build is cheaper than a filtered one: once that many
/// have changed, the rest is not looked for.
pub(crate) async fn scope(
    ctx: &SessionContext,
    tables: &[SilverTable],
    before: &Watermarks,
    now: &Watermarks,
    most: usize,
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
        let (silver, bronze) = (format!("silver.{name}"), format!("bronze.{name}"));
        for sql in changed_schools_sql(t, from) {
            collect_text(ctx, &sql, &mut schools).await?;
            if schools.len() > most {
                return Ok(Scope::All);
            }
        }
        if !t.id {
            continue;
        }
        // Rows changed or deleted since: the schools (and learners) of their earlier versions,
        // from bronze, have lost them (an update may move a row to another school; a delete
        // carries only the key). The keys are few (a day's registers at a few schools) or the
        // build is whole: they are looked up as a list, never joined with the whole changelog.
        let mut keys = BTreeSet::new();
        let changed = format!(
            "SELECT DISTINCT id FROM (SELECT id FROM {silver} WHERE _lsn > {from}
             UNION ALL SELECT id FROM {bronze} WHERE _op = 'd' AND _lsn > {from})
             LIMIT {}",
            MAX_LOOKED_UP_KEYS + 1
        );
        match collect_text(ctx, &changed, &mut keys).await {
            // No bronze for the table (a lake written by other means): no deletes to follow.
            Err(e) if e.to_string().contains("not found") => continue,
            other => other?,
        }
        if keys.len() > MAX_LOOKED_UP_KEYS {
            return Ok(Scope::All);
        }
        for sql in earlier_versions_sql(t, &keys) {
            collect_text(ctx, &sql, &mut schools).await?;
            if schools.len() > most {
                return Ok(Scope::All);
            }
        }
    }
    Ok(Scope::Schools(schools))
}

/// Runs `sql`, whose first column is text (or castable), adding its values to `into`.
async fn collect_text(
    ctx: &SessionContext,
    sql: &str,
    into: &mut BTreeSet<String>,
) -> Result<(), WarehouseError> {
    let batches = ctx.sql(sql).await?.collect().await?;
    for batch in &batches {
        let column = deltalake::arrow::compute::cast(
            batch.column(0),
            &deltalake::arrow::datatypes::DataType::Utf8,
        )?;
        into.extend(column.as_string::<i32>().iter().flatten().map(str::to_owned));
    }
    Ok(())
}

/// The column naming a learner in `t`'s rows, if any.
fn learner_column(t: &SilverTable) -> Option<&'static str> {
    if t.learner_id {
        Some("learner_id")
    } else if (t.schema.as_str(), t.table.as_str()) == ("sis", "learners") {
        Some("id")
    } else {
        None
    }
}

/// The queries that name the schools of `t`'s rows changed after LSN `from`: their own, and
/// where they name learners, every school those learners are enrolled at.
fn changed_schools_sql(t: &SilverTable, from: i64) -> Vec<String> {
    let silver = format!("silver.{}", t.name());
    let mut out = vec![format!("SELECT DISTINCT school_id FROM {silver} WHERE _lsn > {from}")];
    if let Some(learner) = learner_column(t) {
        out.push(format!(
            "SELECT DISTINCT e.school_id FROM silver.sis.enrolments e
             WHERE e.learner_id IN (SELECT {learner} FROM {silver} WHERE _lsn > {from})"
        ));
    }
    out
}

/// The queries that name the schools of the earlier versions (in bronze) of the rows keyed by
/// `keys`, and of the learners those versions named.
fn earlier_versions_sql(t: &SilverTable, keys: &BTreeSet<String>) -> Vec<String> {
    if keys.is_empty() {
        return Vec::new();
    }
    let bronze = format!("bronze.{}", t.name());
    let list = keys.iter().map(|k| format!("'{}'", k.replace('\'', "''"))).collect::<Vec<_>>();
    let list = list.join(", ");
    let mut out = vec![format!(
        "SELECT DISTINCT school_id FROM {bronze} WHERE id IN ({list}) AND school_id IS NOT NULL"
    )];
    if let Some(learner) = learner_column(t) {
        out.push(format!(
            "SELECT DISTINCT e.school_id FROM silver.sis.enrolments e
             WHERE e.learner_id IN (SELECT {learner} FROM {bronze}
                                    WHERE id IN ({list}) AND {learner} IS NOT NULL)"
        ));
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
        assert_eq!(sql.len(), 2, "{sql:#?}");
        assert!(sql[0].contains("FROM silver.finance.payments WHERE _lsn > 42"));
        assert!(sql[1].contains("e.learner_id IN (SELECT learner_id FROM silver.finance.payments"));
        let keys: BTreeSet<String> = ["a1".to_owned(), "o'k".to_owned()].into();
        let sql = earlier_versions_sql(&t, &keys);
        assert_eq!(sql.len(), 2, "{sql:#?}");
        assert!(sql[0].contains("FROM bronze.finance.payments WHERE id IN ('a1', 'o''k')"));
        assert!(sql[1].contains("SELECT learner_id FROM bronze.finance.payments"));
        assert!(earlier_versions_sql(&t, &BTreeSet::new()).is_empty());
        let staff =
            SilverTable { table: "staff".into(), schema: "staff".into(), learner_id: false, ..t };
        assert_eq!(changed_schools_sql(&staff, 7).len(), 1);
        assert_eq!(earlier_versions_sql(&staff, &keys).len(), 1);
    }
}
