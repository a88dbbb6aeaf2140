//! Enrolment projection by the cohort-survival method: the learners of a grade next year are
//! this year's learners of the grade below times the grade-progression ratio (GPR) last seen
//! between them; the entry grade follows its population (or stays level without one). Each area
//! (a district) is projected on its own; provinces and the nation are the sums of their
//! districts. The interval is the spread of each ratio over the years the history holds, and
//! widens with every year projected.

use std::collections::BTreeMap;

/// The grades in order, ECD A to Form 6: a grade's predecessor is the one before it.
pub const GRADES: [&str; 15] = [
    "ECD_A", "ECD_B", "G1", "G2", "G3", "G4", "G5", "G6", "G7", "F1", "F2", "F3", "F4", "F5", "F6",
];

/// Where a ratio seen only once is given no spread of its own, each projected year widens the
/// interval by this share either way.
const ONE_YEAR_SPREAD: f64 = 0.03;

/// Learners by area, year and grade (an index into [`GRADES`]).
pub type Counts = BTreeMap<(String, i32), [f64; GRADES.len()]>;

/// One projected figure with its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Projected {
    pub area: String,
    pub year: i32,
    pub grade: &'static str,
    pub learners: f64,
    pub low: f64,
    pub high: f64,
}

/// Grades entered by selection rather than by moving up: Form 5 takes the O-level passes it
/// chooses, so its intake follows its own trend, not the size of last year's Form 4.
const SELECTED_ENTRY: [&str; 1] = ["F5"];

/// How a grade is fed: from the grade below it a year earlier (its progression ratio), or, where
/// the area had nobody in the grade below (an entry grade: ECD A, or Form 1 in a district whose
/// Grade 7 learners are elsewhere) or the grade is entered by selection (Form 5), from its own
/// learners a year earlier.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Feed {
    Below(f64),
    Itself(f64),
}

/// The feeds of `area`'s grades from `year - 1` to `year` (None: nobody to measure by).
fn ratios(counts: &Counts, area: &str, year: i32) -> Option<[Option<Feed>; GRADES.len()]> {
    let before = counts.get(&(area.to_owned(), year - 1))?;
    let now = counts.get(&(area.to_owned(), year))?;
    let mut r = [None; GRADES.len()];
    for g in 0..GRADES.len() {
        r[g] = if g > 0 && !SELECTED_ENTRY.contains(&GRADES[g]) && before[g - 1] > 0.0 {
            Some(Feed::Below(now[g] / before[g - 1]))
        } else if before[g] > 0.0 {
            Some(Feed::Itself(now[g] / before[g]))
        } else {
            None
        };
    }
    Some(r)
}

fn ratio_of(feed: Option<Feed>) -> Option<f64> {
    feed.map(|f| match f {
        Feed::Below(r) | Feed::Itself(r) => r,
    })
}

/// Projects every area of `counts` from `base_year` for `horizon` years. `entry_growth` gives,
/// per area and projected year, how the entry grade's population changes on the year before
/// (1.0 when unknown: the entry grade's ratio seen in the history is used instead).
pub fn project(
    counts: &Counts,
    base_year: i32,
    horizon: u32,
    entry_growth: &dyn Fn(&str, i32) -> Option<f64>,
) -> Vec<Projected> {
    let areas: Vec<String> =
        counts.keys().filter(|(_, y)| *y == base_year).map(|(a, _)| a.clone()).collect();
    let mut out = Vec::new();
    for area in areas {
        // Every year of ratios the history holds, newest last.
        let history: Vec<[Option<Feed>; GRADES.len()]> = counts
            .keys()
            .filter(|(a, y)| *a == area && *y <= base_year)
            .filter_map(|(_, y)| ratios(counts, &area, *y))
            .collect();
        let Some(latest) = history.last() else { continue };
        let spread = |g: usize| {
            let seen: Vec<f64> = history.iter().filter_map(|r| ratio_of(r[g])).collect();
            match seen.as_slice() {
                [] | [_] => (1.0 - ONE_YEAR_SPREAD, 1.0 + ONE_YEAR_SPREAD),
                many => {
                    let point = ratio_of(latest[g]).unwrap_or(1.0).max(f64::MIN_POSITIVE);
                    let lo = many.iter().copied().fold(f64::MAX, f64::min) / point;
                    let hi = many.iter().copied().fold(f64::MIN, f64::max) / point;
                    (lo.min(1.0 - ONE_YEAR_SPREAD), hi.max(1.0 + ONE_YEAR_SPREAD))
                }
            }
        };
        let base = counts[&(area.clone(), base_year)];
        let (mut mid, mut low, mut high) = (base, base, base);
        for step in 1..=horizon {
            let year = base_year + step as i32;
            let (prev_mid, prev_low, prev_high) = (mid, low, high);
            for g in 0..GRADES.len() {
                let (lo, hi) = spread(g);
                let (from_mid, from_low, from_high, ratio) = match (g, latest[g]) {
                    (_, Some(Feed::Below(r))) => {
                        (prev_mid[g - 1], prev_low[g - 1], prev_high[g - 1], r)
                    }
                    // The first grade follows its population where known, else stays level
                    // (its own past is no guide: the history of a first grade is the cohorts
                    // that moved on, not the intake).
                    (0, _) => {
                        let growth = entry_growth(&area, year).unwrap_or(1.0);
                        (prev_mid[0], prev_low[0], prev_high[0], growth)
                    }
                    (_, Some(Feed::Itself(r))) => (prev_mid[g], prev_low[g], prev_high[g], r),
                    (_, None) => (0.0, 0.0, 0.0, 0.0),
                };
                mid[g] = from_mid * ratio;
                low[g] = from_low * ratio * lo;
                high[g] = from_high * ratio * hi;
            }
            for (g, grade) in GRADES.iter().enumerate() {
                out.push(Projected {
                    area: area.clone(),
                    year,
                    grade,
                    learners: mid[g],
                    low: low[g],
                    high: high[g],
                });
            }
        }
    }
    out
}

/// Teachers needed for `learners` at a target pupil–teacher ratio.
pub fn teachers_needed(learners: f64, target_ptr: f64) -> f64 {
    (learners / target_ptr.max(1.0)).ceil()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[(usize, f64)]) -> [f64; GRADES.len()] {
        let mut r = [0.0; GRADES.len()];
        for &(g, v) in values {
            r[g] = v;
        }
        r
    }

    #[test]
    fn cohorts_move_up_by_their_ratios_worked_by_hand() {
        let mut counts = Counts::new();
        // 2025: 100 in ECD A, 80 in ECD B. 2026: 110 in ECD A, 90 in ECD B, 76 in G1.
        counts.insert(("D".into(), 2025), row(&[(0, 100.0), (1, 80.0)]));
        counts.insert(("D".into(), 2026), row(&[(0, 110.0), (1, 90.0), (2, 76.0)]));
        let p = project(&counts, 2026, 2, &|_, _| None);
        let at = |year: i32, grade: &str| {
            p.iter().find(|x| x.year == year && x.grade == grade).expect("projected").learners
        };
        // ECD A stays level without a population to follow: 110, then 110.
        assert!((at(2027, "ECD_A") - 110.0).abs() < 1e-9);
        assert!((at(2028, "ECD_A") - 110.0).abs() < 1e-9);
        // ECD B = last year's ECD A × 90/100: 99. G1 = last year's ECD B × 76/80: 85.5.
        assert!((at(2027, "ECD_B") - 99.0).abs() < 1e-9);
        assert!((at(2027, "G1") - 85.5).abs() < 1e-9);
        // A grade whose predecessor had nobody is projected as nobody.
        assert_eq!(at(2027, "G3"), 0.0);
        // The interval holds the point and widens with the horizon.
        let first = p.iter().find(|x| x.year == 2027 && x.grade == "ECD_B").expect("ECD B");
        let second = p.iter().find(|x| x.year == 2028 && x.grade == "ECD_B").expect("ECD B");
        assert!(first.low < first.learners && first.learners < first.high);
        assert!(second.high / second.learners > first.high / first.learners);
        // Population growth, when known, drives the entry grade.
        let with_pop = project(&counts, 2026, 1, &|_, _| Some(1.02));
        let ecd_a = with_pop.iter().find(|x| x.grade == "ECD_A").expect("ECD A");
        assert!((ecd_a.learners - 112.2).abs() < 1e-9);
        assert_eq!(teachers_needed(1_001.0, 40.0), 26.0);
    }
}
