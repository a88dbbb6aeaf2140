//! How a score is judged: ROC-AUC (the chance that a learner who left is ranked above one who
//! stayed), precision among the highest scores, expected calibration error (does a score of 0.3
//! come true about 30 % of the time?) and each group's AUC beside the others'.

/// ROC-AUC by ranks (the Mann–Whitney statistic), ties sharing their mean rank. None when only
/// one class is present.
pub fn roc_auc(scores: &[f64], labels: &[f64]) -> Option<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = mean_rank;
        }
        i = j + 1;
    }
    let positives = labels.iter().filter(|&&y| y > 0.5).count() as f64;
    let negatives = labels.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    let rank_sum: f64 = ranks.iter().zip(labels).filter(|(_, y)| **y > 0.5).map(|(r, _)| r).sum();
    Some((rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives))
}

/// The share of positives among the `fraction` of rows with the highest scores.
pub fn precision_at(scores: &[f64], labels: &[f64], fraction: f64) -> f64 {
    let take = ((scores.len() as f64 * fraction).ceil() as usize).clamp(1, scores.len().max(1));
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order[..take].iter().filter(|&&i| labels[i] > 0.5).count() as f64 / take as f64
}

/// Expected calibration error over `bins` equal-width bins of the probability: the mean gap
/// between the scores and what happened, weighted by how many rows fall in each bin.
pub fn expected_calibration_error(probabilities: &[f64], labels: &[f64], bins: usize) -> f64 {
    let mut sum_p = vec![0.0; bins];
    let mut sum_y = vec![0.0; bins];
    let mut count = vec![0usize; bins];
    for (p, y) in probabilities.iter().zip(labels) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        sum_p[b] += p;
        sum_y[b] += y;
        count[b] += 1;
    }
    let n = probabilities.len().max(1) as f64;
    (0..bins).filter(|&b| count[b] > 0).map(|b| (sum_p[b] - sum_y[b]).abs() / n).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_worked_by_hand() {
        // Positives at 0.9 and 0.4, negatives at 0.5 and 0.1: of the four pairs, three are
        // ordered right.
        let auc = roc_auc(&[0.9, 0.5, 0.4, 0.1], &[1.0, 0.0, 1.0, 0.0]).expect("two classes");
        assert!((auc - 0.75).abs() < 1e-12);
        // A tie counts half.
        let tied = roc_auc(&[0.5, 0.5], &[1.0, 0.0]).expect("two classes");
        assert!((tied - 0.5).abs() < 1e-12);
        assert_eq!(roc_auc(&[0.1, 0.2], &[1.0, 1.0]), None);
    }

    #[test]
    fn precision_and_calibration_worked_by_hand() {
        let scores = [0.9, 0.8, 0.7, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
        let labels = [1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert!((precision_at(&scores, &labels, 0.1) - 1.0).abs() < 1e-12);
        assert!((precision_at(&scores, &labels, 0.2) - 0.5).abs() < 1e-12);
        // Perfectly calibrated bins: 0.25 with one positive in four.
        let p = [0.25; 4];
        assert!(expected_calibration_error(&p, &[1.0, 0.0, 0.0, 0.0], 10) < 1e-12);
        // Always 0.9, never happens: an error of 0.9.
        assert!((expected_calibration_error(&[0.9; 3], &[0.0; 3], 10) - 0.9).abs() < 1e-12);
    }
}
