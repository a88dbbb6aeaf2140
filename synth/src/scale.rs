//! Named sizes of the synthetic country, from a district-sized demo to the whole of Zimbabwe.

use chrono::NaiveDate;

use crate::params::SeedParams;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Two schools a province, the year so far: quick to seed, for trying things out.
    District,
    /// Thirty schools a province, the year so far (about 60,000 learners, 13 million rows).
    Province,
    /// The whole country: 10,000 schools, about 4.6 million learners in classes of 20 to 44,
    /// two or three streams a grade in towns, a month of attendance (about 100 million marks).
    National,
}

impl Scale {
    /// Schools in all.
    pub fn schools(self) -> usize {
        match self {
            Scale::District => 20,
            Scale::Province => 300,
            Scale::National => 10_000,
        }
    }
}

impl std::str::FromStr for Scale {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "district" => Ok(Scale::District),
            "province" => Ok(Scale::Province),
            "national" => Ok(Scale::National),
            other => Err(format!("unknown scale {other:?}: use district, province or national")),
        }
    }
}

/// The demo's parameters at `scale`.
pub fn params_for(scale: Scale, seed: u64, as_of: NaiveDate) -> SeedParams {
    let demo = SeedParams::demo(as_of);
    match scale {
        Scale::District | Scale::Province => SeedParams { seed, schools: scale.schools(), ..demo },
        Scale::National => SeedParams {
            seed,
            schools: scale.schools(),
            class_size: (20, 44),
            streams: (1, 3),
            attendance_days: Some(22),
            ..demo
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_parse_and_grow() {
        let parsed: Result<Vec<Scale>, _> =
            ["district", "province", "national"].iter().map(|s| s.parse::<Scale>()).collect();
        assert_eq!(parsed, Ok(vec![Scale::District, Scale::Province, Scale::National]));
        assert!("country".parse::<Scale>().is_err());
        let as_of = NaiveDate::from_ymd_opt(2026, 9, 20).expect("date");
        let national = params_for(Scale::National, 7, as_of);
        assert_eq!((national.seed, national.schools), (7, 10_000));
        assert_eq!(national.attendance_days, Some(22));
    }
}
