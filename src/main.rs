//! The `oneclass` command: a thin shell over the library.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use oneclass::app::{Application, ingest_config, shutdown_signal, supervise_ingest};
use oneclass::config::{RawSettings, Settings};
use oneclass::demo::{self, DemoOptions};
use oneclass_core::db;
use oneclass_warehouse::BuildKind;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "oneclass",
    version,
    about = "School management and education analytics for Zimbabwe"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole system on this machine: PostgreSQL, API, ingest, dashboards, synthetic data.
    Demo {
        /// Data folder: DIR/pg for the cluster, DIR/lake for the lake.
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// HTTP port for API, pages and dashboards.
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// API and dashboards (and ingest unless --no-ingest), configured from the environment.
    Serve {
        #[arg(long)]
        no_ingest: bool,
    },
    /// Change data capture into the lake, until stopped.
    Ingest,
    /// Send the queued messages (SMS, email) through the gateway, until stopped (`serve` does
    /// this too, unless --no-ingest).
    Outbox,
    /// Compare PostgreSQL with silver, table by table (row counts and a hash of every row);
    /// print the differences and fail when any table differs. Same settings as `ingest`.
    Reconcile,
    /// Apply database migrations (needs DATABASE_URL, ONECLASS_APP_PASSWORD, ONECLASS_CDC_PASSWORD).
    Migrate,
    /// Seed synthetic data into an empty database (needs DATABASE_URL).
    Seed {
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Size of the synthetic country: district (20 schools), province (300) or national
        /// (10,000 schools, 4.6 million learners, a month of attendance). Without it, the
        /// demo's 40 schools.
        #[arg(long)]
        scale: Option<oneclass_synth::Scale>,
        /// Schools in all (spread over the ten provinces); overrides the scale's.
        #[arg(long)]
        schools: Option<usize>,
        /// School years to generate, the current one included (history for year-on-year
        /// indicators). Terms must exist in ref.terms for each year.
        #[arg(long, default_value_t = 1)]
        years: u32,
        /// Attendance on at most this many school days (the latest); default: every day.
        #[arg(long)]
        attendance_days: Option<u32>,
    },
    /// Run one read-only SQL statement over the lake and print the result.
    Sql { sql: String },
    /// The gold layer (derived models over the lake).
    Gold {
        #[command(subcommand)]
        command: GoldCommand,
    },
    /// Predictive analytics.
    Predict {
        #[command(subcommand)]
        command: PredictCommand,
    },
    /// The lake for engines that read it directly.
    Lake {
        #[command(subcommand)]
        command: LakeCommand,
    },
    /// Print the settings in force (defaults, then `oneclass.toml` or the file ONECLASS_CONFIG
    /// names, then the environment), secrets redacted. Every setting is documented in
    /// docs/operator-guide.md, Configuration.
    Settings,
    /// Run a benchmark in a private throwaway cluster: prints a table, appends JSON lines under
    /// bench/results/ (run from the repository root).
    // The benchmarks are the `oneclass-bench` binary, so that this one carries none of their
    // code: everything after `bench` (`--help` included) is its command line.
    #[command(disable_help_flag = true)]
    Bench {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<OsString>,
    },
}

#[derive(Subcommand)]
enum PredictCommand {
    /// Train and judge the early-warning model family on any table of learners (CSV with a
    /// header line, or Parquet): every column but the label and the group is a feature. Folds
    /// are grouped by the group column (a school's learners all in one fold), and every row is
    /// scored by a model that did not see it. Prints ROC-AUC, precision among the top 10 %,
    /// calibration error, each feature's share of the gain and each group's AUC.
    Evaluate {
        /// The table: `.csv`, else read as Parquet.
        #[arg(long)]
        table: std::path::PathBuf,
        /// The 0/1 (or true/false) column to predict.
        #[arg(long)]
        label: String,
        /// The column whose values are kept together in one fold (e.g. the school).
        #[arg(long)]
        group: String,
        /// How many folds.
        #[arg(long, default_value_t = 5)]
        folds: usize,
    },
    /// Train the early-warning model on a past cohort from the lake (its learners six weeks
    /// into the second term, and whether each dropped out or repeated), judge it on the next
    /// cohort against the attention list's rule, and keep it as a new version with its measures
    /// in gold/predict/models. Prints the measures and the fairness report. Needs
    /// ONECLASS_LAKE (default data/lake) holding two school years or more.
    Train {
        /// The school year to learn from; default: the latest with a later year to be judged on.
        #[arg(long)]
        year: Option<i32>,
    },
    /// Project learners per grade for the next years by the cohort-survival method, from the
    /// census-day (1 March) enrolment the lake holds, each district's entry grade following its
    /// four-year-olds; districts summed into provinces and the nation, with intervals and the
    /// teachers needed at a target pupil–teacher ratio, into gold/predict/projections.
    Project {
        /// How many years ahead, 1 to 5.
        #[arg(long, default_value_t = 5)]
        years: u32,
        /// The target pupil–teacher ratio for the teachers needed.
        #[arg(long, default_value_t = 40.0)]
        ptr: f64,
    },
    /// Score every learner enrolled on a day with the newest model, each with the reasons that
    /// raised the score most, into gold/predict/scores (replacing the previous scores).
    Score {
        /// The day (YYYY-MM-DD); default: today.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand)]
enum GoldCommand {
    /// Rebuild gold (the indicators, their counts and the marts) from the lake as it is now:
    /// only the schools whose rows changed since the last build, unless --full. Each table is
    /// replaced in one commit, so readers see the previous figures until it is written; a build
    /// that stops half-way is completed by the next. Needs ONECLASS_LAKE (default data/lake).
    Rebuild {
        /// Redo every school, not only the changed ones.
        #[arg(long)]
        full: bool,
    },
    /// Check gold's arithmetic: every numerator and denominator at national, province and
    /// district level equals the sum over the scopes inside it. Fails when one does not.
    Check,
}

#[derive(Subcommand)]
enum LakeCommand {
    /// Print a DuckDB script of views, one per silver table (`sis.learners` …), over the lake's
    /// Delta tables with `delta_scan`, each showing the table's current state, pending changes
    /// included (tables over ONECLASS_LAKE_PENDING_ABOVE_ROWS rows hold recent changes apart until
    /// they are folded in). Direct readers see every column: no pseudonyms, no area. Needs
    /// ONECLASS_LAKE (default data/lake). Run it again after a table first takes pending rows.
    Views,
}

/// The warehouse an operator's command reads the lake with: the lake and the SQL limits from the
/// settings. Operators read everything (full access), so no pseudonym key is needed.
fn operator_warehouse() -> anyhow::Result<(url::Url, oneclass_warehouse::Warehouse)> {
    let raw = RawSettings::load()?;
    let lake = raw.lake_url()?;
    let wh = oneclass_warehouse::Warehouse::new(lake.clone(), Vec::new())
        .with_limits(raw.sql()?.limits());
    Ok((lake, wh))
}

/// Runs the `oneclass-bench` binary beside this one with `args`, in place of this process, so
/// that its output, signals and exit status are the command's own.
fn bench(args: Vec<OsString>) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("finding this binary")?;
    let bench = exe.with_file_name(format!("oneclass-bench{}", std::env::consts::EXE_SUFFIX));
    if !bench.is_file() {
        let build = if cfg!(debug_assertions) {
            "cargo build -p oneclass-bench"
        } else {
            "cargo build --release -p oneclass-bench"
        };
        anyhow::bail!(
            "the benchmarks are a separate binary and {} is missing: build it with `{build}`",
            bench.display()
        );
    }
    let mut command = std::process::Command::new(&bench);
    command.args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its usage lines then read `oneclass bench …`, as the command that was typed.
        let error = command.arg0("oneclass bench").exec();
        Err(error).with_context(|| format!("running {}", bench.display()))
    }
    #[cfg(not(unix))]
    {
        let status = command.status().with_context(|| format!("running {}", bench.display()))?;
        std::process::exit(status.code().unwrap_or(1));
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    oneclass::logging::init();
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { data, port } => demo::run(DemoOptions { data, port }).await,
        Command::Serve { no_ingest } => {
            let settings = Settings::from_env()?;
            let app = Application::build(&settings, !no_ingest).await?;
            tracing::info!(port = app.port(), "serving");
            let shutdown = CancellationToken::new();
            let trigger = shutdown.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                trigger.cancel();
            });
            app.run_until(shutdown).await
        }
        Command::Ingest => {
            let settings = Settings::from_env()?;
            let shutdown = CancellationToken::new();
            let trigger = shutdown.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                trigger.cancel();
            });
            supervise_ingest(ingest_config(&settings)?, shutdown).await;
            Ok(())
        }
        Command::Outbox => {
            let settings = Settings::from_env()?;
            let pool = oneclass_core::db::pool(settings.database_url.expose_secret(), 2).await?;
            let shutdown = CancellationToken::new();
            let trigger = shutdown.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                trigger.cancel();
            });
            let gateway = oneclass::outbox::gateway(settings.sms_gateway.as_ref());
            oneclass::outbox::run(pool, gateway, shutdown).await;
            Ok(())
        }
        Command::Reconcile => {
            let settings = Settings::from_env()?;
            let reports = oneclass::app::reconcile(&settings).await?;
            let (text, outcome) = oneclass::app::reconcile_outcome(&reports);
            print!("{text}");
            if outcome.is_ok() {
                println!("\nall {} tables match", reports.len());
            }
            outcome
        }
        Command::Migrate => {
            let raw = RawSettings::load()?;
            db::migrate(raw.database_url()?.expose_secret(), &raw.passwords()?).await?;
            println!("migrated");
            Ok(())
        }
        Command::Seed { seed, scale, schools, years, attendance_days } => {
            let url = RawSettings::load()?.database_url()?;
            let pool = db::pool(url.expose_secret(), 4).await?;
            if oneclass_synth::is_seeded(&pool).await? {
                anyhow::bail!("the database already has schools: seed only an empty database");
            }
            let as_of = chrono::Utc::now().date_naive();
            let mut params = match scale {
                Some(scale) => oneclass_synth::params_for(scale, seed, as_of),
                None => oneclass_synth::SeedParams::demo(as_of),
            };
            params.seed = seed;
            params.years = years;
            if attendance_days.is_some() {
                params.attendance_days = attendance_days;
            }
            if let Some(n) = schools {
                params.schools = n;
            }
            let s = oneclass_synth::seed(&pool, &params).await?;
            println!(
                "seeded {} schools, {} learners, {} attendance marks; {} rows in {:.1} s \
                 (load {:.1} s, indexes and constraints {:.1} s)",
                s.schools,
                s.learners,
                s.marks,
                s.rows,
                s.load_seconds + s.rebuild_seconds,
                s.load_seconds,
                s.rebuild_seconds
            );
            Ok(())
        }
        Command::Bench { args } => bench(args),
        Command::Predict { command: PredictCommand::Evaluate { table, label, group, folds } } => {
            let table = oneclass_predict::Table::read(&table, &label, &group)?;
            // Training is CPU work: off the async runtime's threads.
            let result =
                tokio::task::spawn_blocking(move || oneclass_predict::evaluate(&table, folds))
                    .await??;
            print!("{result}");
            Ok(())
        }
        Command::Predict { command: PredictCommand::Train { year } } => {
            let (_, wh) = operator_warehouse()?;
            let t = oneclass::early_warning::train(&wh, year).await?;
            println!(
                "model version {} learnt from {} learners of {}",
                t.version, t.learners, t.train_year
            );
            match &t.evaluated_on {
                Some((year, assessment)) => {
                    println!("judged on the learners of {year}, whom it did not see:\n");
                    print!("{assessment}");
                }
                None => println!("no later school year with a known outcome to judge it on"),
            }
            println!("\n| feature | share of the gain |\n| --- | ---: |");
            for (name, share) in &t.importance {
                println!("| {name} | {share:.3} |");
            }
            Ok(())
        }
        Command::Predict { command: PredictCommand::Project { years, ptr } } => {
            let (_, wh) = operator_warehouse()?;
            let run = oneclass::projections::project_enrolment(&wh, years, ptr).await?;
            println!(
                "projected {} years from {} ({} rows in gold/predict/projections); the nation:\n",
                run.horizon, run.base_year, run.rows
            );
            println!("| year | learners | interval | teachers at PTR {ptr} |");
            println!("| ---: | ---: | ---: | ---: |");
            for (year, learners, low, high, teachers) in &run.national {
                let interval = if year > &run.base_year {
                    format!("{low:.0}–{high:.0}")
                } else {
                    "actual".to_owned()
                };
                println!("| {year} | {learners:.0} | {interval} | {teachers:.0} |");
            }
            Ok(())
        }
        Command::Predict { command: PredictCommand::Score { as_of } } => {
            let (_, wh) = operator_warehouse()?;
            match oneclass::early_warning::score(&wh, as_of).await? {
                Some(s) => println!(
                    "scored {} learners enrolled on {} with model version {}",
                    s.learners, s.day, s.version
                ),
                None => anyhow::bail!("no model yet: run `oneclass predict train` first"),
            }
            Ok(())
        }
        Command::Settings => {
            let raw = RawSettings::load()?;
            println!("{}", serde_json::to_string_pretty(&raw)?);
            Ok(())
        }
        Command::Gold { command: GoldCommand::Rebuild { full } } => {
            let (lake, wh) = operator_warehouse()?;
            let started = std::time::Instant::now();
            let kind = if full { BuildKind::Full } else { BuildKind::Incremental };
            let bar = indicatif::ProgressBar::new(oneclass_warehouse::gold_steps() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed:>4} [{bar:30}] {pos}/{len} {msg}",
                )
                .map_err(|e| anyhow::anyhow!("progress bar: {e}"))?
                .progress_chars("=> "),
            );
            let report = wh
                .build_gold(kind, |step, done, _| {
                    bar.set_position(done as u64);
                    bar.set_message(step.to_owned());
                })
                .await;
            bar.finish_and_clear();
            let report = report?;
            for (code, why) in &report.skipped {
                eprintln!("skipped {code}: {why}");
            }
            if report.up_to_date {
                println!(
                    "gold is up to date: nothing changed in silver since the last build ({lake})"
                );
                return Ok(());
            }
            let what = match (report.kind, report.schools) {
                (BuildKind::Incremental, Some(1)) => "incremental, 1 school redone".to_owned(),
                (BuildKind::Incremental, Some(n)) => format!("incremental, {n} schools redone"),
                _ => "full".to_owned(),
            };
            println!(
                "gold {what}; gold/indicators/values version {}: {} rows in {:.1} s ({lake})",
                report.version,
                report.rows(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Gold { command: GoldCommand::Check } => {
            let (_, wh) = operator_warehouse()?;
            let checks = wh.check_gold_sums().await?;
            let mut wrong = 0;
            for c in &checks {
                println!(
                    "{:>8} = sum of its {:<9} {} rows, {} wrong",
                    c.outer,
                    format!("{}s:", c.inner),
                    c.outer_rows,
                    c.wrong
                );
                wrong += c.wrong;
            }
            anyhow::ensure!(
                wrong == 0,
                "{wrong} gold rows are not the sum of the scopes inside them"
            );
            Ok(())
        }
        Command::Lake { command: LakeCommand::Views } => {
            let (_, wh) = operator_warehouse()?;
            print!("{}", wh.duckdb_views().await?);
            Ok(())
        }
        Command::Sql { sql } => {
            let (_, wh) = operator_warehouse()?;
            let out = wh.query(&sql, &oneclass_warehouse::Access::Full).await?;
            let table = deltalake::arrow::util::pretty::pretty_format_batches(&out.batches)?;
            println!("{table}");
            if out.truncated {
                eprintln!("(result truncated)");
            }
            Ok(())
        }
    }
}
