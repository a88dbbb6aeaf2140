//! The school register: which schools exist, where, of what kind, and what they charge. Drawn
//! first and in one thread (it is small), then every school is generated on its own.

use oneclass_core::types::{Grade, Location, PROVINCES, SchoolLevel};
use rand::Rng;
use uuid::Uuid;

use crate::copy::Binary;
use crate::names;
use crate::params::{Ids, SeedParams, rng_for};

pub(crate) const PURPOSE: u64 = 0x5c40_0150;

/// Province differences in repetition, dropout and absence (multipliers of the national rates):
/// higher in the drier, poorer south and west, lower in the two cities.
pub(crate) fn province_factor(province: &str) -> f64 {
    match province {
        "Harare" | "Bulawayo" => 0.7,
        "Matabeleland North" | "Matabeleland South" | "Masvingo" => 1.35,
        "Mashonaland Central" | "Midlands" => 1.1,
        _ => 1.0,
    }
}

pub(crate) struct School {
    pub(crate) index: usize,
    pub(crate) id: Uuid,
    pub(crate) emis: String,
    pub(crate) province: &'static str,
    pub(crate) district: &'static str,
    pub(crate) level: SchoolLevel,
    pub(crate) location: Location,
    pub(crate) ownership: &'static str,
    pub(crate) grades: Vec<Grade>,
    /// Classes per grade.
    pub(crate) streams: u32,
    /// Fee per learner and term, in US cents.
    pub(crate) fee_cents: i64,
    /// The province's multiplier of repetition, dropout and absence.
    pub(crate) factor: f64,
}

const PRIMARY: [Grade; 9] = [
    Grade::EcdA,
    Grade::EcdB,
    Grade::G1,
    Grade::G2,
    Grade::G3,
    Grade::G4,
    Grade::G5,
    Grade::G6,
    Grade::G7,
];
const SECONDARY: [Grade; 6] = [Grade::F1, Grade::F2, Grade::F3, Grade::F4, Grade::F5, Grade::F6];

fn ownership(rng: &mut impl Rng, location: Location) -> &'static str {
    let r = rng.gen_range(0..100);
    match location {
        Location::Rural => match r {
            0..=54 => "council",
            55..=74 => "government",
            75..=94 => "mission",
            95..=97 => "private",
            _ => "trust",
        },
        Location::Urban => match r {
            0..=59 => "government",
            60..=74 => "mission",
            75..=89 => "private",
            90..=94 => "trust",
            _ => "council",
        },
    }
}

/// A term's fee in US cents: low in rural council and government schools, high in private ones.
fn fee_cents(rng: &mut impl Rng, level: SchoolLevel, ownership: &str, location: Location) -> i64 {
    let dollars: i64 = match (ownership, location) {
        ("private", _) => rng.gen_range(400..=1_500),
        ("trust", _) => rng.gen_range(300..=900),
        ("mission", _) => rng.gen_range(60..=250),
        (_, Location::Urban) => rng.gen_range(40..=120),
        (_, Location::Rural) => rng.gen_range(10..=30),
    };
    let dollars = if level == SchoolLevel::Primary { dollars } else { dollars * 3 / 2 };
    dollars * 100
}

/// The schools of the seed, in EMIS order province by province in turn, and their COPY rows.
pub(crate) fn schools(p: &SeedParams, stamp: i64, out: &mut Binary) -> Vec<School> {
    let mut rng = rng_for(p.seed, PURPOSE, 0);
    let mut ids = Ids::for_stream(p.seed, 0);
    let mut schools = Vec::with_capacity(p.schools);
    for index in 0..p.schools {
        let pi = index % PROVINCES.len();
        let si = index / PROVINCES.len();
        let province = PROVINCES[pi];
        let districts = names::districts(province);
        let (district, urban_district) = districts[si % districts.len()];
        let urban = if urban_district { rng.gen_bool(0.9) } else { rng.gen_bool(0.12) };
        let location = if urban { Location::Urban } else { Location::Rural };
        // Three schools in ten are secondary (about 3,100 of 10,000).
        let level = if matches!(si % 10, 1 | 4 | 7) {
            SchoolLevel::Secondary
        } else {
            SchoolLevel::Primary
        };
        let grades: Vec<Grade> = match level {
            SchoolLevel::Primary => PRIMARY.to_vec(),
            _ => {
                let a_level = rng.gen_bool(if urban { 0.5 } else { 0.15 });
                SECONDARY[..if a_level { 6 } else { 4 }].to_vec()
            }
        };
        let streams = if urban {
            rng.gen_range(p.streams.0.midpoint(p.streams.1)..=p.streams.1)
        } else {
            rng.gen_range(p.streams.0..=p.streams.0.midpoint(p.streams.1))
        };
        let owner = ownership(&mut rng, location);
        let fee = fee_cents(&mut rng, level, owner, location);
        let place = names::pick(&mut rng, names::PLACES);
        let kind = if level == SchoolLevel::Primary { "Primary" } else { "High" };
        let name = if si < names::PLACES.len() {
            format!("{place} {kind} School")
        } else {
            format!("{place} {kind} School No. {}", si / names::PLACES.len() + 1)
        };
        let emis = format!("{:02}{:04}", pi + 1, 1000 + si);
        let id = ids.next();
        out.row(10)
            .uuid(id)
            .text(&emis)
            .text(&name)
            .text(province)
            .text(district)
            .text(level.as_str())
            .text(owner)
            .text(location.as_str())
            .timestamptz(stamp)
            .timestamptz(stamp);
        schools.push(School {
            index,
            id,
            emis,
            province,
            district,
            level,
            location,
            ownership: owner,
            grades,
            streams,
            fee_cents: fee,
            factor: province_factor(province),
        });
    }
    schools
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn the_register_covers_every_province_and_both_levels() {
        let mut p = SeedParams::demo(NaiveDate::from_ymd_opt(2026, 9, 20).expect("date"));
        p.schools = 200;
        let mut out = Binary::new();
        let schools = schools(&p, 0, &mut out);
        assert_eq!(schools.len(), 200);
        assert_eq!(schools[0].emis, "011000");
        for province in PROVINCES {
            assert!(schools.iter().any(|s| s.province == province));
        }
        let secondary = schools.iter().filter(|s| s.level == SchoolLevel::Secondary).count();
        assert_eq!(secondary, 60);
        assert!(schools.iter().any(|s| s.location == Location::Rural));
        assert!(schools.iter().any(|s| s.location == Location::Urban));
        assert!(schools.iter().all(|s| s.fee_cents >= 1_000));
        let mut emis: Vec<&str> = schools.iter().map(|s| s.emis.as_str()).collect();
        emis.sort_unstable();
        emis.dedup();
        assert_eq!(emis.len(), 200, "EMIS codes are unique");
    }
}
