//! Population by district, single age and sex for the academic year: the denominators of
//! enrolment ratios. Derived from the seeded enrolment so that the ratios come out plausible
//! (gross enrolment about 95% in primary and 60% in lower secondary), with a little noise.

use std::collections::{BTreeMap, BTreeSet};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::copy::Binary;
use crate::params::{SeedParams, rng_for};
use crate::plan::School;

pub(crate) const COLUMNS: &str = "year, district, age, sex, population";

/// Ages the population table covers: ECD through upper secondary, and a year beyond.
pub const AGES: std::ops::RangeInclusive<i32> = 3..=19;

/// Share of the population of an age that is enrolled. The gross enrolment ratio comes out a
/// little above it: over-age learners count in enrolment but not in the official-age population.
fn participation(age: i32) -> Option<f64> {
    match age {
        6..=12 => Some(0.92),
        13..=16 => Some(0.60),
        _ => None,
    }
}

/// Enrolled learners by (district, completed age on 1 January, sex).
#[derive(Debug, Default)]
pub(crate) struct Census(BTreeMap<(&'static str, i32, &'static str), u32>);

impl Census {
    /// Adds another school's counts.
    pub(crate) fn merge(&mut self, other: Census) {
        for (k, v) in other.0 {
            *self.0.entry(k).or_insert(0) += v;
        }
    }

    pub(crate) fn add(&mut self, district: &'static str, age: i32, sex: &'static str) {
        *self.0.entry((district, age, sex)).or_insert(0) += 1;
    }

    fn get(&self, district: &'static str, age: i32, sex: &'static str) -> u32 {
        self.0.get(&(district, age, sex)).copied().unwrap_or(0)
    }
}

/// One district's population of one sex, by age over `AGES`. Never 0: a district whose schools
/// enrol no one of an age (a secondary school alone, say) still has children of that age.
pub(crate) fn district_population(
    census: &Census,
    district: &'static str,
    sex: &'static str,
    rng: &mut ChaCha8Rng,
) -> Vec<(i32, u32)> {
    let mut out: Vec<(i32, u32)> = AGES
        .map(|age| {
            let pop = participation(age).map_or(0.0, |share| {
                f64::from(census.get(district, age, sex)) / share * rng.gen_range(0.96..1.04)
            });
            // Finite and non-negative; the cast saturates.
            (age, (pop.round() as u32).max(1))
        })
        .collect();
    // Ages outside school ages: about the size of the largest school-age cohort.
    let cohort = out.iter().map(|(_, pop)| *pop).max().unwrap_or(1);
    for (age, pop) in &mut out {
        if participation(*age).is_none() {
            let trend = if *age < 6 { 1.03 } else { 0.97 };
            *pop = ((f64::from(cohort) * trend * rng.gen_range(0.96..1.04)).round() as u32).max(1);
        }
    }
    out
}

/// Rows of `ref.population` for every district that has a seeded school.
pub(crate) fn population_rows(
    census: &Census,
    schools: &[School],
    p: &SeedParams,
    rows: &mut Binary,
) {
    let mut rng = rng_for(p.seed, 0x0909_1a7e, 0);
    let districts: BTreeSet<&'static str> = schools.iter().map(|s| s.district).collect();
    for district in districts {
        for sex in ["F", "M"] {
            for (age, pop) in district_population(census, district, sex, &mut rng) {
                rows.row(5)
                    .int4(p.academic_year)
                    .text(district)
                    .int4(age)
                    .text(sex)
                    .int4(pop as i32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn population_exceeds_enrolment_and_is_never_zero() {
        let mut census = Census::default();
        for _ in 0..90 {
            census.add("Gweru", 8, "F");
        }
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let pop = district_population(&census, "Gweru", "F", &mut rng);
        assert_eq!(pop.len(), AGES.count());
        assert!(pop.iter().all(|(_, n)| *n > 0));
        let at_8 = pop.iter().find(|(age, _)| *age == 8).map(|(_, n)| *n).unwrap_or(0);
        assert!((94..=103).contains(&at_8), "{at_8}");
    }
}
