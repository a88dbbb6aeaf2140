//! The Arrow encoding of changes: decoded values into typed column builders, a table's changes
//! as bronze rows (the changelog, with `_op`, `_lsn`, `_seq`, `_commit_ts`, `_commit_date`) and
//! as silver rows (current state, one per key), and snapshot rows as both.

use std::sync::Arc;

use deltalake::arrow::array::{
    ArrayRef, Date32Array, Date32Builder, Int64Array, Int64Builder, RecordBatch, StringArray,
    StringBuilder, TimestampMicrosecondArray, TimestampMicrosecondBuilder,
};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::arrow::util::display::array_value_to_string;
use deltalake::datafusion::common::ScalarValue;

use crate::change::{Change, ChangeKind, SilverRow};
use crate::error::IngestError;
use crate::metrics::METRIC_VALUE_ERRORS;
use crate::source::pgoutput::Datum;
use crate::table::{OP, TableDef, TableName, commit_date};
use crate::values::{ColumnBuilder, ColumnKind};

pub(crate) fn new_builders(def: &TableDef) -> Vec<ColumnBuilder> {
    def.columns.iter().map(|c| ColumnBuilder::new(c.kind(), 1024)).collect()
}

/// Appends a text value, or a null with a warning when the value has no Arrow form.
pub(crate) fn append_text_logged(
    builder: &mut ColumnBuilder,
    text: &str,
    table: &TableName,
    column: &str,
) {
    if let Err(reason) = builder.append_text(text) {
        metrics::counter!(METRIC_VALUE_ERRORS, "table" => table.to_string()).increment(1);
        tracing::warn!(table = %table, column, %reason, "value stored as null");
    }
}

pub(crate) fn append_datum(
    builder: &mut ColumnBuilder,
    datum: Option<&Datum>,
    table: &TableName,
    column: &str,
) {
    match datum {
        Some(Datum::Text(text)) => append_text_logged(builder, text, table, column),
        // Binary is never requested; an Unchanged still here had no current row to fill from.
        _ => builder.append_null(),
    }
}

pub(crate) fn build_bronze(def: &TableDef, rows: &[&Change]) -> Result<RecordBatch, IngestError> {
    let mut columns = new_builders(def);
    let mut op = StringBuilder::new();
    let mut lsn = Int64Builder::with_capacity(rows.len());
    let mut seq = Int64Builder::with_capacity(rows.len());
    let mut ts = TimestampMicrosecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
    let mut date = Date32Builder::with_capacity(rows.len());
    for c in rows {
        let ChangeKind::Row { op: row_op, values, .. } = &c.kind else {
            continue;
        };
        for (j, (builder, column)) in columns.iter_mut().zip(&def.columns).enumerate() {
            append_datum(builder, values.get(j), &def.table, &column.name);
        }
        op.append_value(row_op.code());
        lsn.append_value(c.lsn);
        seq.append_value(c.seq);
        ts.append_value(c.commit_ts);
        date.append_value(commit_date(c.commit_ts));
    }
    let mut arrays: Vec<ArrayRef> = columns.iter_mut().map(ColumnBuilder::finish).collect();
    arrays.extend([
        Arc::new(op.finish()) as ArrayRef,
        Arc::new(lsn.finish()),
        Arc::new(seq.finish()),
        Arc::new(ts.finish()),
        Arc::new(date.finish()),
    ]);
    Ok(RecordBatch::try_new(def.bronze_schema(), arrays)?)
}

pub(crate) fn build_silver<'a>(
    def: &TableDef,
    rows: impl Iterator<Item = &'a SilverRow<'a>>,
    with_op: bool,
) -> Result<RecordBatch, IngestError> {
    let mut columns = new_builders(def);
    let mut op = StringBuilder::new();
    let mut lsn = Int64Builder::new();
    let mut ts = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    for row in rows {
        for (j, (builder, column)) in columns.iter_mut().zip(&def.columns).enumerate() {
            append_datum(builder, row.values.get(j), &def.table, &column.name);
        }
        op.append_value(if row.delete { "d" } else { "u" });
        lsn.append_value(row.lsn);
        ts.append_value(row.commit_ts);
    }
    let mut arrays: Vec<ArrayRef> = columns.iter_mut().map(ColumnBuilder::finish).collect();
    arrays.extend([Arc::new(lsn.finish()) as ArrayRef, Arc::new(ts.finish())]);
    let mut schema = def.silver_schema();
    if with_op {
        arrays.push(Arc::new(op.finish()));
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new(OP, DataType::Utf8, true));
        schema = Arc::new(Schema::new(fields));
    }
    Ok(RecordBatch::try_new(schema, arrays)?)
}

/// Bronze rows of a snapshot copy and the matching silver rows, sharing the source arrays.
pub(crate) fn snapshot_layers(
    def: &TableDef,
    source: &[RecordBatch],
    lsn: i64,
    taken_at: i64,
    seq: &mut i64,
) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>), IngestError> {
    let mut bronze = Vec::with_capacity(source.len());
    let mut silver = Vec::with_capacity(source.len());
    for batch in source {
        let n = batch.num_rows();
        let lsns: ArrayRef = Arc::new(Int64Array::from(vec![lsn; n]));
        let ts: ArrayRef =
            Arc::new(TimestampMicrosecondArray::from(vec![taken_at; n]).with_timezone("UTC"));
        let seqs: ArrayRef = Arc::new(Int64Array::from_iter_values(*seq..*seq + n as i64));
        *seq += n as i64;
        let mut b: Vec<ArrayRef> = batch.columns().to_vec();
        b.extend([
            Arc::new(StringArray::from(vec!["r"; n])) as ArrayRef,
            lsns.clone(),
            seqs,
            ts.clone(),
            Arc::new(Date32Array::from(vec![commit_date(taken_at); n])),
        ]);
        bronze.push(RecordBatch::try_new(def.bronze_schema(), b)?);
        let mut s: Vec<ArrayRef> = batch.columns().to_vec();
        s.extend([lsns, ts]);
        silver.push(RecordBatch::try_new(def.silver_schema(), s)?);
    }
    Ok((bronze, silver))
}

/// A key as typed scalars (for the lookup filter) and as Arrow's display strings (to match
/// the rows that come back, whatever string layout DataFusion reads them in).
pub(crate) fn typed_key(
    def: &TableDef,
    keys: &[usize],
    values: &[Datum],
) -> Result<(Vec<ScalarValue>, Vec<String>), IngestError> {
    let mut scalars = Vec::with_capacity(keys.len());
    let mut strings = Vec::with_capacity(keys.len());
    for &k in keys {
        let column = &def.columns[k];
        let kind: ColumnKind = column.kind();
        let mut b = ColumnBuilder::new(kind, 1);
        append_datum(&mut b, values.get(k), &def.table, &column.name);
        let array = b.finish();
        scalars.push(ScalarValue::try_from_array(&array, 0)?);
        strings.push(array_value_to_string(&array, 0)?);
    }
    Ok((scalars, strings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::fixtures::{def, row, sample};
    use crate::change::{Op, collapse};

    #[test]
    fn bronze_rows_carry_bookkeeping_columns() {
        let d = def();
        let changes =
            [row(&d, 10, 0, Op::Insert, "1", Some("a")), row(&d, 10, 1, Op::Delete, "1", None)];
        let refs: Vec<&Change> = changes.iter().collect();
        let batch = build_bronze(&d, &refs).expect("batch");
        assert_eq!(batch.schema(), d.bronze_schema());
        assert_eq!(batch.num_rows(), 2);
    }

    #[test]
    fn silver_rows_of_collapsed_changes_carry_op() {
        let d = def();
        let changes = sample(&d);
        let refs: Vec<&Change> = changes.iter().collect();
        let rows = collapse(&d, &refs);
        let batch = build_silver(&d, rows.iter(), true).expect("batch");
        assert_eq!(batch.num_columns(), 5);
        assert_eq!(batch.num_rows(), 3);
    }
}
