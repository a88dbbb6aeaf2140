//! The indicator dashboard: one gold indicator (`gold.indicators.values`) for the nation, a
//! province or a district, its groups as a bar chart and a table beside it, a year picker, the
//! table as CSV, and how the figure is computed. Small groups are suppressed as on every area
//! page.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use oneclass_warehouse::{ScalarValue, Warehouse};
use serde::Deserialize;

use crate::area::{
    Crumb, Level, Links, MIN_LEARNERS, check_place, hidden_in_parent, parse_year, suppression,
};
use crate::chart::{BarChart, BarRow, format_value};
use crate::error::DashError;
use crate::i18n::{self, IndicatorText, Text};
use crate::results::{Results, named_or_empty};
use crate::viewer::Viewer;

const QUERY: &str = "dash_indicator";
const YEARS_QUERY: &str = "dash_indicator_years";

#[derive(Debug, Deserialize)]
pub(crate) struct IndicatorParams {
    code: String,
    year: Option<String>,
    province: Option<String>,
    district: Option<String>,
    /// A school's id (with its district): the school's figure, for girls and boys.
    school: Option<String>,
    /// `csv` for the table as CSV.
    format: Option<String>,
}

/// One row of the listing: the area's own figure or one of its groups.
struct Group {
    code: String,
    label: String,
    learners: i64,
    numerator: Option<f64>,
    denominator: Option<f64>,
    value: Option<f64>,
    is_total: bool,
}

/// The listing of `code` at `level`; empty while gold holds no such figures (or no gold yet).
async fn listing(
    warehouse: &Warehouse,
    code: &str,
    year: Option<i32>,
    level: &Level,
) -> Result<Vec<Group>, DashError> {
    let mut params = vec![ScalarValue::Utf8(Some(code.to_owned())), ScalarValue::Int32(year)];
    params.extend(level.query_params());
    params.push(level.school_param());
    let batches = named_or_empty(warehouse, QUERY, params).await?;
    let r = Results { query: QUERY, batches: &batches };
    let (codes, labels) = (r.texts("group_code")?, r.texts("group_label")?);
    let (numerators, denominators, values) =
        (r.floats("numerator")?, r.floats("denominator")?, r.floats("value")?);
    let (learners, totals) = (r.ints("learners")?, r.texts("is_total")?);
    Ok((0..r.num_rows())
        .map(|i| {
            let code = codes[i].clone().unwrap_or_default();
            Group {
                label: labels[i].clone().unwrap_or_else(|| code.clone()),
                code,
                learners: learners[i].unwrap_or(0),
                numerator: numerators[i],
                denominator: denominators[i],
                value: values[i],
                is_total: totals[i].as_deref() == Some("true"),
            }
        })
        .collect())
}

struct YearLink {
    label: String,
    href: Option<String>,
}

pub(crate) struct Row {
    label: String,
    href: Option<String>,
    learners: String,
    numerator: String,
    denominator: String,
    value: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "indicator.html")]
pub(crate) struct IndicatorPage {
    t: &'static Text,
    name: &'static str,
    numerator: &'static str,
    denominator: &'static str,
    formula: &'static str,
    crumbs: Vec<Crumb>,
    heading: String,
    years: Vec<YearLink>,
    total: Option<String>,
    group_heading: &'static str,
    chart: String,
    rows: Vec<Row>,
    any_suppressed: bool,
    /// Schools of the listing were left out for this viewer.
    withheld: bool,
    csv_href: String,
    /// A school's overview page, on a school's indicator page.
    overview_href: Option<String>,
    /// The schools furthest from the area's figure.
    outliers: Vec<OutlierRow>,
}

pub(crate) struct OutlierRow {
    name: String,
    href: String,
    district: String,
    value: String,
    difference: String,
}

fn bad(t: &Text, what: &str) -> DashError {
    DashError::BadRequest(format!("{} ({what})", t.invalid_parameter))
}

pub(crate) async fn page(
    State(warehouse): State<Arc<Warehouse>>,
    viewer: Viewer,
    params: Result<Query<IndicatorParams>, QueryRejection>,
) -> Result<Response, DashError> {
    let t = i18n::text();
    let Query(params) = params.map_err(|_| bad(t, "code"))?;
    let text: &'static IndicatorText = t
        .indicator_texts
        .iter()
        .find(|i| i.code == params.code)
        .ok_or_else(|| DashError::BadRequest(t.unknown_indicator.to_owned()))?;
    let year = parse_year(params.year.as_deref(), t)?;
    let level = Level::parse(params.province, params.district, params.school, t)?;
    check_place(&warehouse, &level, t).await?;
    level.check_viewer(&viewer, t)?;
    let csv = match params.format.as_deref() {
        None | Some("") | Some("html") => false,
        Some("csv") => true,
        Some(_) => return Err(bad(t, "format")),
    };

    let groups = listing(&warehouse, text.code, year, &level).await?;
    let counts = |level: Level| -> futures::future::BoxFuture<'_, _> {
        let warehouse = warehouse.clone();
        Box::pin(async move {
            let groups = listing(&warehouse, text.code, year, &level).await?;
            Ok(groups.into_iter().filter(|g| !g.is_total).map(|g| (g.code, g.learners)).collect())
        })
    };
    let whole_area_hidden = hidden_in_parent(&level, &counts).await?;
    let (totals, groups): (Vec<Group>, Vec<Group>) = groups.into_iter().partition(|g| g.is_total);
    let learners: Vec<i64> = groups.iter().map(|g| g.learners).collect();
    let hidden = if whole_area_hidden {
        vec![true; groups.len()]
    } else {
        suppression(&learners, level.total_shown_above())
    };
    // Suppression is decided over every group, then the schools this viewer may not see leave.
    let listed = groups.len();
    let (groups, hidden): (Vec<Group>, Vec<bool>) =
        groups.into_iter().zip(hidden).filter(|(g, _)| level.shows_group(&viewer, &g.code)).unzip();
    let withheld = groups.len() < listed;

    let unit = unit_of(text.code);
    let rate = unit == "%";
    let show = |v: Option<f64>| {
        v.map_or_else(|| t.hidden.to_owned(), |v| format!("{}{unit}", format_value(v)))
    };
    let count = |v: Option<f64>| v.map_or_else(|| t.hidden.to_owned(), |v| format!("{v:.0}"));
    let mut keep = vec![("code", text.code.to_owned())];
    if let Some(y) = year {
        keep.push(("year", y.to_string()));
    }
    let links = Links { page: "indicator", keep };
    let mut rows = Vec::with_capacity(groups.len());
    let mut bars = Vec::with_capacity(groups.len());
    let label = |g: &Group| match (&level, g.code.as_str()) {
        (Level::School { .. }, "F") => t.female.to_owned(),
        (Level::School { .. }, "M") => t.male.to_owned(),
        _ => g.label.clone(),
    };
    for (g, &suppressed) in groups.iter().zip(&hidden) {
        rows.push(Row {
            label: label(g),
            href: links.group(&level, &g.code),
            learners: match (suppressed, g.learners < MIN_LEARNERS) {
                (false, _) => g.learners.to_string(),
                (true, true) => t.suppressed.to_owned(),
                (true, false) => t.hidden.to_owned(),
            },
            numerator: if suppressed { t.hidden.to_owned() } else { count(g.numerator) },
            denominator: if suppressed { t.hidden.to_owned() } else { count(g.denominator) },
            value: if suppressed { t.hidden.to_owned() } else { show(g.value) },
        });
        let value = g.value.filter(|_| !suppressed);
        bars.push(BarRow {
            label: label(g),
            value: value.unwrap_or(0.0),
            suppressed: value.is_none(),
        });
    }
    let (mut heading, group_heading) = level.headings(t);
    // A school is named by its record, not its id.
    let school_name = match &level {
        Level::School { .. } => totals.first().map(|g| g.label.clone()),
        _ => None,
    };
    if let Some(name) = &school_name {
        heading = name.clone();
    }
    if csv {
        return Ok(csv_response(group_heading, text, &rows));
    }
    let max = if rate {
        100.0
    } else {
        bars.iter().filter(|b| !b.suppressed).map(|b| b.value).fold(1.0, f64::max) * 1.1
    };
    let chart = BarChart { title: text.name, max, unit, suppressed_text: t.hidden }.render(&bars);
    let total =
        totals.first().filter(|g| !whole_area_hidden && g.learners >= MIN_LEARNERS).map(|g| {
            format!(
                "{} ({} {} ÷ {} {})",
                show(g.value),
                count(g.numerator),
                text.numerator.to_lowercase(),
                count(g.denominator),
                text.denominator.to_lowercase()
            )
        });

    // The schools furthest from the area's own figure, where that figure is shown.
    let norm = totals
        .first()
        .filter(|g| !whole_area_hidden && g.learners >= MIN_LEARNERS)
        .and_then(|g| g.value);
    let outliers = match norm {
        Some(norm) => crate::norm::furthest(&warehouse, text.code, year, &level, norm, &viewer)
            .await?
            .into_iter()
            .map(|o| {
                let pairs = [
                    ("province", o.province.as_str()),
                    ("district", o.district.as_str()),
                    ("school", o.school.as_str()),
                ];
                let sign = if o.difference > 0.0 { "+" } else { "" };
                OutlierRow {
                    href: links.to(&pairs),
                    name: o.name,
                    district: o.district,
                    value: show(Some(o.value)),
                    difference: format!("{sign}{}", format_value(o.difference)),
                }
            })
            .collect(),
        None => Vec::new(),
    };

    let area: Vec<(&str, String)> = match &level {
        Level::National => vec![],
        Level::Province(p) => vec![("province", p.clone())],
        Level::District { province, district } => province
            .iter()
            .map(|p| ("province", p.clone()))
            .chain([("district", district.clone())])
            .collect(),
        Level::School { province, district, school } => province
            .iter()
            .map(|p| ("province", p.clone()))
            .chain([("district", district.clone()), ("school", school.clone())])
            .collect(),
    };
    let area_pairs: Vec<(&str, &str)> = area.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let year_links = Links { page: "indicator", keep: vec![("code", text.code.to_owned())] };
    let years = warehouse
        .named(YEARS_QUERY, vec![ScalarValue::Utf8(Some(text.code.to_owned()))])
        .await
        .ok()
        .map(|b| Results { query: YEARS_QUERY, batches: &b }.ints("year").unwrap_or_default())
        .unwrap_or_default();
    let shown_year = year.or_else(|| years.first().copied().flatten().map(|y| y as i32));
    let years = years
        .into_iter()
        .flatten()
        .map(|y| {
            let label = y.to_string();
            let mut pairs = area_pairs.clone();
            pairs.push(("year", &label));
            let href = (Some(y as i32) != shown_year).then(|| year_links.to(&pairs));
            YearLink { label, href }
        })
        .collect();
    let mut csv_pairs = area_pairs.clone();
    csv_pairs.push(("format", "csv"));

    Ok(IndicatorPage {
        t,
        name: text.name,
        numerator: text.numerator,
        denominator: text.denominator,
        formula: text.formula,
        crumbs: {
            let mut crumbs = links.breadcrumbs(&level, t);
            if let (Some(name), Some(last)) = (school_name, crumbs.last_mut()) {
                last.label = name;
            }
            crumbs
        },
        heading,
        years,
        total,
        group_heading,
        chart,
        any_suppressed: hidden.iter().any(|h| *h),
        withheld,
        rows,
        csv_href: links.to(&csv_pairs),
        outliers,
        overview_href: matches!(level, Level::School { .. })
            .then(|| Links { page: "school", keep: Vec::new() }.to(&area_pairs)),
    }
    .into_response())
}

/// The table as CSV, with the page's suppression (hidden figures left empty, small groups `<5`).
fn csv_response(group_heading: &str, text: &IndicatorText, rows: &[Row]) -> Response {
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let hidden = i18n::text().hidden;
    let figure = |s: &str| if s == hidden { String::new() } else { field(s) };
    let mut out = format!(
        "{},learners,{},{},value\n",
        field(&group_heading.to_lowercase()),
        field(&text.numerator.to_lowercase()),
        field(&text.denominator.to_lowercase())
    );
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            field(&r.label),
            figure(&r.learners),
            figure(&r.numerator),
            figure(&r.denominator),
            figure(r.value.trim_end_matches('%'))
        ));
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"indicator.csv\""),
        ],
        out,
    )
        .into_response()
}

/// How an indicator's values are printed: rates are percentages; ratios and indices are plain.
pub(crate) fn unit_of(code: &str) -> &'static str {
    let rate = code == oneclass_warehouse::SURVIVAL_INDICATOR
        || oneclass_warehouse::INDICATORS.iter().any(|i| i.code == code && i.scale == 100.0);
    if rate { "%" } else { "" }
}
