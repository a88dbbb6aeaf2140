//! COPY's text format, parsed incrementally into Arrow batches of a table's source columns with
//! the same value code as the stream: what the initial snapshot and `reconcile` read.

use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::Schema;

use crate::encode::{append_text_logged, new_builders};
use crate::error::IngestError;
use crate::table::TableDef;
use crate::values::ColumnBuilder;

/// Rows per Arrow batch while copying.
const SNAPSHOT_BATCH_ROWS: usize = 65_536;

/// Incremental parser for COPY's text format: rows end at a raw newline, fields at a raw tab,
/// `\N` is null, and backslash escapes everything else that would be ambiguous.
pub struct CopyTextParser<'a> {
    def: &'a TableDef,
    schema: Arc<Schema>,
    builders: Vec<ColumnBuilder>,
    pending: Vec<u8>,
    rows_in_batch: usize,
    batches: Vec<RecordBatch>,
    scratch: Vec<u8>,
}

impl<'a> CopyTextParser<'a> {
    pub fn new(def: &'a TableDef) -> Self {
        Self {
            def,
            schema: Arc::new(Schema::new(def.source_fields())),
            builders: new_builders(def),
            pending: Vec::new(),
            rows_in_batch: 0,
            batches: Vec::new(),
            scratch: Vec::new(),
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), IngestError> {
        self.pending.extend_from_slice(chunk);
        let buf = std::mem::take(&mut self.pending);
        let mut start = 0;
        let mut result = Ok(());
        while let Some(pos) = buf[start..].iter().position(|b| *b == b'\n') {
            if let Err(e) = self.row(&buf[start..start + pos]) {
                result = Err(e);
                break;
            }
            start += pos + 1;
        }
        // Only the unfinished row's bytes are kept (PostgreSQL sends one row per message, so
        // this is usually empty).
        self.pending = buf[start..].to_vec();
        result
    }

    /// Rows parsed and not yet taken.
    pub fn buffered_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum::<usize>() + self.rows_in_batch
    }

    /// The rows parsed so far, as batches; the parser carries on with the next row.
    pub fn take_batches(&mut self) -> Result<Vec<RecordBatch>, IngestError> {
        if self.rows_in_batch > 0 {
            self.cut()?;
        }
        Ok(std::mem::take(&mut self.batches))
    }

    pub fn finish(mut self) -> Result<Vec<RecordBatch>, IngestError> {
        if !self.pending.is_empty() {
            return Err(snapshot_error(self.def, "COPY data ended inside a row"));
        }
        if self.rows_in_batch > 0 || self.batches.is_empty() {
            self.cut()?;
        }
        Ok(self.batches)
    }

    fn row(&mut self, line: &[u8]) -> Result<(), IngestError> {
        let def = self.def;
        let mut fields = 0;
        for (i, field) in line.split(|b| *b == b'\t').enumerate() {
            let (Some(builder), Some(column)) = (self.builders.get_mut(i), def.columns.get(i))
            else {
                return Err(snapshot_error(
                    def,
                    "COPY row has more fields than the table has columns",
                ));
            };
            fields += 1;
            if field == b"\\N" {
                builder.append_null();
                continue;
            }
            unescape_copy_text(field, &mut self.scratch);
            let text = std::str::from_utf8(&self.scratch)
                .map_err(|_| snapshot_error(def, "COPY value is not UTF-8"))?;
            append_text_logged(builder, text, &def.table, &column.name);
        }
        if fields != self.builders.len() {
            return Err(snapshot_error(
                def,
                "COPY row has fewer fields than the table has columns",
            ));
        }
        self.rows_in_batch += 1;
        if self.rows_in_batch >= SNAPSHOT_BATCH_ROWS {
            self.cut()?;
        }
        Ok(())
    }

    fn cut(&mut self) -> Result<(), IngestError> {
        let arrays = self.builders.iter_mut().map(ColumnBuilder::finish).collect();
        self.batches.push(RecordBatch::try_new(self.schema.clone(), arrays)?);
        self.rows_in_batch = 0;
        Ok(())
    }
}

fn snapshot_error(def: &TableDef, message: &str) -> IngestError {
    IngestError::Snapshot { table: def.table.to_string(), message: message.into() }
}

/// Undoes COPY text escaping (`\\`, `\t`, `\n`, `\r`, `\b`, `\f`, `\v`, octal `\NNN`, hex
/// `\xHH`; any other escaped byte stands for itself) into `out`.
pub fn unescape_copy_text(field: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        if b != b'\\' || i + 1 == field.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let next = field[i + 1];
        i += 2;
        match next {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let mut v = u32::from(next - b'0');
                let mut n = 1;
                while n < 3 && i < field.len() && (b'0'..=b'7').contains(&field[i]) {
                    v = v * 8 + u32::from(field[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            b'x' if i < field.len() && field[i].is_ascii_hexdigit() => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && i < field.len() && field[i].is_ascii_hexdigit() {
                    v = v * 16 + char::from(field[i]).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{ColumnDef, TableName};
    use crate::values::oid;
    use deltalake::arrow::array::{Array, AsArray};
    use deltalake::arrow::datatypes::Int64Type;

    fn unescape(s: &str) -> String {
        let mut out = Vec::new();
        unescape_copy_text(s.as_bytes(), &mut out);
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn unescapes_copy_text() {
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(unescape(r"a\tb\nc\\d"), "a\tb\nc\\d");
        assert_eq!(unescape(r"\101\x42"), "AB");
        assert_eq!(unescape(r"\q"), "q");
        assert_eq!(unescape("tail\\"), "tail\\");
    }

    #[test]
    fn parses_rows_across_chunks() {
        let def = TableDef {
            table: TableName::new("s", "t"),
            columns: vec![
                ColumnDef { name: "id".into(), type_oid: oid::INT8, typmod: -1, key: true },
                ColumnDef { name: "note".into(), type_oid: oid::TEXT, typmod: -1, key: false },
            ],
        };
        let mut p = CopyTextParser::new(&def);
        p.feed(b"1\tfirst line\\nsecond\n2\t\\").expect("feed");
        p.feed(b"N\n3\ttab\\there\n").expect("feed");
        let batches = p.finish().expect("finish");
        assert_eq!(batches.len(), 1);
        let b = &batches[0];
        assert_eq!(b.num_rows(), 3);
        assert_eq!(b.column(0).as_primitive::<Int64Type>().value(2), 3);
        let notes = b.column(1).as_string::<i32>();
        assert_eq!(notes.value(0), "first line\nsecond");
        assert!(notes.is_null(1));
        assert_eq!(notes.value(2), "tab\there");
    }

    /// `s.t (id int8 primary key)`.
    fn single_key_table() -> TableDef {
        TableDef {
            table: TableName::new("s", "t"),
            columns: vec![ColumnDef {
                name: "id".into(),
                type_oid: oid::INT8,
                typmod: -1,
                key: true,
            }],
        }
    }

    #[test]
    fn rejects_misshapen_rows() {
        let def = single_key_table();
        let mut p = CopyTextParser::new(&def);
        assert!(p.feed(b"1\t2\n").is_err());
        let mut p = CopyTextParser::new(&def);
        p.feed(b"1").expect("partial row is fine until the end");
        assert!(p.finish().is_err());
    }

    #[test]
    fn takes_batches_midway() {
        let def = single_key_table();
        let mut p = CopyTextParser::new(&def);
        p.feed(b"1\n2\n3").expect("feed");
        assert_eq!(p.buffered_rows(), 2);
        let first = p.take_batches().expect("take");
        assert_eq!(first.iter().map(RecordBatch::num_rows).sum::<usize>(), 2);
        assert_eq!(p.buffered_rows(), 0);
        p.feed(b"\n").expect("feed");
        let rest = p.finish().expect("finish");
        assert_eq!(rest.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
    }

    #[test]
    fn empty_table_gives_one_empty_batch() {
        let def = single_key_table();
        let batches = CopyTextParser::new(&def).finish().expect("finish");
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].num_rows(), 0);
    }
}
