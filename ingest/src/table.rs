//! What ingest knows of a published table (columns, types, key), and the Arrow schemas of its
//! bronze and silver Delta tables that follow from it. The column names here are a contract.

use std::fmt;
use std::sync::Arc;

use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::source::pgoutput::Relation;
use crate::values::ColumnKind;

pub use oneclass_lake::column::{COMMIT_DATE, COMMIT_TS, LSN, OP, SEQ};

/// `schema.table` as in PostgreSQL; also the lake path below the layer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableName {
    pub schema: String,
    pub name: String,
}

impl TableName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self { schema: schema.into(), name: name.into() }
    }

    /// `"schema"."name"`, safe to splice into SQL.
    pub fn quoted(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

pub fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: String,
    pub type_oid: u32,
    pub typmod: i32,
    /// Part of the replica identity: what silver merges on.
    pub key: bool,
}

impl ColumnDef {
    pub fn kind(&self) -> ColumnKind {
        ColumnKind::from_pg(self.type_oid, self.typmod)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    pub table: TableName,
    pub columns: Vec<ColumnDef>,
}

impl TableDef {
    pub fn from_relation(rel: &Relation) -> Self {
        Self {
            table: TableName::new(&rel.namespace, &rel.name),
            columns: rel
                .columns
                .iter()
                .map(|c| ColumnDef {
                    name: c.name.clone(),
                    type_oid: c.type_oid,
                    typmod: c.typmod,
                    key: c.key,
                })
                .collect(),
        }
    }

    pub fn key_indices(&self) -> Vec<usize> {
        self.columns.iter().enumerate().filter(|(_, c)| c.key).map(|(i, _)| i).collect()
    }

    /// The names of the replica identity key's columns.
    pub fn key_names(&self) -> Vec<String> {
        self.columns.iter().filter(|c| c.key).map(|c| c.name.clone()).collect()
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Every column is nullable in the lake: a bronze delete carries only the key, and a
    /// column added later has no value in older rows.
    pub fn source_fields(&self) -> Vec<Field> {
        self.columns.iter().map(|c| Field::new(&c.name, c.kind().arrow_type(), true)).collect()
    }

    pub fn bronze_schema(&self) -> SchemaRef {
        let mut fields = self.source_fields();
        fields.extend([
            Field::new(OP, DataType::Utf8, true),
            Field::new(LSN, DataType::Int64, true),
            Field::new(SEQ, DataType::Int64, true),
            Field::new(COMMIT_TS, commit_ts_type(), true),
            Field::new(COMMIT_DATE, DataType::Date32, true),
        ]);
        Arc::new(Schema::new(fields))
    }

    pub fn silver_schema(&self) -> SchemaRef {
        let mut fields = self.source_fields();
        fields.extend([
            Field::new(LSN, DataType::Int64, true),
            Field::new(COMMIT_TS, commit_ts_type(), true),
        ]);
        Arc::new(Schema::new(fields))
    }
}

pub fn commit_ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC")))
}

/// The UTC date (days since 1970-01-01) of a Unix-microsecond instant: bronze's partition.
pub fn commit_date(unix_micros: i64) -> i32 {
    i32::try_from(unix_micros.div_euclid(86_400_000_000)).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_dates_floor_towards_the_past() {
        assert_eq!(commit_date(0), 0);
        assert_eq!(commit_date(86_400_000_000 - 1), 0);
        assert_eq!(commit_date(-1), -1);
    }

    #[test]
    fn quoting() {
        assert_eq!(TableName::new("sis", "we\"ird").quoted(), "\"sis\".\"we\"\"ird\"");
    }
}
