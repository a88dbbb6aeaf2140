//! The model family judged on a table: folds grouped by a column (a school's learners are all in
//! one fold, so the model is always scored on schools it did not learn from), every row scored
//! once by a model that did not see it, and the measures over those out-of-fold scores.

use std::collections::BTreeMap;
use std::fmt;

use crate::metrics::{expected_calibration_error, precision_at, roc_auc};
use crate::model::{FitError, Model};
use crate::table::Table;

/// One group's measures.
#[derive(Debug, Clone)]
pub struct GroupMeasure {
    pub group: String,
    pub rows: usize,
    pub positives: usize,
    /// None when the group holds one class only.
    pub auc: Option<f64>,
}

impl GroupMeasure {
    /// The standard error of the group's AUC (Hanley and McNeil, 1982): how far chance alone
    /// moves it with this many learners of each outcome.
    pub fn auc_standard_error(&self) -> Option<f64> {
        let a = self.auc?;
        let (n1, n0) = (self.positives as f64, (self.rows - self.positives) as f64);
        let (q1, q2) = (a / (2.0 - a), 2.0 * a * a / (1.0 + a));
        let variance =
            (a * (1.0 - a) + (n1 - 1.0) * (q1 - a * a) + (n0 - 1.0) * (q2 - a * a)) / (n1 * n0);
        Some(variance.max(0.0).sqrt())
    }

    /// The group's AUC less `overall`, when it lies further than `allowed` from it beyond what
    /// chance explains (the distance less 1.96 standard errors exceeds `allowed`); `None` when
    /// it does not, or the group has one outcome only.
    pub fn gap_beyond(&self, overall: f64, allowed: f64) -> Option<f64> {
        let gap = self.auc? - overall;
        (gap.abs() - 1.96 * self.auc_standard_error()? > allowed).then_some(gap)
    }
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    pub rows: usize,
    pub positives: usize,
    pub folds: usize,
    pub auc: f64,
    /// The share of positives among the 10 % of rows with the highest scores.
    pub precision_top_10: f64,
    /// Expected calibration error over ten bins.
    pub calibration_error: f64,
    /// Each feature and its mean share of the models' gain, highest first.
    pub importance: Vec<(String, f64)>,
    pub groups: Vec<GroupMeasure>,
    /// The widest difference between two groups' AUCs (groups with both classes and 30 rows or
    /// more).
    pub group_gap: Option<f64>,
}

/// Groups of fewer rows than this are listed without entering the gap.
const MIN_GROUP_ROWS: usize = 30;

/// Trains and scores the model family in `folds` folds grouped by the table's group column.
pub fn evaluate(table: &Table, folds: usize) -> Result<Evaluation, FitError> {
    let folds = folds.clamp(2, 20);
    // Groups go to folds by a stable hash of their name: the same table gives the same folds.
    let fold_of_group = |g: &str| {
        let h = g.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        (h % folds as u64) as usize
    };
    let fold: Vec<usize> = table.groups.iter().map(|g| fold_of_group(g)).collect();
    let mut scores = vec![f64::NAN; table.rows()];
    let mut importance = vec![0.0; table.names.len()];
    let mut fitted = 0;
    for k in 0..folds {
        let train: Vec<usize> = (0..table.rows()).filter(|&r| fold[r] != k).collect();
        let test: Vec<usize> = (0..table.rows()).filter(|&r| fold[r] == k).collect();
        if test.is_empty() || train.is_empty() {
            continue;
        }
        let labels: Vec<f64> = train.iter().map(|&r| table.label[r]).collect();
        if labels.iter().all(|&y| y == labels[0]) {
            continue;
        }
        let model = Model::fit(&table.matrix_of(&train), train.len(), &labels)?;
        let p = model.probabilities(&table.matrix_of(&test), test.len());
        for (&r, p) in test.iter().zip(p) {
            scores[r] = p;
        }
        for (total, share) in importance.iter_mut().zip(model.importance()) {
            *total += share;
        }
        fitted += 1;
    }
    // Rows of a fold that could not be fitted (one class in its training rows) are left out.
    let scored: Vec<usize> = (0..table.rows()).filter(|&r| scores[r].is_finite()).collect();
    let s: Vec<f64> = scored.iter().map(|&r| scores[r]).collect();
    let y: Vec<f64> = scored.iter().map(|&r| table.label[r]).collect();
    let groups_of: Vec<&str> = scored.iter().map(|&r| table.groups[r].as_str()).collect();
    let (groups, group_gap) = group_measures(&s, &y, &groups_of);
    let mut importance: Vec<(String, f64)> = table
        .names
        .iter()
        .cloned()
        .zip(importance.into_iter().map(|v| v / fitted.max(1) as f64))
        .collect();
    importance.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(Evaluation {
        rows: scored.len(),
        positives: y.iter().filter(|&&v| v > 0.5).count(),
        folds,
        auc: roc_auc(&s, &y).unwrap_or(f64::NAN),
        precision_top_10: precision_at(&s, &y, 0.10),
        calibration_error: expected_calibration_error(&s, &y, 10),
        importance,
        groups,
        group_gap,
    })
}

/// Each group's AUC over `scores` and `labels` (row by row with `groups`), and the widest
/// difference between two groups' AUCs (groups with both classes and 30 rows or more).
pub fn group_measures(
    scores: &[f64],
    labels: &[f64],
    groups: &[&str],
) -> (Vec<GroupMeasure>, Option<f64>) {
    let mut by_group: BTreeMap<&str, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for ((s, y), g) in scores.iter().zip(labels).zip(groups) {
        let entry = by_group.entry(g).or_default();
        entry.0.push(*s);
        entry.1.push(*y);
    }
    let measures: Vec<GroupMeasure> = by_group
        .into_iter()
        .map(|(g, (s, y))| GroupMeasure {
            group: g.to_owned(),
            rows: s.len(),
            positives: y.iter().filter(|&&v| v > 0.5).count(),
            auc: roc_auc(&s, &y),
        })
        .collect();
    let aucs: Vec<f64> =
        measures.iter().filter(|g| g.rows >= MIN_GROUP_ROWS).filter_map(|g| g.auc).collect();
    let gap = (aucs.len() >= 2).then(|| {
        aucs.iter().copied().fold(f64::MIN, f64::max)
            - aucs.iter().copied().fold(f64::MAX, f64::min)
    });
    (measures, gap)
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} rows ({} positive), {} folds grouped so that no group is both learnt and scored",
            self.rows, self.positives, self.folds
        )?;
        writeln!(f)?;
        writeln!(f, "| measure | value |")?;
        writeln!(f, "| --- | ---: |")?;
        writeln!(f, "| ROC-AUC | {:.3} |", self.auc)?;
        writeln!(f, "| precision, top 10 % | {:.3} |", self.precision_top_10)?;
        writeln!(f, "| expected calibration error | {:.3} |", self.calibration_error)?;
        match self.group_gap {
            Some(gap) => writeln!(f, "| widest AUC gap between groups | {gap:.3} |")?,
            None => writeln!(f, "| widest AUC gap between groups | – |")?,
        }
        writeln!(f)?;
        writeln!(f, "| feature | share of the gain |")?;
        writeln!(f, "| --- | ---: |")?;
        for (name, share) in &self.importance {
            writeln!(f, "| {name} | {:.3} |", share)?;
        }
        writeln!(f)?;
        writeln!(f, "| group | rows | positive | ROC-AUC |")?;
        writeln!(f, "| --- | ---: | ---: | ---: |")?;
        for g in &self.groups {
            let auc = g.auc.map_or_else(|| "–".to_owned(), |a| format!("{a:.3}"));
            writeln!(f, "| {} | {} | {} | {auc} |", g.group, g.rows, g.positives)?;
        }
        Ok(())
    }
}
