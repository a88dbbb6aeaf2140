//! One school's rows, from its own random streams: classes for every seeded year, learners with
//! their history, enrolments (repetition, transfers, dropout), daily attendance with term
//! patterns and chronic absentees, school assessments and ZIMSEC results that follow ability and
//! attendance, and fees with payments, arrears and BEAM.

use chrono::{Datelike, Days, NaiveDate};
use oneclass_core::types::{Grade, Location, SchoolLevel};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use crate::calendar::{Calendar, SchoolDay, Term, Year};
use crate::copy::{Binary, pg_date};
use crate::params::{Ids, SeedParams, SynthError, rng_for};
use crate::plan::School;
use crate::{names, population, workforce};

const LEARNERS: u64 = 0x1ea7_0e75;
const STAFF: u64 = 0x57af_f000;
const MONEY: u64 = 0x0f33_5000;
const SCORES: u64 = 0x5c07_e500;

/// Bytes of one table's rows sent as one COPY: memory stays bounded at any scale.
pub(crate) const CHUNK_BYTES: usize = 4 << 20;

/// The tables generated per school, in foreign-key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Classes,
    Learners,
    Enrolments,
    Marks,
    Staff,
    Assessments,
    Results,
    ExamResults,
    Invoices,
    Payments,
}

impl Table {
    pub(crate) const ALL: [Table; 10] = [
        Table::Classes,
        Table::Learners,
        Table::Enrolments,
        Table::Marks,
        Table::Staff,
        Table::Assessments,
        Table::Results,
        Table::ExamResults,
        Table::Invoices,
        Table::Payments,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Table::Classes => "academic.classes",
            Table::Learners => "sis.learners",
            Table::Enrolments => "sis.enrolments",
            Table::Marks => "attendance.daily_marks",
            Table::Staff => "staff.staff",
            Table::Assessments => "assessment.assessments",
            Table::Results => "assessment.results",
            Table::ExamResults => "assessment.exam_results",
            Table::Invoices => "finance.invoices",
            Table::Payments => "finance.payments",
        }
    }

    /// The COPY column list, in the order the rows are written.
    pub(crate) fn columns(self) -> &'static str {
        match self {
            Table::Classes => "id, school_id, academic_year, grade, name, created_at, updated_at",
            Table::Learners => {
                "id, school_id, learner_number, first_name, last_name, sex, date_of_birth, \
                 disability, is_ovc, status, created_at, updated_at"
            }
            Table::Enrolments => {
                "id, school_id, learner_id, academic_year, grade, class_id, entry_type, \
                 start_date, end_date, exit_reason, created_at, updated_at"
            }
            Table::Marks => {
                "id, school_id, learner_id, class_id, date, status, created_at, updated_at"
            }
            Table::Staff => workforce::COLUMNS,
            Table::Assessments => {
                "id, school_id, class_id, academic_year, term, subject_code, name, max_score, \
                 held_on, created_at, updated_at"
            }
            Table::Results => {
                "id, school_id, assessment_id, learner_id, score, max_score, created_at, updated_at"
            }
            Table::ExamResults => {
                "id, school_id, learner_id, academic_year, exam, subject_code, grade, created_at, \
                 updated_at"
            }
            Table::Invoices => {
                "id, school_id, learner_id, academic_year, term, currency, amount, issued_on, \
                 due_on, created_at, updated_at"
            }
            Table::Payments => {
                "id, school_id, learner_id, invoice_id, academic_year, term, currency, amount, \
                 exchange_rate, amount_applied, method, paid_on, reference, idempotency_key, \
                 created_at, updated_at"
            }
        }
    }
}

/// A full COPY stream of one table, ready to send.
pub(crate) struct Chunk {
    pub(crate) table: Table,
    pub(crate) bytes: Vec<u8>,
    pub(crate) rows: usize,
}

/// Per-table buffers; a buffer that grows past [`CHUNK_BYTES`] is handed to the sink.
pub(crate) struct Out<'a> {
    bufs: Vec<Binary>,
    sink: &'a mut dyn FnMut(Chunk) -> Result<(), SynthError>,
}

impl<'a> Out<'a> {
    pub(crate) fn new(sink: &'a mut dyn FnMut(Chunk) -> Result<(), SynthError>) -> Self {
        Self { bufs: Table::ALL.iter().map(|_| Binary::new()).collect(), sink }
    }

    pub(crate) fn buf(&mut self, t: Table) -> &mut Binary {
        &mut self.bufs[t as usize]
    }

    fn send(&mut self, t: Table) -> Result<(), SynthError> {
        let (bytes, rows) = self.bufs[t as usize].take();
        (self.sink)(Chunk { table: t, bytes, rows })
    }

    /// Hands over every buffer that is full.
    pub(crate) fn flush_full(&mut self) -> Result<(), SynthError> {
        for t in Table::ALL {
            if self.bufs[t as usize].len() >= CHUNK_BYTES {
                self.send(t)?;
            }
        }
        Ok(())
    }

    /// Hands over everything left.
    pub(crate) fn finish(&mut self) -> Result<(), SynthError> {
        for t in Table::ALL {
            if !self.bufs[t as usize].is_empty() {
                self.send(t)?;
            }
        }
        Ok(())
    }
}

/// What a school's generation reports back.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) learners: usize,
    pub(crate) marks: usize,
    pub(crate) census: population::Census,
    /// Classes of the current year, in grade order (the demo teacher gets two of them).
    /// The classes of the latest year, and whether each is assessed (ECD is not).
    pub(crate) current_classes: Vec<(Uuid, bool)>,
}

/// Learning areas examined in school tests, by grade.
fn subjects(grade: Grade, province: &str, stream: u32) -> &'static [&'static str] {
    let ndebele = matches!(province, "Bulawayo" | "Matabeleland North" | "Matabeleland South");
    match grade {
        Grade::EcdA | Grade::EcdB => &[],
        g if g.is_primary() => {
            if ndebele {
                &["ENG", "MAT", "NDE", "SCI", "SOC", "AGR"]
            } else {
                &["ENG", "MAT", "SHO", "SCI", "SOC", "AGR"]
            }
        }
        Grade::F5 | Grade::F6 => match stream % 3 {
            0 => &["MAT", "PHY", "CHE"],
            1 => &["HIS", "GEO", "ECO"],
            _ => &["BIO", "CHE", "GEO"],
        },
        _ => {
            if ndebele {
                &["ENG", "MAT", "NDE", "SCI", "GEO", "HIS", "AGR", "ACC"]
            } else {
                &["ENG", "MAT", "SHO", "SCI", "GEO", "HIS", "AGR", "ACC"]
            }
        }
    }
}

/// The ZIMSEC examination a grade sits at the end of the year, if any.
fn exam_of(grade: Grade) -> Option<&'static str> {
    match grade {
        Grade::G7 => Some("G7"),
        Grade::F4 => Some("O"),
        Grade::F6 => Some("A"),
        _ => None,
    }
}

/// A ZIMSEC grade from an examination score out of 100.
pub(crate) fn exam_grade(exam: &str, score: f64) -> &'static str {
    match exam {
        "G7" => {
            const UNITS: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
            let unit = ((88.0 - score) / 8.0).floor().clamp(0.0, 8.0) as usize;
            UNITS[unit]
        }
        "O" => match score {
            s if s >= 75.0 => "A",
            s if s >= 65.0 => "B",
            s if s >= 50.0 => "C",
            s if s >= 40.0 => "D",
            s if s >= 30.0 => "E",
            _ => "U",
        },
        _ => match score {
            s if s >= 75.0 => "A",
            s if s >= 65.0 => "B",
            s if s >= 55.0 => "C",
            s if s >= 45.0 => "D",
            s if s >= 35.0 => "E",
            s if s >= 25.0 => "O",
            _ => "F",
        },
    }
}

/// ZiG (ZWG) per US dollar on a day: a synthetic official rate drifting slowly upward.
pub(crate) fn zwg_rate_e4(day: NaiveDate) -> i64 {
    let base = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or(NaiveDate::MIN);
    250_000 + (day - base).num_days() * 20
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.r#gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// How a learner's last year at the school ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    /// The current year: still enrolled, or left during it (dropped out, transferred).
    Current,
    /// An earlier year, the last of the school's level: finished.
    Completed,
    /// An earlier year, left during it.
    DroppedOut,
}

/// How many times more likely than the average learner one is to repeat a grade or drop out.
///
/// The exponential of a weighted sum of what the early-warning literature finds behind leaving
/// school (low achievement, chronic absence, starting school late, a family that pays nothing,
/// an orphan or vulnerable child without BEAM), divided by its mean over learners, so that the
/// country's rates stay those of the base probabilities. This law is what the platform's
/// early-warning model is judged on recovering; it is stated in `docs/model-card.md`.
#[derive(Debug, Clone, Copy)]
struct Risk(f64);

impl Risk {
    /// ln E[exp(sum)] over the learners the generator draws (computed from the draws' laws:
    /// ability N(0, 1), 8 % chronically absent, the late-start and payment mixes).
    const MEAN_LOG: f64 = 2.15;

    fn of(ability: f64, chronic: bool, late_start: i32, unpaid: bool, unsupported: bool) -> Risk {
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let sum = -1.7 * ability
            + 1.8 * flag(chronic)
            + 0.6 * f64::from(late_start)
            + 0.7 * flag(unpaid)
            + 0.4 * flag(unsupported);
        Risk((sum - Self::MEAN_LOG).exp())
    }
}

/// One learner's enrolment in one year.
struct Spell {
    year_ix: usize,
    grade_ix: usize,
    stream: u32,
    entry: &'static str,
    start: NaiveDate,
    /// Last day enrolled and why it ended; `None` while enrolled.
    exit: Option<(NaiveDate, &'static str)>,
}

/// A class of one year: (year index, grade index, stream) → id.
struct Classes {
    ids: Vec<Uuid>,
    grades: usize,
    streams: u32,
}

impl Classes {
    fn id(&self, year_ix: usize, grade_ix: usize, stream: u32) -> Uuid {
        self.ids[(year_ix * self.grades + grade_ix) * self.streams as usize + stream as usize]
    }
}

struct Gen<'a, 'b> {
    p: &'a SeedParams,
    cal: &'a Calendar,
    school: &'a School,
    ids: Ids,
    rng: ChaCha8Rng,
    money: ChaCha8Rng,
    scores: ChaCha8Rng,
    stamp: i64,
    out: &'a mut Out<'b>,
    stats: Stats,
    classes: Classes,
    /// Assessments of each class: (year index, grade index, stream) → [(id, term, held_on)],
    /// per subject, in the order of `subjects`.
    assessments: Vec<Vec<(Uuid, i32, NaiveDate)>>,
    beam_paid_on: Vec<Option<NaiveDate>>,
}

/// Generates every row of `school` into `out`.
pub(crate) fn generate(
    p: &SeedParams,
    cal: &Calendar,
    school: &School,
    stamp: i64,
    out: &mut Out<'_>,
) -> Result<Stats, SynthError> {
    let stream = school.index as u64 + 1;
    let mut g = Gen {
        p,
        cal,
        school,
        ids: Ids::for_stream(p.seed, stream),
        rng: rng_for(p.seed, LEARNERS, stream),
        money: rng_for(p.seed, MONEY, stream),
        scores: rng_for(p.seed, SCORES, stream),
        stamp,
        out,
        stats: Stats::default(),
        classes: Classes { ids: Vec::new(), grades: school.grades.len(), streams: school.streams },
        assessments: Vec::new(),
        beam_paid_on: Vec::new(),
    };
    g.classes_and_assessments();
    g.beam_dates();
    let learners = g.learners()?;
    let mut staff_rng = rng_for(p.seed, STAFF, stream);
    workforce::staff_rows(
        &mut staff_rng,
        &mut g.ids,
        school,
        learners,
        cal.current().start,
        stamp,
        g.out.buf(Table::Staff),
    );
    g.out.flush_full()?;
    Ok(g.stats)
}

impl Gen<'_, '_> {
    fn classes_and_assessments(&mut self) {
        let school = self.school;
        for (year_ix, year) in self.cal.years.iter().enumerate() {
            for grade in &school.grades {
                for stream in 0..school.streams {
                    let id = self.ids.next();
                    let letter = names::CLASS_NAMES[stream as usize % names::CLASS_NAMES.len()];
                    let name = format!("{} {letter}", grade.as_str());
                    self.out
                        .buf(Table::Classes)
                        .row(7)
                        .uuid(id)
                        .uuid(school.id)
                        .int4(year.year)
                        .text(grade.as_str())
                        .text(&name)
                        .timestamptz(self.stamp)
                        .timestamptz(self.stamp);
                    self.classes.ids.push(id);
                    if year_ix + 1 == self.cal.years.len() {
                        self.stats.current_classes.push((id, !grade.is_ecd()));
                    }
                    let mut tests = Vec::new();
                    for subject in subjects(*grade, school.province, stream) {
                        for term in &year.terms {
                            let held_on = test_day(term);
                            if held_on > self.p.as_of {
                                continue;
                            }
                            let aid = self.ids.next();
                            self.out
                                .buf(Table::Assessments)
                                .row(11)
                                .uuid(aid)
                                .uuid(school.id)
                                .uuid(id)
                                .int4(year.year)
                                .int4(term.term)
                                .text(subject)
                                .text(&format!("Term {} {subject} test", term.term))
                                .numeric(100, 0)
                                .date(pg_date(held_on))
                                .timestamptz(self.stamp)
                                .timestamptz(self.stamp);
                            tests.push((aid, term.term, held_on));
                        }
                    }
                    self.assessments.push(tests);
                }
            }
        }
    }

    /// BEAM pays late and in bulk: one day per term for the whole school, weeks after the term
    /// closed (or not yet, by `as_of`).
    fn beam_dates(&mut self) {
        for year in &self.cal.years {
            for term in &year.terms {
                let late = self.money.gen_range(30..=75);
                let day = term.end.checked_add_days(Days::new(late)).unwrap_or(term.end);
                self.beam_paid_on.push((day <= self.p.as_of).then_some(day));
            }
        }
    }

    fn beam_day(&self, year_ix: usize, term: i32) -> Option<NaiveDate> {
        let before: usize = self.cal.years[..year_ix].iter().map(|y| y.terms.len()).sum();
        self.beam_paid_on.get(before + term as usize - 1).copied().flatten()
    }

    /// The current year's roll, class by class, each learner with their earlier years; then
    /// the leavers of earlier years (the Grade 7, Form 4 and Form 6 classes that sat ZIMSEC and
    /// left). Returns the current roll.
    fn learners(&mut self) -> Result<u32, SynthError> {
        let school = self.school;
        let current_ix = self.cal.years.len() - 1;
        let mut seq = 0u32;
        for gi in 0..school.grades.len() {
            for stream in 0..school.streams {
                for _ in 0..self.class_size(gi) {
                    seq += 1;
                    self.learner(current_ix, gi, stream, seq, Last::Current);
                    self.out.flush_full()?;
                }
            }
        }
        let roll = seq;
        for year_ix in 0..current_ix {
            for gi in 0..school.grades.len() {
                for stream in 0..school.streams {
                    // Those who finished the level here that year (examination grades), and
                    // those of the class who dropped out during it: each of a class's places is
                    // a candidate, kept when their risk says they left.
                    let finished = exam_of(school.grades[gi]).is_some();
                    for _ in 0..self.class_size(gi) {
                        if finished && self.learner(year_ix, gi, stream, seq + 1, Last::Completed) {
                            seq += 1;
                        }
                        if self.learner(year_ix, gi, stream, seq + 1, Last::DroppedOut) {
                            seq += 1;
                        }
                        self.out.flush_full()?;
                    }
                }
            }
        }
        Ok(roll)
    }

    fn class_size(&mut self, gi: usize) -> u32 {
        let size = self.rng.gen_range(self.p.class_size.0..=self.p.class_size.1);
        // ECD classes are smaller.
        if gi < 2 && self.school.level == SchoolLevel::Primary { size * 2 / 3 } else { size }.max(1)
    }

    /// A learner whose last year here is `year_ix`, ending as `last` says; `false` when a
    /// candidate for [`Last::DroppedOut`] stayed (nothing is written for them).
    fn learner(&mut self, year_ix: usize, gi: usize, stream: u32, seq: u32, last: Last) -> bool {
        let school = self.school;
        let grade = school.grades[gi];
        let rural = school.location == Location::Rural;
        // Who the learner is decides their risk of repeating a grade and of dropping out: low
        // achievement, chronic absence, being over-age, a family that pays nothing, an orphan
        // or vulnerable child without BEAM (see `Risk`).
        let ability = normal(&mut self.scores);
        let chronic = self.rng.gen_bool(0.08);
        let ovc = self.rng.gen_bool(0.12);
        let beam =
            ovc && !matches!(school.ownership, "private" | "trust") && self.money.gen_bool(0.6);
        let payer = match (self.money.gen_range(0..100), rural) {
            (0..=49, false) | (0..=34, true) => 1.0,
            (50..=84, false) | (35..=79, true) => self.money.gen_range(0.3..0.9),
            _ => 0.0,
        };
        let rng = &mut self.rng;
        let late_start = match (school.location, rng.gen_range(0..100)) {
            (Location::Rural, 0..=4) => 2,
            (Location::Rural, 5..=24) => 1,
            (Location::Urban, 0..=7) => 1,
            _ => 0,
        };
        let risk = Risk::of(ability, chronic, late_start, payer == 0.0 && !beam, ovc && !beam);
        let dropout_p = (if grade.is_primary() {
            0.012
        } else if rural {
            0.04
        } else {
            0.02
        }) * school.factor
            * risk.0;
        if last == Last::DroppedOut && !rng.gen_bool(dropout_p.min(0.6)) {
            return false;
        }
        let leaver = last != Last::Current;
        let id = self.ids.next();
        let p_female = if rural && !grade.is_primary() { 0.47 } else { 0.5 };
        let sex = if rng.gen_bool(p_female) { "F" } else { "M" };
        let first = names::first_name(rng, sex);
        let last_name = names::pick(rng, names::SURNAMES);
        let is_entry = |g: usize| g == 0 || school.grades[g] == Grade::F5;
        let repeat_p = ((if rural { 0.06 } else { 0.025 }) * school.factor * risk.0).min(0.5);
        let transfer_in = !is_entry(gi) && last == Last::Current && rng.gen_bool(0.02);
        // Walking back from this year: was each year a repeat of the grade (the year before it
        // then the same grade), until the school's entry grade or the first year generated.
        // Transfers-in have no history here.
        // Nobody is more than two years over the official age of their grade (the register's
        // bounds): a learner who started school late repeats that much less.
        let mut repeats = Vec::new();
        let (mut g, mut y) = (gi, year_ix);
        while !transfer_in && !is_entry(g) {
            let room = late_start + (repeats.iter().filter(|r| **r).count() as i32) < 2;
            let repeated = rng.gen_bool(repeat_p) && room;
            repeats.push(repeated);
            if y == 0 {
                break;
            }
            g -= usize::from(!repeated);
            y -= 1;
        }
        let over_age = late_start + repeats.iter().filter(|r| **r).count() as i32;
        // Completed years on 1 January of the academic year: born in the year before
        // `year - age`, on any day but 1 January.
        let age = grade.official_age() as i32 + over_age;
        let year = &self.cal.years[year_ix];
        let birth_year = year.year - age - 1;
        let dob =
            NaiveDate::from_yo_opt(birth_year, rng.gen_range(2..=365)).unwrap_or(NaiveDate::MIN);
        let disability = rng
            .gen_bool(0.02)
            .then(|| names::pick(rng, &["visual", "hearing", "physical", "learning"]));
        // How the year ends, if it has for this learner.
        let exit = match last {
            Last::Completed => None,
            Last::DroppedOut => Some("dropout"),
            Last::Current if rng.gen_bool(dropout_p.min(0.6)) => Some("dropout"),
            Last::Current if rng.gen_bool(0.015) => Some("transfer_out"),
            Last::Current => None,
        };
        let start =
            if transfer_in { pick_day(rng, &year.days).unwrap_or(year.start) } else { year.start };
        let exit = if last == Last::Completed {
            Some((year.end, "completed"))
        } else {
            exit.and_then(|reason| {
                let later: Vec<SchoolDay> =
                    year.days.iter().filter(|d| d.date > start).copied().collect();
                pick_day(rng, &later).map(|d| (d, reason))
            })
        };
        let status = match exit {
            Some((_, "dropout")) => "dropped_out",
            Some((_, "completed")) => "completed",
            Some(_) => "transferred",
            None => "active",
        };
        if !leaver {
            self.stats.census.add(school.district, age, if sex == "F" { "F" } else { "M" });
            self.stats.learners += 1;
        }
        self.out
            .buf(Table::Learners)
            .row(12)
            .uuid(id)
            .uuid(school.id)
            .text(&format!("{}-{seq:05}", school.emis))
            .text(first)
            .text(last_name)
            .text(sex)
            .date(pg_date(dob))
            .opt_text(disability)
            .bool(ovc)
            .text(status)
            .timestamptz(self.stamp)
            .timestamptz(self.stamp);

        let mut spells = Vec::new();
        let (mut g, mut y) = (gi, year_ix);
        for back in 0.. {
            let repeated = repeats.get(back).copied().unwrap_or(false);
            let yr = &self.cal.years[y];
            spells.push(Spell {
                year_ix: y,
                grade_ix: g,
                stream,
                entry: if is_entry(g) {
                    "new"
                } else if repeated {
                    "repeater"
                } else if transfer_in {
                    "transfer_in"
                } else {
                    "promoted"
                },
                start: if back == 0 { start } else { yr.start },
                exit: if back == 0 { exit } else { Some((yr.end, "completed")) },
            });
            // A spell without a decision is at the entry grade; the first year has none before.
            if back + 1 > repeats.len() || y == 0 {
                break;
            }
            g -= usize::from(!repeated);
            y -= 1;
        }
        // A learner's ability carries across years; attendance and results follow it.
        let base = (if rural { 0.07 } else { 0.045 }) * school.factor;
        let p_absent = if chronic { self.rng.gen_range(0.15..0.35) } else { base };
        for spell in spells.iter().rev() {
            self.spell(id, spell, p_absent, ability, beam, payer);
        }
        true
    }

    fn spell(
        &mut self,
        learner: Uuid,
        s: &Spell,
        p_absent: f64,
        ability: f64,
        beam: bool,
        payer: f64,
    ) {
        let school = self.school;
        let year: &Year = &self.cal.years[s.year_ix];
        let grade = school.grades[s.grade_ix];
        let class_id = self.classes.id(s.year_ix, s.grade_ix, s.stream);
        let (end, reason) = match s.exit {
            Some((d, r)) => (Some(d), Some(r)),
            None => (None, None),
        };
        self.out
            .buf(Table::Enrolments)
            .row(12)
            .uuid(self.ids.next())
            .uuid(school.id)
            .uuid(learner)
            .int4(year.year)
            .text(grade.as_str())
            .uuid(class_id)
            .text(s.entry)
            .date(pg_date(s.start))
            .opt_date(end.map(pg_date))
            .opt_text(reason)
            .timestamptz(self.stamp)
            .timestamptz(self.stamp);

        // Daily marks on the school days of the spell.
        let last = end.unwrap_or(year.end);
        let rural = school.location == Location::Rural;
        let dropping = reason == Some("dropout");
        let mut marked = 0u32;
        let mut absent = 0u32;
        let n_days = year.days.len();
        for (i, day) in year.days.iter().enumerate() {
            if day.date < s.start || day.date > last {
                continue;
            }
            let mut p = p_absent;
            if day.from_start < 5 || day.to_end < 5 {
                p += 0.03;
            }
            if day.friday {
                p += 0.015;
            }
            if rural && day.term == 1 {
                p += 0.02; // rains: flooded rivers, work in the fields
            }
            // Absence climbs in the weeks before a learner drops out.
            if dropping && days_between(&year.days, i, day.date, last, n_days) < 25 {
                p += 0.25;
            }
            let r: f64 = self.rng.r#gen();
            if !day.marked {
                continue;
            }
            let status = if r < p {
                absent += 1;
                "absent"
            } else if r < p + 0.03 {
                "late"
            } else if r < p + 0.04 {
                "excused"
            } else {
                "present"
            };
            marked += 1;
            self.out
                .buf(Table::Marks)
                .row(8)
                .uuid(self.ids.next())
                .uuid(school.id)
                .uuid(learner)
                .uuid(class_id)
                .date(day.pg)
                .text(status)
                .timestamptz(self.stamp)
                .timestamptz(self.stamp);
        }
        self.stats.marks += marked as usize;
        let absence = if marked > 0 { f64::from(absent) / f64::from(marked) } else { p_absent };
        let mean = 57.0 + 12.0 * ability
            - 60.0 * (absence - 0.07)
            - if grade.is_primary() { 0.0 } else { 4.0 };

        // School tests held while enrolled.
        let tests_ix = (s.year_ix * self.classes.grades + s.grade_ix)
            * self.classes.streams as usize
            + s.stream as usize;
        let n_tests = self.assessments[tests_ix].len();
        for t in 0..n_tests {
            let (aid, _, held_on) = self.assessments[tests_ix][t];
            if held_on < s.start || held_on > last {
                continue;
            }
            let score = (mean + 8.0 * normal(&mut self.scores)).clamp(0.0, 100.0);
            self.out
                .buf(Table::Results)
                .row(8)
                .uuid(self.ids.next())
                .uuid(school.id)
                .uuid(aid)
                .uuid(learner)
                .numeric((score * 2.0).round() as i64 * 50, 2)
                .numeric(10_000, 2)
                .timestamptz(self.stamp)
                .timestamptz(self.stamp);
        }

        // ZIMSEC: candidates still enrolled sit in November of the final year of the level.
        if let Some(exam) = exam_of(grade) {
            let sitting = NaiveDate::from_ymd_opt(year.year, 11, 15).unwrap_or(year.end);
            if sitting <= self.p.as_of
                && end.is_none_or(|e| e >= sitting || reason == Some("completed"))
            {
                for subject in subjects(grade, school.province, s.stream) {
                    let score = (mean + 10.0 * normal(&mut self.scores)).clamp(0.0, 100.0);
                    self.out
                        .buf(Table::ExamResults)
                        .row(9)
                        .uuid(self.ids.next())
                        .uuid(school.id)
                        .uuid(learner)
                        .int4(year.year)
                        .text(exam)
                        .text(subject)
                        .text(exam_grade(exam, score))
                        .timestamptz(self.stamp)
                        .timestamptz(self.stamp);
                }
            }
        }

        // Fees: an invoice per term begun while enrolled; payments never above what is owed.
        for term in &year.terms {
            if term.start > last || term.end < s.start {
                continue;
            }
            let issued = term.start.max(s.start);
            let due = issued.checked_add_days(Days::new(30)).unwrap_or(issued);
            let invoice = self.ids.next();
            let amount = school.fee_cents;
            self.out
                .buf(Table::Invoices)
                .row(11)
                .uuid(invoice)
                .uuid(school.id)
                .uuid(learner)
                .int4(year.year)
                .int4(term.term)
                .text("USD")
                .numeric(amount, 2)
                .date(pg_date(issued))
                .date(pg_date(due))
                .timestamptz(self.stamp)
                .timestamptz(self.stamp);
            let inv =
                Invoice { id: invoice, learner, year: year.year, term: *term, issued, amount };
            if beam {
                if let Some(day) = self.beam_day(s.year_ix, term.term) {
                    let reference = format!("BEAM {} T{} {}", year.year, term.term, school.emis);
                    self.payment(&inv, amount, day, "beam", None, Some(&reference));
                }
                continue;
            }
            self.payments(&inv, payer);
        }
    }

    /// A family's payments on one invoice: `payer` of the fee (0 to 1), in one to three
    /// instalments, some in ZiG at the day's rate, all on or before `as_of`.
    fn payments(&mut self, inv: &Invoice, payer: f64) {
        let target = (inv.amount as f64 * payer).round() as i64;
        if target <= 0 {
            return;
        }
        let until =
            inv.term.end.checked_add_days(Days::new(20)).unwrap_or(inv.term.end).min(self.p.as_of);
        if until < inv.issued {
            return;
        }
        let span = (until - inv.issued).num_days().max(0) as u64;
        let n = self.money.gen_range(1..=3u32);
        let mut days: Vec<NaiveDate> = (0..n)
            .map(|_| {
                inv.issued
                    .checked_add_days(Days::new(self.money.gen_range(0..=span)))
                    .unwrap_or(inv.issued)
            })
            .filter(|d| *d <= self.p.as_of)
            .collect();
        days.sort_unstable();
        if days.is_empty() {
            return;
        }
        let mut left = target;
        let count = days.len() as i64;
        for (i, day) in days.into_iter().enumerate() {
            let part =
                if i as i64 == count - 1 { left } else { (target / count / 100).max(1) * 100 };
            let part = part.min(left);
            if part <= 0 {
                break;
            }
            left -= part;
            let zwg = self.money.gen_bool(0.3);
            let method = if zwg {
                ["cash", "ecocash", "bank"][self.money.gen_range(0..3)]
            } else {
                ["cash", "cash", "paynow", "bank", "ecocash"][self.money.gen_range(0..5)]
            };
            let rate = zwg.then(|| zwg_rate_e4(day));
            self.payment(inv, part, day, method, rate, None);
        }
    }

    fn payment(
        &mut self,
        inv: &Invoice,
        applied_cents: i64,
        day: NaiveDate,
        method: &str,
        rate_e4: Option<i64>,
        reference: Option<&str>,
    ) {
        let id = self.ids.next();
        let buf = self.out.buf(Table::Payments);
        buf.row(16)
            .uuid(id)
            .uuid(self.school.id)
            .uuid(inv.learner)
            .uuid(inv.id)
            .int4(inv.year)
            .int4(inv.term.term);
        match rate_e4 {
            Some(rate) => {
                let zwg_cents = (applied_cents as i128 * rate as i128 + 5_000) / 10_000;
                buf.text("ZWG").numeric(zwg_cents as i64, 2).numeric(rate, 4);
            }
            None => {
                buf.text("USD").numeric(applied_cents, 2).null();
            }
        }
        buf.numeric(applied_cents, 2)
            .text(method)
            .date(pg_date(day))
            .opt_text(reference)
            .text(&format!("seed-{id}"))
            .timestamptz(self.stamp)
            .timestamptz(self.stamp);
    }
}

struct Invoice {
    id: Uuid,
    learner: Uuid,
    year: i32,
    term: Term,
    issued: NaiveDate,
    amount: i64,
}

/// The day a term's end-of-term test is held: two weeks before it closes.
fn test_day(term: &Term) -> NaiveDate {
    let day = term.end.checked_sub_days(Days::new(14)).unwrap_or(term.end);
    match day.weekday() {
        chrono::Weekday::Sat => day.checked_sub_days(Days::new(1)).unwrap_or(day),
        chrono::Weekday::Sun => day.checked_sub_days(Days::new(2)).unwrap_or(day),
        _ => day,
    }
}

fn pick_day(rng: &mut impl Rng, days: &[SchoolDay]) -> Option<NaiveDate> {
    (!days.is_empty()).then(|| days[rng.gen_range(0..days.len())].date)
}

/// School days from day `i` (dated `date`) to `last`, at most `n` (the year's day count).
fn days_between(days: &[SchoolDay], i: usize, date: NaiveDate, last: NaiveDate, n: usize) -> usize {
    if date > last {
        return 0;
    }
    days[i..n].iter().take_while(|d| d.date <= last).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exam_grades_follow_the_scales() {
        assert_eq!(exam_grade("G7", 95.0), "1");
        assert_eq!(exam_grade("G7", 5.0), "9");
        assert_eq!(exam_grade("O", 50.0), "C");
        assert_eq!(exam_grade("O", 10.0), "U");
        assert_eq!(exam_grade("A", 80.0), "A");
        assert_eq!(exam_grade("A", 26.0), "O");
        assert_eq!(exam_grade("A", 5.0), "F");
    }

    #[test]
    fn every_table_has_its_columns() {
        for t in Table::ALL {
            assert!(t.columns().starts_with("id, school_id"), "{}", t.name());
            assert!(t.columns().ends_with("created_at, updated_at"), "{}", t.name());
        }
    }

    #[test]
    fn the_zig_rate_drifts_up() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).expect("date");
        assert!(zwg_rate_e4(d(11, 1)) > zwg_rate_e4(d(1, 13)));
        assert!((250_000..300_000).contains(&zwg_rate_e4(d(6, 1))));
    }
}
