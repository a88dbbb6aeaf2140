//! What the lake's own tables and columns mean: the columns ingest adds, the analysts' birth
//! month and the gold tables. (The source tables' columns mean what PostgreSQL's comments on
//! them say; the catalog joins the two.)

use oneclass_lake::contract::column::{COMMIT_DATE, COMMIT_TS, LSN, OP, SEQ};

/// The meaning of a column the lake adds or derives, when `column` is one.
pub fn lake_column(layer: &str, schema: &str, table: &str, column: &str) -> Option<&'static str> {
    if layer == oneclass_lake::GOLD && (schema, table) == ("indicators", "values") {
        return GOLD_INDICATOR_COLUMNS.iter().find(|(c, _)| *c == column).map(|(_, m)| *m);
    }
    if let Some(mart) = gold_mart(layer, schema, table) {
        return mart.columns.iter().find(|(c, _)| *c == column).map(|(_, m)| *m);
    }
    if layer == oneclass_lake::GOLD && (schema, table) == ("indicators", "counts") {
        return GOLD_COUNT_COLUMNS.iter().find(|(c, _)| *c == column).map(|(_, m)| *m);
    }
    Some(match column {
        OP => "The change: r (read by the initial snapshot), c (insert), u (update), d (delete).",
        LSN => {
            "Where the change is in PostgreSQL's write-ahead log (its transaction's commit LSN)."
        }
        SEQ => "The change's place inside its transaction.",
        COMMIT_TS => "When the change was committed in PostgreSQL (UTC).",
        COMMIT_DATE => "The UTC date of the commit (bronze's partitions).",
        "birth_month" => {
            "The first of the learner's month of birth, shown only where at least 5 learners of \
             the school share sex and month (analysts see no dates of birth)."
        }
        _ => return None,
    })
}

/// The meaning of a table the lake has beyond PostgreSQL's.
pub fn lake_table(layer: &str, schema: &str, table: &str) -> Option<&'static str> {
    if let Some(mart) = gold_mart(layer, schema, table) {
        return Some(mart.meaning);
    }
    if layer == oneclass_lake::GOLD && (schema, table) == ("indicators", "counts") {
        return Some(
            "The counts each indicator is summed from: per school (or per district, where a \
             count has no school, as a population), year, grade and sex.",
        );
    }
    (layer == oneclass_lake::GOLD && (schema, table) == ("indicators", "values")).then_some(
        "The education indicators (INDICATORS.md) for every school year, at national, province, \
         district and school scope, by sex and grade, with the counts they are made of.",
    )
}

const GOLD_COUNT_COLUMNS: &[(&str, &str)] = &[
    ("indicator", "The indicator's code (PTR, GER_PRIMARY, …)."),
    ("year", "The school year."),
    ("school_id", "The school counted; null for a district's own count."),
    ("district", "The district of a district's own count (a population); null for a school's."),
    ("grade", "The grade, for indicators by grade; null: no split by grade."),
    ("sex", "F or M, or T where the indicator has no split by sex."),
    ("numerator", "The count (or amount) above the line."),
    ("denominator", "The count (or amount) below the line."),
];

const GOLD_INDICATOR_COLUMNS: &[(&str, &str)] = &[
    ("indicator", "The indicator's code (PTR, GER_PRIMARY, …)."),
    ("year", "The school year."),
    ("scope_level", "national, province, district or school."),
    ("scope_code", "ZW, the province's or district's name, or the school's id."),
    ("grade", "The grade, for indicators by grade; null: all grades."),
    ("sex", "F, M or T (both)."),
    ("numerator", "The count (or amount) above the line; a scope's is the sum of those inside it."),
    ("denominator", "The count (or amount) below the line."),
    ("value", "numerator ÷ denominator, × 100 for rates; null where the denominator is 0."),
];

fn gold_mart(layer: &str, schema: &str, table: &str) -> Option<&'static crate::Mart> {
    (layer == oneclass_lake::GOLD && schema == crate::MART_SCHEMA)
        .then(|| crate::mart(table))
        .flatten()
}
