//! The seam between the loop and where changes go: what the loop asks of the lake, and what each
//! answer promises. The loop decides what to write and when to acknowledge; a destination writes
//! a table's changes and records, in the same commit as the data, the source commit LSN they
//! reach. That recorded LSN is what makes ingest exactly once: a change at or below it is in,
//! a change above it is not, whatever crashed in between. The Delta lake (`crate::lake`) is the
//! one implementation.
//!
//! The destination never talks to the source. What it needs from there is asked for and handed
//! in: the values PostgreSQL shows in rows older than an added column ([`Destination::values_needed`],
//! then [`Destination::apply`]), and the copy of a table the destination does not hold yet
//! ([`Destination::is_copied`], then the snapshot stage writes it through [`TableCopy`]).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::datafusion::common::ScalarValue;

use crate::change::Change;
use crate::error::IngestError;
use crate::spill::TableSpill;
use crate::table::{TableDef, TableName};

/// Column → (text, typed value) of what PostgreSQL shows for a column in the rows that existed
/// before it was added (columns added with a constant default only).
pub(crate) type MissingValues = HashMap<String, (String, ScalarValue)>;

/// Where one source database's published tables are kept. Every LSN is a source commit LSN (as
/// `i64`); "recorded" means durably committed together with the data it covers.
pub(crate) trait Destination: Send + 'static {
    /// One table's snapshot copy, handed to a snapshot worker while it runs.
    type Copy: TableCopy;

    /// Loads what the destination keeps about itself (the tables it stopped), before any table
    /// is opened.
    fn start(&mut self) -> impl Future<Output = Result<(), IngestError>> + Send;

    /// Opens `tables` (several at once; a table already open is left as it is), reading the
    /// LSN each records. A table that was never written opens as not copied.
    fn open(
        &mut self,
        tables: Vec<TableName>,
    ) -> impl Future<Output = Result<(), IngestError>> + Send;

    /// Whether `table` is open and holds a finished copy (every part of it records an LSN).
    fn is_copied(&self, table: &TableName) -> bool;

    /// Whether a change to `table` committed at `lsn` still has to be written (it is above what
    /// some part of the table records). True for a table not open: nothing is known of it.
    fn needs(&self, table: &TableName, lsn: i64) -> bool;

    /// The oldest LSN any part of any open table records: the stream resumes from there.
    fn resume_lsn(&self) -> Option<i64>;

    /// Whether `table` is stopped: its changes are dropped until it is copied anew.
    fn is_stopped(&self, table: &TableName) -> bool;

    /// Why `table` cannot take rows of any of `defs` (a column it holds under another type), or
    /// None. A table not open takes anything.
    fn incompatibility(&self, table: &TableName, defs: &[&TableDef]) -> Option<String>;

    /// Stops `table` for good (until it is copied anew), durably, before the loop acknowledges
    /// anything past `lsn`: a restart must not resume it with the change at `lsn` missing.
    fn stop(
        &mut self,
        table: &TableName,
        reason: String,
        lsn: i64,
    ) -> impl Future<Output = Result<(), IngestError>> + Send;

    /// Whether a snapshot may copy `table` now. A stopped table may once nothing of it is left,
    /// and then is no longer stopped (an interrupted copy is simply done again).
    fn may_copy(
        &mut self,
        table: &TableName,
    ) -> impl Future<Output = Result<bool, IngestError>> + Send;

    /// Opens `table` and hands it out for a snapshot copy of rows taken at `taken_at` (Unix
    /// microseconds) whose rows carry `row_lsn`. With `only_missing`, parts that already record
    /// an LSN are left as they are. Until [`Destination::end_copy`] gives it back, the loop
    /// writes nothing else to it.
    fn start_copy(
        &mut self,
        table: &TableName,
        row_lsn: i64,
        taken_at: i64,
        only_missing: bool,
    ) -> impl Future<Output = Result<Self::Copy, IngestError>> + Send;

    /// Takes back a table handed out by [`Destination::start_copy`].
    fn end_copy(&mut self, table: TableName, copy: Self::Copy);

    /// The columns of `def` whose missing values (see [`MissingValues`]) [`Destination::apply`]
    /// needs for changes up to `lsn`: columns it does not hold yet, and of `absent` (columns some
    /// change was decoded without) those it keeps current state of.
    fn values_needed(
        &self,
        table: &TableName,
        def: &TableDef,
        absent: &[String],
        lsn: i64,
    ) -> BTreeSet<String>;

    /// Writes one table's changes of a batch (whole transactions, in commit order, all laid out
    /// as `def`; `absent` says which changes were decoded without which of its columns), leaving
    /// out those at or below what it records, and records `version` in the same commits.
    /// `values` answers [`Destination::values_needed`]. Returns how many row changes went into the
    /// changelog. The table is open and copied.
    fn apply(
        &mut self,
        table: &TableName,
        def: Arc<TableDef>,
        changes: Vec<Change>,
        absent: Vec<(usize, Vec<usize>)>,
        values: MissingValues,
        version: i64,
    ) -> impl Future<Output = Result<usize, IngestError>> + Send;

    /// Replaces the unchanged TOASTed values in `changes` (laid out as `def`) with the row's
    /// current values, from earlier changes in `changes` or from what the table holds.
    fn fill_unchanged(
        &self,
        table: &TableName,
        def: &TableDef,
        changes: &mut [Change],
    ) -> impl Future<Output = Result<(), IngestError>> + Send;

    /// [`Destination::apply`] of one table's share of a spilled transaction committed at
    /// `version`, read back from its spill files: every part in one commit recording `version`.
    fn apply_spilled(
        &mut self,
        table: &TableName,
        spill: &TableSpill,
        values: MissingValues,
        version: i64,
    ) -> impl Future<Output = Result<usize, IngestError>> + Send;

    /// The open tables, sorted.
    fn tables(&self) -> Vec<TableName>;

    /// Compacts and cleans up `table`; neither what it holds nor the LSN it records changes.
    /// One result per part of the table (named), so one failing does not hide the others.
    fn maintain(
        &mut self,
        table: &TableName,
    ) -> impl Future<
        Output = Vec<(&'static str, Result<crate::lake::delta::Maintained, IngestError>)>,
    > + Send;

    /// The open tables holding changes written aside to be folded in later, sorted.
    fn pending(&self) -> Vec<TableName>;

    /// Folds `table`'s changes written aside into it (readers already see them): what it
    /// holds and records stays the same. Returns how many rows were folded in.
    fn fold(&mut self, table: &TableName) -> impl Future<Output = Result<u64, IngestError>> + Send;
}

/// One table being copied by the initial (or a later) snapshot, chunk by chunk so that memory
/// holds one chunk, not one table.
pub(crate) trait TableCopy: Send + 'static {
    /// Writes one chunk of source rows (`def`'s source columns). Only the last chunk carries
    /// `version`, recorded with it: until then the table reads as not copied, and a crash
    /// leaves it to be copied again.
    fn write(
        &mut self,
        def: &TableDef,
        rows: Vec<RecordBatch>,
        version: Option<i64>,
    ) -> impl Future<Output = Result<(), IngestError>> + Send;

    /// Rows written so far.
    fn rows(&self) -> u64;
}
