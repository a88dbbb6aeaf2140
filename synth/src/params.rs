//! What a seed is asked for and reports, its error, the tables it fills, and the seeded id and
//! random streams every generator draws from (so the same seed gives the same rows).

use chrono::NaiveDate;
use oneclass_core::types::Role;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("password hashing failed: {0}")]
    Hash(#[from] oneclass_core::password::HashError),
    #[error("no term of {0} in ref.terms contains the attendance period")]
    NoTerm(i32),
    #[error("the database already holds data: seed an empty, freshly migrated database")]
    NotEmpty,
    #[error("invalid seed parameters: {0}")]
    Params(String),
    #[error("a generator thread failed: {0}")]
    Generator(String),
}

#[derive(Debug, Clone)]
pub struct SeedParams {
    pub seed: u64,
    /// Schools in all, spread over the ten provinces in turn.
    pub schools: usize,
    /// Learners per class, inclusive range.
    pub class_size: (u32, u32),
    /// Classes per grade (streams), inclusive range; bigger in towns.
    pub streams: (u32, u32),
    pub academic_year: i32,
    /// School years of history: 1 is the current year only; 3 adds the two years before it
    /// (enrolments, attendance, assessments, examinations, fees).
    pub years: u32,
    /// Everything is generated up to this day: attendance on school days up to it, assessments
    /// held and invoices issued by it, payments made by it.
    pub as_of: NaiveDate,
    /// Attendance on at most this many school days (the last ones up to `as_of`); `None`: every
    /// school day of the seeded years. National scale keeps a month so that it fits a disk.
    pub attendance_days: Option<u32>,
    /// The password of every demo account.
    pub demo_password: String,
}

impl SeedParams {
    /// The demo: four schools per province, one class per grade, the year so far.
    pub fn demo(as_of: NaiveDate) -> Self {
        Self {
            seed: 2026,
            schools: 40,
            class_size: (18, 40),
            streams: (1, 1),
            academic_year: 2026,
            years: 1,
            as_of,
            attendance_days: None,
            demo_password: "oneclass-demo".into(),
        }
    }

    pub(crate) fn check(&self) -> Result<(), SynthError> {
        let bad = |m: &str| Err(SynthError::Params(m.to_string()));
        if self.schools == 0 {
            return bad("schools must be at least 1");
        }
        if self.class_size.0 == 0 || self.class_size.0 > self.class_size.1 {
            return bad("class size must be a range like 18..40 starting above 0");
        }
        if self.streams.0 == 0 || self.streams.0 > self.streams.1 {
            return bad("streams must be a range like 1..3 starting above 0");
        }
        if self.years == 0 || self.years > 10 {
            return bad("years must be between 1 and 10");
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub role: Role,
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Default)]
pub struct SeedSummary {
    pub schools: usize,
    pub learners: usize,
    pub marks: usize,
    /// Rows written to every table, the demo accounts included.
    pub rows: u64,
    pub logins: Vec<DemoLogin>,
    /// Seconds spent loading rows, then rebuilding indexes and constraints.
    pub load_seconds: f64,
    pub rebuild_seconds: f64,
}

/// Every table the seed writes, parents before children.
pub const SEEDED_TABLES: &[&str] = &[
    "platform.schools",
    "platform.users",
    "platform.memberships",
    "academic.classes",
    "academic.class_teachers",
    "sis.learners",
    "sis.enrolments",
    "attendance.daily_marks",
    "staff.staff",
    "ref.population",
    "assessment.assessments",
    "assessment.results",
    "assessment.exam_results",
    "finance.invoices",
    "finance.payments",
];

/// Ids that are UUIDv7-shaped (time-ordered for index locality) yet derived from the seed. Each
/// school has its own stream and its own millisecond range, so schools generate independently.
pub(crate) struct Ids {
    pub(crate) rng: ChaCha8Rng,
    ms: u64,
}

/// 2026-01-01T00:00:00Z: seeded ids sort before anything created at run time.
const ID_EPOCH_MS: u64 = 1_767_225_600_000;

impl Ids {
    /// The id stream of `stream` (a school's number + 1; 0 for the country-wide rows).
    pub(crate) fn for_stream(seed: u64, stream: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x05ee_d1d5);
        rng.set_stream(stream);
        // 2^22 ms a school: ids stay in school order (index locality) while the random 74 bits
        // keep them unique even if a very large school ran into the next one's range.
        Self { rng, ms: ID_EPOCH_MS + (stream << 22) }
    }

    pub(crate) fn next(&mut self) -> Uuid {
        let mut bytes = [0u8; 10];
        self.rng.fill_bytes(&mut bytes);
        self.ms += 1;
        uuid::Builder::from_unix_timestamp_millis(self.ms, &bytes).into_uuid()
    }
}

/// A random stream of one purpose (`purpose` keeps the streams of learners, staff, fees … apart,
/// so that adding one leaves the others unchanged) for one school (`stream`).
pub(crate) fn rng_for(seed: u64, purpose: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ purpose);
    rng.set_stream(stream);
    rng
}
