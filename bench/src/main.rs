//! The `oneclass-bench` command: the benchmarks, run by `oneclass bench …` (which starts this
//! binary from beside itself) or directly.

use clap::{Parser, Subcommand};
use oneclass_bench::{
    ApiOptions, CdcMemoryOptions, CdcOptions, LoadOptions, Mix, PagesOptions, QueriesOptions,
    SchoolOptions, TimetableOptions, api, cdc, cdc_memory, load, pages, queries, school, timetable,
};

/// Run a benchmark in a private throwaway cluster: prints a table, appends JSON lines under
/// bench/results/ (run from the repository root).
#[derive(Parser)]
#[command(name = "oneclass-bench")]
struct Cli {
    #[command(subcommand)]
    which: BenchCommand,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// CDC throughput and lag: snapshot rows/s, commit-to-silver lag at steady write rates, and
    /// catch-up from a backlog beside pg_recvlogical draining the same changes.
    Cdc {
        /// district, province or national (national: about 230 million rows and 45 GiB of
        /// database before the lake). ONECLASS_LAKE_MAINTENANCE_INTERVAL and
        /// ONECLASS_LAKE_TIME_TRAVEL apply as in `serve`.
        #[arg(long, default_value = "district")]
        scale: oneclass_synth::Scale,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Steady-state target rates, writes/s (one run each, for each mix).
        #[arg(long, value_delimiter = ',', default_value = "1000,5000")]
        rate: Vec<u64>,
        /// Steady-state write mixes: registers (new marks of a class for a new day, and
        /// corrections of the run's marks) and history (status updates of random seeded marks).
        #[arg(long, value_delimiter = ',', default_value = "registers")]
        mix: Vec<Mix>,
        /// Length of each steady-state run.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Changes written while ingest is stopped (the catch-up phase).
        #[arg(long, default_value_t = 300_000)]
        backlog: u64,
    },
    /// CDC memory: ingest's peak RSS while one source transaction of --rows rows streams
    /// through it (spilled to disk past the budget) into silver.
    CdcMemory {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
    },
    /// Bulk load: the synthetic seed's rows/s beside psql \copy of the same marks.
    Load {
        /// district or province (national: about 230 million rows and 45 GiB of disk).
        #[arg(long, default_value = "district")]
        scale: oneclass_synth::Scale,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Analytical queries (bench/queries/*.sql): DataFusion beside DuckDB and Polars over the
    /// same Parquet files exported from silver, cold and hot; then the analyst questions
    /// (bench/analyst/*.sql) through POST /api/v1/sql as the national analyst beside DuckDB
    /// (needs python3 with duckdb, polars).
    Queries {
        /// district or province.
        #[arg(long, default_value = "district")]
        scale: oneclass_synth::Scale,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Write the Parquet export to this new (or empty) folder and keep it.
        #[arg(long)]
        parquet: Option<std::path::PathBuf>,
    },
    /// HTTP load: N concurrent staff of one school against the real API and staff pages, served
    /// in-process (the load generator shares the machine); fails above 1 % errors on any route.
    Api {
        /// district or province.
        #[arg(long, default_value = "district")]
        scale: oneclass_synth::Scale,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Concurrent simulated users (teachers, and every tenth a registrar).
        #[arg(long, default_value_t = 1000)]
        users: usize,
        /// How long every user keeps sending requests.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// A school day at people's pace: N teachers of the largest school, each waiting --think
    /// seconds after every answer (70 % reads, 20 % attendance, 10 % marks), against a p99 of
    /// 100 ms; --ramp halves the think time until the target is missed. pgbench beside.
    School {
        /// district or province.
        #[arg(long, default_value = "district")]
        scale: oneclass_synth::Scale,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        #[arg(long, default_value_t = 1000)]
        users: usize,
        /// Seconds each teacher waits after an answer (±50 %).
        #[arg(long, default_value_t = 5.0)]
        think: f64,
        /// Length of the first run.
        #[arg(long, default_value_t = 300)]
        seconds: u64,
        /// Then halve the think time, step by step, while every route keeps the target.
        #[arg(long)]
        ramp: bool,
        /// Length of each ramp step.
        #[arg(long, default_value_t = 60)]
        step_seconds: u64,
    },
    /// Every staff and parent page the demo accounts reach, in headless Chromium under a 3G
    /// profile: compressed bytes, requests, other hosts, and the largest paint (budget 50 KB, no
    /// other host, 2 s). Needs Debian's chromium and chromium-driver.
    Pages {
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// The timetable generator on the sample secondary school (30 classes, 50 teachers, 40
    /// periods) for several seeds, and on impossible variants.
    Timetable {
        #[arg(long, default_value_t = 5)]
        seeds: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // As `oneclass` logs: the benchmarks run the same application, ingest and lake code.
    oneclass::logging::init();
    let cli = Cli::parse();
    match cli.which {
        BenchCommand::Cdc { scale, seed, rate, mix, seconds, backlog } => {
            cdc(CdcOptions { scale, seed, rates: rate, mixes: mix, seconds, backlog }).await
        }
        BenchCommand::CdcMemory { rows } => cdc_memory(CdcMemoryOptions { rows }).await,
        BenchCommand::Load { scale, seed } => load(LoadOptions { scale, seed }).await,
        BenchCommand::Queries { scale, seed, parquet } => {
            queries(QueriesOptions { scale, seed, parquet }).await
        }
        BenchCommand::Api { scale, seed, users, seconds } => {
            api(ApiOptions { scale, seed, users, seconds }).await
        }
        BenchCommand::School { scale, seed, users, think, seconds, ramp, step_seconds } => {
            school(SchoolOptions { scale, seed, users, think, seconds, ramp, step_seconds }).await
        }
        BenchCommand::Pages { seed } => pages(PagesOptions { seed }).await,
        BenchCommand::Timetable { seeds } => timetable(TimetableOptions { seeds }).await,
    }
}
