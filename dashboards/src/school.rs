//! A school's own dashboard, for its head and staff and for the officials of its area: the
//! school beside its district and the nation on each indicator, its enrolment by grade and sex,
//! attendance by class week by week in the latest term, and each subject's term marks in
//! bands. Officials see small groups suppressed as on every area page; the school's own staff
//! see their counts whole. Which learners need attention is on the staff pages (names are the
//! school's business, and every read of them is audited), linked from here for staff.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use oneclass_warehouse::{ScalarValue, Warehouse};
use serde::Deserialize;
use url::form_urlencoded;

use crate::area::{Crumb, Level, Links, MIN_LEARNERS, check_place, parse_year, suppression};
use crate::chart::{BarChart, BarRow, format_value};
use crate::error::DashError;
use crate::i18n::{self, Text};
use crate::indicators::unit_of;
use crate::results::{Results, named_or_empty};
use crate::viewer::Viewer;

const ENROLMENT_QUERY: &str = "dash_school_enrolment";
const ATTENDANCE_QUERY: &str = "dash_school_attendance";
const RESULTS_QUERY: &str = "dash_school_results";
const NAME_QUERY: &str = "dash_school";
const YEARS_QUERY: &str = "dash_school_years";

/// The indicators a school is compared on, in the page's order.
const BESIDE: &[&str] = &[
    "ATTENDANCE_RATE",
    "CHRONIC_ABSENCE_RATE",
    "PTR",
    "PQTR",
    "G7_PASS_RATE",
    "O_LEVEL_PASS_RATE",
    "REPETITION_RATE",
    "DROPOUT_RATE",
    "FEE_COLLECTION_RATE",
    "BEAM_COVERAGE",
];

/// Grades in school order.
const GRADES: &[&str] = &[
    "ECD_A", "ECD_B", "G1", "G2", "G3", "G4", "G5", "G6", "G7", "F1", "F2", "F3", "F4", "F5", "F6",
];

/// Weeks of attendance shown per class (the latest ones of the term).
const WEEKS: usize = 6;

/// Mark bands as the page groups the mart's ten: (first band, last band).
const MARK_BANDS: [(i64, i64); 5] = [(0, 3), (4, 4), (5, 5), (6, 6), (7, 9)];

#[derive(Debug, Deserialize)]
pub(crate) struct SchoolParams {
    province: Option<String>,
    district: Option<String>,
    school: Option<String>,
    year: Option<String>,
}

pub(crate) struct BesideRow {
    name: &'static str,
    href: String,
    school: String,
    district: String,
    national: String,
}

pub(crate) struct GradeRow {
    grade: String,
    girls: String,
    boys: String,
    total: String,
}

pub(crate) struct ClassRow {
    label: String,
    learners: String,
    term: String,
    weeks: Vec<String>,
}

pub(crate) struct SubjectRow {
    name: String,
    learners: String,
    mean: String,
    bands: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "school.html")]
pub(crate) struct SchoolPage {
    t: &'static Text,
    crumbs: Vec<Crumb>,
    heading: String,
    year: Option<i64>,
    /// The other years the school's marts hold, as (year, link).
    years: Vec<(i64, String)>,
    beside: Vec<BesideRow>,
    enrolment_chart: String,
    grades: Vec<GradeRow>,
    attendance_term: Option<String>,
    attendance_chart: String,
    weeks: Vec<String>,
    classes: Vec<ClassRow>,
    results_term: Option<String>,
    bands: Vec<&'static str>,
    subjects: Vec<SubjectRow>,
    any_suppressed: bool,
    /// The area pages hide this school: an official sees none of its own tables.
    school_hidden: bool,
    /// The staff page of the learners who need attention, for the school's own staff.
    attention_href: Option<String>,
}

pub(crate) async fn page(
    State(warehouse): State<Arc<Warehouse>>,
    viewer: Viewer,
    params: Result<Query<SchoolParams>, QueryRejection>,
) -> Result<SchoolPage, DashError> {
    let t = i18n::text();
    let Query(params) =
        params.map_err(|_| DashError::BadRequest(t.invalid_parameter.to_owned()))?;
    let level = Level::parse(params.province, params.district, params.school, t)?;
    let Level::School { school, .. } = &level else {
        return Err(DashError::BadRequest(format!("{} (school)", t.invalid_parameter)));
    };
    check_place(&warehouse, &level, t).await?;
    level.check_viewer(&viewer, t)?;
    let year = parse_year(params.year.as_deref(), t)?;
    // The school's own staff know their learners; everyone else sees small groups suppressed.
    let own_staff = matches!(viewer, Viewer::Staff(_));
    let text = |s: &str| ScalarValue::Utf8(Some(s.to_owned()));
    let year_param = ScalarValue::Int32(year);
    let (enrolment, attendance, results, name, years) = tokio::try_join!(
        named_or_empty(&warehouse, ENROLMENT_QUERY, vec![text(school), year_param.clone()]),
        named_or_empty(&warehouse, ATTENDANCE_QUERY, vec![text(school), year_param.clone()]),
        named_or_empty(&warehouse, RESULTS_QUERY, vec![text(school), year_param]),
        named_or_empty(&warehouse, NAME_QUERY, vec![text(school)]),
        named_or_empty(&warehouse, YEARS_QUERY, vec![text(school)]),
    )?;
    let years: Vec<i64> = Results { query: YEARS_QUERY, batches: &years }
        .ints("year")?
        .into_iter()
        .flatten()
        .collect();
    let shown = year.map(i64::from).or_else(|| years.first().copied());
    let place = level.parent_place().unwrap_or_default();
    let years: Vec<(i64, String)> = years
        .into_iter()
        .filter(|y| Some(*y) != shown)
        .map(|y| {
            let label = y.to_string();
            let mut pairs: Vec<(&str, &str)> =
                place.iter().map(|(k, v)| (*k, v.as_str())).collect();
            pairs.push(("year", &label));
            (y, Links { page: "school", keep: Vec::new() }.to(&pairs))
        })
        .collect();
    let name = Results { query: NAME_QUERY, batches: &name }
        .texts("name")?
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_else(|| school.clone());

    let mut suppressed_any = false;
    let (beside, school_shown) = beside_rows(&warehouse, year, &level, own_staff, t).await?;
    // An official sees the school's own tables only where the area pages show the school (by
    // its learners on the census date): otherwise its counts would give away what they hide.
    if !own_staff && !school_shown {
        return Ok(SchoolPage {
            t,
            crumbs: crumbs(&level, &name, t),
            heading: name,
            year: shown,
            years,
            beside,
            enrolment_chart: String::new(),
            grades: Vec::new(),
            attendance_term: None,
            attendance_chart: String::new(),
            weeks: Vec::new(),
            classes: Vec::new(),
            results_term: None,
            bands: Vec::new(),
            subjects: Vec::new(),
            any_suppressed: true,
            school_hidden: true,
            attention_href: None,
        });
    }
    let (grades, enrolment_chart, shown_year, hidden) =
        grade_rows(&Results { query: ENROLMENT_QUERY, batches: &enrolment }, own_staff, t)?;
    suppressed_any |= hidden;
    let (classes, weeks, attendance_term, attendance_chart, hidden) =
        class_rows(&Results { query: ATTENDANCE_QUERY, batches: &attendance }, own_staff, t)?;
    suppressed_any |= hidden;
    let (subjects, results_term, hidden) =
        subject_rows(&Results { query: RESULTS_QUERY, batches: &results }, own_staff, t)?;
    suppressed_any |= hidden;

    let attention_href = own_staff.then(|| {
        let query =
            form_urlencoded::Serializer::new(String::new()).append_pair("school", school).finish();
        format!("/app/attention?{query}")
    });
    Ok(SchoolPage {
        t,
        crumbs: crumbs(&level, &name, t),
        heading: name,
        year: shown.or(shown_year),
        years,
        beside,
        enrolment_chart,
        grades,
        attendance_term,
        attendance_chart,
        weeks,
        classes,
        results_term,
        bands: vec!["<40", "40–49", "50–59", "60–69", "70+"],
        subjects,
        any_suppressed: suppressed_any,
        school_hidden: false,
        attention_href,
    })
}

/// Up from a school: its area's attendance rate, school by school.
fn crumbs(level: &Level, name: &str, t: &Text) -> Vec<Crumb> {
    let links = Links { page: "indicator", keep: vec![("code", "ATTENDANCE_RATE".to_owned())] };
    let mut crumbs = links.breadcrumbs(level, t);
    if let Some(last) = crumbs.last_mut() {
        last.label = name.to_owned();
    }
    crumbs
}

/// The school beside its district and the nation on each indicator of [`BESIDE`], each figure
/// shown only where the area pages show it: the school where every listing above it shows it
/// (or to its own staff), the district likewise, the nation with 5 learners or more. Also
/// whether the area pages show the school by its learners (PTR's, counted on the census date).
async fn beside_rows(
    warehouse: &Warehouse,
    year: Option<i32>,
    level: &Level,
    own_staff: bool,
    t: &Text,
) -> Result<(Vec<BesideRow>, bool), DashError> {
    let Level::School { province, district, school } = level else {
        return Ok((Vec::new(), false));
    };
    let mut rows = Vec::new();
    let mut school_shown = false;
    // Every indicator's figures at once: a page waits for the slowest, not for their sum.
    let all = futures::future::try_join_all(
        BESIDE.iter().map(|code| crate::norm::figures(warehouse, code, year)),
    )
    .await?;
    for (&code, figures) in BESIDE.iter().zip(all) {
        let Some(text) = t.indicator_texts.iter().find(|i| i.code == code) else { continue };
        let shown = crate::norm::shown(&figures);
        let find =
            |level: &str, key: &str| figures.iter().find(|f| f.level == level && f.code == key);
        let Some(own) = find("school", school) else { continue };
        let visible = own_staff || shown.schools.contains(school);
        if code == "PTR" {
            school_shown = shown.schools.contains(school);
        }
        let unit = unit_of(code);
        let show = |figure: Option<&crate::norm::Figure>, visible: bool| match figure {
            Some(f) if !visible => {
                if f.learners < MIN_LEARNERS {
                    t.suppressed.to_owned()
                } else {
                    t.hidden.to_owned()
                }
            }
            Some(crate::norm::Figure { value: Some(v), .. }) => {
                format!("{}{unit}", format_value(*v))
            }
            _ => t.hidden.to_owned(),
        };
        let national = find("national", "ZW");
        let mut pairs = vec![("code", code)];
        if let Some(p) = province {
            pairs.push(("province", p));
        }
        pairs.extend([("district", district.as_str()), ("school", school.as_str())]);
        rows.push(BesideRow {
            name: text.name,
            href: Links { page: "indicator", keep: Vec::new() }.to(&pairs),
            school: show(Some(own), visible),
            district: show(find("district", district), shown.districts.contains(district)),
            national: show(national, national.is_some_and(|n| n.learners >= MIN_LEARNERS)),
        });
    }
    Ok((rows, school_shown))
}

fn grade_order(grade: &str) -> usize {
    GRADES.iter().position(|g| *g == grade).unwrap_or(GRADES.len())
}

/// Rows per grade (girls, boys, total), the chart, the year shown and whether anything was hidden.
fn grade_rows(
    r: &Results<'_>,
    own_staff: bool,
    t: &Text,
) -> Result<(Vec<GradeRow>, String, Option<i64>, bool), DashError> {
    let (years, grades, sexes, learners) =
        (r.ints("year")?, r.texts("grade")?, r.texts("sex")?, r.ints("learners")?);
    let mut by_grade: BTreeMap<(usize, String), (i64, i64)> = BTreeMap::new();
    for i in 0..r.num_rows() {
        let grade = grades[i].clone().unwrap_or_default();
        let entry = by_grade.entry((grade_order(&grade), grade)).or_default();
        match sexes[i].as_deref() {
            Some("F") => entry.0 += learners[i].unwrap_or(0),
            _ => entry.1 += learners[i].unwrap_or(0),
        }
    }
    let totals: Vec<i64> = by_grade.values().map(|(f, m)| f + m).collect();
    let hidden = if own_staff { vec![false; totals.len()] } else { suppression(&totals, true) };
    let mut rows = Vec::new();
    let mut bars = Vec::new();
    let count = |n: i64, hide: bool, small: bool| match (hide, small) {
        (false, _) => n.to_string(),
        (true, true) => t.suppressed.to_owned(),
        (true, false) => t.hidden.to_owned(),
    };
    for (((_, grade), (girls, boys)), &hide) in by_grade.iter().zip(&hidden) {
        let total = girls + boys;
        // A small sex hides both, or the other would give it away beside the total.
        let split_hidden = hide || (!own_staff && (*girls < MIN_LEARNERS || *boys < MIN_LEARNERS));
        rows.push(GradeRow {
            grade: grade.clone(),
            girls: count(*girls, split_hidden, *girls < MIN_LEARNERS),
            boys: count(*boys, split_hidden, *boys < MIN_LEARNERS && *girls >= MIN_LEARNERS),
            total: count(total, hide, total < MIN_LEARNERS),
        });
        bars.push(BarRow {
            label: grade.clone(),
            value: if hide { 0.0 } else { total as f64 },
            suppressed: hide,
        });
    }
    let max = bars.iter().filter(|b| !b.suppressed).map(|b| b.value).fold(1.0, f64::max) * 1.1;
    let chart = if bars.is_empty() {
        String::new()
    } else {
        BarChart { title: t.enrolment_by_grade, max, unit: "", suppressed_text: t.hidden }
            .render(&bars)
    };
    let any_hidden = rows.iter().any(|g| g.girls == t.suppressed || g.girls == t.hidden);
    Ok((rows, chart, years.first().copied().flatten(), any_hidden || hidden.iter().any(|h| *h)))
}

type ClassRows = (Vec<ClassRow>, Vec<String>, Option<String>, String, bool);

/// Rows per class (the term's rate, the latest weeks'), the weeks, the term and the chart.
fn class_rows(r: &Results<'_>, own_staff: bool, t: &Text) -> Result<ClassRows, DashError> {
    let (years, terms) = (r.ints("year")?, r.ints("term")?);
    let (ids, names, grades) = (r.texts("class_id")?, r.texts("class_name")?, r.texts("grade")?);
    let (weeks, learners, marks, attended) =
        (r.texts("week")?, r.ints("learners")?, r.ints("marks")?, r.ints("attended")?);
    let mut all_weeks: Vec<String> = weeks.iter().flatten().cloned().collect();
    all_weeks.sort();
    all_weeks.dedup();
    let shown_weeks: Vec<String> = all_weeks.iter().rev().take(WEEKS).rev().cloned().collect();
    // class → (order, label, most learners in a week, marks, attended, week → (marks, attended))
    type Class = (usize, String, i64, i64, i64, BTreeMap<String, (i64, i64)>);
    let mut classes: BTreeMap<String, Class> = BTreeMap::new();
    for i in 0..r.num_rows() {
        let grade = grades[i].clone().unwrap_or_default();
        let label = names[i].clone().unwrap_or_else(|| grade.clone());
        let class = classes
            .entry(ids[i].clone().unwrap_or_default())
            .or_insert_with(|| (grade_order(&grade), label, 0, 0, 0, BTreeMap::new()));
        let (m, a) = (marks[i].unwrap_or(0), attended[i].unwrap_or(0));
        class.2 = class.2.max(learners[i].unwrap_or(0));
        class.3 += m;
        class.4 += a;
        if let Some(week) = &weeks[i] {
            class.5.insert(week.clone(), (m, a));
        }
    }
    let mut ordered: Vec<Class> = classes.into_values().collect();
    ordered.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let rate = |marks: i64, attended: i64| {
        (marks > 0).then(|| format!("{}%", format_value(attended as f64 / marks as f64 * 100.0)))
    };
    let mut rows = Vec::new();
    let mut bars = Vec::new();
    let mut any_hidden = false;
    for (_, label, most, marks, attended, by_week) in &ordered {
        let hide = !own_staff && *most < MIN_LEARNERS;
        any_hidden |= hide;
        let hidden = || t.hidden.to_owned();
        rows.push(ClassRow {
            label: label.clone(),
            learners: if hide { t.suppressed.to_owned() } else { most.to_string() },
            term: if hide { hidden() } else { rate(*marks, *attended).unwrap_or_else(hidden) },
            weeks: shown_weeks
                .iter()
                .map(|w| match by_week.get(w) {
                    Some((m, a)) if !hide => rate(*m, *a).unwrap_or_else(hidden),
                    _ => hidden(),
                })
                .collect(),
        });
        let value = if *marks > 0 { *attended as f64 / *marks as f64 * 100.0 } else { 0.0 };
        bars.push(BarRow {
            label: label.clone(),
            value: if hide { 0.0 } else { value },
            suppressed: hide || *marks == 0,
        });
    }
    let term = years.first().copied().flatten().zip(terms.first().copied().flatten());
    let term = term.map(|(y, n)| format!("{} {n}, {y}", t.term));
    let chart = if bars.is_empty() {
        String::new()
    } else {
        BarChart { title: t.attendance_by_class, max: 100.0, unit: "%", suppressed_text: t.hidden }
            .render(&bars)
    };
    let weeks = shown_weeks.iter().map(|w| w.get(5..).unwrap_or(w).to_owned()).collect();
    Ok((rows, weeks, term, chart, any_hidden))
}

/// Rows per subject (learners, mean term mark, learners per band), the term, anything hidden.
fn subject_rows(
    r: &Results<'_>,
    own_staff: bool,
    t: &Text,
) -> Result<(Vec<SubjectRow>, Option<String>, bool), DashError> {
    let (years, terms) = (r.ints("year")?, r.ints("term")?);
    let (subjects, bands) = (r.texts("subject_code")?, r.ints("band")?);
    let (learners, totals) = (r.ints("learners")?, r.floats("marks_total")?);
    // subject → (learners per band of the page, marks total)
    let mut by_subject: BTreeMap<String, ([i64; MARK_BANDS.len()], f64)> = BTreeMap::new();
    for i in 0..r.num_rows() {
        let entry = by_subject.entry(subjects[i].clone().unwrap_or_default()).or_default();
        let band = bands[i].unwrap_or(0);
        if let Some(slot) = MARK_BANDS.iter().position(|(lo, hi)| (*lo..=*hi).contains(&band)) {
            entry.0[slot] += learners[i].unwrap_or(0);
        }
        entry.1 += totals[i].unwrap_or(0.0);
    }
    let mut rows = Vec::new();
    let mut any_hidden = false;
    for (code, (bands, total)) in &by_subject {
        let n: i64 = bands.iter().sum();
        let name = t
            .subject_names
            .iter()
            .find(|(c, _)| c == code)
            .map_or_else(|| code.clone(), |(_, name)| (*name).to_owned());
        if !own_staff && n < MIN_LEARNERS {
            any_hidden = true;
            rows.push(SubjectRow {
                name,
                learners: t.suppressed.to_owned(),
                mean: t.hidden.to_owned(),
                bands: vec![t.hidden.to_owned(); MARK_BANDS.len()],
            });
            continue;
        }
        // The subject's learners are shown, so one small band would be given away by the others.
        let small: Vec<i64> =
            bands.iter().map(|&b| if b == 0 { MIN_LEARNERS } else { b }).collect();
        let hidden = if own_staff { vec![false; small.len()] } else { suppression(&small, true) };
        any_hidden |= hidden.iter().any(|h| *h);
        rows.push(SubjectRow {
            name,
            learners: n.to_string(),
            mean: if n > 0 {
                format!("{}%", format_value(total / n as f64))
            } else {
                t.hidden.to_owned()
            },
            bands: bands
                .iter()
                .zip(&hidden)
                .zip(&small)
                .map(|((b, h), shown_as)| match (h, *shown_as < MIN_LEARNERS) {
                    (false, _) => b.to_string(),
                    (true, true) => t.suppressed.to_owned(),
                    (true, false) => t.hidden.to_owned(),
                })
                .collect(),
        });
    }
    let term = years.first().copied().flatten().zip(terms.first().copied().flatten());
    Ok((rows, term.map(|(y, n)| format!("{} {n}, {y}", t.term)), any_hidden))
}
