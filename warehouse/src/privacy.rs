//! What an analyst may see: the one place that decides which columns are dropped, which learner
//! ids are replaced by a keyed pseudonym, and which rows belong to an analyst's area.
//!
//! Analysts never see names, national IDs or phones; every learner id they see is the same keyed
//! hash in every table and layer, so joins across tables still work while the raw id (which staff
//! pages and exports use) stays inside the platform.

use std::fmt;
use std::sync::Arc;

use deltalake::arrow::array::{Array, AsArray, StringBuilder};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::DataType;
use deltalake::datafusion::catalog::TableProvider;
use deltalake::datafusion::catalog::view::ViewTable;
use deltalake::datafusion::common::{Column, TableReference};
use deltalake::datafusion::datasource::provider_as_source;
use deltalake::datafusion::error::{DataFusionError, Result as DfResult};
use deltalake::datafusion::functions::expr_fn::date_trunc;
use deltalake::datafusion::functions_aggregate::count::count_udaf;
use deltalake::datafusion::logical_expr::expr::WindowFunction;
use deltalake::datafusion::logical_expr::{
    ColumnarValue, Expr, ExprFunctionExt, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility, col, lit, when,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::access::Area;

/// Columns that identify a person directly, in any table of any schema.
const DIRECT_IDENTIFIERS: &[&str] = &[
    "first_name",
    "last_name",
    "national_id",
    "phone",
    "email",
    "display_name",
    "username",
    "password_hash",
    // A school's own number for a learner identifies them as surely as a name, and so does
    // ZIMSEC's number for a candidate.
    "learner_number",
    "candidate_number",
    "birth_entry_number",
    // A civil servant's employment number.
    "ec_number",
    // Payment references and idempotency keys are free text chosen by payers and their apps
    // (an EcoCash reference carries a phone number).
    "reference",
    "idempotency_key",
];

/// Schemas whose tables describe people, where a `name` or any `*_name` column is a person's name
/// (guardians' `full_name`, a learner's `preferred_name`, …).
const PERSON_SCHEMAS: &[&str] = &["sis", "staff"];

/// Aggregates whose cells may count fewer than 5 learners, with the column that would then tell
/// an analyst what silver generalises: the enrolment mart's ages (a count of 1 learner of one
/// sex, grade and school names that learner's age, where silver shows no date of birth).
/// Analysts see these tables without that column (the counts, summed over it, remain).
const SMALL_CELL_COLUMNS: &[(&str, &str, &str)] = &[("marts", "enrolment", "age")];

/// A column holding a learner's id, wherever it appears.
const LEARNER_ID_COLUMN: &str = "learner_id";

/// The table whose own `id` is the learner id.
const LEARNERS_TABLE: (&str, &str) = ("sis", "learners");

/// Reference data (terms, population projections): the same for every area.
const REFERENCE_SCHEMAS: &[&str] = &["ref"];

/// A learner's date of birth, with sex and school, makes most children unique: analysts see the
/// month of birth instead (`birth_month`, the first of the month) in silver and gold, and only
/// where at least [`MIN_GROUP`] learners of the school share sex and month; elsewhere it is
/// null. Bronze, whose rows are changes rather than learners, shows neither.
const BIRTH_DATE_COLUMN: &str = "date_of_birth";
const BIRTH_MONTH_COLUMN: &str = "birth_month";

/// The fewest learners a combination of quasi-identifiers an analyst sees may describe (the
/// dashboards' small-cell rule too).
pub(crate) const MIN_GROUP: i64 = 5;

/// The school register, scoped by its own province and district columns.
const SCHOOLS_TABLE: (&str, &str) = ("platform", "schools");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnRule {
    Keep,
    Drop,
    Pseudonymise,
}

/// The rule for one column of `<schema>.<table>`, the same in every layer.
pub(crate) fn column_rule(schema: &str, table: &str, column: &str) -> ColumnRule {
    if DIRECT_IDENTIFIERS.contains(&column) || SMALL_CELL_COLUMNS.contains(&(schema, table, column))
    {
        return ColumnRule::Drop;
    }
    if PERSON_SCHEMAS.contains(&schema) && (column == "name" || column.ends_with("_name")) {
        return ColumnRule::Drop;
    }
    if column == LEARNER_ID_COLUMN || ((schema, table) == LEARNERS_TABLE && column == "id") {
        return ColumnRule::Pseudonymise;
    }
    ColumnRule::Keep
}

/// How a table's rows are tied to an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowScope {
    /// `platform.schools`: by its own `province` / `district`.
    Schools,
    /// Any table with a `school_id`: rows of the area's schools.
    BySchool,
    /// Reference data: every row.
    Reference,
    /// Aggregates keyed by `scope_level` / `scope_code` (gold indicators).
    ByIndicatorScope,
    /// Nothing ties the rows to an area, so an area-limited analyst sees none of them.
    Hidden,
}

pub(crate) fn row_scope(schema: &str, table: &str, columns: &[&str]) -> RowScope {
    if (schema, table) == SCHOOLS_TABLE {
        RowScope::Schools
    } else if columns.contains(&"school_id") {
        RowScope::BySchool
    } else if REFERENCE_SCHEMAS.contains(&schema) {
        RowScope::Reference
    } else if columns.contains(&"scope_level") && columns.contains(&"scope_code") {
        RowScope::ByIndicatorScope
    } else {
        RowScope::Hidden
    }
}

/// The schools of an analyst's area, resolved from the school register when the query starts.
#[derive(Debug, Clone, Default)]
pub(crate) struct AreaSchools {
    pub school_ids: Vec<String>,
    pub emis_codes: Vec<String>,
    pub districts: Vec<String>,
}

/// An analyst's access resolved for one query.
#[derive(Debug, Clone)]
pub(crate) struct AnalystScope {
    pub udf: Arc<ScalarUDF>,
    pub area: Area,
    pub schools: AreaSchools,
}

/// Wraps a table in a view with the analyst's rows and columns; the raw provider never reaches
/// the analyst's plan except under this filter and projection.
pub(crate) fn analyst_view(
    table_ref: TableReference,
    schema: &str,
    table: &str,
    provider: Arc<dyn TableProvider>,
    scope: &AnalystScope,
) -> DfResult<Arc<dyn TableProvider>> {
    let arrow_schema = provider.schema();
    let columns: Vec<&str> = arrow_schema.fields().iter().map(|f| f.name().as_str()).collect();
    let column = |name: &str| Expr::Column(Column::new(Some(table_ref.clone()), name));

    let mut plan = LogicalPlanBuilder::scan(table_ref.clone(), provider_as_source(provider), None)?;
    if let Some(filter) = row_filter(row_scope(schema, table, &columns), scope, &column) {
        plan = plan.filter(filter)?;
    }
    let birth_month = birth_month_rule(&table_ref, schema, table, &columns);
    if let Some(BirthMonth::Generalise) = birth_month {
        plan = plan.window(vec![peers_by_birth_month(&column)?])?;
    }
    let mut projection = Vec::with_capacity(columns.len());
    for name in &columns {
        let expr = match (column_rule(schema, table, name), birth_month) {
            (_, Some(BirthMonth::Generalise)) if *name == BIRTH_DATE_COLUMN => {
                when(col(PEERS).gt_eq(lit(MIN_GROUP)), month_of(column(name)))
                    .end()?
                    .alias(BIRTH_MONTH_COLUMN)
            }
            (_, Some(BirthMonth::Drop)) if *name == BIRTH_DATE_COLUMN => continue,
            (ColumnRule::Keep, _) => column(name),
            (ColumnRule::Drop, _) => continue,
            (ColumnRule::Pseudonymise, _) => scope.udf.call(vec![column(name)]).alias(*name),
        };
        projection.push(expr);
    }
    if projection.is_empty() {
        return Err(DataFusionError::Plan(format!("{table_ref} has no columns analysts may see")));
    }
    let plan = plan.project(projection)?.build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

/// What becomes of a learner table's date of birth for an analyst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BirthMonth {
    /// The month of birth, where enough learners share it (silver, gold).
    Generalise,
    /// Nothing (bronze: its rows are changes, so they cannot be counted as learners).
    Drop,
}

fn birth_month_rule(
    table_ref: &TableReference,
    schema: &str,
    table: &str,
    columns: &[&str],
) -> Option<BirthMonth> {
    if (schema, table) != LEARNERS_TABLE || !columns.contains(&BIRTH_DATE_COLUMN) {
        return None;
    }
    let layered = ["school_id", "sex"].iter().all(|c| columns.contains(c));
    Some(if table_ref.catalog() == Some(oneclass_lake::BRONZE) || !layered {
        BirthMonth::Drop
    } else {
        BirthMonth::Generalise
    })
}

/// The window column counting the learners who share a learner's school, sex and birth month.
const PEERS: &str = "__peers_by_birth_month";

fn month_of(date: Expr) -> Expr {
    deltalake::datafusion::logical_expr::cast(date_trunc(lit("month"), date), DataType::Date32)
}

fn peers_by_birth_month(column: &dyn Fn(&str) -> Expr) -> DfResult<Expr> {
    Ok(Expr::from(WindowFunction::new(count_udaf(), vec![lit(1)]))
        .partition_by(vec![column("school_id"), column("sex"), month_of(column(BIRTH_DATE_COLUMN))])
        .build()?
        .alias(PEERS))
}

fn row_filter(
    row_scope: RowScope,
    scope: &AnalystScope,
    column: &dyn Fn(&str) -> Expr,
) -> Option<Expr> {
    let (province, district) = match &scope.area {
        Area::National => return None,
        Area::Province(p) => (Some(p.as_str()), None),
        Area::District(d) => (None, Some(d.as_str())),
    };
    let schools = &scope.schools;
    Some(match row_scope {
        RowScope::Reference => return None,
        RowScope::Hidden => lit(false),
        RowScope::Schools => match (province, district) {
            (Some(p), _) => column("province").eq(lit(p)),
            (_, Some(d)) => column("district").eq(lit(d)),
            (None, None) => return None,
        },
        RowScope::BySchool => in_list(column("school_id"), &schools.school_ids),
        RowScope::ByIndicatorScope => {
            let level = |l: &str| column("scope_level").eq(lit(l.to_owned()));
            let code = || column("scope_code");
            let school_codes: Vec<String> =
                schools.school_ids.iter().chain(&schools.emis_codes).cloned().collect();
            // The national figure is published to everyone; the rest must lie inside the area.
            let mut allowed = level("national")
                .or(level("district").and(in_list(code(), &schools.districts)))
                .or(level("school").and(in_list(code(), &school_codes)));
            if let Some(p) = province {
                allowed = allowed.or(level("province").and(code().eq(lit(p))));
            }
            allowed
        }
    })
}

/// `expr IN (values)`, where an empty list matches nothing rather than failing to plan.
fn in_list(expr: Expr, values: &[String]) -> Expr {
    if values.is_empty() {
        return lit(false);
    }
    expr.in_list(values.iter().map(|v| lit(v.clone())).collect(), false)
}

/// The analysts' keyed pseudonym of an id: hex of the first 16 bytes of HMAC-SHA256(key, id text).
pub fn pseudonym(key: &[u8], id: &str) -> String {
    let mut out = [0u8; 32];
    pseudonym_into(&keyed(key), id, &mut out).to_owned()
}

/// HMAC-SHA256 with its key already absorbed: each pseudonym clones it instead of hashing the
/// key again.
fn keyed(key: &[u8]) -> Hmac<Sha256> {
    let Ok(mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of any length");
    };
    mac
}

/// [`pseudonym`] written into `out`, without allocating.
fn pseudonym_into<'a>(keyed: &Hmac<Sha256>, id: &str, out: &'a mut [u8; 32]) -> &'a str {
    let mut mac = keyed.clone();
    mac.update(id.as_bytes());
    let tag = mac.finalize().into_bytes();
    let Ok(()) = hex::encode_to_slice(&tag[..16], out) else {
        unreachable!("16 bytes are 32 hex digits");
    };
    let Ok(text) = std::str::from_utf8(out) else { unreachable!("hex digits are ASCII") };
    text
}

/// The pseudonym as a DataFusion function. It is placed into analysts' views directly and never
/// registered by name, so analysts cannot call it on values of their choosing.
pub(crate) struct PseudonymUdf {
    key: Arc<[u8]>,
    keyed: Hmac<Sha256>,
    signature: Signature,
}

// Two instances are the same function when their keys are (the keyed state follows from it).
impl PartialEq for PseudonymUdf {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.signature == other.signature
    }
}

impl Eq for PseudonymUdf {}

impl std::hash::Hash for PseudonymUdf {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
        self.signature.hash(state);
    }
}

impl PseudonymUdf {
    pub(crate) fn udf(key: Arc<[u8]>) -> ScalarUDF {
        ScalarUDF::new_from_impl(Self {
            keyed: keyed(&key),
            key,
            signature: Signature::uniform(
                1,
                vec![DataType::Utf8, DataType::LargeUtf8, DataType::Utf8View],
                Volatility::Immutable,
            ),
        })
    }
}

// The key must not reach logs or EXPLAIN output.
impl fmt::Debug for PseudonymUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymUdf")
    }
}

impl ScalarUDFImpl for PseudonymUdf {
    fn name(&self) -> &str {
        "pseudonym"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let [value] = args.args.as_slice() else {
            return Err(DataFusionError::Plan("pseudonym takes exactly one argument".into()));
        };
        let ids = cast(&value.to_array(args.number_rows)?, &DataType::Utf8)?;
        let ids = ids.as_string::<i32>();
        let mut hashed = StringBuilder::with_capacity(ids.len(), ids.len() * 32);
        let mut out = [0u8; 32];
        for id in ids.iter() {
            match id {
                Some(id) => hashed.append_value(pseudonym_into(&self.keyed, id, &mut out)),
                None => hashed.append_null(),
            }
        }
        let hashed = hashed.finish();
        debug_assert_eq!(hashed.len(), args.number_rows);
        Ok(ColumnarValue::Array(Arc::new(hashed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonym_is_keyed_hex_of_16_bytes() {
        let a = pseudonym(b"key-1", "0190a0b2-0000-7000-8000-000000000001");
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, pseudonym(b"key-1", "0190a0b2-0000-7000-8000-000000000001"));
        assert_ne!(a, pseudonym(b"key-2", "0190a0b2-0000-7000-8000-000000000001"));
    }

    #[test]
    fn pseudonym_matches_rfc4231_prefix() {
        // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
        assert_eq!(
            pseudonym(b"Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c7"
        );
    }

    #[test]
    fn identifiers_are_dropped_and_learner_ids_hashed() {
        use ColumnRule::*;
        assert_eq!(column_rule("sis", "learners", "first_name"), Drop);
        assert_eq!(column_rule("sis", "learners", "national_id"), Drop);
        assert_eq!(column_rule("sis", "guardians", "phone"), Drop);
        assert_eq!(column_rule("sis", "guardians", "full_name"), Drop);
        assert_eq!(column_rule("staff", "staff", "name"), Drop);
        assert_eq!(column_rule("sis", "learners", "id"), Pseudonymise);
        assert_eq!(column_rule("attendance", "daily_marks", "learner_id"), Pseudonymise);
        assert_eq!(column_rule("finance", "payments", "learner_id"), Pseudonymise);
        assert_eq!(column_rule("finance", "payments", "idempotency_key"), Drop);
        assert_eq!(column_rule("finance", "payments", "reference"), Drop);
        assert_eq!(column_rule("finance", "payments", "amount"), Keep);
        assert_eq!(column_rule("attendance", "daily_marks", "id"), Keep);
        assert_eq!(column_rule("sis", "learners", "date_of_birth"), Keep);
        // A school's name is public; so is a class's.
        assert_eq!(column_rule("platform", "schools", "name"), Keep);
        assert_eq!(column_rule("academic", "classes", "name"), Keep);
    }

    #[test]
    fn rows_are_scoped_by_school_or_hidden() {
        assert_eq!(row_scope("platform", "schools", &["id", "province"]), RowScope::Schools);
        assert_eq!(row_scope("sis", "learners", &["id", "school_id"]), RowScope::BySchool);
        assert_eq!(row_scope("ref", "terms", &["term"]), RowScope::Reference);
        assert_eq!(
            row_scope("indicators", "values", &["scope_level", "scope_code"]),
            RowScope::ByIndicatorScope
        );
        assert_eq!(row_scope("platform", "memberships", &["user_id"]), RowScope::Hidden);
    }
}
