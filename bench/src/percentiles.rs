//! Latency percentiles of a benchmark's samples, read from an HDR histogram (`hdrhistogram`):
//! one definition for every table (API p50/p99, CDC lag, end-to-end latency).

use hdrhistogram::Histogram;

/// Values are kept to three significant figures (within 0.1 %), well inside the run-to-run
/// spread of any figure we print.
const SIGNIFICANT_FIGURES: u8 = 3;

/// A distribution of samples, in microseconds.
#[derive(Debug, Clone)]
pub struct Percentiles(Histogram<u64>);

impl Percentiles {
    pub fn of_micros(samples: impl IntoIterator<Item = u64>) -> Self {
        // Auto-resizing: no upper bound to guess, and its size grows with the range, not the count.
        let mut histogram = Histogram::new(SIGNIFICANT_FIGURES)
            .expect("three significant figures are within the histogram's range");
        for us in samples {
            if histogram.record(us).is_err() {
                // Only past what an auto-resizing histogram can hold: clamped, never dropped.
                histogram.saturating_record(us);
            }
        }
        Self(histogram)
    }

    /// Samples in seconds, rounded to the microsecond (negative ones count as zero).
    pub fn of_seconds(samples: impl IntoIterator<Item = f64>) -> Self {
        Self::of_micros(samples.into_iter().map(|s| (s * 1e6).round().max(0.0) as u64))
    }

    pub fn of_durations(samples: impl IntoIterator<Item = std::time::Duration>) -> Self {
        Self::of_micros(
            samples.into_iter().map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        )
    }

    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The nearest-rank percentile `p` (0–100]: the smallest sample, to the histogram's
    /// precision, with at least p % of the samples at or below it. `None` when empty.
    pub fn micros(&self, p: f64) -> Option<u64> {
        (!self.0.is_empty()).then(|| self.0.value_at_percentile(p))
    }

    pub fn millis(&self, p: f64) -> Option<f64> {
        self.micros(p).map(|us| us as f64 / 1e3)
    }

    pub fn seconds(&self, p: f64) -> Option<f64> {
        self.micros(p).map(|us| us as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Within the histogram's precision of `expected`.
    fn close(actual: Option<f64>, expected: f64) -> bool {
        actual.is_some_and(|a| (a - expected).abs() <= expected * 1e-3)
    }

    #[test]
    fn small_samples_are_exact_nearest_rank() {
        let p = Percentiles::of_micros(1..=100);
        assert_eq!(p.len(), 100);
        assert_eq!(p.micros(50.0), Some(50));
        assert_eq!(p.micros(99.0), Some(99));
        assert_eq!(p.micros(100.0), Some(100));
        // Order does not matter.
        let p = Percentiles::of_micros((1..=100).rev());
        assert_eq!((p.micros(50.0), p.micros(99.0)), (Some(50), Some(99)));
        let one = Percentiles::of_micros([7]);
        assert_eq!((one.micros(50.0), one.micros(99.0)), (Some(7), Some(7)));
        assert_eq!(Percentiles::of_micros([1, 2, 3]).micros(50.0), Some(2));
        assert_eq!(Percentiles::of_micros([1, 2, 3, 4]).micros(50.0), Some(2));
        assert_eq!(Percentiles::of_micros([1, 1000]).micros(99.0), Some(1000));
    }

    #[test]
    fn empty_has_no_percentiles() {
        let p = Percentiles::of_micros([]);
        assert!(p.is_empty());
        assert_eq!(p.micros(50.0), None);
        assert_eq!(p.seconds(99.0), None);
    }

    #[test]
    fn large_samples_are_within_a_tenth_of_a_percent() {
        // 1 ms to 10 s in 10 ms steps: p50 is the 500th, p99 the 990th.
        let lags: Vec<f64> = (1..=1000).map(|i| f64::from(i) * 0.01).collect();
        let p = Percentiles::of_seconds(lags.iter().copied());
        assert!(close(p.seconds(50.0), 5.0), "{:?}", p.seconds(50.0));
        assert!(close(p.seconds(99.0), 9.9), "{:?}", p.seconds(99.0));
        assert!(close(p.seconds(100.0), 10.0), "{:?}", p.seconds(100.0));
        let ms = Percentiles::of_durations([10, 30, 20].map(std::time::Duration::from_millis));
        assert!(close(ms.millis(50.0), 20.0), "{:?}", ms.millis(50.0));
        assert!(close(ms.millis(99.0), 30.0), "{:?}", ms.millis(99.0));
    }

    #[test]
    fn negative_seconds_count_as_zero() {
        let p = Percentiles::of_seconds([-1.0, 0.5]);
        assert_eq!(p.micros(50.0), Some(0));
    }
}
