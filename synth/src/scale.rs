//! Named sizes of the synthetic country, from a district-sized demo to the whole of Zimbabwe.

use chrono::NaiveDate;

use crate::SeedParams;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Two schools a province: quick to seed, for trying things out.
    District,
    /// Thirty schools a province: a province-sized data set.
    Province,
    /// A thousand schools a province: about the 10,000 schools of the real country.
    National,
}

impl Scale {
    pub fn schools_per_province(self) -> usize {
        match self {
            Scale::District => 2,
            Scale::Province => 30,
            Scale::National => 1_000,
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
    SeedParams {
        seed,
        schools_per_province: scale.schools_per_province(),
        ..SeedParams::demo(as_of)
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
        assert_eq!((national.seed, national.schools_per_province), (7, 1_000));
    }
}
