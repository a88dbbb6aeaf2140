//! Early warning: which enrolled learners are likely to drop out or repeat their grade this
//! school year, from the features `queries/predict_features.sql` builds over the lake (one row
//! per learner enrolled on a day). A model is trained on one cohort whose outcome is known,
//! judged on a later one against the transparent rule of the attention list, and then scores the
//! current cohort, each score with the features that raised it most.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use deltalake::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray,
};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::error::ArrowError;
use serde::{Deserialize, Serialize};

use crate::evaluate::{GroupMeasure, group_measures};
use crate::metrics::{expected_calibration_error, precision_at, roc_auc};
use crate::model::{FitError, LoadError, Model};

/// The model's features, in its columns' order: the columns of the features table that are
/// neither identifiers, groups nor outcomes. Sex and province are not features; they are the
/// groups the fairness report compares.
pub const FEATURES: &[&str] = &[
    "grade_level",
    "over_age",
    "repeater",
    "transfer_in",
    "days_marked",
    "absent_share",
    "absent_last_10",
    "absent_share_4_weeks",
    "absence_change",
    "mark_this_year",
    "mark_last_year",
    "mark_change",
    "unpaid_share",
    "invoices_unpaid",
    "beam",
    "ovc",
    "disability",
    "rural",
    "secondary_school",
    "school_absent_share",
];

/// The groups the fairness report compares: (name in the report, column).
pub const GROUPS: &[(&str, &str)] =
    &[("sex", "sex"), ("province", "province"), ("location", "location"), ("BEAM", "beam_group")];

/// Reasons shown with a score: the features that raised it most, at most this many, each adding
/// at least [`MIN_REASON`] to the log-odds.
pub const REASONS: usize = 3;
const MIN_REASON: f64 = 0.05;

#[derive(Debug, thiserror::Error)]
pub enum CohortError {
    #[error("the features table has no column {0:?}")]
    NoColumn(String),
    #[error("column {0:?}: {1}")]
    Type(String, ArrowError),
    #[error("the cohort has no learners")]
    Empty,
    #[error("the cohort's outcome is not known yet (its next school year is not in the lake)")]
    OutcomeUnknown,
    #[error("every learner of the cohort has the same outcome: nothing to learn")]
    OneOutcome,
}

/// The learners of one cohort on one day, as the model and the report read them.
#[derive(Debug, Clone)]
pub struct Cohort {
    pub learner_ids: Vec<String>,
    pub school_ids: Vec<String>,
    pub grades: Vec<String>,
    pub academic_year: Vec<i32>,
    /// Days since 1970-01-01 (the day the cohort was taken).
    pub as_of: Vec<i32>,
    /// [`FEATURES`], column by column; NaN where missing.
    pub columns: Vec<Vec<f64>>,
    /// 1 dropped out or repeated, 0 neither, NaN not known yet.
    pub outcome: Vec<f64>,
    /// The attention list's rule for each learner: chronic absence this term, falling marks,
    /// over-age by two years or more, an invoice 30 days overdue with nothing paid.
    pub rule: Vec<bool>,
    /// Each of [`GROUPS`]' values, row by row.
    pub groups: Vec<Vec<String>>,
}

impl Cohort {
    pub fn rows(&self) -> usize {
        self.learner_ids.len()
    }

    /// Reads the rows of the features table.
    pub fn from_batches(batches: &[RecordBatch]) -> Result<Cohort, CohortError> {
        let mut cohort = Cohort {
            learner_ids: vec![],
            school_ids: vec![],
            grades: vec![],
            academic_year: vec![],
            as_of: vec![],
            columns: vec![Vec::new(); FEATURES.len()],
            outcome: vec![],
            rule: vec![],
            groups: vec![Vec::new(); GROUPS.len()],
        };
        for batch in batches {
            let text = |name: &str| -> Result<Vec<String>, CohortError> {
                let array = column(batch, name, &DataType::Utf8)?;
                let array = array.as_string::<i32>();
                Ok((0..array.len()).map(|i| array.value(i).to_owned()).collect())
            };
            let number = |name: &str| -> Result<Vec<f64>, CohortError> {
                let array = column(batch, name, &DataType::Float64)?;
                let array = array.as_primitive::<deltalake::arrow::datatypes::Float64Type>();
                Ok((0..array.len())
                    .map(|i| if array.is_valid(i) { array.value(i) } else { f64::NAN })
                    .collect())
            };
            cohort.learner_ids.extend(text("learner_id")?);
            cohort.school_ids.extend(text("school_id")?);
            cohort.grades.extend(text("grade")?);
            let year = column(batch, "academic_year", &DataType::Int32)?;
            cohort
                .academic_year
                .extend(year.as_primitive::<deltalake::arrow::datatypes::Int32Type>().values());
            let day = column(batch, "as_of", &DataType::Date32)?;
            cohort
                .as_of
                .extend(day.as_primitive::<deltalake::arrow::datatypes::Date32Type>().values());
            for (values, name) in cohort.columns.iter_mut().zip(FEATURES) {
                values.extend(number(name)?);
            }
            cohort.outcome.extend(number("outcome")?);
            for (values, (_, name)) in cohort.groups.iter_mut().zip(GROUPS) {
                values.extend(text(name)?);
            }
            let (term_marks, term_absent) = (number("term_marks")?, number("term_absent")?);
            let (over_age, mark_change) = (number("over_age")?, number("mark_change")?);
            let unpaid = number("invoices_unpaid")?;
            for i in 0..batch.num_rows() {
                cohort.rule.push(
                    (term_marks[i] >= 5.0 && term_absent[i] * 10.0 >= term_marks[i])
                        || mark_change[i] <= -10.0
                        || over_age[i] >= 2.0
                        || unpaid[i] > 0.0,
                );
            }
        }
        if cohort.rows() == 0 {
            return Err(CohortError::Empty);
        }
        Ok(cohort.in_order())
    }

    /// The rows by school and learner: the query's order depends on its parallel plan, and the
    /// model learns the same trees from the same rows only in the same order.
    fn in_order(self) -> Cohort {
        let mut order: Vec<usize> = (0..self.rows()).collect();
        order.sort_by(|&a, &b| {
            (&self.school_ids[a], &self.learner_ids[a])
                .cmp(&(&self.school_ids[b], &self.learner_ids[b]))
        });
        fn pick<T: Clone>(values: &[T], order: &[usize]) -> Vec<T> {
            order.iter().map(|&i| values[i].clone()).collect()
        }
        Cohort {
            learner_ids: pick(&self.learner_ids, &order),
            school_ids: pick(&self.school_ids, &order),
            grades: pick(&self.grades, &order),
            academic_year: pick(&self.academic_year, &order),
            as_of: pick(&self.as_of, &order),
            columns: self.columns.iter().map(|c| pick(c, &order)).collect(),
            outcome: pick(&self.outcome, &order),
            rule: pick(&self.rule, &order),
            groups: self.groups.iter().map(|g| pick(g, &order)).collect(),
        }
    }

    /// Features column-major, as the model reads them.
    fn matrix(&self) -> Vec<f64> {
        self.columns.iter().flatten().copied().collect()
    }

    fn known_outcome(&self) -> Result<&[f64], CohortError> {
        if self.outcome.iter().any(|y| y.is_nan()) {
            return Err(CohortError::OutcomeUnknown);
        }
        if self.outcome.iter().all(|&y| y == self.outcome[0]) {
            return Err(CohortError::OneOutcome);
        }
        Ok(&self.outcome)
    }
}

fn column(batch: &RecordBatch, name: &str, to: &DataType) -> Result<ArrayRef, CohortError> {
    let array = batch.column_by_name(name).ok_or_else(|| CohortError::NoColumn(name.to_owned()))?;
    cast(array, to).map_err(|e| CohortError::Type(name.to_owned(), e))
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Cohort(#[from] CohortError),
    #[error(transparent)]
    Fit(#[from] FitError),
}

/// A trained early-warning model.
pub struct EarlyWarning {
    model: Model,
}

impl EarlyWarning {
    /// Trains on a cohort whose outcome is known.
    pub fn train(cohort: &Cohort) -> Result<EarlyWarning, TrainError> {
        let outcome = cohort.known_outcome()?;
        let model = Model::fit(&cohort.matrix(), cohort.rows(), outcome)?;
        Ok(EarlyWarning { model })
    }

    pub fn to_json(&self) -> Result<String, FitError> {
        self.model.to_json()
    }

    pub fn from_json(json: &str) -> Result<EarlyWarning, LoadError> {
        Ok(EarlyWarning { model: Model::from_json(json, FEATURES.len())? })
    }

    /// Each feature's share of the model's gain, highest first.
    pub fn importance(&self) -> Vec<(&'static str, f64)> {
        let mut shares: Vec<(&'static str, f64)> =
            FEATURES.iter().copied().zip(self.model.importance()).collect();
        shares.sort_by(|a, b| b.1.total_cmp(&a.1));
        shares
    }

    pub fn probabilities(&self, cohort: &Cohort) -> Vec<f64> {
        self.model.probabilities(&cohort.matrix(), cohort.rows())
    }

    /// The model judged on a cohort whose outcome is known (one it did not learn from), beside
    /// the transparent rule on the same learners.
    pub fn assess(&self, cohort: &Cohort) -> Result<Assessment, CohortError> {
        let outcome = cohort.known_outcome()?;
        let p = self.probabilities(cohort);
        let rule: Vec<f64> = cohort.rule.iter().map(|&r| f64::from(u8::from(r))).collect();
        let groups = GROUPS
            .iter()
            .zip(&cohort.groups)
            .map(|((name, _), values)| {
                let values: Vec<&str> = values.iter().map(String::as_str).collect();
                let (measures, gap) = group_measures(&p, outcome, &values);
                GroupReport { dimension: name, measures, gap }
            })
            .collect();
        let flagged = rule.iter().filter(|&&r| r > 0.5).count();
        Ok(Assessment {
            rows: cohort.rows(),
            positives: outcome.iter().filter(|&&y| y > 0.5).count(),
            auc: roc_auc(&p, outcome).unwrap_or(f64::NAN),
            rule_auc: roc_auc(&rule, outcome).unwrap_or(f64::NAN),
            precision_top_10: precision_at(&p, outcome, 0.10),
            rule_flagged: flagged,
            rule_precision: rule
                .iter()
                .zip(outcome)
                .filter(|(r, _)| **r > 0.5)
                .map(|(_, y)| *y)
                .sum::<f64>()
                / flagged.max(1) as f64,
            calibration_error: expected_calibration_error(&p, outcome, 10),
            mean_score: p.iter().sum::<f64>() / p.len() as f64,
            groups,
        })
    }

    /// A score for every learner of the cohort, with the reasons that raised it most.
    pub fn score(&self, cohort: &Cohort) -> Vec<Score> {
        let rows = cohort.rows();
        let p = self.probabilities(cohort);
        let contributions = self.model.contributions(&cohort.matrix(), rows);
        let width = FEATURES.len() + 1;
        (0..rows)
            .map(|r| {
                let row = &contributions[r * width..r * width + FEATURES.len()];
                let mut order: Vec<usize> = (0..FEATURES.len()).collect();
                order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
                let reasons = order
                    .into_iter()
                    .take(REASONS)
                    .filter(|&f| row[f] >= MIN_REASON)
                    .map(|f| Reason {
                        feature: FEATURES[f].to_owned(),
                        value: Some(cohort.columns[f][r]).filter(|v| v.is_finite()),
                        weight: (row[f] * 1000.0).round() / 1000.0,
                    })
                    .collect();
                Score { row: r, probability: p[r], reasons }
            })
            .collect()
    }
}

/// One learner's score.
#[derive(Debug, Clone)]
pub struct Score {
    /// The learner's row in the cohort.
    pub row: usize,
    /// The chance of dropping out or repeating this school year, 0 to 1.
    pub probability: f64,
    pub reasons: Vec<Reason>,
}

/// A feature that raised a score: its value for the learner and what it added to the log-odds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub feature: String,
    pub value: Option<f64>,
    pub weight: f64,
}

/// The columns of `gold/predict/scores`.
pub fn scores_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("academic_year", DataType::Int32, false),
        Field::new("as_of", DataType::Date32, false),
        Field::new("learner_id", DataType::Utf8, false),
        Field::new("school_id", DataType::Utf8, false),
        Field::new("grade", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
        Field::new("rank_in_school", DataType::Int32, false),
        Field::new("model_version", DataType::Int32, false),
        // JSON: [{"feature", "value", "weight"}], the reasons that raised the score most.
        Field::new("reasons", DataType::Utf8, false),
    ]))
}

/// The scores as rows of `gold/predict/scores`, ranked within each school (1 = highest).
pub fn scores_batch(
    cohort: &Cohort,
    scores: &[Score],
    model_version: i32,
) -> Result<RecordBatch, ArrowError> {
    let mut by_school: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in scores.iter().enumerate() {
        by_school.entry(cohort.school_ids[s.row].as_str()).or_default().push(i);
    }
    let mut rank = vec![0i32; scores.len()];
    for members in by_school.values_mut() {
        members.sort_by(|&a, &b| scores[b].probability.total_cmp(&scores[a].probability));
        for (k, &i) in members.iter().enumerate() {
            rank[i] = i32::try_from(k + 1).unwrap_or(i32::MAX);
        }
    }
    let pick = |values: &[String]| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(scores.iter().map(|s| values[s.row].as_str())))
    };
    let reasons = scores
        .iter()
        .map(|s| serde_json::to_string(&s.reasons).unwrap_or_else(|_| "[]".to_owned()));
    RecordBatch::try_new(
        scores_schema(),
        vec![
            Arc::new(Int32Array::from_iter_values(
                scores.iter().map(|s| cohort.academic_year[s.row]),
            )),
            Arc::new(Date32Array::from_iter_values(scores.iter().map(|s| cohort.as_of[s.row]))),
            pick(&cohort.learner_ids),
            pick(&cohort.school_ids),
            pick(&cohort.grades),
            Arc::new(Float64Array::from_iter_values(scores.iter().map(|s| s.probability))),
            Arc::new(Int32Array::from(rank)),
            Arc::new(Int32Array::from(vec![model_version; scores.len()])),
            Arc::new(StringArray::from_iter_values(reasons)),
        ],
    )
}

/// One dimension of the fairness report.
#[derive(Debug, Clone)]
pub struct GroupReport {
    pub dimension: &'static str,
    pub measures: Vec<GroupMeasure>,
    /// The widest AUC difference between two of its groups (those of 30 learners or more with
    /// both outcomes).
    pub gap: Option<f64>,
}

/// How a model did on a cohort it did not learn from.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub rows: usize,
    pub positives: usize,
    pub auc: f64,
    /// The attention list's rule as a score (listed 1, not listed 0).
    pub rule_auc: f64,
    /// The share who dropped out or repeated among the 10 % with the highest scores.
    pub precision_top_10: f64,
    pub rule_flagged: usize,
    /// The share who dropped out or repeated among those the rule lists.
    pub rule_precision: f64,
    pub calibration_error: f64,
    pub mean_score: f64,
    pub groups: Vec<GroupReport>,
}

impl Assessment {
    /// The widest gap of any dimension.
    pub fn widest_gap(&self) -> Option<(&'static str, f64)> {
        self.groups
            .iter()
            .filter_map(|g| g.gap.map(|gap| (g.dimension, gap)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

impl fmt::Display for Assessment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let share = self.positives as f64 / self.rows.max(1) as f64 * 100.0;
        writeln!(
            f,
            "{} learners, {} dropped out or repeated ({share:.1} %)",
            self.rows, self.positives
        )?;
        writeln!(f)?;
        writeln!(f, "| measure | model | rule |")?;
        writeln!(f, "| --- | ---: | ---: |")?;
        writeln!(f, "| ROC-AUC | {:.3} | {:.3} |", self.auc, self.rule_auc)?;
        writeln!(
            f,
            "| precision, top 10 % (rule: those listed, {}) | {:.3} | {:.3} |",
            self.rule_flagged, self.precision_top_10, self.rule_precision
        )?;
        writeln!(f, "| expected calibration error | {:.3} | – |", self.calibration_error)?;
        writeln!(
            f,
            "| mean score against the share | {:.3} vs {:.3} | – |",
            self.mean_score,
            share / 100.0
        )?;
        for g in &self.groups {
            writeln!(f)?;
            let gap = g.gap.map_or_else(|| "–".to_owned(), |x| format!("{x:.3}"));
            writeln!(
                f,
                "| {} (widest gap {gap}) | learners | outcome | ROC-AUC ± 1.96 s.e. |",
                g.dimension
            )?;
            writeln!(f, "| --- | ---: | ---: | ---: |")?;
            for m in &g.measures {
                let auc = match (m.auc, m.auc_standard_error()) {
                    (Some(a), Some(se)) => format!("{a:.3} ± {:.3}", 1.96 * se),
                    _ => "–".to_owned(),
                };
                writeln!(f, "| {} | {} | {} | {auc} |", m.group, m.rows, m.positives)?;
            }
        }
        Ok(())
    }
}
