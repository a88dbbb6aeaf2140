//! The marts the dashboards read: one table per question, under `gold/marts/<name>`, each
//! built by `queries/mart_<name>.sql` over the same session and prelude as the indicators
//! (`census`, `settings`) after them, and overwritten whole in one commit (a reader, or a crash
//! in the middle, sees the previous mart or the new one). Marts hold counts per school, never a
//! learner, so analysts read them as they read any table with a `school_id`: their area's rows.

use std::sync::Arc;

use deltalake::arrow::datatypes::{Field, Schema};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::protocol::SaveMode;
use url::Url;

use crate::changes::Scope;
use crate::error::WarehouseError;
use crate::gold_setup::{GoldSettings, exists, in_list, prelude};
use crate::named;

/// The schema of the marts in the lake: `gold/marts/<name>`.
pub const MART_SCHEMA: &str = "marts";

/// One mart: its name (table and query `mart_<name>`), what it holds, and its columns' meanings.
#[derive(Debug, Clone, Copy)]
pub struct Mart {
    pub name: &'static str,
    pub meaning: &'static str,
    pub columns: &'static [(&'static str, &'static str)],
}

const YEAR: (&str, &str) = ("year", "The school year.");
const TERM: (&str, &str) = ("term", "The term of the year (1 to 3).");
const SCHOOL: (&str, &str) = ("school_id", "The school's id.");
const CLASS: &[(&str, &str)] = &[
    ("class_id", "The class's id."),
    ("grade", "The class's grade (ECD_A … F6)."),
    ("class_name", "The class's name at its school."),
];

/// The marts, in the order they are built.
pub const MARTS: &[Mart] = &[
    Mart {
        name: "enrolment",
        meaning: "Enrolment by grade, age and sex: learners enrolled on the census date (the \
                  first Monday of March) per school.",
        columns: &[
            YEAR,
            SCHOOL,
            ("grade", "The grade enrolled in."),
            ("age", "Completed years on 1 January of the year."),
            ("sex", "F or M."),
            ("learners", "Learners enrolled on the census date."),
        ],
    },
    Mart {
        name: "attendance_weekly",
        meaning: "Attendance by week and class: the daily marks of school days per school, class \
                  and week.",
        columns: &[
            YEAR,
            TERM,
            SCHOOL,
            CLASS[0],
            CLASS[1],
            CLASS[2],
            ("week", "The Monday the week starts on."),
            ("learners", "Learners marked that week."),
            ("marks", "Daily marks (present, late, absent and excused)."),
            ("attended", "Marks present or late."),
            ("absent", "Marks absent."),
        ],
    },
    Mart {
        name: "results",
        meaning: "Results by subject and grade: learners' term marks (the mean percentage of \
                  their results in the term's assessments of a subject) per school, class, \
                  subject and sex, in bands of ten.",
        columns: &[
            YEAR,
            TERM,
            SCHOOL,
            CLASS[0],
            CLASS[1],
            CLASS[2],
            ("subject_code", "The subject."),
            ("sex", "F or M."),
            (
                "band",
                "The term mark's band: 0 under 10 %, 1 from 10 % to under 20 %, … 9 from 90 %.",
            ),
            ("learners", "Learners whose term mark is in the band."),
            ("marks_total", "The sum of their term marks (for means)."),
        ],
    },
    Mart {
        name: "fees",
        meaning: "Fee collection by term and method: fees invoiced and paid per school, term, \
                  currency and method of payment.",
        columns: &[
            YEAR,
            TERM,
            SCHOOL,
            ("currency", "The invoices' currency: USD or ZWG."),
            ("method", "How it was paid (cash, ecocash, bank, paynow, beam); null: the invoices."),
            ("entries", "Invoices, or payments."),
            ("learners", "Learners invoiced, or paid for."),
            ("amount", "The amount in the invoices' currency."),
        ],
    },
    Mart {
        name: "staffing",
        meaning: "Staffing by school: learners and teachers in post on the census date, trained \
                  teachers and the pupil–teacher ratios.",
        columns: &[
            YEAR,
            SCHOOL,
            ("learners", "Learners enrolled on the census date."),
            ("teachers", "Teachers in post on the census date."),
            ("trained_teachers", "Of them, trained."),
            ("trained_share", "Trained teachers ÷ teachers × 100; null without teachers."),
            ("ptr", "Learners ÷ teachers; null without teachers."),
            ("pqtr", "Learners ÷ trained teachers; null without trained teachers."),
        ],
    },
];

/// The mart named `name`.
pub fn mart(name: &str) -> Option<&'static Mart> {
    MARTS.iter().find(|m| m.name == name)
}

/// Builds one mart over `ctx` and overwrites its table; returns (rows, version).
pub(crate) async fn rebuild(
    ctx: &SessionContext,
    lake: &Url,
    options: &oneclass_lake::StorageOptions,
    settings: GoldSettings,
    mart: &Mart,
    scope: &Scope,
) -> Result<(usize, u64), WarehouseError> {
    let query = format!("mart_{}", mart.name);
    let body =
        named::sql(&query).ok_or_else(|| WarehouseError::UnknownNamedQuery(query.clone()))?;
    let whole = format!(
        "WITH {}, mart AS ({}) SELECT * FROM mart",
        prelude(settings),
        body.trim().trim_end_matches(';')
    );
    // Redoing some schools: theirs anew, the others' as the mart holds them (a mart not built
    // yet is built whole).
    let table = format!("{}.{MART_SCHEMA}.{}", oneclass_lake::GOLD, mart.name);
    let sql = match scope {
        Scope::Schools(schools) if exists(ctx, (MART_SCHEMA, mart.name)).await => {
            let list = in_list(schools);
            format!(
                "SELECT * FROM ({whole}) WHERE school_id IN ({list})
                 UNION ALL
                 SELECT * FROM {table} WHERE school_id NOT IN ({list})"
            )
        }
        _ => whole,
    };
    let frame = ctx.sql(&sql).await?;
    // Every column nullable: a mart's shape does not change with what one build happened to see.
    let schema = Arc::new(Schema::new(
        frame
            .schema()
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let mut batches = Vec::new();
    for batch in frame.collect().await? {
        if batch.num_rows() > 0 {
            batches.push(RecordBatch::try_new(schema.clone(), batch.columns().to_vec())?);
        }
    }
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    if batches.is_empty() {
        batches.push(RecordBatch::new_empty(schema));
    }
    let url = oneclass_lake::table_url(lake, oneclass_lake::GOLD, MART_SCHEMA, mart.name);
    let written = oneclass_lake::table_or_new(&url, options)
        .await?
        .write(batches)
        .with_save_mode(SaveMode::Overwrite)
        .with_schema_mode(deltalake::operations::write::SchemaMode::Overwrite)
        .await?;
    Ok((rows, written.version().unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mart_has_its_query() {
        for m in MARTS {
            assert!(named::sql(&format!("mart_{}", m.name)).is_some(), "{}", m.name);
        }
    }
}
