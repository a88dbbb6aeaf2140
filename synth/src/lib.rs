//! A synthetic Zimbabwe for the demo and the tests: schools in every province, classes, learners
//! with plausible names, sexes and ages, enrolments, staff, district population, demo accounts,
//! and a term of daily attendance. Deterministic: the same parameters give byte-identical tables.
//! Rows are streamed to COPY in chunks, so memory stays bounded at national scale; everything is
//! one transaction, so a seed is all or nothing.

mod names;
mod population;
mod scale;
mod workforce;

pub use scale::{Scale, params_for};

use chrono::{Datelike, NaiveDate, Weekday};
use oneclass_core::types::{Grade, Location, PROVINCES, Role, SchoolLevel};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::Acquire;
use sqlx::postgres::PgPool;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("password hashing failed: {0}")]
    Hash(#[from] oneclass_core::password::HashError),
    #[error("no term of {0} in ref.terms contains the attendance period")]
    NoTerm(i32),
}

#[derive(Debug, Clone)]
pub struct SeedParams {
    pub seed: u64,
    pub schools_per_province: usize,
    /// Learners per class, inclusive range.
    pub class_size: (u32, u32),
    pub academic_year: i32,
    /// Attendance is generated on school days of the term holding `as_of`, up to `as_of`.
    pub as_of: NaiveDate,
    /// The password of every demo account.
    pub demo_password: String,
}

impl SeedParams {
    /// The demo: four schools per province, a term of attendance up to `as_of`.
    pub fn demo(as_of: NaiveDate) -> Self {
        Self {
            seed: 2026,
            schools_per_province: 4,
            class_size: (18, 40),
            academic_year: 2026,
            as_of,
            demo_password: "oneclass-demo".into(),
        }
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
    pub logins: Vec<DemoLogin>,
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
];

/// True when the database already holds seeded schools (the demo reuses its data).
pub async fn is_seeded(pool: &PgPool) -> Result<bool, SynthError> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM platform.schools)").fetch_one(pool).await?)
}

/// Ids that are UUIDv7-shaped (time-ordered for index locality) yet derived from the seed.
pub(crate) struct Ids {
    rng: ChaCha8Rng,
    ms: u64,
}

impl Ids {
    pub(crate) fn next(&mut self) -> Uuid {
        let mut bytes = [0u8; 10];
        self.rng.fill_bytes(&mut bytes);
        self.ms += 1;
        uuid::Builder::from_unix_timestamp_millis(self.ms, &bytes).into_uuid()
    }
}

pub(crate) struct School {
    pub(crate) id: Uuid,
    emis: String,
    pub(crate) district: &'static str,
    pub(crate) level: SchoolLevel,
    pub(crate) location: Location,
    grades: Vec<Grade>,
}

/// COPY text format: backslash, tab and newlines escaped, `\N` for null.
fn field(out: &mut String, value: Option<&str>) {
    match value {
        None => out.push_str("\\N"),
        Some(v) => {
            for c in v.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

fn row(out: &mut String, values: &[Option<&str>]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        field(out, *v);
    }
    out.push('\n');
}

/// A COPY buffer. Stamped rows end with `created_at` and `updated_at` set to one fixed stamp,
/// so that the same seed gives the same bytes whenever it runs; reference rows have no stamps.
pub(crate) struct Rows {
    data: String,
    stamp: Option<String>,
}

impl Rows {
    fn new(stamp: &str) -> Self {
        Self { data: String::new(), stamp: Some(stamp.to_string()) }
    }

    /// Rows of a table without audit columns (reference data).
    fn plain() -> Self {
        Self { data: String::new(), stamp: None }
    }

    pub(crate) fn push(&mut self, values: &[Option<&str>]) {
        let mut all = values.to_vec();
        if let Some(stamp) = &self.stamp {
            all.push(Some(stamp));
            all.push(Some(stamp));
        }
        row(&mut self.data, &all);
    }

    fn len(&self) -> usize {
        self.data.len()
    }
}

/// Bytes buffered before a batch of COPY data is sent: memory stays bounded at any scale.
const COPY_CHUNK_BYTES: usize = 4 << 20;

/// COPY the buffered rows into `table (columns[, created_at, updated_at])` and empty the buffer.
/// Several COPYs into one table within the transaction keep the seed all-or-nothing.
async fn copy_in(
    conn: &mut sqlx::PgConnection,
    table: &str,
    columns: &str,
    rows: &mut Rows,
) -> Result<(), SynthError> {
    if rows.data.is_empty() {
        return Ok(());
    }
    let stamps = if rows.stamp.is_some() { ", created_at, updated_at" } else { "" };
    let statement = format!("COPY {table} ({columns}{stamps}) FROM STDIN");
    let mut copy = conn.copy_in_raw(&statement).await?;
    copy.send(std::mem::take(&mut rows.data).into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

fn school_days(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect()
}

/// The COPY buffers of the rows that hang off schools, flushed together in foreign-key order.
struct Batch {
    classes: Rows,
    learners: Rows,
    enrolments: Rows,
    marks: Rows,
    staff: Rows,
}

impl Batch {
    fn new(stamp: &str) -> Self {
        Self {
            classes: Rows::new(stamp),
            learners: Rows::new(stamp),
            enrolments: Rows::new(stamp),
            marks: Rows::new(stamp),
            staff: Rows::new(stamp),
        }
    }

    fn len(&self) -> usize {
        self.classes.len()
            + self.learners.len()
            + self.enrolments.len()
            + self.marks.len()
            + self.staff.len()
    }

    async fn flush(&mut self, conn: &mut sqlx::PgConnection) -> Result<(), SynthError> {
        copy_in(
            conn,
            "academic.classes",
            "id, school_id, academic_year, grade, name",
            &mut self.classes,
        )
        .await?;
        copy_in(
            conn,
            "sis.learners",
            "id, school_id, learner_number, first_name, last_name, sex, date_of_birth, disability, is_ovc",
            &mut self.learners,
        )
        .await?;
        copy_in(
            conn,
            "sis.enrolments",
            "id, school_id, learner_id, academic_year, grade, class_id, entry_type, start_date",
            &mut self.enrolments,
        )
        .await?;
        copy_in(
            conn,
            "attendance.daily_marks",
            "id, school_id, learner_id, class_id, date, status",
            &mut self.marks,
        )
        .await?;
        copy_in(conn, "staff.staff", workforce::COLUMNS, &mut self.staff).await
    }
}

/// Everything the per-school generation reads and advances.
struct Generator<'a> {
    p: &'a SeedParams,
    rng: ChaCha8Rng,
    ids: Ids,
    /// Staff draw from their own streams so that adding them left every other table unchanged.
    staff_rng: ChaCha8Rng,
    staff_ids: Ids,
    days: Vec<NaiveDate>,
    year_start: NaiveDate,
    year_s: String,
    enrol_start: String,
    census: population::Census,
    learners: usize,
    marks: usize,
    first_school_classes: Vec<Uuid>,
}

/// Seeds everything in one transaction: all or nothing.
pub async fn seed(pool: &PgPool, p: &SeedParams) -> Result<SeedSummary, SynthError> {
    let mut tx = pool.begin().await?;
    let conn = tx.acquire().await?;

    let terms: Vec<(i32, NaiveDate, NaiveDate)> = sqlx::query_as(
        "SELECT term, start_date, end_date FROM ref.terms WHERE academic_year = $1 ORDER BY term",
    )
    .bind(p.academic_year)
    .fetch_all(&mut *conn)
    .await?;
    let year_start = terms.first().map(|t| t.1).ok_or(SynthError::NoTerm(p.academic_year))?;
    let term =
        terms.iter().rev().find(|t| t.1 <= p.as_of).ok_or(SynthError::NoTerm(p.academic_year))?;
    // Every seeded row is stamped with the start of the academic year, never the clock.
    let stamp = format!("{}-01-01 00:00:00+00", p.academic_year);
    let mut g = Generator {
        p,
        rng: ChaCha8Rng::seed_from_u64(p.seed),
        ids: Ids {
            rng: ChaCha8Rng::seed_from_u64(p.seed ^ 0x05ee_d1d5),
            // 2026-01-01T00:00:00Z: seeded ids sort before anything created at run time.
            ms: 1_767_225_600_000,
        },
        staff_rng: ChaCha8Rng::seed_from_u64(p.seed ^ 0x57af_f000),
        // Half a year of milliseconds later than learners' ids: the two streams never meet.
        staff_ids: Ids {
            rng: ChaCha8Rng::seed_from_u64(p.seed ^ 0x57af_f1d5),
            ms: 1_767_225_600_000 + 15_768_000_000,
        },
        days: school_days(term.1, p.as_of.min(term.2)),
        year_start,
        year_s: p.academic_year.to_string(),
        enrol_start: year_start.to_string(),
        census: population::Census::default(),
        learners: 0,
        marks: 0,
        first_school_classes: Vec::new(),
    };

    let schools = g.schools(&stamp, conn).await?;
    let mut batch = Batch::new(&stamp);
    for (school_index, school) in schools.iter().enumerate() {
        let learners = g.school_rows(school_index, school, &mut batch);
        workforce::staff_rows(
            &mut g.staff_rng,
            &mut g.staff_ids,
            school,
            learners,
            g.year_start,
            &mut batch.staff,
        );
        if batch.len() >= COPY_CHUNK_BYTES {
            batch.flush(conn).await?;
        }
    }
    batch.flush(conn).await?;

    let mut population = Rows::plain();
    population::population_rows(&g.census, &schools, p, &mut population);
    copy_in(conn, "ref.population", population::COLUMNS, &mut population).await?;

    let logins = seed_users(conn, &mut g.ids, p, &stamp, &schools, &g.first_school_classes).await?;
    tx.commit().await?;
    Ok(SeedSummary { schools: schools.len(), learners: g.learners, marks: g.marks, logins })
}

impl Generator<'_> {
    /// The school register, copied at once (a few hundred bytes a school).
    async fn schools(
        &mut self,
        stamp: &str,
        conn: &mut sqlx::PgConnection,
    ) -> Result<Vec<School>, SynthError> {
        let mut schools = Vec::new();
        let mut schools_copy = Rows::new(stamp);
        for (pi, province) in PROVINCES.iter().enumerate() {
            let districts = names::districts(province);
            for si in 0..self.p.schools_per_province {
                let (district, urban) = districts[si % districts.len()];
                let location = if urban || self.rng.gen_bool(0.25) {
                    Location::Urban
                } else {
                    Location::Rural
                };
                let level = match si % 3 {
                    0 | 2 => SchoolLevel::Primary,
                    _ => SchoolLevel::Secondary,
                };
                let grades: Vec<Grade> = match level {
                    SchoolLevel::Primary => vec![
                        Grade::G1,
                        Grade::G2,
                        Grade::G3,
                        Grade::G4,
                        Grade::G5,
                        Grade::G6,
                        Grade::G7,
                    ],
                    _ => vec![Grade::F1, Grade::F2, Grade::F3, Grade::F4],
                };
                let place = names::pick(&mut self.rng, names::PLACES);
                let kind = if level == SchoolLevel::Primary { "Primary" } else { "High" };
                let name = format!("{place} {kind} School");
                let emis = format!("{:02}{:04}", pi + 1, 1000 + si);
                let ownership = if location == Location::Urban { "government" } else { "council" };
                let id = self.ids.next();
                schools_copy.push(&[
                    Some(&id.to_string()),
                    Some(&emis),
                    Some(&name),
                    Some(province),
                    Some(district),
                    Some(level.as_str()),
                    Some(ownership),
                    Some(location.as_str()),
                ]);
                schools.push(School { id, emis, district, level, location, grades });
            }
        }
        copy_in(
            conn,
            "platform.schools",
            "id, emis_code, name, province, district, level, ownership, location",
            &mut schools_copy,
        )
        .await?;
        Ok(schools)
    }

    /// One school's classes, learners, enrolments and marks; returns its learner count.
    fn school_rows(&mut self, school_index: usize, school: &School, batch: &mut Batch) -> u32 {
        let mut seq = 0u32;
        for (gi, grade) in school.grades.iter().enumerate() {
            let class_id = self.ids.next();
            let class_name =
                format!("{} {}", grade.as_str(), names::CLASS_NAMES[gi % names::CLASS_NAMES.len()]);
            batch.classes.push(&[
                Some(&class_id.to_string()),
                Some(&school.id.to_string()),
                Some(&self.year_s),
                Some(grade.as_str()),
                Some(&class_name),
            ]);
            if school_index == 0 {
                self.first_school_classes.push(class_id);
            }
            let size = self.rng.gen_range(self.p.class_size.0..=self.p.class_size.1);
            for _ in 0..size {
                seq += 1;
                self.learner_rows(school, *grade, class_id, seq, batch);
            }
        }
        seq
    }

    fn learner_rows(
        &mut self,
        school: &School,
        grade: Grade,
        class_id: Uuid,
        seq: u32,
        batch: &mut Batch,
    ) {
        let rng = &mut self.rng;
        let learner_id = self.ids.next();
        let sex = if rng.gen_bool(0.5) { "F" } else { "M" };
        let first = names::first_name(rng, sex);
        let last = names::pick(rng, names::SURNAMES);
        let over_age = match (school.location, rng.gen_range(0..100)) {
            (Location::Rural, 0..=4) => 2,
            (Location::Rural, 5..=24) => 1,
            (Location::Urban, 0..=7) => 1,
            _ => 0,
        };
        // Completed years on 1 January of the academic year: born in the year before
        // `year - age`, on any day but 1 January.
        let age = grade.official_age() as i32 + over_age;
        let birth_year = self.p.academic_year - age - 1;
        let dob =
            NaiveDate::from_yo_opt(birth_year, rng.gen_range(2..=365)).unwrap_or(NaiveDate::MIN);
        self.census.add(school.district, age, sex);
        let disability = if rng.gen_bool(0.02) {
            Some(names::pick(rng, &["visual", "hearing", "physical", "learning"]))
        } else {
            None
        };
        let ovc = if rng.gen_bool(0.12) { "t" } else { "f" };
        let number = format!("{}-{seq:05}", school.emis);
        batch.learners.push(&[
            Some(&learner_id.to_string()),
            Some(&school.id.to_string()),
            Some(&number),
            Some(first),
            Some(last),
            Some(sex),
            Some(&dob.to_string()),
            disability,
            Some(ovc),
        ]);
        let repeat_p = if school.location == Location::Rural { 0.07 } else { 0.03 };
        let entry = if matches!(grade, Grade::G1 | Grade::F1) {
            "new"
        } else if rng.gen_bool(repeat_p) {
            "repeater"
        } else {
            "promoted"
        };
        batch.enrolments.push(&[
            Some(&self.ids.next().to_string()),
            Some(&school.id.to_string()),
            Some(&learner_id.to_string()),
            Some(&self.year_s),
            Some(grade.as_str()),
            Some(&class_id.to_string()),
            Some(entry),
            Some(&self.enrol_start),
        ]);
        self.learners += 1;
        self.mark_rows(school, learner_id, class_id, batch);
    }

    /// A term of daily marks: a few chronic absentees, rural schools a little more absence.
    fn mark_rows(&mut self, school: &School, learner_id: Uuid, class_id: Uuid, batch: &mut Batch) {
        let rng = &mut self.rng;
        let base = if school.location == Location::Rural { 0.08 } else { 0.05 };
        let p_absent = if rng.gen_bool(0.08) { rng.gen_range(0.15..0.35) } else { base };
        for day in &self.days {
            let r: f64 = rng.r#gen();
            let status = if r < p_absent {
                "absent"
            } else if r < p_absent + 0.03 {
                "late"
            } else if r < p_absent + 0.04 {
                "excused"
            } else {
                "present"
            };
            batch.marks.push(&[
                Some(&self.ids.next().to_string()),
                Some(&school.id.to_string()),
                Some(&learner_id.to_string()),
                Some(&class_id.to_string()),
                Some(&day.to_string()),
                Some(status),
            ]);
            self.marks += 1;
        }
    }
}

async fn seed_users(
    conn: &mut sqlx::PgConnection,
    ids: &mut Ids,
    p: &SeedParams,
    stamp: &str,
    schools: &[School],
    first_school_classes: &[Uuid],
) -> Result<Vec<DemoLogin>, SynthError> {
    let Some(school) = schools.first() else { return Ok(Vec::new()) };
    let (province, district): (String, String) =
        sqlx::query_as("SELECT province, district FROM platform.schools WHERE id = $1")
            .bind(school.id)
            .fetch_one(&mut *conn)
            .await?;
    let tag = school.emis.as_str();
    // (role, username, province scope, district scope, member of the first school)
    type Account<'a> = (Role, String, Option<&'a str>, Option<&'a str>, bool);
    let accounts: Vec<Account> = vec![
        (Role::PlatformAdmin, "admin".into(), None, None, false),
        (Role::Ministry, "ministry".into(), None, None, false),
        (Role::ProvinceOfficer, "officer.province".into(), Some(province.as_str()), None, false),
        (
            Role::DistrictOfficer,
            "officer.district".into(),
            Some(province.as_str()),
            Some(district.as_str()),
            false,
        ),
        (Role::Analyst, "analyst".into(), None, None, false),
        (Role::SchoolHead, format!("head.{tag}"), None, None, true),
        (Role::Registrar, format!("registrar.{tag}"), None, None, true),
        (Role::Teacher, format!("teacher.{tag}"), None, None, true),
        (Role::Bursar, format!("bursar.{tag}"), None, None, true),
    ];
    // One hash for all demo accounts: argon2 is slow by design, and they share a password. Its
    // salt comes from the seed so that the same seed gives the same rows.
    let mut salt = [0u8; 16];
    ids.rng.fill_bytes(&mut salt);
    let hash = oneclass_core::password::hash_with_salt(&p.demo_password, &salt)?;
    let mut logins = Vec::new();
    for (role, username, prov, dist, member) in accounts {
        let user_id = ids.next();
        sqlx::query(
            "INSERT INTO platform.users (id, username, password_hash, role, display_name, province,
                 district, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $8::timestamptz)",
        )
        .bind(user_id)
        .bind(&username)
        .bind(&hash)
        .bind(role.as_str())
        .bind(names::display_name(role))
        .bind(prov)
        .bind(dist)
        .bind(stamp)
        .execute(&mut *conn)
        .await?;
        if member {
            sqlx::query(
                "INSERT INTO platform.memberships (user_id, school_id, created_at)
                 VALUES ($1, $2, $3::timestamptz)",
            )
            .bind(user_id)
            .bind(school.id)
            .bind(stamp)
            .execute(&mut *conn)
            .await?;
        }
        if role == Role::Teacher {
            for class_id in first_school_classes.iter().take(2) {
                sqlx::query(
                    "INSERT INTO academic.class_teachers (class_id, user_id, school_id, created_at,
                         updated_at)
                     VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz)",
                )
                .bind(class_id)
                .bind(user_id)
                .bind(school.id)
                .bind(stamp)
                .execute(&mut *conn)
                .await?;
            }
        }
        logins.push(DemoLogin { role, username, password: p.demo_password.clone() });
    }
    Ok(logins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_fields_are_escaped() {
        let mut s = String::new();
        row(&mut s, &[Some("a\tb"), None, Some("c\\d\n")]);
        assert_eq!(s, "a\\tb\t\\N\tc\\\\d\\n\n");
    }

    #[test]
    fn school_days_skip_weekends() {
        let from = NaiveDate::from_ymd_opt(2026, 9, 8).expect("date");
        let to = NaiveDate::from_ymd_opt(2026, 9, 14).expect("date");
        let days = school_days(from, to);
        // Tue 8 … Fri 11, Mon 14.
        assert_eq!(days.len(), 5);
        assert!(days.iter().all(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)));
    }
}
