//! The benchmarks behind `oneclass bench <name>` (the `oneclass-bench` binary), kept out of the
//! product crates: each runs against a private throwaway PostgreSQL cluster beside a peer
//! measured in the same run, prints a Markdown table and appends JSON lines under
//! `bench/results/` (paths relative to the repository root, where it is run).

mod analyst;
mod api;
mod cdc;
mod cdc_memory;
mod common;
mod cpu;
mod pages;
pub mod percentiles;
mod queries;
mod queries_run;
mod school;
mod timetable;

pub use api::{ApiOptions, api};
pub use cdc::{CdcOptions, Mix, cdc};
pub use cdc_memory::{CdcMemoryOptions, cdc_memory};
pub use common::{
    LoadOptions, Measurement, RunFacts, format_table, json_line, load, mem_total_kib, thousands,
};
pub use pages::{PagesOptions, pages};
pub use queries_run::{QueriesOptions, queries};
pub use school::{SchoolOptions, school};
pub use timetable::{TimetableOptions, timetable};
