//! Enrolment projections over the lake (`oneclass predict project`): learners per grade for the
//! next years by the cohort-survival method (`oneclass_predict::projection`), from the census-day
//! enrolment the lake holds, each district's entry grade following its four-year-olds; districts
//! summed into provinces and the nation; the teachers needed at a target pupil–teacher ratio.
//! Written to `gold/predict/projections` beside the actual figures of the years the lake holds.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use deltalake::arrow::array::{AsArray, Float64Array, Int32Array, RecordBatch, StringArray};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Schema, SchemaRef};
use oneclass_predict::projection::{Counts, GRADES, project, teachers_needed};
use oneclass_warehouse::{GoldWrite, Warehouse};

pub const PROJECTIONS_TABLE: (&str, &str) = ("predict", "projections");

/// What a projection run reports.
#[derive(Debug)]
pub struct ProjectionRun {
    pub base_year: i32,
    pub horizon: u32,
    /// Rows written (actual and projected, every level).
    pub rows: usize,
    /// The nation's learners: (year, learners, low, high, teachers needed), actual years first.
    pub national: Vec<(i32, f64, f64, f64, f64)>,
}

/// One figure of the table: an area at a level, a year and a grade.
#[derive(Debug, Clone, Default)]
struct Figure {
    learners: f64,
    low: f64,
    high: f64,
}

/// Projects `horizon` years (1–5) beyond the latest year the lake holds and replaces
/// `gold/predict/projections`.
pub async fn project_enrolment(
    wh: &Warehouse,
    horizon: u32,
    target_ptr: f64,
) -> anyhow::Result<ProjectionRun> {
    anyhow::ensure!((1..=5).contains(&horizon), "the horizon is 1 to 5 years, not {horizon}");
    anyhow::ensure!(target_ptr >= 1.0, "the target pupil–teacher ratio must be 1 or more");
    let batches = wh.named_unlimited("predict_enrolment_history", vec![]).await?;
    let mut counts = Counts::new();
    let mut population: BTreeMap<(String, i32), f64> = BTreeMap::new();
    let mut province_of: BTreeMap<String, String> = BTreeMap::new();
    for b in &batches {
        let text = |i: usize| cast(b.column(i), &DataType::Utf8);
        let (province, district, grade) = (text(0)?, text(1)?, text(3)?);
        let year = cast(b.column(2), &DataType::Int32)?;
        let learners = cast(b.column(4), &DataType::Float64)?;
        let (province, district, grade) =
            (province.as_string::<i32>(), district.as_string::<i32>(), grade.as_string::<i32>());
        let (year, learners) =
            (year.as_primitive::<Int32Type>(), learners.as_primitive::<Float64Type>());
        for i in 0..b.num_rows() {
            let d = district.value(i).to_owned();
            province_of.insert(d.clone(), province.value(i).to_owned());
            if grade.value(i) == "POPULATION_4" {
                population.insert((d, year.value(i)), learners.value(i));
            } else if let Some(g) = GRADES.iter().position(|x| *x == grade.value(i)) {
                counts.entry((d, year.value(i))).or_insert([0.0; GRADES.len()])[g] =
                    learners.value(i);
            }
        }
    }
    let base_year =
        counts.keys().map(|(_, y)| *y).max().context("the lake holds no enrolment yet")?;
    let growth = |district: &str, year: i32| {
        // ECD A's entrants of `year` are its four-year-olds (the official age on 1 January).
        let now = population.get(&(district.to_owned(), year))?;
        let before = population.get(&(district.to_owned(), year - 1))?;
        (*before > 0.0).then(|| now / before)
    };
    let projected = project(&counts, base_year, horizon, &growth);

    // Every level: (level, area, year, grade) → figure; actual years have no interval.
    let mut table: BTreeMap<(&'static str, String, i32, &'static str), Figure> = BTreeMap::new();
    let mut add = |district: &str, year: i32, grade: &'static str, f: &Figure| {
        let province = province_of.get(district).cloned().unwrap_or_default();
        for (level, area) in
            [("district", district.to_owned()), ("province", province), ("national", "ZW".into())]
        {
            let cell = table.entry((level, area, year, grade)).or_default();
            cell.learners += f.learners;
            cell.low += f.low;
            cell.high += f.high;
        }
    };
    for ((district, year), grades) in &counts {
        for (g, n) in grades.iter().enumerate() {
            add(district, *year, GRADES[g], &Figure { learners: *n, low: *n, high: *n });
        }
    }
    for p in &projected {
        add(&p.area, p.year, p.grade, &Figure { learners: p.learners, low: p.low, high: p.high });
    }
    let mut national: BTreeMap<i32, Figure> = BTreeMap::new();
    for ((level, _, year, _), f) in &table {
        if *level == "national" {
            let n = national.entry(*year).or_default();
            n.learners += f.learners;
            n.low += f.low;
            n.high += f.high;
        }
    }
    let batch = batch_of(&table, base_year, target_ptr)?;
    let rows = batch.num_rows();
    wh.write_gold(PROJECTIONS_TABLE, schema(), vec![batch], GoldWrite::Replace).await?;
    Ok(ProjectionRun {
        base_year,
        horizon,
        rows,
        national: national
            .into_iter()
            .map(|(y, f)| (y, f.learners, f.low, f.high, teachers_needed(f.learners, target_ptr)))
            .collect(),
    })
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("scope_level", DataType::Utf8, false),
        Field::new("scope_code", DataType::Utf8, false),
        Field::new("year", DataType::Int32, false),
        Field::new("grade", DataType::Utf8, false),
        // `actual` (census day, from the lake) or `projected`.
        Field::new("kind", DataType::Utf8, false),
        Field::new("learners", DataType::Float64, false),
        Field::new("low", DataType::Float64, false),
        Field::new("high", DataType::Float64, false),
        Field::new("target_ptr", DataType::Float64, false),
        Field::new("teachers_needed", DataType::Float64, false),
    ]))
}

fn batch_of(
    table: &BTreeMap<(&'static str, String, i32, &'static str), Figure>,
    base_year: i32,
    target_ptr: f64,
) -> anyhow::Result<RecordBatch> {
    let rows = || table.iter();
    let text = |f: fn(&(&'static str, String, i32, &'static str)) -> String| {
        Arc::new(StringArray::from_iter_values(rows().map(|(k, _)| f(k))))
    };
    let number =
        |f: fn(&Figure) -> f64| Arc::new(Float64Array::from_iter_values(rows().map(|(_, v)| f(v))));
    Ok(RecordBatch::try_new(
        schema(),
        vec![
            text(|k| k.0.to_owned()),
            text(|k| k.1.clone()),
            Arc::new(Int32Array::from_iter_values(rows().map(|(k, _)| k.2))),
            text(|k| k.3.to_owned()),
            Arc::new(StringArray::from_iter_values(
                rows().map(|(k, _)| if k.2 > base_year { "projected" } else { "actual" }),
            )),
            number(|f| f.learners),
            number(|f| f.low),
            number(|f| f.high),
            Arc::new(Float64Array::from(vec![target_ptr; table.len()])),
            Arc::new(Float64Array::from_iter_values(
                rows().map(|(_, f)| teachers_needed(f.learners, target_ptr)),
            )),
        ],
    )?)
}
