//! The gold layer's indicators (INDICATORS.md): models, `queries/gold_<name>.sql`, answer per
//! indicator, school, year, grade and sex a numerator and a denominator; this module adds the
//! total over sexes, rolls the sums up to district, province and the nation, computes the value,
//! and writes everything to `gold/indicators/values` in one Delta commit.
//!
//! What a model may use beside the lake: `census(year, day)`, the census date of each academic
//! year the lake holds terms for (the first Monday of March), and `settings`, one row of the
//! [`GoldSettings`] the deployment chose (`g7_pass_aggregate`). What it answers: `indicator`,
//! `year`, `school_id` and `district` (a school's counts have the school and no district; counts
//! that exist only for a district, such as its population, have the district and no school),
//! `grade` (rows per grade, from which the total over grades, grade null, is added here; or
//! null rows alone where the indicator has no split by grade), `sex` (`F` and `M` rows, from
//! which the total `T` is added here, or `T` rows alone where the indicator has no split by
//! sex), `numerator`, `denominator`. Numerators and denominators are counts, so every higher scope is
//! their sum; where the denominator is 0 the row stays (its numerator counts in the scopes above)
//! and its value is null (never 0 or infinity).
//!
//! The rebuild is whole: the table is overwritten by one commit, so a reader (or a crash in the
//! middle) sees the previous gold or the new one, never a mixture.

use std::sync::Arc;

use deltalake::arrow::array::AsArray;
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::datasource::MemTable;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::protocol::SaveMode;
use url::Url;

use crate::changes::{self, Scope};
use crate::error::WarehouseError;
pub use crate::gold_setup::{
    BuildKind, COUNTS_TABLE, G7_AGGREGATES, GoldReport, GoldSettings, INDICATOR_TABLE,
};
use crate::gold_setup::{exists, in_list, prelude};
use crate::{builds, named};

/// One indicator and how its value is made from its sums.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Indicator {
    /// The code in INDICATORS.md, as it appears in the `indicator` column.
    pub code: &'static str,
    /// 100 for rates (percentages), 1 for ratios.
    pub scale: f64,
}

/// The indicators gold holds.
pub const INDICATORS: &[Indicator] = &[
    Indicator { code: "PTR", scale: 1.0 },
    Indicator { code: "PQTR", scale: 1.0 },
    Indicator { code: "ATTENDANCE_RATE", scale: 100.0 },
    Indicator { code: "CHRONIC_ABSENCE_RATE", scale: 100.0 },
    Indicator { code: "GER_PRIMARY", scale: 100.0 },
    Indicator { code: "GER_LOWER_SECONDARY", scale: 100.0 },
    Indicator { code: "GER_UPPER_SECONDARY", scale: 100.0 },
    Indicator { code: "NER_PRIMARY", scale: 100.0 },
    Indicator { code: "NER_LOWER_SECONDARY", scale: 100.0 },
    Indicator { code: "NER_UPPER_SECONDARY", scale: 100.0 },
    Indicator { code: "GIR", scale: 100.0 },
    Indicator { code: "REPETITION_RATE", scale: 100.0 },
    Indicator { code: "PROMOTION_RATE", scale: 100.0 },
    Indicator { code: "DROPOUT_RATE", scale: 100.0 },
    Indicator { code: "TRANSITION_RATE", scale: 100.0 },
    Indicator { code: "G7_PASS_RATE", scale: 100.0 },
    Indicator { code: "O_LEVEL_PASS_RATE", scale: 100.0 },
    Indicator { code: "BEAM_COVERAGE", scale: 100.0 },
    Indicator { code: "FEE_COLLECTION_RATE", scale: 100.0 },
];

/// The models in `queries/`, in the order they are built; each answers one or more of
/// [`INDICATORS`] (indicators that share their counts share a model).
pub const MODELS: &[&str] = &[
    "gold_teacher_ratios",
    "gold_attendance_rate",
    "gold_chronic_absence_rate",
    "gold_enrolment_ratios",
    "gold_flow_rates",
    "gold_g7_pass_rate",
    "gold_o_level_pass_rate",
    "gold_beam_coverage",
    "gold_fee_collection_rate",
];

/// The columns of `gold/indicators/values` (ARCHITECTURE.md).
pub fn indicator_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("indicator", DataType::Utf8, false),
        Field::new("year", DataType::Int32, false),
        Field::new("scope_level", DataType::Utf8, false),
        Field::new("scope_code", DataType::Utf8, false),
        Field::new("grade", DataType::Utf8, true),
        Field::new("sex", DataType::Utf8, false),
        Field::new("numerator", DataType::Float64, false),
        Field::new("denominator", DataType::Float64, false),
        Field::new("value", DataType::Float64, true),
    ]))
}

/// Above this share of the schools changed, an incremental build redoes everything (a full
/// build was faster on the demo's lake when every school had changed: docs/benchmarks.md).
const MOST_SCHOOLS: f64 = 0.75;

/// Every model's counts over `ctx` (a full-access session on the lake), for the schools the
/// build must redo, with the other schools' counts kept; then the roll-up to every scope, the
/// derived indicators and the marts, each table written in one commit, and last the build log
/// with the watermarks the next build starts from. `progress` hears each step as it starts:
/// (name, done, of).
pub(crate) async fn rebuild(
    ctx: &SessionContext,
    lake: &Url,
    options: &oneclass_lake::StorageOptions,
    settings: GoldSettings,
    kind: BuildKind,
    mut progress: impl FnMut(&str, usize, usize),
) -> Result<GoldReport, WarehouseError> {
    let started = std::time::Instant::now();
    let tables = changes::silver_tables(ctx).await?;
    let now = changes::watermarks(lake, options, &tables).await?;
    // The counts as this build finds them: it writes over exactly these, or fails (another
    // build replaced them meanwhile, and its figures may be newer than this one's).
    let (counts_schema_name, counts_name) = COUNTS_TABLE;
    let counts_url =
        oneclass_lake::table_url(lake, oneclass_lake::GOLD, counts_schema_name, counts_name);
    let counts_table = oneclass_lake::table_or_new(&counts_url, options).await?;
    let latest_year = latest_enrolment_year(ctx).await;
    let log = builds::open(lake, options).await?;
    let before = match (&log, kind) {
        (Some(log), BuildKind::Incremental) => {
            builds::watermarks(log, &tables, settings, latest_year).await?
        }
        _ => None,
    };
    // Redoing most schools through a filter costs more than redoing them all: past that many,
    // the build is whole and the rest of what changed is not looked for.
    let all = ctx.sql("SELECT count(*) AS n FROM silver.platform.schools").await?.collect().await?;
    let all = all
        .first()
        .and_then(|b| b.column(0).as_primitive_opt::<Int64Type>().map(|a| a.value(0)))
        .unwrap_or(0);
    let most = (MOST_SCHOOLS * all as f64) as usize;
    let mut scope = match &before {
        Some(before) => changes::scope(ctx, &tables, before, &now, most).await?,
        None => Scope::All,
    };
    if scope != Scope::All && !exists(ctx, COUNTS_TABLE).await {
        scope = Scope::All;
    }
    let mut report = GoldReport { kind: BuildKind::Full, ..GoldReport::default() };
    let steps = steps();
    if let Scope::Schools(schools) = &scope {
        report.kind = BuildKind::Incremental;
        report.schools = Some(schools.len());
        if schools.is_empty() {
            progress("", steps, steps);
            report.up_to_date = true;
            return Ok(report);
        }
    }

    let counts_schema = counts_schema();
    let mut counts = Vec::new();
    for (i, &model) in MODELS.iter().enumerate() {
        progress(model, i, steps);
        match model_counts(ctx, model, settings, &scope, &counts_schema).await {
            Ok(rows) => {
                report.built.push((model, rows.iter().map(RecordBatch::num_rows).sum()));
                counts.extend(rows);
            }
            // A model whose source table is not in the lake yet (a new deployment) waits for it.
            Err(e) if e.is_missing_table() => report.skipped.push((model, e.to_string())),
            Err(e) => return Err(e),
        }
    }
    if let Scope::Schools(schools) = &scope {
        let (schema, table) = COUNTS_TABLE;
        let kept = format!(
            "SELECT * FROM {}.{schema}.{table} WHERE school_id IS NOT NULL AND school_id NOT IN ({})",
            oneclass_lake::GOLD,
            in_list(schools)
        );
        counts.extend(conform(&ctx.sql(&kept).await?.collect().await?, &counts_schema)?);
    }
    let read_version = counts_table.version();
    let mut batches = counts.clone();
    if batches.is_empty() {
        batches.push(RecordBatch::new_empty(counts_schema.clone()));
    }
    counts_table.write(batches).with_save_mode(SaveMode::Overwrite).await.map_err(|e| {
        // A commit that finds the table moved on since `read_version` conflicts.
        let moved =
            oneclass_lake::table_url(lake, oneclass_lake::GOLD, counts_schema_name, counts_name);
        match e {
            deltalake::DeltaTableError::Transaction { .. }
            | deltalake::DeltaTableError::VersionAlreadyExists(_) => {
                tracing::warn!(?read_version, error = %e, "gold build overtaken");
                WarehouseError::Overtaken(moved.to_string())
            }
            e => e.into(),
        }
    })?;

    let schema = indicator_schema();
    let schools = ctx
        .sql("SELECT id, district, province FROM silver.platform.schools")
        .await?
        .collect()
        .await?;
    let mut values = roll_up(&counts, &counts_schema, &schools, &schema).await?;
    let parity = parity_rows(&values, &schema).await?;
    report.built.push(("gender parity", parity.iter().map(RecordBatch::num_rows).sum()));
    let survival = survival_rows(&values, &schema).await?;
    report.built.push(("survival", survival.iter().map(RecordBatch::num_rows).sum()));
    values.extend(parity);
    values.extend(survival);
    report.values_rows = values.iter().map(RecordBatch::num_rows).sum();
    report.version = write_whole(lake, options, INDICATOR_TABLE, schema, values).await?;

    // The marts after the indicators: the staffing mart reads them.
    for (i, mart) in crate::marts::MARTS.iter().enumerate() {
        progress(mart.name, MODELS.len() + i, steps);
        match crate::marts::rebuild(ctx, lake, options, settings, mart, &scope).await {
            Ok((rows, _)) => report.marts.push((mart.name, rows)),
            Err(e) if e.is_missing_table() => report.skipped.push((mart.name, e.to_string())),
            Err(e) => return Err(e),
        }
    }
    // Last: a crash before this line leaves the old watermarks, so the next build redoes this one.
    builds::record(lake, options, &now, settings, latest_year, &report, started.elapsed()).await?;
    progress("", steps, steps);
    Ok(report)
}

/// The latest academic year silver has enrolment for; None without enrolment.
async fn latest_enrolment_year(ctx: &SessionContext) -> Option<i64> {
    let sql = "SELECT CAST(max(academic_year) AS BIGINT) AS y FROM silver.sis.enrolments";
    let batches = ctx.sql(sql).await.ok()?.collect().await.ok()?;
    let column = batches.first()?.column(0).as_primitive_opt::<Int64Type>()?.clone();
    column.iter().next().flatten()
}

/// Overwrites the gold table `(schema, table)` with `batches` in one commit; its new version.
async fn write_whole(
    lake: &Url,
    options: &oneclass_lake::StorageOptions,
    name: (&str, &str),
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<u64, WarehouseError> {
    write(lake, options, name, schema, batches, GoldWrite::Replace).await
}

/// How a write changes a gold table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoldWrite {
    /// The rows written are the whole table.
    Replace,
    /// The rows written are added.
    Append,
    /// The rows written replace those matching this SQL predicate (e.g. `academic_year = 2025`),
    /// which every row written must match.
    ReplaceWhere(String),
}

/// Writes `batches` to the gold table `(schema, table)` in one commit (replacing, appending
/// or replacing some rows, as `how` says), creating it if need be; its new version.
pub(crate) async fn write(
    lake: &Url,
    options: &oneclass_lake::StorageOptions,
    (schema_name, table): (&str, &str),
    schema: SchemaRef,
    mut batches: Vec<RecordBatch>,
    how: GoldWrite,
) -> Result<u64, WarehouseError> {
    if batches.is_empty() {
        batches.push(RecordBatch::new_empty(schema));
    }
    let url = oneclass_lake::table_url(lake, oneclass_lake::GOLD, schema_name, table);
    let table = oneclass_lake::table_or_new(&url, options).await?;
    let written = match how {
        GoldWrite::Replace => table.write(batches).with_save_mode(SaveMode::Overwrite).await?,
        GoldWrite::Append => table.write(batches).with_save_mode(SaveMode::Append).await?,
        GoldWrite::ReplaceWhere(predicate) => {
            table
                .write(batches)
                .with_save_mode(SaveMode::Overwrite)
                .with_replace_where(predicate)
                .await?
        }
    };
    Ok(written.version().unwrap_or(0))
}

/// The steps of a rebuild as its progress counts them: the models, then the marts.
pub fn steps() -> usize {
    MODELS.len() + crate::marts::MARTS.len()
}

/// One scope checked against the scopes inside it (see [`check_sums`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumCheck {
    /// The outer scope level (`national`, `province`, `district`).
    pub outer: &'static str,
    /// The level summed (`province`, `district`, `school`).
    pub inner: &'static str,
    /// Rows of the outer level (all grades, every indicator, year and sex).
    pub outer_rows: u64,
    /// Of those, rows whose numerator or denominator is not the sum over the inner level.
    pub wrong: u64,
}

/// Checks gold's own arithmetic: each row's numerator and denominator at national and province
/// level against the sum over the provinces and districts inside it, and each district's
/// numerator against the sum over its schools (a district's denominator may be its own: the
/// population of the enrolment ratios).
pub(crate) async fn check_sums(ctx: &SessionContext) -> Result<Vec<SumCheck>, WarehouseError> {
    let (schema, table) = INDICATOR_TABLE;
    let gold = format!("{}.{schema}.{table}", oneclass_lake::GOLD);
    // (outer level, inner level, whether denominators add up too, the inner rows with the
    // outer's code as `code`)
    let levels = [
        ("national", "province", true, "SELECT i.*, 'ZW' AS code FROM inner_rows i"),
        (
            "province",
            "district",
            true,
            "SELECT i.*, s.province AS code FROM inner_rows i \
             JOIN (SELECT DISTINCT district, province FROM silver.platform.schools) s \
               ON s.district = i.scope_code",
        ),
        (
            "district",
            "school",
            false,
            "SELECT i.*, s.district AS code FROM inner_rows i \
             JOIN silver.platform.schools s ON s.id = i.scope_code",
        ),
    ];
    let derived: Vec<String> = derived_indicators().map(|code| format!("'{code}'")).collect();
    let derived = derived.join(", ");
    let mut checks = Vec::new();
    for (outer, inner, denominators, placed) in levels {
        let sql = format!(
            "WITH inner_rows AS (
               SELECT * FROM {gold} WHERE scope_level = '{inner}' AND grade IS NULL
                 AND indicator NOT IN ({derived})
             ),
             placed AS ({placed}),
             sums AS (
               SELECT indicator, year, sex, code, sum(numerator) AS n, sum(denominator) AS d
               FROM placed GROUP BY indicator, year, sex, code
             )
             SELECT CAST(count(*) AS BIGINT) AS outer_rows,
                    CAST(coalesce(sum(CASE WHEN abs(coalesce(s.n, 0) - o.numerator) > {CENT}
                                             OR ({denominators}
                                                 AND abs(coalesce(s.d, 0) - o.denominator) > {CENT})
                                           THEN 1 ELSE 0 END), 0)
                         AS BIGINT) AS wrong
             FROM {gold} o
             LEFT JOIN sums s ON s.indicator = o.indicator AND s.year = o.year AND s.sex = o.sex
                             AND s.code = o.scope_code
             WHERE o.scope_level = '{outer}' AND o.grade IS NULL AND o.indicator NOT IN ({derived})"
        );
        let batches = ctx.sql(&sql).await?.collect().await?;
        let number = |column: usize| -> u64 {
            batches
                .iter()
                .find(|b| b.num_rows() > 0)
                .and_then(|b| b.column(column).as_primitive_opt::<Int64Type>().map(|a| a.value(0)))
                .map_or(0, |n| u64::try_from(n).unwrap_or(0))
        };
        checks.push(SumCheck { outer, inner, outer_rows: number(0), wrong: number(1) });
    }
    Ok(checks)
}

/// How far a sum may be from the figure it adds up to: counts are whole, so any real difference
/// is at least 1; money (fee collection, in dollars) adds up in binary floating point, exact to
/// well under a cent.
const CENT: f64 = 0.005;

/// The adjusted gender parity index of each gross enrolment ratio (INDICATORS.md GPI_GER): at
/// every scope, year and grade where both sexes have a ratio, r = GER(F) ÷ GER(M), and the index
/// is r when r ≤ 1, else 2 − 1/r. Its numerator and denominator are the two ratios (not counts:
/// the index is not summed over scopes), its sex `T`.
pub const PARITY_INDICATORS: &[(&str, &str)] = &[
    ("GPI_GER_PRIMARY", "GER_PRIMARY"),
    ("GPI_GER_LOWER_SECONDARY", "GER_LOWER_SECONDARY"),
    ("GPI_GER_UPPER_SECONDARY", "GER_UPPER_SECONDARY"),
];

async fn parity_rows(
    built: &[RecordBatch],
    schema: &SchemaRef,
) -> Result<Vec<RecordBatch>, WarehouseError> {
    let pairs: String =
        PARITY_INDICATORS.iter().map(|(gpi, ger)| format!(" WHEN '{ger}' THEN '{gpi}'")).collect();
    let sql = format!(
        "SELECT CASE f.indicator{pairs} END AS indicator, f.year, f.scope_level, f.scope_code,
                f.grade, 'T' AS sex, f.value AS numerator, m.value AS denominator,
                CASE WHEN f.value <= m.value THEN f.value / m.value ELSE 2 - m.value / f.value END
                  AS value
         FROM built f JOIN built m
           ON m.indicator = f.indicator AND m.year = f.year AND m.scope_level = f.scope_level
          AND m.scope_code = f.scope_code AND m.grade IS NOT DISTINCT FROM f.grade
         WHERE f.sex = 'F' AND m.sex = 'M' AND f.value > 0 AND m.value > 0
           AND f.indicator IN ({})",
        PARITY_INDICATORS.iter().map(|(_, ger)| format!("'{ger}'")).collect::<Vec<_>>().join(", ")
    );
    derive(built, schema, &sql).await
}

/// SURVIVAL_G7 (INDICATORS.md), by the reconstructed cohort: of 1,000 pupils entering G1, those
/// who reach G7, when each grade g of G1–G6 promotes p(g), holds back r(g) (who try again under
/// the same rates) and loses the rest: 1,000 × Π p(g) ÷ (1 − r(g)). From the built promotion and
/// repetition rates of each scope, year and sex that have all six grades; numerator the pupils
/// reaching G7, denominator the 1,000 (not counts of learners: not summed over scopes).
pub const SURVIVAL_INDICATOR: &str = "SURVIVAL_G7";

async fn survival_rows(
    built: &[RecordBatch],
    schema: &SchemaRef,
) -> Result<Vec<RecordBatch>, WarehouseError> {
    let sql = format!(
        "WITH grades AS (
           SELECT p.year, p.scope_level, p.scope_code, p.sex, p.grade,
                  p.numerator / p.denominator AS promoted,
                  r.numerator / r.denominator AS repeated
           FROM built p JOIN built r
             ON r.indicator = 'REPETITION_RATE' AND r.year = p.year
            AND r.scope_level = p.scope_level AND r.scope_code = p.scope_code
            AND r.sex = p.sex AND r.grade = p.grade
           WHERE p.indicator = 'PROMOTION_RATE' AND p.grade IN ('G1', 'G2', 'G3', 'G4', 'G5', 'G6')
             AND p.denominator > 0
         ),
         cohorts AS (
           SELECT year, scope_level, scope_code, sex, count(*) AS grades,
                  min(promoted) AS least_promoted, max(repeated) AS most_repeated,
                  sum(ln(CASE WHEN promoted > 0 AND repeated < 1
                              THEN promoted / (1 - repeated) ELSE 1 END)) AS log_survival
           FROM grades GROUP BY year, scope_level, scope_code, sex
         )
         SELECT '{SURVIVAL_INDICATOR}' AS indicator, year, scope_level, scope_code,
                CAST(NULL AS VARCHAR) AS grade, sex,
                CASE WHEN least_promoted > 0 THEN 1000 * exp(log_survival) ELSE 0 END AS numerator,
                1000.0 AS denominator,
                CASE WHEN least_promoted > 0 THEN 100 * exp(log_survival) ELSE 0 END AS value
         FROM cohorts WHERE grades = 6 AND most_repeated < 1"
    );
    derive(built, schema, &sql).await
}

/// Every indicator gold holds: the summed ones, then the derived ones.
pub fn indicator_codes() -> impl Iterator<Item = &'static str> {
    INDICATORS.iter().map(|i| i.code).chain(derived_indicators())
}

/// Indicators derived from other indicators' values after the roll-up (not sums of counts, so
/// the sum check leaves them out).
fn derived_indicators() -> impl Iterator<Item = &'static str> {
    PARITY_INDICATORS.iter().map(|(gpi, _)| *gpi).chain([SURVIVAL_INDICATOR])
}

/// `sql` over the rows built so far (the table `built`), in the indicator table's schema.
async fn derive(
    built: &[RecordBatch],
    schema: &SchemaRef,
    sql: &str,
) -> Result<Vec<RecordBatch>, WarehouseError> {
    let ctx = SessionContext::new();
    ctx.register_table(
        "built",
        Arc::new(MemTable::try_new(schema.clone(), vec![built.to_vec()])?),
    )?;
    let rows = ctx.sql(sql).await?.collect().await?;
    conform(&rows, schema)
}

/// One model's counts (its own rows: per school, or per district where a count has no school)
/// for the schools of `scope`, in the counts table's schema.
async fn model_counts(
    ctx: &SessionContext,
    model: &str,
    settings: GoldSettings,
    scope: &Scope,
    schema: &SchemaRef,
) -> Result<Vec<RecordBatch>, WarehouseError> {
    let body =
        named::sql(model).ok_or_else(|| WarehouseError::UnknownNamedQuery(model.to_owned()))?;
    let only = match scope {
        Scope::All => String::new(),
        Scope::Schools(schools) => {
            format!(" WHERE school_id IS NULL OR school_id IN ({})", in_list(schools))
        }
    };
    let sql = format!(
        "WITH {}, model AS ({}) SELECT indicator, year, school_id, district, grade, sex, \
         numerator, denominator FROM model{only}",
        prelude(settings),
        body.trim().trim_end_matches(';')
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    conform(&batches, schema)
}

/// The columns of `gold/indicators/counts`: the models' own rows, from which every scope's
/// figures are summed.
pub fn counts_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("indicator", DataType::Utf8, false),
        Field::new("year", DataType::Int32, false),
        Field::new("school_id", DataType::Utf8, true),
        Field::new("district", DataType::Utf8, true),
        Field::new("grade", DataType::Utf8, true),
        Field::new("sex", DataType::Utf8, false),
        Field::new("numerator", DataType::Float64, false),
        Field::new("denominator", DataType::Float64, false),
    ]))
}

/// Every scope's figures from the counts: the total over sexes and over grades added, each
/// school's counts summed into its district, province and the nation (a district's own counts
/// into its province and the nation), the value computed.
async fn roll_up(
    counts: &[RecordBatch],
    counts_schema: &SchemaRef,
    schools: &[RecordBatch],
    schema: &SchemaRef,
) -> Result<Vec<RecordBatch>, WarehouseError> {
    let ctx = SessionContext::new();
    ctx.register_table(
        "counts",
        Arc::new(MemTable::try_new(counts_schema.clone(), vec![counts.to_vec()])?),
    )?;
    let school_schema = match schools.first() {
        Some(b) => b.schema(),
        None => Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("district", DataType::Utf8, true),
            Field::new("province", DataType::Utf8, true),
        ])),
    };
    ctx.register_table(
        "schools",
        Arc::new(MemTable::try_new(school_schema, vec![schools.to_vec()])?),
    )?;
    let rows = ctx.sql(&rollup_sql()).await?.collect().await?;
    conform(&rows, schema)
}

/// The non-empty batches in the indicator table's schema (column by column, in order).
fn conform(
    batches: &[RecordBatch],
    schema: &SchemaRef,
) -> Result<Vec<RecordBatch>, WarehouseError> {
    batches
        .iter()
        .filter(|b| b.num_rows() > 0)
        .map(|b| {
            let columns = schema
                .fields()
                .iter()
                .zip(b.columns())
                .map(|(field, column)| cast(column, field.data_type()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(RecordBatch::try_new(schema.clone(), columns)?)
        })
        .collect()
}

/// The roll-up of the counts (table `counts`) over the school register (table `schools`).
fn rollup_sql() -> String {
    let scale: String =
        INDICATORS.iter().map(|i| format!(" WHEN '{}' THEN {:.1}", i.code, i.scale)).collect();
    let by_scope = |level: &str, code: &str| {
        format!(
            "SELECT indicator, year, '{level}' AS scope_level, {code} AS scope_code, grade, sex, \
                    sum(numerator) AS numerator, sum(denominator) AS denominator \
             FROM placed WHERE {code} IS NOT NULL GROUP BY indicator, year, {code}, grade, sex"
        )
    };
    format!(
        "WITH model AS (SELECT * FROM counts),
         by_sex AS (
           SELECT indicator, year, school_id, district, grade, sex, numerator, denominator
           FROM model
           UNION ALL
           SELECT indicator, year, school_id, district, grade, 'T' AS sex,
                  sum(numerator) AS numerator, sum(denominator) AS denominator
           FROM model WHERE sex IN ('F', 'M') GROUP BY indicator, year, school_id, district, grade
         ),
         base AS (
           SELECT * FROM by_sex
           UNION ALL
           SELECT indicator, year, school_id, district, CAST(NULL AS VARCHAR) AS grade, sex,
                  sum(numerator) AS numerator, sum(denominator) AS denominator
           FROM by_sex WHERE grade IS NOT NULL GROUP BY indicator, year, school_id, district, sex
         ),
         placed AS (
           SELECT b.indicator, b.year, b.school_id, s.district AS in_district,
                  s.province AS in_province, 'ZW' AS nation, b.grade, b.sex, b.numerator,
                  b.denominator
           FROM base b JOIN schools s ON s.id = b.school_id
           UNION ALL
           SELECT b.indicator, b.year, b.school_id, b.district AS in_district,
                  d.province AS in_province, 'ZW' AS nation, b.grade, b.sex, b.numerator,
                  b.denominator
           FROM base b
           JOIN (SELECT DISTINCT district, province FROM schools) d
             ON d.district = b.district
           WHERE b.school_id IS NULL
         ),
         scoped AS (
           {school} UNION ALL {district} UNION ALL {province} UNION ALL {national}
         )
         SELECT indicator, year, scope_level, scope_code, grade, sex, numerator, denominator,
                CASE WHEN denominator > 0
                     THEN numerator / denominator * CASE indicator{scale} END END AS value
         FROM scoped
         ORDER BY indicator, year, scope_level, scope_code, grade, sex",
        school = by_scope("school", "school_id"),
        district = by_scope("district", "in_district"),
        province = by_scope("province", "in_province"),
        national = by_scope("national", "nation"),
    )
}
