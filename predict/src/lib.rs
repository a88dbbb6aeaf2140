//! Predictive analytics for OneClass. This crate holds what does not depend on where the data
//! comes from: a table of learners as numbers ([`table`]), the model family (gradient boosting,
//! [`model`]), the measures a model is judged by ([`metrics`]: ROC-AUC, precision among the
//! highest scores, calibration error, the gap between groups) and the evaluation of the model
//! family on any table with folds grouped by a column ([`evaluate`]), which is what
//! `oneclass predict evaluate` runs for a researcher's own records; and enrolment projections by
//! the cohort-survival method ([`projection`]).

pub mod early_warning;
pub mod evaluate;
pub mod metrics;
pub mod model;
pub mod projection;
pub mod table;

pub use evaluate::{Evaluation, GroupMeasure, evaluate};
pub use table::{Table, TableError};
