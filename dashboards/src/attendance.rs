//! The attendance dashboard: this term's attendance rate by province, drilled down to the
//! districts of a province and the schools of a district, as a bar chart and a table.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use oneclass_warehouse::Warehouse;
use serde::Deserialize;

use crate::area::{Crumb, Level, Links, MIN_LEARNERS, hidden_in_parent, suppression};
use crate::chart::{BarChart, BarRow, format_value};
use crate::error::DashError;
use crate::i18n::{self, Text};
use crate::results::Results;
use crate::viewer::Viewer;

const TERM_QUERY: &str = "current_term";
const ATTENDANCE_QUERY: &str = "dash_attendance";

#[derive(Debug, Deserialize)]
pub(crate) struct AttendanceParams {
    province: Option<String>,
    district: Option<String>,
}

const LINKS: Links = Links { page: "attendance", keep: Vec::new() };

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
    let listing = |level: Level| -> futures::future::BoxFuture<'_, _> {
        let warehouse = warehouse.clone();
        Box::pin(async move { group_counts(&warehouse, &level).await })
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
        let href = LINKS.group(&level, &code).filter(|_| !matches!(level, Level::District { .. }));
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
        crumbs: LINKS.breadcrumbs(&level, t),
        heading,
        term,
        group_heading,
        chart,
        any_suppressed: bars.iter().any(|b| b.suppressed),
        withheld,
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
