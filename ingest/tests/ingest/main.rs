//! Ingest end to end, in one test binary: one PostgreSQL cluster for all of them, a fresh
//! database (with its own slot) per test.
//!
//! The metrics test is a binary of its own (`tests/metrics.rs`): it installs the process-wide
//! metrics recorder, which every pipeline running in the same process would write to.

mod cdc;
mod schema_change;
mod snapshot;
mod spill;
