//! A table of learners as a model reads it: one numeric column per feature (missing values as
//! NaN), a 0/1 label and a group for each row. Read from CSV (a header line) or Parquet. Numbers
//! stay numbers; `true`/`false` become 1/0; any other text column is a category, coded by its
//! values in sorted order (a tree model splits on the codes).

use std::collections::BTreeSet;
use std::path::Path;

use deltalake::arrow::array::{Array, AsArray, RecordBatchReader};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::DataType;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{path}: {reason}")]
    Read { path: String, reason: String },
    #[error("no column {0:?} in the table (columns: {1})")]
    NoColumn(String, String),
    #[error("row {row}: the label {value:?} is not 0 or 1 (nor true or false)")]
    BadLabel { row: usize, value: String },
    #[error("the table has no rows")]
    Empty,
    #[error("the label is the same in every row: nothing to learn")]
    OneClass,
    #[error("no feature column: every column but the label and the group is a feature")]
    NoFeature,
}

/// A table as text, column by column: each column's name and values (`None`: missing).
pub type TextColumns = Vec<(String, Vec<Option<String>>)>;

/// Features column by column, the label and the group of every row.
#[derive(Debug, Clone)]
pub struct Table {
    /// The features' names, in the table's order.
    pub names: Vec<String>,
    /// One column per feature, `rows` values each; NaN where the value is missing.
    pub columns: Vec<Vec<f64>>,
    pub label: Vec<f64>,
    pub groups: Vec<String>,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.label.len()
    }

    /// The rows `keep` of the table, features column-major (how the model reads them).
    pub fn matrix_of(&self, keep: &[usize]) -> Vec<f64> {
        let mut out = Vec::with_capacity(keep.len() * self.columns.len());
        for column in &self.columns {
            out.extend(keep.iter().map(|&r| column[r]));
        }
        out
    }

    /// Reads a CSV file (by its `.csv` name) or a Parquet file (anything else).
    pub fn read(path: &Path, label: &str, group: &str) -> Result<Table, TableError> {
        let raw = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            read_csv(path)
        } else {
            read_parquet(path)
        }
        .map_err(|reason| TableError::Read { path: path.display().to_string(), reason })?;
        Table::from_text_columns(raw, label, group)
    }

    /// Builds the table from columns of text (`None`: missing).
    pub fn from_text_columns(
        raw: TextColumns,
        label: &str,
        group: &str,
    ) -> Result<Table, TableError> {
        let names: Vec<String> = raw.iter().map(|(n, _)| n.clone()).collect();
        let find = |name: &str| {
            raw.iter()
                .position(|(n, _)| n == name)
                .ok_or_else(|| TableError::NoColumn(name.to_owned(), names.join(", ")))
        };
        let (label_at, group_at) = (find(label)?, find(group)?);
        let rows = raw[label_at].1.len();
        if rows == 0 {
            return Err(TableError::Empty);
        }
        let mut labels = Vec::with_capacity(rows);
        for (row, value) in raw[label_at].1.iter().enumerate() {
            let v = value.as_deref().unwrap_or("").trim();
            labels.push(match v.to_ascii_lowercase().as_str() {
                "1" | "1.0" | "true" | "yes" => 1.0,
                "0" | "0.0" | "false" | "no" => 0.0,
                _ => return Err(TableError::BadLabel { row: row + 1, value: v.to_owned() }),
            });
        }
        if labels.iter().all(|&y| y == labels[0]) {
            return Err(TableError::OneClass);
        }
        let groups =
            raw[group_at].1.iter().map(|g| g.clone().unwrap_or_default()).collect::<Vec<_>>();
        let mut table = Table { names: vec![], columns: vec![], label: labels, groups };
        for (i, (name, values)) in raw.into_iter().enumerate() {
            if i == label_at || i == group_at {
                continue;
            }
            table.names.push(name);
            table.columns.push(numeric(&values));
        }
        if table.columns.is_empty() {
            return Err(TableError::NoFeature);
        }
        Ok(table)
    }
}

/// A column as numbers: numbers as they are, booleans as 1/0, other text as category codes.
fn numeric(values: &[Option<String>]) -> Vec<f64> {
    let present = || values.iter().flatten().map(|v| v.trim()).filter(|v| !v.is_empty());
    let as_bool = |v: &str| match v.to_ascii_lowercase().as_str() {
        "true" => Some(1.0),
        "false" => Some(0.0),
        _ => None,
    };
    let parse = |v: &str| v.parse::<f64>().ok().filter(|x| x.is_finite()).or_else(|| as_bool(v));
    if present().all(|v| parse(v).is_some()) {
        return values
            .iter()
            .map(|v| v.as_deref().map(str::trim).and_then(parse).unwrap_or(f64::NAN))
            .collect();
    }
    let categories: Vec<&str> = present().collect::<BTreeSet<_>>().into_iter().collect();
    values
        .iter()
        .map(|v| {
            v.as_deref()
                .map(str::trim)
                .and_then(|v| categories.binary_search(&v).ok())
                .map_or(f64::NAN, |i| i as f64)
        })
        .collect()
}

fn read_csv(path: &Path) -> Result<TextColumns, String> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| e.to_string())?;
    let headers: Vec<String> =
        reader.headers().map_err(|e| e.to_string())?.iter().map(|h| h.trim().to_owned()).collect();
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); headers.len()];
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", line + 2))?;
        for (i, column) in columns.iter_mut().enumerate() {
            let v = record.get(i).map(str::trim).filter(|v| !v.is_empty() && *v != "NA");
            column.push(v.map(str::to_owned));
        }
    }
    Ok(headers.into_iter().zip(columns).collect())
}

fn read_parquet(path: &Path) -> Result<TextColumns, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| e.to_string())?;
    let schema = reader.schema();
    let mut columns: TextColumns =
        schema.fields().iter().map(|f| (f.name().clone(), Vec::new())).collect();
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        for (i, (_, values)) in columns.iter_mut().enumerate() {
            let text = cast(batch.column(i), &DataType::Utf8).map_err(|e| e.to_string())?;
            let text = text.as_string::<i32>();
            values.extend(
                (0..text.len()).map(|r| text.is_valid(r).then(|| text.value(r).to_owned())),
            );
        }
    }
    Ok(columns)
}
