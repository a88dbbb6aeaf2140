//! Reads named-query results column by column, whatever Arrow type the engine chose for them
//! (strings may come back as Utf8 or Utf8View, counts as Int64 or UInt64).

use oneclass_warehouse::RecordBatch;
use oneclass_warehouse::arrow::array::{Array, AsArray};
use oneclass_warehouse::arrow::compute::cast;
use oneclass_warehouse::arrow::datatypes::{DataType, Float64Type, Int64Type};

use crate::error::DashError;

/// One named query's result, with the query's name for error messages.
pub(crate) struct Results<'a> {
    pub query: &'static str,
    pub batches: &'a [RecordBatch],
}

impl Results<'_> {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    fn columns(
        &self,
        column: &'static str,
        as_type: &DataType,
    ) -> Result<Vec<std::sync::Arc<dyn Array>>, DashError> {
        let shape = || DashError::Shape { query: self.query, column };
        self.batches
            .iter()
            .map(|batch| {
                let array = batch.column_by_name(column).ok_or_else(shape)?;
                cast(array, as_type).map_err(|_| shape())
            })
            .collect()
    }

    /// Dates come out as ISO 8601 text.
    pub fn texts(&self, column: &'static str) -> Result<Vec<Option<String>>, DashError> {
        let arrays = self.columns(column, &DataType::Utf8)?;
        Ok(arrays
            .iter()
            .flat_map(|a| {
                a.as_string::<i32>().iter().map(|v| v.map(str::to_owned)).collect::<Vec<_>>()
            })
            .collect())
    }

    pub fn ints(&self, column: &'static str) -> Result<Vec<Option<i64>>, DashError> {
        let arrays = self.columns(column, &DataType::Int64)?;
        Ok(arrays
            .iter()
            .flat_map(|a| a.as_primitive::<Int64Type>().iter().collect::<Vec<_>>())
            .collect())
    }

    pub fn floats(&self, column: &'static str) -> Result<Vec<Option<f64>>, DashError> {
        let arrays = self.columns(column, &DataType::Float64)?;
        Ok(arrays
            .iter()
            .flat_map(|a| a.as_primitive::<Float64Type>().iter().collect::<Vec<_>>())
            .collect())
    }
}

/// A named query's batches, or none while the lake lacks a table it reads (no gold yet, a
/// mart not built yet): such a page shows that it has no figures rather than failing.
pub(crate) async fn named_or_empty(
    warehouse: &oneclass_warehouse::Warehouse,
    query: &'static str,
    params: Vec<oneclass_warehouse::ScalarValue>,
) -> Result<Vec<RecordBatch>, DashError> {
    match warehouse.named(query, params).await {
        Ok(batches) => Ok(batches),
        Err(e) if e.is_missing_table() => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}
