//! The early-warning jobs over the lake (`oneclass predict train|score`, and scoring after each
//! scheduled gold rebuild): the features of a cohort from `queries/predict_features.sql`, kept in
//! `gold/predict/features`; a model trained on one cohort and judged on the next, kept with its
//! measures in `gold/predict/models`; the current cohort's scores and reasons in
//! `gold/predict/scores`, which the head's attention list shows and analysts read pseudonymised.

use std::sync::Arc;

use anyhow::Context;
use chrono::{Days, NaiveDate, Utc};
use deltalake::arrow::array::{
    AsArray, BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{
    DataType, Date32Type, Field, Int32Type, Schema, SchemaRef, TimeUnit,
};
use oneclass_predict::early_warning::{
    Assessment, Cohort, EarlyWarning, scores_batch, scores_schema,
};
use oneclass_warehouse::{GoldWrite, ScalarValue, Warehouse};

pub const FEATURES_TABLE: (&str, &str) = ("predict", "features");
pub const MODELS_TABLE: (&str, &str) = ("predict", "models");
pub const SCORES_TABLE: (&str, &str) = ("predict", "scores");

/// A past cohort is taken this many days after its second term starts: the term's attendance
/// (the rule's chronic absence) and its first tests are in, and most of the year is ahead.
const INTO_SECOND_TERM: u64 = 42;

/// A school year the lake holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CohortYear {
    pub year: i32,
    /// The day its learners are taken when it is a past cohort.
    pub day: NaiveDate,
    pub outcome_known: bool,
}

/// The school years the lake holds enrolments for.
pub async fn cohort_years(wh: &Warehouse) -> anyhow::Result<Vec<CohortYear>> {
    let batches = wh.named("predict_cohorts", vec![]).await?;
    let mut years = Vec::new();
    for b in &batches {
        let year = cast(b.column(0), &DataType::Int32)?;
        let start = cast(b.column(1), &DataType::Date32)?;
        let known = b.column(2).as_boolean();
        let (year, start) = (year.as_primitive::<Int32Type>(), start.as_primitive::<Date32Type>());
        for i in 0..b.num_rows() {
            let start = NaiveDate::default()
                .checked_add_days(Days::new(u64::try_from(start.value(i)).unwrap_or(0)))
                .context("a term's start")?;
            years.push(CohortYear {
                year: year.value(i),
                day: start + Days::new(INTO_SECOND_TERM),
                outcome_known: known.value(i),
            });
        }
    }
    Ok(years)
}

/// The features of the learners enrolled on `day`, written to `gold/predict/features` in place
/// of that school year's earlier rows.
pub async fn cohort(wh: &Warehouse, day: NaiveDate) -> anyhow::Result<Cohort> {
    let date = |d: i32| ScalarValue::Date32(Some(d));
    let days = date(days_of(day)?);
    let found = wh.named("predict_day", vec![days.clone()]).await?;
    let b = found
        .iter()
        .find(|b| b.num_rows() > 0)
        .with_context(|| format!("no term in ref.terms begins on or before {day}"))?;
    let year = cast(b.column(0), &DataType::Int32)?.as_primitive::<Int32Type>().value(0);
    let start = |i: usize| -> anyhow::Result<i32> {
        Ok(cast(b.column(i), &DataType::Date32)?.as_primitive::<Date32Type>().value(0))
    };
    let params = vec![days, date(start(1)?), ScalarValue::Int32(Some(year)), date(start(2)?)];
    let batches = wh.named_unlimited("predict_features", params).await?;
    let cohort = Cohort::from_batches(&batches)
        .with_context(|| format!("the learners enrolled on {day}"))?;
    let schema = batches[0].schema();
    let replace = GoldWrite::ReplaceWhere(format!("academic_year = {year}"));
    wh.write_gold(FEATURES_TABLE, schema, batches, replace).await?;
    Ok(cohort)
}

fn days_of(day: NaiveDate) -> anyhow::Result<i32> {
    Ok(i32::try_from((day - NaiveDate::default()).num_days())?)
}

/// What training reports.
#[derive(Debug)]
pub struct Trained {
    pub version: i32,
    pub train_year: i32,
    pub learners: usize,
    pub evaluated_on: Option<(i32, Assessment)>,
    pub importance: Vec<(&'static str, f64)>,
}

/// Trains on the cohort of `train_year` (default: the latest whose outcome is known and that has
/// a later known one to be judged on) and judges the model on the cohort after it; keeps the
/// model with its measures as a new version in `gold/predict/models`.
pub async fn train(wh: &Warehouse, train_year: Option<i32>) -> anyhow::Result<Trained> {
    let years = cohort_years(wh).await?;
    let known: Vec<&CohortYear> = years.iter().filter(|y| y.outcome_known).collect();
    let train = match train_year {
        Some(y) => known
            .iter()
            .find(|c| c.year == y)
            .with_context(|| format!("no school year {y} with a known outcome in the lake"))?,
        None => default_train_year(&known).context(
            "the lake holds no school year whose outcome is known: the model learns from a year \
             whose next year is in the lake",
        )?,
    };
    let later = known.iter().find(|c| c.year == train.year + 1);
    let learn = cohort(wh, train.day).await?;
    let model =
        tokio::task::spawn_blocking(move || EarlyWarning::train(&learn).map(|m| (m, learn.rows())))
            .await??;
    let (model, learners) = model;
    let evaluated_on = match later {
        Some(c) => Some((c.year, model.assess(&cohort(wh, c.day).await?)?)),
        None => None,
    };
    let version = latest_version(wh).await?.map_or(1, |v| v + 1);
    let row = model_row(version, train, learners, evaluated_on.as_ref(), &model)?;
    wh.write_gold(MODELS_TABLE, row.schema(), vec![row], GoldWrite::Append).await?;
    Ok(Trained {
        version,
        train_year: train.year,
        learners,
        evaluated_on,
        importance: model.importance(),
    })
}

/// The cohort to learn from by default: the latest whose outcome is known and that has a later
/// known one to be judged on (the only known one when there is one).
fn default_train_year<'a>(known: &[&'a CohortYear]) -> Option<&'a CohortYear> {
    match known.len() {
        0 => None,
        1 => Some(known[0]),
        n => Some(known[n - 2]),
    }
}

fn models_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("version", DataType::Int32, false),
        Field::new(
            "trained_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("train_year", DataType::Int32, false),
        Field::new("train_as_of", DataType::Date32, false),
        Field::new("learners", DataType::Int32, false),
        Field::new("evaluated_year", DataType::Int32, true),
        Field::new("auc", DataType::Float64, true),
        Field::new("rule_auc", DataType::Float64, true),
        Field::new("precision_top_10", DataType::Float64, true),
        Field::new("calibration_error", DataType::Float64, true),
        Field::new("widest_group_gap", DataType::Float64, true),
        // The assessment as the command prints it (Markdown), for the model card.
        Field::new("report", DataType::Utf8, true),
        Field::new("model", DataType::Utf8, false),
        Field::new("usable", DataType::Boolean, false),
    ]))
}

fn model_row(
    version: i32,
    train: &CohortYear,
    learners: usize,
    evaluated: Option<&(i32, Assessment)>,
    model: &EarlyWarning,
) -> anyhow::Result<RecordBatch> {
    let a = evaluated.map(|(_, a)| a);
    let f = |get: fn(&Assessment) -> f64| Arc::new(Float64Array::from(vec![a.map(get)]));
    let days = days_of(train.day)?;
    Ok(RecordBatch::try_new(
        models_schema(),
        vec![
            Arc::new(Int32Array::from(vec![version])),
            Arc::new(
                TimestampMicrosecondArray::from(vec![Utc::now().timestamp_micros()])
                    .with_timezone("UTC"),
            ),
            Arc::new(Int32Array::from(vec![train.year])),
            Arc::new(deltalake::arrow::array::Date32Array::from(vec![days])),
            Arc::new(Int32Array::from(vec![i32::try_from(learners)?])),
            Arc::new(Int32Array::from(vec![evaluated.map(|(y, _)| *y)])),
            f(|a| a.auc),
            f(|a| a.rule_auc),
            f(|a| a.precision_top_10),
            f(|a| a.calibration_error),
            Arc::new(Float64Array::from(vec![a.and_then(|a| a.widest_gap()).map(|(_, g)| g)])),
            Arc::new(StringArray::from(vec![a.map(|a| a.to_string())])),
            Arc::new(StringArray::from(vec![model.to_json()?])),
            Arc::new(BooleanArray::from(vec![true])),
        ],
    )?)
}

async fn latest_version(wh: &Warehouse) -> anyhow::Result<Option<i32>> {
    Ok(latest_model(wh).await?.map(|m| m.version))
}

/// A stored model version.
struct Stored {
    version: i32,
    train_year: i32,
    json: String,
}

/// The newest usable model; `None` before any model is trained.
async fn latest_model(wh: &Warehouse) -> anyhow::Result<Option<Stored>> {
    let batches = match wh.named("predict_latest_model", vec![]).await {
        Ok(b) => b,
        Err(e) if e.is_missing_table() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else { return Ok(None) };
    let int = |i: usize| -> anyhow::Result<i32> {
        Ok(cast(b.column(i), &DataType::Int32)?.as_primitive::<Int32Type>().value(0))
    };
    let json = cast(b.column(2), &DataType::Utf8)?.as_string::<i32>().value(0).to_owned();
    Ok(Some(Stored { version: int(0)?, train_year: int(1)?, json }))
}

/// After a gold rebuild in the running system: learns a new model version when a later cohort
/// than the newest model's has become learnable (a school year's outcome became known), then
/// scores today's learners with the newest model. Nothing to do before the lake holds two
/// school years.
pub async fn after_gold(wh: &Warehouse) -> anyhow::Result<Option<Scored>> {
    let years = cohort_years(wh).await?;
    let known: Vec<&CohortYear> = years.iter().filter(|y| y.outcome_known).collect();
    let Some(learnable) = default_train_year(&known) else { return Ok(None) };
    let newest = latest_model(wh).await?;
    if newest.as_ref().is_none_or(|m| m.train_year < learnable.year) {
        let trained = train(wh, None).await?;
        tracing::info!(
            version = trained.version,
            year = trained.train_year,
            "early-warning model trained"
        );
    }
    score(wh, None).await
}

/// What scoring reports.
#[derive(Debug)]
pub struct Scored {
    pub version: i32,
    pub day: NaiveDate,
    pub learners: usize,
}

/// Scores every learner enrolled on `day` (default today) with the newest model and replaces
/// `gold/predict/scores`; `None` when no model has been trained yet.
pub async fn score(wh: &Warehouse, day: Option<NaiveDate>) -> anyhow::Result<Option<Scored>> {
    let Some(Stored { version, json, .. }) = latest_model(wh).await? else { return Ok(None) };
    let day = day.unwrap_or_else(|| Utc::now().date_naive());
    let current = cohort(wh, day).await?;
    let batch = tokio::task::spawn_blocking(move || -> anyhow::Result<RecordBatch> {
        let model = EarlyWarning::from_json(&json)?;
        let scores = model.score(&current);
        Ok(scores_batch(&current, &scores, version)?)
    })
    .await??;
    let learners = batch.num_rows();
    wh.write_gold(SCORES_TABLE, scores_schema(), vec![batch], GoldWrite::Replace).await?;
    Ok(Some(Scored { version, day, learners }))
}
