//! The attendance dashboard: this term's attendance rate by province, drilled down to the
//! districts of a province and the schools of a district, as a bar chart and a table.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use oneclass_warehouse::{ScalarValue, Warehouse};
use serde::Deserialize;
use url::form_urlencoded;

use crate::chart::{BarChart, BarRow, format_value};
use crate::error::DashError;
use crate::i18n::{self, Text};
use crate::results::Results;

/// Public and area dashboards never show a group of fewer learners than this (ARCHITECTURE.md).
pub const MIN_LEARNERS: i64 = 5;

/// Which groups of one listing to hide: those under `MIN_LEARNERS` (primary suppression), and,
/// when the listing's total is shown on the page above (`complementary`) and exactly one group is
/// hidden, also the smallest visible one, so that the hidden figures cannot be recovered by
/// subtracting the shown groups from that total. A group hidden here hides everything below it
/// too (see `hidden_in_parent`), so drilling down cannot undo it.
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

const TERM_QUERY: &str = "current_term";
const ATTENDANCE_QUERY: &str = "dash_attendance";

#[derive(Debug, Deserialize)]
pub(crate) struct AttendanceParams {
    province: Option<String>,
    district: Option<String>,
}

/// Where in the drill-down a page is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    National,
    Province(String),
    District { province: Option<String>, district: String },
}

impl Level {
    fn parse(params: AttendanceParams, t: &Text) -> Result<Self, DashError> {
        let province = clean(params.province, "province", t)?;
        let district = clean(params.district, "district", t)?;
        Ok(match (province, district) {
            (None, None) => Level::National,
            (Some(p), None) => Level::Province(p),
            (province, Some(district)) => Level::District { province, district },
        })
    }

    /// The listing this level's group appears in, and its code there.
    fn parent(&self) -> Option<(Level, String)> {
        match self {
            Level::National => None,
            Level::Province(p) => Some((Level::National, p.clone())),
            Level::District { province: Some(p), district } => {
                Some((Level::Province(p.clone()), district.clone()))
            }
            // Reached only by hand-made links; without a province there is no listing above.
            Level::District { province: None, .. } => None,
        }
    }

    /// The total of a listing at this level is shown on the page above, except nationally.
    fn total_shown_above(&self) -> bool {
        *self != Level::National
    }

    fn query_params(&self) -> Vec<ScalarValue> {
        let text = |s: Option<&String>| ScalarValue::Utf8(s.cloned());
        match self {
            Level::National => vec![text(None), text(None)],
            Level::Province(p) => vec![text(Some(p)), text(None)],
            Level::District { province, district } => {
                vec![text(province.as_ref()), text(Some(district))]
            }
        }
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

fn link(pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        query.append_pair(key, value);
    }
    format!("attendance?{}", query.finish())
}

pub(crate) struct Crumb {
    pub label: String,
    pub href: Option<String>,
}

pub(crate) struct GroupRow {
    pub label: String,
    pub href: Option<String>,
    pub learners: String,
    pub marks: String,
    pub rate: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "attendance.html")]
pub(crate) struct AttendancePage {
    t: &'static Text,
    crumbs: Vec<Crumb>,
    heading: String,
    term: Option<String>,
    group_heading: &'static str,
    chart: String,
    rows: Vec<GroupRow>,
    any_suppressed: bool,
}

/// (group code, learners) of the listing at `level`.
async fn group_counts(
    warehouse: &Warehouse,
    level: &Level,
) -> Result<Vec<(String, i64)>, DashError> {
    let batches = warehouse.named(ATTENDANCE_QUERY, level.query_params()).await?;
    let groups = Results { query: ATTENDANCE_QUERY, batches: &batches };
    let codes = groups.texts("group_code")?;
    let learners = groups.ints("learners")?;
    Ok(codes
        .into_iter()
        .zip(learners)
        .map(|(c, n)| (c.unwrap_or_default(), n.unwrap_or(0)))
        .collect())
}

/// True when this level's group is hidden in the listing above it (or that one is hidden in
/// its own parent): then every figure below it is hidden as well.
async fn hidden_in_parent(warehouse: &Warehouse, level: &Level) -> Result<bool, DashError> {
    let Some((parent, code)) = level.parent() else { return Ok(false) };
    if Box::pin(hidden_in_parent(warehouse, &parent)).await? {
        return Ok(true);
    }
    let groups = group_counts(warehouse, &parent).await?;
    let counts: Vec<i64> = groups.iter().map(|g| g.1).collect();
    let hidden = suppression(&counts, parent.total_shown_above());
    Ok(groups.iter().zip(hidden).any(|((c, _), h)| *c == code && h))
}

pub(crate) async fn page(
    State(warehouse): State<Arc<Warehouse>>,
    params: Result<Query<AttendanceParams>, QueryRejection>,
) -> Result<AttendancePage, DashError> {
    let t = i18n::text();
    let Query(params) =
        params.map_err(|_| DashError::BadRequest(t.invalid_parameter.to_owned()))?;
    let level = Level::parse(params, t)?;

    let (term, groups) = tokio::try_join!(
        warehouse.named(TERM_QUERY, vec![]),
        warehouse.named(ATTENDANCE_QUERY, level.query_params()),
    )?;
    let term = term_line(&Results { query: TERM_QUERY, batches: &term }, t)?;
    let groups = Results { query: ATTENDANCE_QUERY, batches: &groups };

    let codes = groups.texts("group_code")?;
    let labels = groups.texts("group_label")?;
    let learners = groups.ints("learners")?;
    let marks = groups.ints("marks")?;
    let rates = groups.floats("rate")?;

    let counts: Vec<i64> = learners.iter().map(|l| l.unwrap_or(0)).collect();
    let hidden = if hidden_in_parent(&warehouse, &level).await? {
        vec![true; counts.len()]
    } else {
        suppression(&counts, level.total_shown_above())
    };
    let mut rows = Vec::with_capacity(groups.num_rows());
    let mut bars = Vec::with_capacity(groups.num_rows());
    for i in 0..groups.num_rows() {
        let code = codes[i].clone().unwrap_or_default();
        let label = labels[i].clone().unwrap_or_else(|| code.clone());
        let learners = learners[i].unwrap_or(0);
        let rate = rates[i].unwrap_or(f64::NAN);
        let suppressed = hidden[i];
        let href = match &level {
            Level::National => Some(link(&[("province", &code)])),
            Level::Province(p) => Some(link(&[("province", p), ("district", &code)])),
            Level::District { .. } => None,
        };
        rows.push(GroupRow {
            label: label.clone(),
            href,
            // "<5" says the group itself is small; "–" that it is hidden to protect another.
            learners: match (suppressed, learners < MIN_LEARNERS) {
                (false, _) => learners.to_string(),
                (true, true) => t.suppressed.to_owned(),
                (true, false) => t.hidden.to_owned(),
            },
            marks: match (suppressed, marks[i]) {
                (false, Some(m)) => m.to_string(),
                _ => t.hidden.to_owned(),
            },
            rate: if suppressed { t.hidden.to_owned() } else { format!("{}%", format_value(rate)) },
        });
        // A suppressed bar carries no value, so nothing of it can leak into the markup.
        bars.push(BarRow { label, value: if suppressed { 0.0 } else { rate }, suppressed });
    }

    let (heading, group_heading, chart_title) = match &level {
        Level::National => (t.national.to_owned(), t.province, t.by_province),
        Level::Province(p) => (p.clone(), t.district, t.by_district),
        Level::District { district, .. } => (district.clone(), t.school, t.by_school),
    };
    let chart = BarChart { title: chart_title, max: 100.0, unit: "%", suppressed_text: t.hidden }
        .render(&bars);

    Ok(AttendancePage {
        t,
        crumbs: breadcrumbs(&level, t),
        heading,
        term,
        group_heading,
        chart,
        any_suppressed: bars.iter().any(|b| b.suppressed),
        rows,
    })
}

/// "Term 2, 2026 · 2026-05-12 to 2026-08-06", or nothing before the first term.
fn term_line(term: &Results<'_>, t: &Text) -> Result<Option<String>, DashError> {
    if term.num_rows() == 0 {
        return Ok(None);
    }
    let year = term.ints("academic_year")?;
    let number = term.ints("term")?;
    let start = term.texts("start_date")?;
    let end = term.texts("end_date")?;
    let show = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok(Some(format!(
        "{} {}, {} · {} {} {}",
        t.term,
        number[0].unwrap_or_default(),
        year[0].unwrap_or_default(),
        show(&start[0]),
        t.term_dates_to,
        show(&end[0]),
    )))
}

/// Zimbabwe › province › district, each linking up except the current page.
fn breadcrumbs(level: &Level, t: &Text) -> Vec<Crumb> {
    let crumb = |label: &str, href: Option<String>| Crumb { label: label.to_owned(), href };
    match level {
        Level::National => vec![crumb(t.national, None)],
        Level::Province(p) => vec![crumb(t.national, Some("attendance".into())), crumb(p, None)],
        Level::District { province: Some(p), district } => vec![
            crumb(t.national, Some("attendance".into())),
            crumb(p, Some(link(&[("province", p)]))),
            crumb(district, None),
        ],
        Level::District { province: None, district } => {
            vec![crumb(t.national, Some("attendance".into())), crumb(district, None)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(province: Option<&str>, district: Option<&str>) -> AttendanceParams {
        AttendanceParams { province: province.map(Into::into), district: district.map(Into::into) }
    }

    #[test]
    fn levels_follow_the_parameters() {
        let t = i18n::text();
        assert_eq!(Level::parse(params(None, None), t).ok(), Some(Level::National));
        assert_eq!(Level::parse(params(Some("  "), None), t).ok(), Some(Level::National));
        assert_eq!(
            Level::parse(params(Some("Harare"), None), t).ok(),
            Some(Level::Province("Harare".into()))
        );
        assert_eq!(
            Level::parse(params(Some("Harare"), Some("Mbare")), t).ok(),
            Some(Level::District { province: Some("Harare".into()), district: "Mbare".into() })
        );
        assert!(Level::parse(params(Some("x\u{1}"), None), t).is_err());
        assert!(Level::parse(params(Some(&"x".repeat(81)), None), t).is_err());
    }

    #[test]
    fn links_are_url_encoded() {
        assert_eq!(
            link(&[("province", "Mashonaland East"), ("district", "Murehwa & Co")]),
            "attendance?province=Mashonaland+East&district=Murehwa+%26+Co"
        );
    }
}

#[cfg(test)]
mod suppression_tests {
    use super::suppression;

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
