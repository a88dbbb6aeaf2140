//! The model family: gradient-boosted trees on the log loss (forust, XGBoost's algorithm in
//! Rust), giving probabilities, the share of the model's gain each feature carries, and per-row
//! contributions (tree SHAP) for the explanations. The settings are fixed, not searched: many
//! small trees learnt slowly, which suits tables of thousands of learners and a few dozen
//! features.

use forust_ml::gradientbooster::{ContributionsMethod, ImportanceMethod};
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};

/// Trees, each of at most this depth, each adding this share of what it learnt.
const TREES: usize = 300;
const DEPTH: usize = 3;
const LEARNING_RATE: f32 = 0.05;

#[derive(Debug, thiserror::Error)]
#[error("the model could not be fitted: {0}")]
pub struct FitError(String);

#[derive(Debug, thiserror::Error)]
#[error("a stored model could not be read: {0}")]
pub struct LoadError(String);

pub struct Model {
    booster: GradientBooster,
    features: usize,
}

impl Model {
    /// Fits on `rows` rows of column-major features, labels 0/1.
    pub fn fit(features: &[f64], rows: usize, label: &[f64]) -> Result<Model, FitError> {
        let cols = features.len() / rows.max(1);
        let data = Matrix::new(features, rows, cols);
        let mut booster = GradientBooster::default()
            .set_objective_type(ObjectiveType::LogLoss)
            .set_iterations(TREES)
            .set_max_depth(DEPTH)
            .set_learning_rate(LEARNING_RATE)
            .set_min_leaf_weight(5.0)
            .set_l2(1.0)
            .set_seed(18);
        booster.fit_unweighted(&data, label, None).map_err(|e| FitError(e.to_string()))?;
        Ok(Model { booster, features: cols })
    }

    /// The fitted trees as JSON (what a model version keeps).
    pub fn to_json(&self) -> Result<String, FitError> {
        self.booster.json_dump().map_err(|e| FitError(e.to_string()))
    }

    /// A model from [`Model::to_json`], over `features` feature columns.
    pub fn from_json(json: &str, features: usize) -> Result<Model, LoadError> {
        let booster = GradientBooster::from_json(json).map_err(|e| LoadError(e.to_string()))?;
        Ok(Model { booster, features })
    }

    /// The probability of the label for each of `rows` rows (column-major features).
    pub fn probabilities(&self, features: &[f64], rows: usize) -> Vec<f64> {
        let data = Matrix::new(features, rows, self.features);
        self.booster.predict(&data, true).into_iter().map(|z| 1.0 / (1.0 + (-z).exp())).collect()
    }

    /// Each feature's share of the model's total gain (summing to 1).
    pub fn importance(&self) -> Vec<f64> {
        let gains = self.booster.calculate_feature_importance(ImportanceMethod::TotalGain, false);
        let total: f64 = gains.values().map(|&g| f64::from(g)).sum();
        (0..self.features)
            .map(|i| gains.get(&i).map_or(0.0, |&g| f64::from(g) / total.max(f64::MIN_POSITIVE)))
            .collect()
    }

    /// Per row, each feature's contribution to the log-odds (tree SHAP), then the bias: `rows`
    /// × (features + 1) values, row by row.
    pub fn contributions(&self, features: &[f64], rows: usize) -> Vec<f64> {
        let data = Matrix::new(features, rows, self.features);
        self.booster.predict_contributions(&data, ContributionsMethod::Shapley, true)
    }
}
