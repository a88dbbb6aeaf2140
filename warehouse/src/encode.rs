//! Serialises query results for the SQL endpoint: JSON rows for scripts, CSV for spreadsheets,
//! Arrow IPC for tools that want typed columns without a round trip through text.

use deltalake::arrow::csv::WriterBuilder as CsvWriterBuilder;
use std::sync::Arc;

use deltalake::arrow::datatypes::{DataType, Schema, SchemaRef};
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
    let schema =
        out.batches.first().map(|b| b.schema()).unwrap_or_else(|| Arc::new(Schema::empty()));
    let mut encoder = Encoder::new(format, schema);
    let mut bytes = encoder.start()?;
    for batch in &out.batches {
        bytes.extend(encoder.batch(batch)?);
    }
    bytes.extend(encoder.finish(out.truncated)?);
    Ok((format.content_type(), bytes))
}

/// Encodes an answer piece by piece, as its batches arrive: the start (JSON's column list, the
/// CSV header, the Arrow schema), each batch, and the end (with JSON's `truncated`). The pieces
/// concatenated are exactly what [`encode`] gives for the whole answer.
pub struct Encoder {
    format: Format,
    schema: SchemaRef,
    /// Rows written so far (JSON needs a comma before every row but the first).
    rows: usize,
    arrow: Option<StreamWriter<Vec<u8>>>,
}

impl Encoder {
    pub fn new(format: Format, schema: SchemaRef) -> Self {
        Self { format, schema, rows: 0, arrow: None }
    }

    pub fn content_type(&self) -> &'static str {
        self.format.content_type()
    }

    pub fn start(&mut self) -> Result<Vec<u8>, WarehouseError> {
        match self.format {
            Format::Json => {
                let columns: Vec<Column> = self
                    .schema
                    .fields()
                    .iter()
                    .map(|f| Column { name: f.name(), kind: sql_type(f.data_type()) })
                    .collect();
                let mut bytes = b"{\"columns\":".to_vec();
                serde_json::to_writer(&mut bytes, &columns)
                    .map_err(|e| ArrowError::JsonError(e.to_string()))?;
                bytes.extend_from_slice(b",\"rows\":[");
                Ok(bytes)
            }
            Format::Csv => {
                let mut bytes = Vec::new();
                let mut writer = CsvWriterBuilder::new().with_header(true).build(&mut bytes);
                writer.write(&RecordBatch::new_empty(self.schema.clone()))?;
                drop(writer);
                Ok(bytes)
            }
            Format::Arrow => {
                let mut writer = StreamWriter::try_new(Vec::new(), &self.schema)?;
                let bytes = std::mem::take(writer.get_mut());
                self.arrow = Some(writer);
                Ok(bytes)
            }
        }
    }

    pub fn batch(&mut self, batch: &RecordBatch) -> Result<Vec<u8>, WarehouseError> {
        if batch.num_rows() == 0 {
            return Ok(Vec::new());
        }
        let bytes = match self.format {
            Format::Json => {
                let mut writer = JsonWriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, JsonArray>(Vec::new());
                writer.write(batch)?;
                writer.finish()?;
                let array = writer.into_inner();
                // `[row,row]`: the rows without the brackets, after a comma if rows came before.
                let inner = &array[1..array.len() - 1];
                let mut bytes = Vec::with_capacity(inner.len() + 1);
                if self.rows > 0 {
                    bytes.push(b',');
                }
                bytes.extend_from_slice(inner);
                bytes
            }
            Format::Csv => {
                let mut bytes = Vec::new();
                let mut writer = CsvWriterBuilder::new().with_header(false).build(&mut bytes);
                writer.write(batch)?;
                drop(writer);
                bytes
            }
            Format::Arrow => {
                let writer = self.arrow_writer()?;
                writer.write(batch)?;
                std::mem::take(writer.get_mut())
            }
        };
        self.rows += batch.num_rows();
        Ok(bytes)
    }

    /// The end of the answer; `truncated` is JSON's flag (CSV and Arrow have nowhere to say it).
    pub fn finish(&mut self, truncated: bool) -> Result<Vec<u8>, WarehouseError> {
        match self.format {
            Format::Json => Ok(format!("],\"truncated\":{truncated}}}").into_bytes()),
            Format::Csv => Ok(Vec::new()),
            Format::Arrow => {
                let writer = self.arrow_writer()?;
                writer.finish()?;
                Ok(std::mem::take(writer.get_mut()))
            }
        }
    }

    fn arrow_writer(&mut self) -> Result<&mut StreamWriter<Vec<u8>>, WarehouseError> {
        self.arrow.as_mut().ok_or_else(|| {
            WarehouseError::Encode(ArrowError::InvalidArgumentError(
                "an Arrow answer's batches were written before its start".into(),
            ))
        })
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use deltalake::arrow::array::{Int64Array, StringArray};
    use deltalake::arrow::datatypes::{DataType, Field, Schema};
    use deltalake::arrow::ipc::reader::StreamReader;
    use deltalake::arrow::record_batch::RecordBatch;

    use super::{Encoder, Format};

    fn batches() -> (Arc<Schema>, Vec<RecordBatch>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batch = |ns: Vec<i64>, ss: Vec<Option<&str>>| {
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int64Array::from(ns)), Arc::new(StringArray::from(ss))],
            )
            .expect("batch")
        };
        let parts = vec![
            batch(vec![1, 2], vec![Some("a"), None]),
            RecordBatch::new_empty(schema.clone()),
            batch(vec![3], vec![Some("c,\"d\"")]),
        ];
        (schema, parts)
    }

    fn streamed(format: Format, schema: Arc<Schema>, parts: &[RecordBatch]) -> Vec<u8> {
        let mut encoder = Encoder::new(format, schema);
        let mut bytes = encoder.start().expect("start");
        for part in parts {
            bytes.extend(encoder.batch(part).expect("batch"));
        }
        bytes.extend(encoder.finish(false).expect("finish"));
        bytes
    }

    #[test]
    fn json_streamed_in_pieces_is_one_document() {
        let (schema, parts) = batches();
        let json: serde_json::Value =
            serde_json::from_slice(&streamed(Format::Json, schema.clone(), &parts)).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "columns": [{"name": "n", "type": "bigint"}, {"name": "s", "type": "text"}],
                "rows": [{"n": 1, "s": "a"}, {"n": 2, "s": null}, {"n": 3, "s": "c,\"d\""}],
                "truncated": false
            })
        );
        let empty: serde_json::Value =
            serde_json::from_slice(&streamed(Format::Json, schema, &[])).expect("json");
        assert_eq!(empty["rows"], serde_json::json!([]));
        assert_eq!(empty["columns"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn csv_streamed_in_pieces_has_one_header() {
        let (schema, parts) = batches();
        let text = String::from_utf8(streamed(Format::Csv, schema.clone(), &parts)).expect("utf8");
        assert_eq!(text, "n,s\n1,a\n2,\n3,\"c,\"\"d\"\"\"\n");
        let empty = String::from_utf8(streamed(Format::Csv, schema, &[])).expect("utf8");
        assert_eq!(empty, "n,s\n");
    }

    #[test]
    fn arrow_streamed_in_pieces_is_one_ipc_stream() {
        let (schema, parts) = batches();
        let bytes = streamed(Format::Arrow, schema.clone(), &parts);
        let reader = StreamReader::try_new(std::io::Cursor::new(bytes), None).expect("reader");
        assert_eq!(reader.schema(), schema);
        let rows: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
        assert_eq!(rows, 3);
    }
}
