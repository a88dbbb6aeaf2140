//! What a query is asked with and answers: who asks (access and area), the bounds it runs
//! under, and its output. The types every other module of the warehouse speaks in.

use std::time::Duration;

use deltalake::arrow::record_batch::RecordBatch;

/// Who is asking, which decides what the lake looks like to the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Internal callers (dashboards, gold models, exports): every column.
    Full,
    /// Analysts: direct identifiers removed, learner ids replaced by a keyed pseudonym, rows
    /// limited to an area.
    Analyst { area: Area },
}

/// An analyst's area, by the names used in `platform.schools.province` / `.district`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Area {
    National,
    Province(String),
    District(String),
}

impl Area {
    /// The area of an account scoped by province and district (a district wins; neither is the
    /// whole country).
    pub fn of_scope(province: Option<String>, district: Option<String>) -> Area {
        match (province, district) {
            (_, Some(d)) => Area::District(d),
            (Some(p), None) => Area::Province(p),
            _ => Area::National,
        }
    }
}

/// Bounds on one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time for planning and running a query.
    pub timeout: Duration,
    /// The memory pool shared by all queries of this warehouse; operators that can spill do.
    pub memory_bytes: usize,
    /// Rows returned by `Warehouse::query`; more are cut off and flagged as truncated.
    pub max_rows: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            memory_bytes: 512 * 1024 * 1024,
            max_rows: 100_000,
        }
    }
}

/// The result of a user's query.
#[derive(Debug, Clone)]
pub struct QueryOutput {
    /// At least one batch (possibly empty) so that the result's schema is always known.
    pub batches: Vec<RecordBatch>,
    /// More rows than [`Limits::max_rows`] matched; only the first ones are here.
    pub truncated: bool,
}

impl QueryOutput {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}
