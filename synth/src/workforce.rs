//! Staff of every school: a head, teachers enough for a plausible pupil–teacher ratio, and a few
//! others. Ratios and the share of trained teachers follow ZIMBABWE.md: about 1:40 in primary and
//! 1:30 in secondary, higher in rural schools, which also have fewer trained teachers.

use chrono::{Days, NaiveDate};
use oneclass_core::types::{Location, SchoolLevel};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::copy::{Binary, pg_date};
use crate::params::Ids;
use crate::plan::School;

pub(crate) const COLUMNS: &str =
    "id, school_id, sex, post, qualification, start_date, end_date, created_at, updated_at";

/// The ratio a school staffs to, before ±10% noise.
fn target_ratio(level: SchoolLevel, location: Location) -> f64 {
    match (level, location) {
        (SchoolLevel::Primary, Location::Urban) => 37.0,
        (SchoolLevel::Primary, Location::Rural) => 45.0,
        (_, Location::Urban) => 27.0,
        (_, Location::Rural) => 33.0,
    }
}

/// Classroom teachers for `learners`: at least one, however small the school.
pub(crate) fn teachers_for(learners: u32, ratio: f64) -> u32 {
    let n = (f64::from(learners) / ratio).round();
    // `n` is finite and non-negative (learners ≥ 0, ratio > 0); the cast saturates anyway.
    (n as u32).max(1)
}

fn p_trained(location: Location) -> f64 {
    if location == Location::Rural { 0.80 } else { 0.92 }
}

/// Appends the staff of `school` (with `learners` enrolled); returns its classroom teachers.
pub(crate) fn staff_rows(
    rng: &mut ChaCha8Rng,
    ids: &mut Ids,
    school: &School,
    learners: u32,
    year_start: NaiveDate,
    stamp: i64,
    rows: &mut Binary,
) -> u32 {
    let ratio = target_ratio(school.level, school.location) * rng.gen_range(0.9..1.1);
    let teachers = teachers_for(learners, ratio);
    let primary = school.level == SchoolLevel::Primary;
    let mut posts: Vec<&str> = vec!["head"];
    if learners >= 300 {
        posts.push("deputy");
    }
    posts.extend(std::iter::repeat_n("teacher", teachers as usize));
    // ECD classes are not seeded, but primary schools employ their ECD teachers.
    if primary && rng.gen_bool(0.6) {
        posts.push("ecd_teacher");
    }
    if !primary || learners >= 400 {
        posts.push("bursar");
    }
    if school.location == Location::Urban && rng.gen_bool(0.5) {
        posts.push("clerk");
    }
    let ancillary = rng.gen_range(1..=3);
    posts.extend(std::iter::repeat_n("ancillary", ancillary));
    for post in posts {
        push_member(rng, ids, school, post, year_start, stamp, rows);
    }
    teachers
}

fn push_member(
    rng: &mut ChaCha8Rng,
    ids: &mut Ids,
    school: &School,
    post: &str,
    year_start: NaiveDate,
    stamp: i64,
    rows: &mut Binary,
) {
    let p_female = match post {
        "head" | "deputy" => 0.4,
        "ecd_teacher" => 0.9,
        "teacher" if school.level == SchoolLevel::Primary => 0.6,
        _ => 0.45,
    };
    let sex = if rng.gen_bool(p_female) { "F" } else { "M" };
    let qualification = match post {
        "head" | "deputy" => Some("trained"),
        "teacher" | "ecd_teacher" => {
            Some(if rng.gen_bool(p_trained(school.location)) { "trained" } else { "untrained" })
        }
        _ => None,
    };
    // Joined up to 25 years before the academic year; still in post.
    let start =
        year_start.checked_sub_days(Days::new(rng.gen_range(0..=9_125))).unwrap_or(year_start);
    rows.row(9)
        .uuid(ids.next())
        .uuid(school.id)
        .text(sex)
        .text(post)
        .opt_text(qualification)
        .date(pg_date(start))
        .null()
        .timestamptz(stamp)
        .timestamptz(stamp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_school_has_a_teacher_and_ratios_follow_size() {
        assert_eq!(teachers_for(0, 40.0), 1);
        assert_eq!(teachers_for(10, 40.0), 1);
        assert_eq!(teachers_for(400, 40.0), 10);
        assert_eq!(teachers_for(450, 45.0), 10);
    }

    #[test]
    fn rural_schools_are_staffed_more_thinly() {
        for level in [SchoolLevel::Primary, SchoolLevel::Secondary] {
            assert!(target_ratio(level, Location::Rural) > target_ratio(level, Location::Urban));
        }
        assert!(p_trained(Location::Rural) < p_trained(Location::Urban));
    }
}
