//! The outlook dashboard: the early-warning model's learners at risk by province, district or
//! school (expected number, and those with a chance of 30 % or more; groups under five learners
//! suppressed, schools only to those who may see them), and enrolment at the same place, actual
//! and projected for the next years with intervals and the teachers needed.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use oneclass_warehouse::Warehouse;
use serde::Deserialize;

use crate::area::{Crumb, Level, Links, MIN_LEARNERS, suppression};
use crate::chart::{BarChart, BarRow, format_value};
use crate::error::DashError;
use crate::i18n::{self, Text};
use crate::results::{Results, named_or_empty};
use crate::viewer::Viewer;

const RISK_QUERY: &str = "dash_risk";
const PROJECTION_QUERY: &str = "dash_projection";

#[derive(Debug, Deserialize)]
pub(crate) struct OutlookParams {
    province: Option<String>,
    district: Option<String>,
}

pub(crate) struct RiskRow {
    label: String,
    href: Option<String>,
    learners: String,
    expected: String,
    high: String,
}

pub(crate) struct YearRow {
    year: i64,
    kind: &'static str,
    primary: String,
    secondary: String,
    learners: String,
    interval: String,
    teachers: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "outlook.html")]
pub(crate) struct OutlookPage {
    t: &'static Text,
    crumbs: Vec<Crumb>,
    heading: String,
    group_heading: &'static str,
    scored: Option<String>,
    chart: String,
    rows: Vec<RiskRow>,
    any_suppressed: bool,
    withheld: bool,
    years: Vec<YearRow>,
    projection_chart: String,
}

pub(crate) async fn page(
    State(warehouse): State<Arc<Warehouse>>,
    viewer: Viewer,
    params: Result<Query<OutlookParams>, QueryRejection>,
) -> Result<OutlookPage, DashError> {
    let t = i18n::text();
    let Query(params) =
        params.map_err(|_| DashError::BadRequest(t.invalid_parameter.to_owned()))?;
    let level = Level::parse(params.province, params.district, None, t)?;
    crate::area::check_place(&warehouse, &level, t).await?;
    let (risk, projection) = tokio::try_join!(
        named_or_empty(&warehouse, RISK_QUERY, level.query_params()),
        named_or_empty(&warehouse, PROJECTION_QUERY, level.query_params()),
    )?;
    let links = Links { page: "outlook", keep: Vec::new() };

    let risk = Results { query: RISK_QUERY, batches: &risk };
    let codes = risk.texts("group_code")?;
    let labels = risk.texts("group_label")?;
    let learners = risk.ints("learners")?;
    let expected = risk.floats("expected")?;
    let high = risk.ints("high")?;
    let scored_on = risk.texts("scored_on")?;
    let version = risk.ints("model_version")?;
    let counts: Vec<i64> = learners.iter().map(|n| n.unwrap_or(0)).collect();
    let hidden = suppression(&counts, level.total_shown_above());
    let (mut rows, mut bars, mut withheld) = (Vec::new(), Vec::new(), false);
    for i in 0..risk.num_rows() {
        let code = codes[i].clone().unwrap_or_default();
        if !level.shows_group(&viewer, &code) {
            withheld = true;
            continue;
        }
        let label = labels[i].clone().unwrap_or_else(|| code.clone());
        let n = counts[i];
        // A count of fewer than five at-risk learners is shown as "<5" too.
        let small = |v: i64| if v < MIN_LEARNERS { t.suppressed.to_owned() } else { v.to_string() };
        let suppressed = hidden[i];
        let share = if n > 0 { high[i].unwrap_or(0) as f64 / n as f64 * 100.0 } else { 0.0 };
        rows.push(RiskRow {
            label: label.clone(),
            href: links.group(&level, &code).filter(|_| !matches!(level, Level::District { .. })),
            learners: match (suppressed, n < MIN_LEARNERS) {
                (false, _) => n.to_string(),
                (true, true) => t.suppressed.to_owned(),
                (true, false) => t.hidden.to_owned(),
            },
            expected: if suppressed {
                t.hidden.to_owned()
            } else {
                format_value(expected[i].unwrap_or(0.0))
            },
            high: if suppressed { t.hidden.to_owned() } else { small(high[i].unwrap_or(0)) },
        });
        bars.push(BarRow { label, value: if suppressed { 0.0 } else { share }, suppressed });
    }
    let scored = scored_on.first().cloned().flatten().map(|day| {
        format!("{} {day} · v{}", t.risk_scored, version.first().copied().flatten().unwrap_or(0))
    });
    let max = bars.iter().map(|b| b.value).fold(1.0, f64::max);
    let chart =
        BarChart { title: t.risk_high, max, unit: "%", suppressed_text: t.hidden }.render(&bars);

    let projection = Results { query: PROJECTION_QUERY, batches: &projection };
    let (years, kinds) = (projection.ints("year")?, projection.texts("kind")?);
    let (primary, secondary) = (projection.floats("primary")?, projection.floats("secondary")?);
    let (total, low, high) =
        (projection.floats("learners")?, projection.floats("low")?, projection.floats("high")?);
    let teachers = projection.floats("teachers_needed")?;
    let whole = |v: Option<f64>| format!("{:.0}", v.unwrap_or(0.0));
    let mut year_rows = Vec::new();
    let mut year_bars = Vec::new();
    for i in 0..projection.num_rows() {
        let projected = kinds[i].as_deref() == Some("projected");
        let year = years[i].unwrap_or(0);
        year_rows.push(YearRow {
            year,
            kind: if projected { t.projected } else { t.actual },
            primary: whole(primary[i]),
            secondary: whole(secondary[i]),
            learners: whole(total[i]),
            interval: if projected {
                format!("{}–{}", whole(low[i]), whole(high[i]))
            } else {
                t.hidden.to_owned()
            },
            teachers: whole(teachers[i]),
        });
        year_bars.push(BarRow {
            label: format!("{year}{}", if projected { " *" } else { "" }),
            value: total[i].unwrap_or(0.0),
            suppressed: false,
        });
    }
    let top = year_bars.iter().map(|b| b.value).fold(1.0, f64::max);
    let projection_chart =
        BarChart { title: t.projection_heading, max: top, unit: "", suppressed_text: t.hidden }
            .render(&year_bars);

    let (heading, group_heading) = level.headings(t);
    Ok(OutlookPage {
        t,
        crumbs: links.breadcrumbs(&level, t),
        heading,
        group_heading,
        scored,
        chart,
        any_suppressed: bars.iter().any(|b| b.suppressed),
        withheld,
        rows,
        years: year_rows,
        projection_chart,
    })
}
