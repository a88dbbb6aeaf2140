//! Serialises query results for the SQL endpoint: JSON rows for scripts, CSV for spreadsheets,
//! Arrow IPC for tools that want typed columns without a round trip through text.

use deltalake::arrow::csv::WriterBuilder as CsvWriterBuilder;
use deltalake::arrow::datatypes::Schema;
use deltalake::arrow::ipc::writer::StreamWriter;
use deltalake::arrow::json::ArrayWriter;
use deltalake::arrow::record_batch::RecordBatch;

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

/// json: an array of row objects; csv: with header; arrow: Arrow IPC stream.
/// Returns (content type, bytes).
pub fn encode(
    out: &QueryOutput,
    format: Format,
) -> Result<(&'static str, Vec<u8>), WarehouseError> {
    let batches: Vec<&RecordBatch> = out.batches.iter().collect();
    let bytes = match format {
        Format::Json => {
            // Empty results are still an array, so clients can always iterate.
            let mut writer = ArrayWriter::new(Vec::new());
            writer.write_batches(&batches)?;
            writer.finish()?;
            let bytes = writer.into_inner();
            if bytes.is_empty() { b"[]".to_vec() } else { bytes }
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
            let schema = out
                .batches
                .first()
                .map(|b| b.schema())
                .unwrap_or_else(|| std::sync::Arc::new(Schema::empty()));
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
