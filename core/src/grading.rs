//! ZIMSEC grading: the three scales (Grade 7 units 1–9, O level A–U, A level A–F with points),
//! read from reference data (`ref.grade_boundaries`) so that boundaries change without a
//! release; term marks as the weighted mean of assessments; and the summaries ZIMBABWE.md
//! names (a Grade 7 aggregate, five O level passes, A level points).

pub use crate::types::Exam;
use crate::types::Grade;

impl Exam {
    /// The scale a class of `grade` is reported on: Grade 7 units for primary, O level for
    /// Forms 1–4, A level for Forms 5–6; none for ECD.
    pub fn for_grade(grade: Grade) -> Option<Exam> {
        match grade {
            Grade::EcdA | Grade::EcdB => None,
            Grade::F5 | Grade::F6 => Some(Exam::ALevel),
            g if g.is_primary() => Some(Exam::G7),
            _ => Some(Exam::OLevel),
        }
    }

    /// The examination a grade sits at the end of its year, if any.
    pub fn sat_in(grade: Grade) -> Option<Exam> {
        match grade {
            Grade::G7 => Some(Exam::G7),
            Grade::F4 => Some(Exam::OLevel),
            Grade::F6 => Some(Exam::ALevel),
            _ => None,
        }
    }

    /// The level of the curriculum whose learning areas (`ref.subjects.level`) it examines.
    pub fn subject_level(self) -> &'static str {
        match self {
            Exam::G7 => "primary",
            Exam::OLevel => "o_level",
            Exam::ALevel => "a_level",
        }
    }
}

/// One grade of a scale: earned by a percentage at or above `min_percent`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Boundary {
    pub grade: String,
    pub min_percent: f64,
    /// A level points (A 5 … E 1, O and F 0); none on the other scales.
    pub points: Option<i32>,
    pub passes: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScaleError {
    #[error("the {0} scale has no grades")]
    Empty(Exam),
    #[error("the {0} scale has no grade for 0 %: every mark must earn a grade")]
    NoFloor(Exam),
    #[error("the {0} scale has two grades at {1} %")]
    Duplicate(Exam, f64),
    #[error("the {exam} scale's grade {grade} has a boundary of {percent} %, outside 0 to 100")]
    OutOfRange { exam: Exam, grade: String, percent: f64 },
}

/// A grading scale: its grades from the best (highest boundary) down.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    pub exam: Exam,
    grades: Vec<Boundary>,
}

impl Scale {
    pub fn new(exam: Exam, mut grades: Vec<Boundary>) -> Result<Scale, ScaleError> {
        if grades.is_empty() {
            return Err(ScaleError::Empty(exam));
        }
        if let Some(b) = grades.iter().find(|b| !(0.0..=100.0).contains(&b.min_percent)) {
            return Err(ScaleError::OutOfRange {
                exam,
                grade: b.grade.clone(),
                percent: b.min_percent,
            });
        }
        grades.sort_by(|a, b| b.min_percent.total_cmp(&a.min_percent));
        if let Some(w) = grades.windows(2).find(|w| w[0].min_percent == w[1].min_percent) {
            return Err(ScaleError::Duplicate(exam, w[0].min_percent));
        }
        if grades.last().is_some_and(|b| b.min_percent > 0.0) {
            return Err(ScaleError::NoFloor(exam));
        }
        Ok(Scale { exam, grades })
    }

    /// The grade a percentage earns (percentages outside 0–100 are held to it).
    pub fn grade(&self, percent: f64) -> &Boundary {
        let p = if percent.is_nan() { 0.0 } else { percent.clamp(0.0, 100.0) };
        self.grades.iter().find(|b| p >= b.min_percent).unwrap_or_else(|| {
            // `new` guarantees a grade at 0 %, the last one.
            &self.grades[self.grades.len() - 1]
        })
    }

    /// The scale's grades, best first.
    pub fn grades(&self) -> &[Boundary] {
        &self.grades
    }
}

/// A learner's result in one assessment: `score` out of `max_score`, counting `weight`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weighted {
    pub score: f64,
    pub max_score: f64,
    pub weight: f64,
}

/// A term mark: the weighted mean of the percentages of the assessments the learner sat (an
/// assessment missed does not count as zero: it is left out, with its weight). `None` when the
/// learner sat none.
pub fn term_mark(results: &[Weighted]) -> Option<f64> {
    let valid = results.iter().filter(|r| r.max_score > 0.0 && r.weight > 0.0);
    let (sum, weights) = valid
        .fold((0.0, 0.0), |(s, w), r| (s + 100.0 * r.score / r.max_score * r.weight, w + r.weight));
    (weights > 0.0).then(|| sum / weights)
}

/// A Grade 7 aggregate: the units of the best four subjects, a missing subject counted as 9
/// (so 4 to 36 whatever the candidate sat), as the gold indicator G7_PASS_RATE reckons it.
pub fn g7_aggregate(units: &[u8]) -> u32 {
    let mut sorted: Vec<u32> = units.iter().map(|&u| u32::from(u.clamp(1, 9))).collect();
    sorted.sort_unstable();
    sorted.resize(sorted.len().max(4), 9);
    sorted[..4].iter().sum()
}

/// O level: five or more subjects at C or better.
pub fn o_level_passes(grades: &[&str]) -> bool {
    grades.iter().filter(|g| matches!(**g, "A" | "B" | "C")).count() >= 5
}

/// A level points: A 5, B 4, C 3, D 2, E 1, O and F 0.
pub fn a_level_points(grades: &[&str]) -> u32 {
    grades
        .iter()
        .map(|g| match *g {
            "A" => 5,
            "B" => 4,
            "C" => 3,
            "D" => 2,
            "E" => 1,
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(grade: &str, min: f64, points: Option<i32>, passes: bool) -> Boundary {
        Boundary { grade: grade.into(), min_percent: min, points, passes }
    }

    /// The boundaries the migration seeds into `ref.grade_boundaries`.
    fn seeded(exam: Exam) -> Scale {
        let grades = match exam {
            // Unit 1 from 80 %, each unit 8 points lower, unit 9 below 24 %.
            Exam::G7 => (1..=9)
                .map(|u| {
                    let min = if u == 9 { 0 } else { 88 - 8 * u };
                    b(&u.to_string(), f64::from(min), None, u <= 6)
                })
                .collect(),
            Exam::OLevel => vec![
                b("A", 75.0, None, true),
                b("B", 65.0, None, true),
                b("C", 50.0, None, true),
                b("D", 40.0, None, false),
                b("E", 30.0, None, false),
                b("U", 0.0, None, false),
            ],
            Exam::ALevel => vec![
                b("A", 75.0, Some(5), true),
                b("B", 65.0, Some(4), true),
                b("C", 55.0, Some(3), true),
                b("D", 45.0, Some(2), true),
                b("E", 35.0, Some(1), true),
                b("O", 25.0, Some(0), false),
                b("F", 0.0, Some(0), false),
            ],
        };
        Scale::new(exam, grades).expect("a valid scale")
    }

    #[test]
    fn grade_7_units_from_1_to_9() {
        let s = seeded(Exam::G7);
        // (percent, unit) at and around every boundary.
        for (p, unit) in [
            (100.0, "1"),
            (80.0, "1"),
            (79.99, "2"),
            (72.0, "2"),
            (64.0, "3"),
            (63.5, "4"),
            (56.0, "4"),
            (48.0, "5"),
            (40.0, "6"),
            (39.9, "7"),
            (32.0, "7"),
            (24.0, "8"),
            (23.9, "9"),
            (0.0, "9"),
        ] {
            assert_eq!(s.grade(p).grade, unit, "{p} %");
        }
        assert!(s.grade(40.0).passes);
        assert!(!s.grade(39.0).passes);
    }

    #[test]
    fn o_level_a_to_u_with_c_the_last_pass() {
        let s = seeded(Exam::OLevel);
        for (p, g) in [
            (75.0, "A"),
            (74.9, "B"),
            (65.0, "B"),
            (50.0, "C"),
            (49.9, "D"),
            (40.0, "D"),
            (30.0, "E"),
            (29.9, "U"),
        ] {
            assert_eq!(s.grade(p).grade, g, "{p} %");
        }
        assert!(s.grade(50.0).passes);
        assert!(!s.grade(49.0).passes);
        assert!(o_level_passes(&["A", "B", "C", "C", "C", "D"]));
        assert!(!o_level_passes(&["A", "B", "C", "C", "D", "E", "U"]));
    }

    #[test]
    fn a_level_a_to_f_with_points() {
        let s = seeded(Exam::ALevel);
        let points: Vec<(String, Option<i32>)> = [80.0, 70.0, 60.0, 50.0, 40.0, 30.0, 10.0]
            .iter()
            .map(|p| (s.grade(*p).grade.clone(), s.grade(*p).points))
            .collect();
        assert_eq!(
            points,
            [("A", 5), ("B", 4), ("C", 3), ("D", 2), ("E", 1), ("O", 0), ("F", 0)]
                .map(|(g, p)| (g.to_owned(), Some(p)))
        );
        assert_eq!(a_level_points(&["A", "B", "C"]), 12);
        assert_eq!(a_level_points(&["E", "O", "F"]), 1);
    }

    #[test]
    fn out_of_range_marks_are_held_to_the_scale() {
        let s = seeded(Exam::OLevel);
        assert_eq!(s.grade(120.0).grade, "A");
        assert_eq!(s.grade(-5.0).grade, "U");
        assert_eq!(s.grade(f64::NAN).grade, "U");
    }

    #[test]
    fn bad_scales_are_refused() {
        assert_eq!(Scale::new(Exam::G7, vec![]), Err(ScaleError::Empty(Exam::G7)));
        let no_floor = vec![b("A", 50.0, None, true), b("B", 10.0, None, false)];
        assert_eq!(Scale::new(Exam::OLevel, no_floor), Err(ScaleError::NoFloor(Exam::OLevel)));
        let twice =
            vec![b("A", 50.0, None, true), b("B", 50.0, None, true), b("U", 0.0, None, false)];
        assert!(matches!(Scale::new(Exam::OLevel, twice), Err(ScaleError::Duplicate(_, _))));
        let high = vec![b("A", 150.0, None, true), b("U", 0.0, None, false)];
        assert!(matches!(Scale::new(Exam::OLevel, high), Err(ScaleError::OutOfRange { .. })));
    }

    #[test]
    fn term_marks_weigh_what_was_sat() {
        // A test of 40 marks scored 30 (75 %, weight 1) and an exam of 100 scored 60 (60 %,
        // weight 3): (75 × 1 + 60 × 3) ÷ 4 = 63.75.
        let mark = term_mark(&[
            Weighted { score: 30.0, max_score: 40.0, weight: 1.0 },
            Weighted { score: 60.0, max_score: 100.0, weight: 3.0 },
        ]);
        assert_eq!(mark, Some(63.75));
        assert_eq!(term_mark(&[]), None);
        let bad = Weighted { score: 1.0, max_score: 0.0, weight: 1.0 };
        assert_eq!(term_mark(&[bad]), None);
    }

    #[test]
    fn grade_7_aggregate_is_the_best_four_with_missing_as_nine() {
        assert_eq!(g7_aggregate(&[1, 2, 3, 4, 9, 9]), 10);
        assert_eq!(g7_aggregate(&[2, 2, 2]), 15);
        assert_eq!(g7_aggregate(&[]), 36);
        assert_eq!(g7_aggregate(&[0, 12, 1, 1]), 1 + 1 + 1 + 9);
    }

    #[test]
    fn scales_follow_the_grade() {
        assert_eq!(Exam::for_grade(Grade::EcdB), None);
        assert_eq!(Exam::for_grade(Grade::G3), Some(Exam::G7));
        assert_eq!(Exam::for_grade(Grade::F2), Some(Exam::OLevel));
        assert_eq!(Exam::for_grade(Grade::F6), Some(Exam::ALevel));
        assert_eq!(Exam::sat_in(Grade::G7), Some(Exam::G7));
        assert_eq!(Exam::sat_in(Grade::F3), None);
    }
}
