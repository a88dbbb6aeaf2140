//! A synthetic Zimbabwe for the demo, the tests and the benchmarks: schools in every province and
//! district, classes, learners with plausible names, sexes and ages, enrolments with repetition,
//! transfers and dropout, staff, district population, daily attendance, school assessments and
//! ZIMSEC results, fees and payments (BEAM included), earlier years, and demo accounts.
//!
//! Deterministic: every school draws from its own random streams, derived from the seed and the
//! school's number, so the same parameters give byte-identical tables however many threads
//! generate them. Loading is a bulk load (see [`bulk`]): binary COPY over several connections with
//! the tables' indexes and constraints set aside and rebuilt, valid, at the end. An interrupted
//! seed is undone by the next one.

mod bulk;
mod calendar;
mod copy;
mod guardians;
mod names;
mod params;
mod plan;
mod population;
mod scale;
mod school;
mod users;
mod workforce;

pub use params::{DemoLogin, SEEDED_TABLES, SeedParams, SeedSummary, SynthError};
pub use scale::{Scale, params_for};

use sqlx::postgres::PgPool;

/// True when the database holds a finished seed, or schools created some other way (the demo
/// reuses its data). A seed that was interrupted does not count: the next seed undoes it.
pub async fn is_seeded(pool: &PgPool) -> Result<bool, SynthError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM platform.seed_state WHERE finished_at IS NOT NULL)
               OR (NOT EXISTS (SELECT 1 FROM platform.seed_state)
                   AND EXISTS (SELECT 1 FROM platform.schools)) AS "seeded!""#,
    )
    .fetch_one(pool)
    .await?)
}

/// Seeds an empty, migrated database. All or nothing: an error, or an interruption, leaves
/// nothing behind once the next seed (or [`undo_unfinished`]) has run.
pub async fn seed(pool: &PgPool, p: &SeedParams) -> Result<SeedSummary, SynthError> {
    p.check()?;
    bulk::seed(pool, p).await
}

/// Undoes a seed that did not finish (rows removed, indexes and constraints restored); true when
/// there was one.
pub async fn undo_unfinished(pool: &PgPool) -> Result<bool, SynthError> {
    bulk::undo_unfinished(pool).await
}
