//! The attendance dashboard: this term's attendance rate by province, drilled down to the
//! districts of a province and the schools of a district, as a bar chart and a table.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use oneclass_warehouse::{ScalarValue, Warehouse};
use serde::Deserialize;

use crate::area::{Crumb, Level, Links, MIN_LEARNERS, hidden_in_parent, parse_year, suppression};
use crate::chart::{BarChart, BarRow, format_value};
use crate::error::DashError;
use crate::i18n::{self, Text};
use crate::results::Results;
use crate::viewer::Viewer;

const TERM_QUERY: &str = "current_term";
const ATTENDANCE_QUERY: &str = "dash_attendance";
const TERMS_QUERY: &str = "dash_terms";

#[derive(Debug, Deserialize)]
pub(crate) struct AttendanceParams {
    province: Option<String>,
    district: Option<String>,
    /// The academic year and term shown (both, or neither for the current term).
    year: Option<String>,
    term: Option<String>,
}

/// A term of the picker: its label, and a link unless it is the one shown.
pub(crate) struct TermLink {
    label: String,
    href: Option<String>,
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
    /// Schools of the listing were left out for this viewer.
    withheld: bool,
    terms: Vec<TermLink>,
}

/// The listing's parameters: the level's, then the term's.
fn params_of(level: &Level, term: Option<(i32, i32)>) -> Vec<ScalarValue> {
    let mut params = level.query_params();
    params.push(ScalarValue::Int32(term.map(|t| t.0)));
    params.push(ScalarValue::Int32(term.map(|t| t.1)));
    params
}

/// (group code, learners) of the listing at `level`.
async fn group_counts(
    warehouse: &Warehouse,
    level: &Level,
    term: Option<(i32, i32)>,
) -> Result<Vec<(String, i64)>, DashError> {
    let batches = warehouse.named(ATTENDANCE_QUERY, params_of(level, term)).await?;
    let groups = Results { query: ATTENDANCE_QUERY, batches: &batches };
    let codes = groups.texts("group_code")?;
    let learners = groups.ints("learners")?;
    Ok(codes
        .into_iter()
        .zip(learners)
        .map(|(c, n)| (c.unwrap_or_default(), n.unwrap_or(0)))
        .collect())
}

pub(crate) async fn page(
    State(warehouse): State<Arc<Warehouse>>,
    viewer: Viewer,
    params: Result<Query<AttendanceParams>, QueryRejection>,
) -> Result<AttendancePage, DashError> {
    let t = i18n::text();
    let Query(params) =
        params.map_err(|_| DashError::BadRequest(t.invalid_parameter.to_owned()))?;
    let level = Level::parse(params.province, params.district, None, t)?;
    crate::area::check_place(&warehouse, &level, t).await?;
    let asked =
        match (parse_year(params.year.as_deref(), t)?, params.term.as_deref().map(str::trim)) {
            (None, None | Some("")) => None,
            (Some(year), Some(term)) => match term.parse::<i32>() {
                Ok(term @ 1..=3) => Some((year, term)),
                _ => return Err(DashError::BadRequest(format!("{} (term)", t.invalid_parameter))),
            },
            _ => return Err(DashError::BadRequest(format!("{} (term)", t.invalid_parameter))),
        };
    let term_params =
        vec![ScalarValue::Int32(asked.map(|a| a.0)), ScalarValue::Int32(asked.map(|a| a.1))];
    let (term, groups, terms) = tokio::try_join!(
        warehouse.named(TERM_QUERY, term_params),
        warehouse.named(ATTENDANCE_QUERY, params_of(&level, asked)),
        warehouse.named(TERMS_QUERY, vec![]),
    )?;
    let mut keep = Vec::new();
    if let Some((year, term)) = asked {
        keep.extend([("year", year.to_string()), ("term", term.to_string())]);
    }
    let links = Links { page: "attendance", keep };
    let term_results = Results { query: TERM_QUERY, batches: &term };
    let shown = term_results
        .ints("academic_year")?
        .first()
        .copied()
        .flatten()
        .zip(term_results.ints("term")?.first().copied().flatten());
    let terms = picker(&Results { query: TERMS_QUERY, batches: &terms }, &level, shown, t)?;
    let term = term_line(&term_results, t)?;
    let groups = Results { query: ATTENDANCE_QUERY, batches: &groups };

    let codes = groups.texts("group_code")?;
    let labels = groups.texts("group_label")?;
    let learners = groups.ints("learners")?;
    let marks = groups.ints("marks")?;
    let rates = groups.floats("rate")?;

    let counts: Vec<i64> = learners.iter().map(|l| l.unwrap_or(0)).collect();
    let listing = |level: Level| -> futures::future::BoxFuture<'_, _> {
        let warehouse = warehouse.clone();
        Box::pin(async move { group_counts(&warehouse, &level, asked).await })
    };
    let hidden = if hidden_in_parent(&level, &listing).await? {
        vec![true; counts.len()]
    } else {
        suppression(&counts, level.total_shown_above())
    };
    let mut rows = Vec::with_capacity(groups.num_rows());
    let mut bars = Vec::with_capacity(groups.num_rows());
    let mut withheld = false;
    for i in 0..groups.num_rows() {
        let code = codes[i].clone().unwrap_or_default();
        // Suppression was decided over every group; the schools this viewer may not see leave.
        if !level.shows_group(&viewer, &code) {
            withheld = true;
            continue;
        }
        let label = labels[i].clone().unwrap_or_else(|| code.clone());
        let learners = learners[i].unwrap_or(0);
        let rate = rates[i].unwrap_or(f64::NAN);
        let suppressed = hidden[i];
        // The attendance page stops at the district's list of schools.
        let href = links.group(&level, &code).filter(|_| !matches!(level, Level::District { .. }));
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

    let (heading, group_heading) = level.headings(t);
    let chart_title = match &level {
        Level::National => t.by_province,
        Level::Province(_) => t.by_district,
        Level::District { .. } | Level::School { .. } => t.by_school,
    };
    let chart = BarChart { title: chart_title, max: 100.0, unit: "%", suppressed_text: t.hidden }
        .render(&bars);

    Ok(AttendancePage {
        t,
        crumbs: links.breadcrumbs(&level, t),
        heading,
        term,
        group_heading,
        chart,
        any_suppressed: bars.iter().any(|b| b.suppressed),
        withheld,
        rows,
        terms,
    })
}

/// Links to every term that has started, at this level; the one shown is not a link.
fn picker(
    terms: &Results<'_>,
    level: &Level,
    shown: Option<(i64, i64)>,
    t: &Text,
) -> Result<Vec<TermLink>, DashError> {
    let (years, numbers) = (terms.ints("academic_year")?, terms.ints("term")?);
    Ok(years
        .into_iter()
        .zip(numbers)
        .filter_map(|(y, n)| Some((y?, n?)))
        .map(|(year, term)| {
            let links = Links {
                page: "attendance",
                keep: vec![("year", year.to_string()), ("term", term.to_string())],
            };
            let href = (Some((year, term)) != shown).then(|| match level.parent_place() {
                Some(pairs) => {
                    links.to(&pairs.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
                }
                None => links.to(&[]),
            });
            TermLink { label: format!("{} {term}, {year}", t.term), href }
        })
        .collect())
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
