//! What every drill-down page shares: where in Zimbabwe › province › district a page is, the
//! links between levels, the breadcrumbs, and which groups are too small to show.

use futures::future::BoxFuture;
use oneclass_warehouse::ScalarValue;
use url::form_urlencoded;

use crate::error::DashError;
use crate::i18n::Text;
use crate::viewer::Viewer;

/// Public and area dashboards never show a group of fewer learners than this (ARCHITECTURE.md).
pub const MIN_LEARNERS: i64 = 5;

/// Which groups of one listing to hide: those under `MIN_LEARNERS` (primary suppression), and,
/// when the listing's total is shown on the page above (`complementary`) and exactly one group is
/// hidden, also the smallest visible one, so that the hidden figures cannot be recovered by
/// subtracting the shown groups from that total. A group hidden here hides everything below it
/// too (see [`hidden_in_parent`]), so drilling down cannot undo it.
pub fn suppression(learners: &[i64], complementary: bool) -> Vec<bool> {
    let mut hidden: Vec<bool> = learners.iter().map(|&n| n < MIN_LEARNERS).collect();
    if complementary && hidden.iter().filter(|h| **h).count() == 1 {
        let smallest_visible = learners
            .iter()
            .enumerate()
            .filter(|(i, _)| !hidden[*i])
            .min_by_key(|(_, n)| **n)
            .map(|(i, _)| i);
        if let Some(i) = smallest_visible {
            hidden[i] = true;
        }
    }
    hidden
}

/// Longest province or district name accepted; real ones are far shorter.
const MAX_PARAM_CHARS: usize = 80;

/// Where in the drill-down a page is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Level {
    National,
    Province(String),
    District {
        province: Option<String>,
        district: String,
    },
    /// One school (by id), within its district's listing.
    School {
        province: Option<String>,
        district: String,
        school: String,
    },
}

impl Level {
    /// From the `province`, `district` and `school` parameters (blank means absent); a school
    /// is reached through its district.
    pub fn parse(
        province: Option<String>,
        district: Option<String>,
        school: Option<String>,
        t: &Text,
    ) -> Result<Self, DashError> {
        let province = clean(province, "province", t)?;
        let district = clean(district, "district", t)?;
        let school = clean(school, "school", t)?;
        Ok(match (province, district, school) {
            (None, None, None) => Level::National,
            (Some(p), None, None) => Level::Province(p),
            (province, Some(district), None) => Level::District { province, district },
            (province, Some(district), Some(school)) => {
                Level::School { province, district, school }
            }
            (_, None, Some(_)) => {
                return Err(DashError::BadRequest(format!("{} (district)", t.invalid_parameter)));
            }
        })
    }

    /// The listing this level's group appears in, and its code there.
    pub fn parent(&self) -> Option<(Level, String)> {
        match self {
            Level::National => None,
            Level::Province(p) => Some((Level::National, p.clone())),
            Level::District { province: Some(p), district } => {
                Some((Level::Province(p.clone()), district.clone()))
            }
            // Reached only by hand-made links; without a province there is no listing above.
            Level::District { province: None, .. } => None,
            Level::School { province, district, school } => Some((
                Level::District { province: province.clone(), district: district.clone() },
                school.clone(),
            )),
        }
    }

    /// The total of a listing at this level is shown on the page above, except nationally.
    pub fn total_shown_above(&self) -> bool {
        *self != Level::National
    }

    /// `$1` province and `$2` district (or null) of the named queries.
    pub fn query_params(&self) -> Vec<ScalarValue> {
        let text = |s: Option<&String>| ScalarValue::Utf8(s.cloned());
        match self {
            Level::National => vec![text(None), text(None)],
            Level::Province(p) => vec![text(Some(p)), text(None)],
            Level::District { province, district } | Level::School { province, district, .. } => {
                vec![text(province.as_ref()), text(Some(district))]
            }
        }
    }

    /// The school of a school page (`$5` of the indicator listing), or null.
    pub fn school_param(&self) -> ScalarValue {
        match self {
            Level::School { school, .. } => ScalarValue::Utf8(Some(school.clone())),
            _ => ScalarValue::Utf8(None),
        }
    }

    /// Refuses a school's page to a viewer who may not see the school.
    pub fn check_viewer(&self, viewer: &Viewer, t: &Text) -> Result<(), DashError> {
        match self {
            Level::School { province, district, school }
                if !viewer.sees_school(province.as_deref(), district, school) =>
            {
                Err(DashError::Forbidden(t.schools_signed_in.to_owned()))
            }
            _ => Ok(()),
        }
    }

    /// Whether a group of this level's listing is shown to `viewer`: a district's groups are
    /// schools, seen only by their area's officials and their staff.
    pub fn shows_group(&self, viewer: &Viewer, code: &str) -> bool {
        match self {
            Level::District { province, district } => {
                viewer.sees_school(province.as_deref(), district, code)
            }
            _ => true,
        }
    }

    /// This level's place as page parameters (province, district, school).
    pub fn parent_place(&self) -> Option<Vec<(&'static str, String)>> {
        let mut pairs = Vec::new();
        match self {
            Level::National => return None,
            Level::Province(p) => pairs.push(("province", p.clone())),
            Level::District { province, district } => {
                pairs.extend(province.iter().map(|p| ("province", p.clone())));
                pairs.push(("district", district.clone()));
            }
            Level::School { province, district, school } => {
                pairs.extend(province.iter().map(|p| ("province", p.clone())));
                pairs.push(("district", district.clone()));
                pairs.push(("school", school.clone()));
            }
        }
        Some(pairs)
    }

    /// The page's heading and what its listing's groups are.
    pub fn headings<'t>(&self, t: &'t Text) -> (String, &'t str) {
        match self {
            Level::National => (t.national.to_owned(), t.province),
            Level::Province(p) => (p.clone(), t.district),
            Level::District { district, .. } => (district.clone(), t.school),
            Level::School { school, .. } => (school.clone(), t.sex),
        }
    }
}

/// The `year` parameter: blank means the latest; otherwise a year from 2000 to 2100.
pub(crate) fn parse_year(value: Option<&str>, t: &Text) -> Result<Option<i32>, DashError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .map(Some)
            .ok_or_else(|| DashError::BadRequest(format!("{} (year)", t.invalid_parameter))),
    }
}

/// Blank means absent; anything else must be a plausible name.
fn clean(value: Option<String>, name: &str, t: &Text) -> Result<Option<String>, DashError> {
    let Some(value) = value else { return Ok(None) };
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > MAX_PARAM_CHARS || value.chars().any(char::is_control) {
        return Err(DashError::BadRequest(format!("{} ({name})", t.invalid_parameter)));
    }
    Ok(Some(value.to_owned()))
}

/// Links within one page: its path, the parameters every link keeps (the indicator, the
/// year), and the area's.
pub(crate) struct Links {
    pub page: &'static str,
    pub keep: Vec<(&'static str, String)>,
}

impl Links {
    pub fn to(&self, pairs: &[(&str, &str)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.keep {
            query.append_pair(key, value);
        }
        for (key, value) in pairs {
            query.append_pair(key, value);
        }
        let query = query.finish();
        if query.is_empty() { self.page.to_owned() } else { format!("{}?{query}", self.page) }
    }

    /// The page of a group of the listing at `level` (none below schools).
    pub fn group(&self, level: &Level, code: &str) -> Option<String> {
        match level {
            Level::National => Some(self.to(&[("province", code)])),
            Level::Province(p) => Some(self.to(&[("province", p), ("district", code)])),
            Level::District { province, district } => {
                let mut pairs: Vec<(&str, &str)> =
                    province.iter().map(|p| ("province", p.as_str())).collect();
                pairs.extend([("district", district.as_str()), ("school", code)]);
                Some(self.to(&pairs))
            }
            Level::School { .. } => None,
        }
    }

    /// Zimbabwe › province › district, each linking up except the current page.
    pub fn breadcrumbs(&self, level: &Level, t: &Text) -> Vec<Crumb> {
        let crumb = |label: &str, href: Option<String>| Crumb { label: label.to_owned(), href };
        let top = || crumb(t.national, Some(self.to(&[])));
        match level {
            Level::National => vec![crumb(t.national, None)],
            Level::Province(p) => vec![top(), crumb(p, None)],
            Level::District { province: Some(p), district } => {
                vec![top(), crumb(p, Some(self.to(&[("province", p)]))), crumb(district, None)]
            }
            Level::District { province: None, district } => vec![top(), crumb(district, None)],
            Level::School { province, district, school } => {
                let mut crumbs = vec![top()];
                let mut pairs: Vec<(&str, &str)> = Vec::new();
                if let Some(p) = province {
                    crumbs.push(crumb(p, Some(self.to(&[("province", p)]))));
                    pairs.push(("province", p));
                }
                pairs.push(("district", district));
                crumbs.push(crumb(district, Some(self.to(&pairs))));
                crumbs.push(crumb(school, None));
                crumbs
            }
        }
    }
}

pub(crate) struct Crumb {
    pub label: String,
    pub href: Option<String>,
}

/// (group code, learners) of the listing at a level, as one page counts them.
pub(crate) type GroupCounts<'a> =
    &'a (dyn Fn(Level) -> BoxFuture<'a, Result<Vec<(String, i64)>, DashError>> + Sync);

/// Checks a district's or school's page parameters against the school register: the province
/// named must be the district's, the district the school's. Suppression is decided in the
/// listings above a page (see [`hidden_in_parent`]), so a page reached with a made-up parent
/// would otherwise show what its real parent hides.
pub(crate) async fn check_place(
    warehouse: &oneclass_warehouse::Warehouse,
    level: &Level,
    t: &Text,
) -> Result<(), DashError> {
    let (province, district, school) = match level {
        Level::National | Level::Province(_) => return Ok(()),
        Level::District { province, district } => (province, district, None),
        Level::School { province, district, school } => (province, district, Some(school)),
    };
    let params =
        vec![ScalarValue::Utf8(Some(district.clone())), ScalarValue::Utf8(school.cloned())];
    let batches = warehouse.named(PLACE_QUERY, params).await?;
    let r = crate::results::Results { query: PLACE_QUERY, batches: &batches };
    let provinces = r.texts("province")?;
    let known = provinces.iter().flatten().any(|p| Some(p) == province.as_ref());
    if known {
        Ok(())
    } else {
        Err(DashError::BadRequest(format!(
            "{} ({})",
            t.invalid_parameter,
            if school.is_some() { "school" } else { "district" }
        )))
    }
}

const PLACE_QUERY: &str = "dash_place";

/// True when this level's group is hidden in the listing above it (or that one is hidden in
/// its own parent): then every figure below it is hidden as well.
pub(crate) async fn hidden_in_parent(
    level: &Level,
    counts: GroupCounts<'_>,
) -> Result<bool, DashError> {
    let Some((parent, code)) = level.parent() else { return Ok(false) };
    if Box::pin(hidden_in_parent(&parent, counts)).await? {
        return Ok(true);
    }
    let total_above = parent.total_shown_above();
    let groups = counts(parent).await?;
    let learners: Vec<i64> = groups.iter().map(|g| g.1).collect();
    let hidden = suppression(&learners, total_above);
    Ok(groups.iter().zip(hidden).any(|((c, _), h)| *c == code && h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n;

    fn level(province: Option<&str>, district: Option<&str>) -> Result<Level, DashError> {
        Level::parse(province.map(Into::into), district.map(Into::into), None, i18n::text())
    }

    #[test]
    fn a_school_is_reached_through_its_district() {
        let t = i18n::text();
        let school =
            Level::parse(Some("Harare".into()), Some("Mbare".into()), Some("s-1".into()), t).ok();
        let district =
            Level::District { province: Some("Harare".into()), district: "Mbare".into() };
        assert_eq!(school.as_ref().and_then(Level::parent), Some((district.clone(), "s-1".into())));
        assert!(Level::parse(None, None, Some("s-1".into()), t).is_err());
        let links = Links { page: "indicator", keep: vec![("code", "PTR".into())] };
        assert_eq!(
            links.group(&district, "s-1").as_deref(),
            Some("indicator?code=PTR&province=Harare&district=Mbare&school=s-1")
        );
        let crumbs = links.breadcrumbs(school.as_ref().expect("a school level"), t);
        assert_eq!(crumbs.len(), 4);
        assert_eq!(
            crumbs[2].href.as_deref(),
            Some("indicator?code=PTR&province=Harare&district=Mbare")
        );
        assert!(crumbs[3].href.is_none());
    }

    #[test]
    fn levels_follow_the_parameters() {
        assert_eq!(level(None, None).ok(), Some(Level::National));
        assert_eq!(level(Some("  "), None).ok(), Some(Level::National));
        assert_eq!(level(Some("Harare"), None).ok(), Some(Level::Province("Harare".into())));
        assert_eq!(
            level(Some("Harare"), Some("Mbare")).ok(),
            Some(Level::District { province: Some("Harare".into()), district: "Mbare".into() })
        );
        assert!(level(Some("x\u{1}"), None).is_err());
        assert!(level(Some(&"x".repeat(81)), None).is_err());
    }

    #[test]
    fn links_are_url_encoded_and_keep_the_page_parameters() {
        let links = Links { page: "attendance", keep: vec![] };
        assert_eq!(
            links.to(&[("province", "Mashonaland East"), ("district", "Murehwa & Co")]),
            "attendance?province=Mashonaland+East&district=Murehwa+%26+Co"
        );
        assert_eq!(links.to(&[]), "attendance");
        let links = Links { page: "indicator", keep: vec![("code", "PTR".into())] };
        assert_eq!(links.to(&[("province", "Harare")]), "indicator?code=PTR&province=Harare");
    }

    #[test]
    fn one_hidden_group_takes_the_smallest_visible_with_it() {
        assert_eq!(suppression(&[3, 40, 12], true), vec![true, false, true]);
        // Two or more hidden: their sum alone is recoverable, not each one.
        assert_eq!(suppression(&[3, 40, 4], true), vec![true, false, true]);
        assert_eq!(suppression(&[30, 40], true), vec![false, false]);
        assert_eq!(suppression(&[3], true), vec![true]);
        // Nationally no total is shown, so the small group alone is hidden.
        assert_eq!(suppression(&[3, 40, 12], false), vec![true, false, false]);
    }
}
