//! Serialises query results for the SQL endpoint: JSON rows for scripts, CSV for spreadsheets,
//! Arrow IPC for tools that want typed columns without a round trip through text.

use deltalake::arrow::csv::WriterBuilder as CsvWriterBuilder;
use deltalake::arrow::datatypes::{DataType, Schema};
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::ipc::writer::StreamWriter;
use deltalake::arrow::json::WriterBuilder as JsonWriterBuilder;
use deltalake::arrow::json::writer::JsonArray;
use deltalake::arrow::record_batch::RecordBatch;
use serde::Serialize;

use crate::access::QueryOutput;
use crate::error::WarehouseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Arrow,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Arrow => "application/vnd.apache.arrow.stream",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = WarehouseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "arrow" => Ok(Format::Arrow),
            other => Err(WarehouseError::Invalid(format!(
                "unknown format {other:?}: use json, csv or arrow"
            ))),
        }
    }
}

/// One column of a JSON answer: its name and its SQL type.
#[derive(Debug, Serialize)]
struct Column<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    kind: String,
}

/// json: `{"columns": [{"name", "type"}…], "rows": [{…}…], "truncated": bool}`, every column in
/// every row (null as `null`), so a client knows the columns even of an empty answer; csv: with
/// a header; arrow: an Arrow IPC stream. Returns (content type, bytes).
pub fn encode(
    out: &QueryOutput,
    format: Format,
) -> Result<(&'static str, Vec<u8>), WarehouseError> {
    let batches: Vec<&RecordBatch> = out.batches.iter().collect();
    let schema = out
        .batches
        .first()
        .map(|b| b.schema())
        .unwrap_or_else(|| std::sync::Arc::new(Schema::empty()));
    let bytes = match format {
        Format::Json => {
            let columns: Vec<Column> = schema
                .fields()
                .iter()
                .map(|f| Column { name: f.name(), kind: sql_type(f.data_type()) })
                .collect();
            let mut bytes = b"{\"columns\":".to_vec();
            serde_json::to_writer(&mut bytes, &columns)
                .map_err(|e| ArrowError::JsonError(e.to_string()))?;
            bytes.extend_from_slice(b",\"rows\":");
            let mut writer = JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, JsonArray>(Vec::new());
            writer.write_batches(&batches)?;
            writer.finish()?;
            let rows = writer.into_inner();
            // No rows: the writer writes nothing at all.
            bytes.extend_from_slice(if rows.is_empty() { b"[]" } else { &rows });
            bytes.extend_from_slice(format!(",\"truncated\":{}}}", out.truncated).as_bytes());
            bytes
        }
        Format::Csv => {
            let mut bytes = Vec::new();
            let mut writer = CsvWriterBuilder::new().with_header(true).build(&mut bytes);
            for batch in &batches {
                writer.write(batch)?;
            }
            drop(writer);
            bytes
        }
        Format::Arrow => {
            let mut writer = StreamWriter::try_new(Vec::new(), &schema)?;
            for batch in &batches {
                writer.write(batch)?;
            }
            writer.finish()?;
            writer.into_inner()?
        }
    };
    Ok((format.content_type(), bytes))
}

/// A column's type as SQL names it (what `\d` in psql would show); Arrow's own name where SQL
/// has none.
pub fn sql_type(t: &DataType) -> String {
    match t {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "smallint".into(),
        DataType::Int32 | DataType::UInt16 => "integer".into(),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint".into(),
        DataType::Float16 | DataType::Float32 => "real".into(),
        DataType::Float64 => "double precision".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("numeric({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "bytea".into(),
        DataType::FixedSizeBinary(n) => format!("bytea({n})"),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time".into(),
        DataType::Timestamp(_, Some(_)) => "timestamptz".into(),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Duration(_) | DataType::Interval(_) => "interval".into(),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            format!("{}[]", sql_type(f.data_type()))
        }
        DataType::Null => "unknown".into(),
        other => other.to_string().to_lowercase(),
    }
}
