//! PostgreSQL's binary COPY format, written straight into a byte buffer: no text to parse on
//! the server, no allocation per row here. One buffer is one complete COPY stream (header, rows,
//! trailer), sent as one `COPY … FROM STDIN (FORMAT binary)`.

use chrono::NaiveDate;
use uuid::Uuid;

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch for dates and timestamps.
const PG_EPOCH_DAYS: i32 = 10_957;

/// A date as PostgreSQL stores it: days since 2000-01-01.
pub(crate) fn pg_date(d: NaiveDate) -> i32 {
    let unix_days = (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)).num_days();
    i32::try_from(unix_days).unwrap_or(i32::MAX) - PG_EPOCH_DAYS
}

/// A timestamptz as PostgreSQL stores it: microseconds since 2000-01-01 00:00 UTC.
pub(crate) fn pg_timestamp(d: NaiveDate) -> i64 {
    i64::from(pg_date(d)) * 86_400_000_000
}

pub(crate) struct Binary {
    buf: Vec<u8>,
    rows: usize,
}

impl Binary {
    pub(crate) fn new() -> Self {
        let mut b = Self { buf: Vec::new(), rows: 0 };
        b.start();
        b
    }

    fn start(&mut self) {
        self.buf.extend_from_slice(SIGNATURE);
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // flags
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
    }

    /// Starts a row of `fields` values.
    pub(crate) fn row(&mut self, fields: i16) -> &mut Self {
        self.buf.extend_from_slice(&fields.to_be_bytes());
        self.rows += 1;
        self
    }

    fn value(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
        self
    }

    pub(crate) fn null(&mut self) -> &mut Self {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    pub(crate) fn uuid(&mut self, u: Uuid) -> &mut Self {
        self.value(u.as_bytes())
    }

    pub(crate) fn text(&mut self, s: &str) -> &mut Self {
        self.value(s.as_bytes())
    }

    pub(crate) fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    pub(crate) fn int4(&mut self, v: i32) -> &mut Self {
        self.value(&v.to_be_bytes())
    }

    pub(crate) fn bool(&mut self, v: bool) -> &mut Self {
        self.value(&[u8::from(v)])
    }

    /// A date already converted with [`pg_date`].
    pub(crate) fn date(&mut self, pg_days: i32) -> &mut Self {
        self.value(&pg_days.to_be_bytes())
    }

    pub(crate) fn opt_date(&mut self, pg_days: Option<i32>) -> &mut Self {
        match pg_days {
            Some(d) => self.date(d),
            None => self.null(),
        }
    }

    /// A timestamptz already converted with [`pg_timestamp`].
    pub(crate) fn timestamptz(&mut self, pg_micros: i64) -> &mut Self {
        self.value(&pg_micros.to_be_bytes())
    }

    /// A `numeric` with `scale` decimal places (0 to 4) given as an integer count of
    /// 10^-scale units: `numeric(1234, 2)` is 12.34.
    pub(crate) fn numeric(&mut self, units: i64, scale: u32) -> &mut Self {
        let mut digits = [0i16; 8];
        let (n, weight) = numeric_digits(units.unsigned_abs(), scale, &mut digits);
        let len = 8 + 2 * n;
        self.buf.extend_from_slice(&(len as i32).to_be_bytes());
        self.buf.extend_from_slice(&(n as i16).to_be_bytes());
        self.buf.extend_from_slice(&weight.to_be_bytes());
        let sign: u16 = if units < 0 { 0x4000 } else { 0 };
        self.buf.extend_from_slice(&sign.to_be_bytes());
        self.buf.extend_from_slice(&(scale as i16).to_be_bytes());
        for d in &digits[..n] {
            self.buf.extend_from_slice(&d.to_be_bytes());
        }
        self
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Bytes buffered.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The complete COPY stream so far (trailer added); the buffer starts over.
    pub(crate) fn take(&mut self) -> (Vec<u8>, usize) {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        let rows = std::mem::take(&mut self.rows);
        let capacity = self.buf.capacity();
        let out = std::mem::replace(&mut self.buf, Vec::with_capacity(capacity));
        self.start();
        (out, rows)
    }
}

/// Base-10000 digits of `units × 10^-scale`, most significant first, and the weight of the
/// first (PostgreSQL's `numeric` wire form, trailing zero groups dropped).
fn numeric_digits(units: u64, scale: u32, out: &mut [i16; 8]) -> (usize, i16) {
    if units == 0 {
        return (0, 0);
    }
    let pow = 10u64.pow(scale);
    let (int, frac) = (units / pow, units % pow);
    // The fraction as one base-10000 group: .45 at scale 2 → 4500.
    let frac_group = (frac * 10u64.pow(4 - scale)) as i16;
    let mut int_groups = [0i16; 6];
    let mut n_int = 0;
    let mut rest = int;
    while rest > 0 {
        int_groups[n_int] = (rest % 10_000) as i16;
        rest /= 10_000;
        n_int += 1;
    }
    let mut n = 0;
    for g in int_groups[..n_int].iter().rev() {
        out[n] = *g;
        n += 1;
    }
    let weight = if n_int == 0 { -1 } else { n_int as i16 - 1 };
    if frac_group != 0 {
        out[n] = frac_group;
        n += 1;
    }
    // Drop trailing zero groups (integers like 10000 → [1] with weight 1).
    while n > 0 && out[n - 1] == 0 {
        n -= 1;
    }
    (n, weight)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(units: u64, scale: u32) -> (Vec<i16>, i16) {
        let mut out = [0i16; 8];
        let (n, w) = numeric_digits(units, scale, &mut out);
        (out[..n].to_vec(), w)
    }

    #[test]
    fn numerics_in_base_10000() {
        assert_eq!(digits(12_345, 2), (vec![123, 4500], 0));
        assert_eq!(digits(5, 2), (vec![500], -1));
        assert_eq!(digits(1_000_000, 2), (vec![1], 1));
        assert_eq!(digits(100_000_000, 2), (vec![100], 1));
        assert_eq!(digits(1_234_567_890, 2), (vec![1234, 5678, 9000], 1));
        assert_eq!(digits(268_123, 4), (vec![26, 8123], 0));
        assert_eq!(digits(0, 2), (vec![], 0));
    }

    #[test]
    fn dates_count_from_2000() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(pg_date(d(2000, 1, 1)), 0);
        assert_eq!(pg_date(d(2000, 1, 2)), 1);
        assert_eq!(pg_date(d(1999, 12, 31)), -1);
        assert_eq!(pg_timestamp(d(2000, 1, 2)), 86_400_000_000);
    }

    #[test]
    fn a_stream_has_header_rows_and_trailer() {
        let mut b = Binary::new();
        b.row(2).int4(7).null();
        let (bytes, rows) = b.take();
        assert_eq!(rows, 1);
        assert!(bytes.starts_with(SIGNATURE));
        assert!(bytes.ends_with(&[0xff, 0xff]));
        // header 19, row: 2 + (4 + 4) + 4, trailer 2
        assert_eq!(bytes.len(), 19 + 14 + 2);
        assert!(b.is_empty());
    }
}
