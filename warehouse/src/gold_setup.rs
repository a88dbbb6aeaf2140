//! What every gold build shares: where its tables are, the choices a deployment makes about
//! counting (GoldSettings), how much a build redoes and what it reports, and the SQL every
//! model and mart is run with (the prelude, a list of schools).

/// The indicator table's place in the lake: `gold/indicators/values`.
pub const INDICATOR_TABLE: (&str, &str) = ("indicators", "values");
/// The models' counts, from which the indicators are summed: `gold/indicators/counts`.
pub const COUNTS_TABLE: (&str, &str) = ("indicators", "counts");

/// The choices a deployment makes about how indicators are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoldSettings {
    /// The highest Grade 7 aggregate (best four subjects, 4 to 36) that passes: G7_PASS_RATE.
    pub g7_pass_aggregate: u32,
}

/// The lowest and highest Grade 7 aggregate of four subjects.
pub const G7_AGGREGATES: std::ops::RangeInclusive<u32> = 4..=36;

impl Default for GoldSettings {
    fn default() -> Self {
        Self { g7_pass_aggregate: 24 }
    }
}

/// How much a rebuild redoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildKind {
    /// Only the schools whose rows changed in silver since the last build (everything when
    /// there was none, or when a reference table or a setting changed).
    #[default]
    Incremental,
    /// Everything.
    Full,
}

/// What a rebuild did.
#[derive(Debug, Clone, Default)]
pub struct GoldReport {
    /// Rows written per model.
    pub built: Vec<(&'static str, usize)>,
    /// Rows written per mart (`gold/marts/<name>`).
    pub marts: Vec<(&'static str, usize)>,
    /// Models and marts left out, and why (a source table the lake does not hold yet).
    pub skipped: Vec<(&'static str, String)>,
    /// The Delta version of `gold/indicators/values` after the rebuild.
    pub version: u64,
    /// Rows of `gold/indicators/values`.
    pub values_rows: usize,
    /// What the build redid.
    pub kind: BuildKind,
    /// For an incremental build, the schools it redid.
    pub schools: Option<usize>,
    /// Nothing had changed since the last build: nothing was written.
    pub up_to_date: bool,
}

impl GoldReport {
    /// Rows of `gold/indicators/values`.
    pub fn rows(&self) -> usize {
        self.values_rows
    }
}

/// `schools` as the items of an SQL `IN (…)` list.
pub(crate) fn in_list(schools: &std::collections::BTreeSet<String>) -> String {
    schools.iter().map(|s| format!("'{}'", s.replace('\'', "''"))).collect::<Vec<_>>().join(", ")
}

/// What every model may use beside the lake, as common table expressions (without `WITH`):
/// `census(year, day)`, the census date of each year the lake holds terms for (the first Monday
/// of March), and `settings`, one row of the deployment's [`GoldSettings`].
pub(crate) fn prelude(settings: GoldSettings) -> String {
    format!(
        "census AS (
           SELECT y.year, make_date(y.year, 3, d.day) AS day
           FROM (SELECT DISTINCT academic_year AS year FROM silver.ref.terms) y
           CROSS JOIN (VALUES (1), (2), (3), (4), (5), (6), (7)) AS d(day)
           WHERE date_part('dow', make_date(y.year, 3, d.day)) = 1
         ),
         settings AS (SELECT CAST({} AS BIGINT) AS g7_pass_aggregate)",
        settings.g7_pass_aggregate
    )
}

/// Whether gold holds the table `(schema, table)` (a build that finds none builds it whole).
pub(crate) async fn exists(
    ctx: &deltalake::datafusion::prelude::SessionContext,
    (schema, table): (&str, &str),
) -> bool {
    ctx.sql(&format!("SELECT 1 FROM {}.{schema}.{table} LIMIT 1", oneclass_lake::GOLD))
        .await
        .is_ok()
}
