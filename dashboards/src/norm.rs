//! The schools furthest from their area's figure on an indicator: on the page of the nation, a
//! province or a district, the schools inside it whose figure differs most from the area's own,
//! above or below. Only schools the viewer may see, and only those every listing above them
//! shows: a school hidden in its district's listing (under 5 learners, or hidden so that
//! another cannot be worked out) or inside a hidden district or province is never named here,
//! or this list would undo the suppression.

use std::collections::{BTreeMap, HashSet};

use oneclass_warehouse::{ScalarValue, Warehouse};

use crate::area::{Level, suppression};
use crate::error::DashError;
use crate::results::{Results, named_or_empty};
use crate::viewer::Viewer;

const QUERY: &str = "dash_norm";

/// How many schools the list shows.
pub const FURTHEST: usize = 10;

/// One figure of the indicator at province, district or school level.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Figure {
    pub level: String,
    pub code: String,
    pub value: Option<f64>,
    pub learners: i64,
    pub name: Option<String>,
    pub district: Option<String>,
    pub province: Option<String>,
}

/// One school of the list: (school id, name, district, province, value, value − the area's).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outlier {
    pub school: String,
    pub name: String,
    pub district: String,
    pub province: String,
    pub value: f64,
    pub difference: f64,
}

pub(crate) async fn figures(
    warehouse: &Warehouse,
    code: &str,
    year: Option<i32>,
) -> Result<Vec<Figure>, DashError> {
    let params = vec![ScalarValue::Utf8(Some(code.to_owned())), ScalarValue::Int32(year)];
    let batches = named_or_empty(warehouse, QUERY, params).await?;
    let r = Results { query: QUERY, batches: &batches };
    let (levels, codes, values) =
        (r.texts("scope_level")?, r.texts("scope_code")?, r.floats("value")?);
    let (learners, names) = (r.ints("learners")?, r.texts("school_name")?);
    let (districts, provinces) = (r.texts("district")?, r.texts("province")?);
    Ok((0..r.num_rows())
        .map(|i| Figure {
            level: levels[i].clone().unwrap_or_default(),
            code: codes[i].clone().unwrap_or_default(),
            value: values[i],
            learners: learners[i].unwrap_or(0),
            name: names[i].clone(),
            district: districts[i].clone(),
            province: provinces[i].clone(),
        })
        .collect())
}

/// The districts and schools every listing above them shows (see [`schools_shown`]).
#[derive(Debug, Default)]
pub(crate) struct Shown {
    pub districts: HashSet<String>,
    pub schools: HashSet<String>,
}

/// The schools every listing above them shows, as the pages decide it: the nation's listing of
/// provinces (its total is not shown above it), each province's of districts and each
/// district's of schools (their totals are, so one hidden group hides another).
pub(crate) fn schools_shown(figures: &[Figure]) -> HashSet<String> {
    shown(figures).schools
}

/// The districts and schools every listing above them shows.
pub(crate) fn shown(figures: &[Figure]) -> Shown {
    let shown = |groups: Vec<&Figure>, complementary: bool| -> Vec<String> {
        let learners: Vec<i64> = groups.iter().map(|g| g.learners).collect();
        groups
            .iter()
            .zip(suppression(&learners, complementary))
            .filter(|(_, hidden)| !hidden)
            .map(|(g, _)| g.code.clone())
            .collect()
    };
    let at = |level: &'static str| figures.iter().filter(move |f| f.level == level);
    let provinces: HashSet<String> = shown(at("province").collect(), false).into_iter().collect();
    let mut by_province: BTreeMap<&str, Vec<&Figure>> = BTreeMap::new();
    for d in at("district") {
        by_province.entry(d.province.as_deref().unwrap_or_default()).or_default().push(d);
    }
    let mut districts = HashSet::new();
    for (province, groups) in by_province {
        if provinces.contains(province) {
            districts.extend(shown(groups, true));
        }
    }
    let mut by_district: BTreeMap<&str, Vec<&Figure>> = BTreeMap::new();
    for s in at("school") {
        by_district.entry(s.district.as_deref().unwrap_or_default()).or_default().push(s);
    }
    let mut schools = HashSet::new();
    for (district, groups) in by_district {
        if districts.contains(district) {
            schools.extend(shown(groups, true));
        }
    }
    Shown { districts, schools }
}

/// The schools of `level`'s area furthest from `norm` (the area's own figure), for `viewer`.
pub(crate) async fn furthest(
    warehouse: &Warehouse,
    code: &str,
    year: Option<i32>,
    level: &Level,
    norm: f64,
    viewer: &Viewer,
) -> Result<Vec<Outlier>, DashError> {
    if matches!(level, Level::School { .. }) || *viewer == Viewer::Public {
        return Ok(Vec::new());
    }
    let figures = figures(warehouse, code, year).await?;
    let shown = schools_shown(&figures);
    Ok(rank(&figures, &shown, level, norm, viewer))
}

/// The ranking itself: schools inside the area, shown by every listing, seen by the viewer,
/// with a value; the largest differences first.
pub(crate) fn rank(
    figures: &[Figure],
    shown: &HashSet<String>,
    level: &Level,
    norm: f64,
    viewer: &Viewer,
) -> Vec<Outlier> {
    let mut out: Vec<Outlier> = figures
        .iter()
        .filter(|f| f.level == "school" && shown.contains(&f.code))
        .filter_map(|f| {
            let (district, province) = (f.district.clone()?, f.province.clone()?);
            let inside = match level {
                Level::National => true,
                Level::Province(p) => *p == province,
                Level::District { district: d, .. } => *d == district,
                Level::School { .. } => false,
            };
            let seen = viewer.sees_school(Some(&province), &district, &f.code);
            let value = f.value?;
            (inside && seen).then(|| Outlier {
                school: f.code.clone(),
                name: f.name.clone().unwrap_or_else(|| f.code.clone()),
                district,
                province,
                value,
                difference: value - norm,
            })
        })
        .collect();
    out.sort_by(|a, b| b.difference.abs().total_cmp(&a.difference.abs()).then(a.name.cmp(&b.name)));
    out.truncate(FURTHEST);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use oneclass_warehouse::Area;

    fn figure(
        level: &str,
        code: &str,
        learners: i64,
        value: f64,
        district: &str,
        province: &str,
    ) -> Figure {
        Figure {
            level: level.into(),
            code: code.into(),
            value: Some(value),
            learners,
            name: Some(format!("{code} School")),
            district: (!district.is_empty()).then(|| district.into()),
            province: Some(province.into()),
        }
    }

    /// Harare (40 learners) has two districts: Central (30: schools a 20, b 7, c 3) and Mbare
    /// (10: school d 10). Bulawayo (12) has one district, North (12: e 12). In Central, c (3) is
    /// under 5 and b, the smallest shown, is hidden with it; Central and Mbare both show (none
    /// under 5). So a, d and e are the schools every listing shows.
    #[test]
    fn a_school_hidden_in_any_listing_above_it_is_never_ranked() {
        let figures = vec![
            figure("province", "Harare", 40, 60.0, "", "Harare"),
            figure("province", "Bulawayo", 12, 80.0, "", "Bulawayo"),
            figure("district", "Central", 30, 55.0, "Central", "Harare"),
            figure("district", "Mbare", 10, 75.0, "Mbare", "Harare"),
            figure("district", "North", 12, 80.0, "North", "Bulawayo"),
            figure("school", "a", 20, 50.0, "Central", "Harare"),
            figure("school", "b", 7, 99.0, "Central", "Harare"),
            figure("school", "c", 3, 10.0, "Central", "Harare"),
            figure("school", "d", 10, 75.0, "Mbare", "Harare"),
            figure("school", "e", 12, 80.0, "North", "Bulawayo"),
        ];
        let shown = schools_shown(&figures);
        let mut names: Vec<&str> = shown.iter().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["a", "d", "e"]);

        let ministry = Viewer::Official(Area::National);
        let ranked = rank(&figures, &shown, &Level::National, 70.0, &ministry);
        let order: Vec<(&str, f64)> =
            ranked.iter().map(|o| (o.school.as_str(), o.difference)).collect();
        assert_eq!(order, [("a", -20.0), ("e", 10.0), ("d", 5.0)]);
        // A province's page ranks its own schools; an official of Mbare sees only Mbare's.
        let harare = Level::Province("Harare".into());
        let ranked = rank(&figures, &shown, &harare, 60.0, &ministry);
        assert_eq!(ranked.iter().map(|o| o.school.as_str()).collect::<Vec<_>>(), ["d", "a"]);
        let mbare = Viewer::Official(Area::District("Mbare".into()));
        let ranked = rank(&figures, &shown, &harare, 60.0, &mbare);
        assert_eq!(ranked.iter().map(|o| o.school.as_str()).collect::<Vec<_>>(), ["d"]);
    }
}
