//! PostgreSQL text values to Arrow, by type OID. pgoutput and the snapshot's COPY both produce
//! PostgreSQL's text output (with DateStyle ISO and TimeZone UTC pinned), and both go through
//! the builders here, so a value lands in the lake the same way whichever path carried it.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime};
use deltalake::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int32Builder,
    Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use deltalake::arrow::datatypes::{DataType, TimeUnit};

/// Arrow's widest decimal.
const MAX_DECIMAL_PRECISION: u8 = 38;
/// What an unconstrained `numeric` becomes: room for 28 integer and 10 fraction digits.
const DEFAULT_NUMERIC: ColumnKind = ColumnKind::Decimal { precision: 38, scale: 10 };

pub mod oid {
    pub const BOOL: u32 = 16;
    pub const CHAR: u32 = 18;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const JSON: u32 = 114;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

/// The Arrow shape of a PostgreSQL column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Utf8,
    Boolean,
    Int32,
    Int64,
    Float64,
    Decimal {
        precision: u8,
        scale: i8,
    },
    Date,
    /// timestamptz: an instant, stored as UTC.
    TimestampTz,
    /// timestamp without time zone: a wall-clock reading, stored without a zone.
    Timestamp,
}

impl ColumnKind {
    /// Unknown types (enums, arrays, intervals, domains…) keep their text form rather than
    /// being dropped: nothing published is lost, and a later version can type them.
    pub fn from_pg(type_oid: u32, typmod: i32) -> Self {
        match type_oid {
            oid::BOOL => ColumnKind::Boolean,
            oid::INT2 | oid::INT4 => ColumnKind::Int32,
            oid::INT8 => ColumnKind::Int64,
            oid::FLOAT4 | oid::FLOAT8 => ColumnKind::Float64,
            oid::NUMERIC => numeric_kind(typmod),
            oid::DATE => ColumnKind::Date,
            oid::TIMESTAMPTZ => ColumnKind::TimestampTz,
            oid::TIMESTAMP => ColumnKind::Timestamp,
            oid::UUID
            | oid::TEXT
            | oid::VARCHAR
            | oid::BPCHAR
            | oid::CHAR
            | oid::JSON
            | oid::JSONB => ColumnKind::Utf8,
            _ => ColumnKind::Utf8,
        }
    }

    pub fn arrow_type(&self) -> DataType {
        match *self {
            ColumnKind::Utf8 => DataType::Utf8,
            ColumnKind::Boolean => DataType::Boolean,
            ColumnKind::Int32 => DataType::Int32,
            ColumnKind::Int64 => DataType::Int64,
            ColumnKind::Float64 => DataType::Float64,
            ColumnKind::Decimal { precision, scale } => DataType::Decimal128(precision, scale),
            ColumnKind::Date => DataType::Date32,
            ColumnKind::TimestampTz => {
                DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC")))
            }
            ColumnKind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        }
    }
}

/// numeric's typmod is `((precision << 16) | (scale & 0x7ff)) + 4`, scale an 11-bit signed
/// number since PostgreSQL 15; -1 means unconstrained.
fn numeric_kind(typmod: i32) -> ColumnKind {
    if typmod < 4 {
        return DEFAULT_NUMERIC;
    }
    let tm = typmod - 4;
    let precision = (tm >> 16) & 0xffff;
    let scale = ((tm & 0x7ff) ^ 1024) - 1024;
    // Negative scale rounds to tens, hundreds…: the values are integers with that many digits.
    let (precision, scale) = if scale < 0 { (precision - scale, 0) } else { (precision, scale) };
    match (u8::try_from(precision), i8::try_from(scale)) {
        (Ok(p), Ok(s))
            if (1..=MAX_DECIMAL_PRECISION).contains(&p) && i32::from(s) <= i32::from(p) =>
        {
            ColumnKind::Decimal { precision: p, scale: s }
        }
        // Wider than Decimal128 can hold: keep the exact text instead of rounding money.
        _ => ColumnKind::Utf8,
    }
}

/// A value that has a text form but no place in its Arrow type (NaN numeric, infinite dates,
/// overflow). Carries no value text: values may be personal data and end up in logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(pub &'static str);

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Accumulates one column of text values into an Arrow array.
pub enum ColumnBuilder {
    Utf8(StringBuilder),
    Boolean(BooleanBuilder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float64(Float64Builder),
    Decimal { builder: Decimal128Builder, precision: u8, scale: i8 },
    Date(Date32Builder),
    Timestamp { builder: TimestampMicrosecondBuilder, with_zone: bool },
}

impl ColumnBuilder {
    pub fn new(kind: ColumnKind, capacity: usize) -> Self {
        match kind {
            ColumnKind::Utf8 => {
                ColumnBuilder::Utf8(StringBuilder::with_capacity(capacity, capacity * 16))
            }
            ColumnKind::Boolean => ColumnBuilder::Boolean(BooleanBuilder::with_capacity(capacity)),
            ColumnKind::Int32 => ColumnBuilder::Int32(Int32Builder::with_capacity(capacity)),
            ColumnKind::Int64 => ColumnBuilder::Int64(Int64Builder::with_capacity(capacity)),
            ColumnKind::Float64 => ColumnBuilder::Float64(Float64Builder::with_capacity(capacity)),
            ColumnKind::Decimal { precision, scale } => ColumnBuilder::Decimal {
                builder: Decimal128Builder::with_capacity(capacity)
                    .with_data_type(DataType::Decimal128(precision, scale)),
                precision,
                scale,
            },
            ColumnKind::Date => ColumnBuilder::Date(Date32Builder::with_capacity(capacity)),
            ColumnKind::TimestampTz => ColumnBuilder::Timestamp {
                builder: TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone("UTC"),
                with_zone: true,
            },
            ColumnKind::Timestamp => ColumnBuilder::Timestamp {
                builder: TimestampMicrosecondBuilder::with_capacity(capacity),
                with_zone: false,
            },
        }
    }

    pub fn append_null(&mut self) {
        match self {
            ColumnBuilder::Utf8(b) => b.append_null(),
            ColumnBuilder::Boolean(b) => b.append_null(),
            ColumnBuilder::Int32(b) => b.append_null(),
            ColumnBuilder::Int64(b) => b.append_null(),
            ColumnBuilder::Float64(b) => b.append_null(),
            ColumnBuilder::Decimal { builder, .. } => builder.append_null(),
            ColumnBuilder::Date(b) => b.append_null(),
            ColumnBuilder::Timestamp { builder, .. } => builder.append_null(),
        }
    }

    /// Appends the parsed value, or a null and the reason when the text does not fit the type.
    /// Always appends exactly one slot, so the columns of a batch stay aligned.
    pub fn append_text(&mut self, text: &str) -> Result<(), ValueError> {
        let result = match self {
            ColumnBuilder::Utf8(b) => {
                b.append_value(text);
                return Ok(());
            }
            ColumnBuilder::Boolean(b) => parse_bool(text).map(|v| b.append_value(v)),
            ColumnBuilder::Int32(b) => parse_int::<i32>(text).map(|v| b.append_value(v)),
            ColumnBuilder::Int64(b) => parse_int::<i64>(text).map(|v| b.append_value(v)),
            ColumnBuilder::Float64(b) => parse_float(text).map(|v| b.append_value(v)),
            ColumnBuilder::Decimal { builder, precision, scale } => {
                parse_decimal(text, *precision, *scale).map(|v| builder.append_value(v))
            }
            ColumnBuilder::Date(b) => parse_date(text).map(|v| b.append_value(v)),
            ColumnBuilder::Timestamp { builder, with_zone } => {
                parse_timestamp(text, *with_zone).map(|v| builder.append_value(v))
            }
        };
        if result.is_err() {
            self.append_null();
        }
        result
    }

    pub fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Utf8(b) => Arc::new(b.finish()),
            ColumnBuilder::Boolean(b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(b) => Arc::new(b.finish()),
            ColumnBuilder::Decimal { builder, .. } => Arc::new(builder.finish()),
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp { builder, .. } => Arc::new(builder.finish()),
        }
    }
}

pub fn parse_bool(text: &str) -> Result<bool, ValueError> {
    match text {
        "t" | "true" => Ok(true),
        "f" | "false" => Ok(false),
        _ => Err(ValueError("not a boolean")),
    }
}

fn parse_int<T: std::str::FromStr>(text: &str) -> Result<T, ValueError> {
    text.trim().parse().map_err(|_| ValueError("not an integer of this width"))
}

/// PostgreSQL writes `NaN`, `Infinity` and `-Infinity`, which Rust's parser also accepts.
pub fn parse_float(text: &str) -> Result<f64, ValueError> {
    text.trim().parse().map_err(|_| ValueError("not a floating-point number"))
}

/// Parses numeric's text form into a Decimal128 of the given scale, rounding half away from
/// zero like PostgreSQL does when an unconstrained value has more fraction digits than fit.
pub fn parse_decimal(text: &str, precision: u8, scale: i8) -> Result<i128, ValueError> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return Err(ValueError("not a finite decimal (NaN or Infinity has no Decimal128 form)"));
    }
    let scale = usize::try_from(scale).map_err(|_| ValueError("negative decimal scale"))?;
    let overflow = ValueError("decimal value exceeds the column's precision");
    let mut value: i128 = 0;
    let push = |value: i128, digit: u8| -> Result<i128, ValueError> {
        value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i128::from(digit - b'0')))
            .ok_or_else(|| overflow.clone())
    };
    for d in int_part.bytes() {
        value = push(value, d)?;
    }
    let frac = frac_part.as_bytes();
    for i in 0..scale {
        value = push(value, frac.get(i).copied().unwrap_or(b'0'))?;
    }
    if frac.get(scale).is_some_and(|d| *d >= b'5') {
        value = value.checked_add(1).ok_or_else(|| overflow.clone())?;
    }
    let limit = 10i128.checked_pow(u32::from(precision)).ok_or_else(|| overflow.clone())?;
    if value >= limit {
        return Err(overflow);
    }
    Ok(if negative { -value } else { value })
}

const UNIX_EPOCH_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("1970-01-01 is a date"),
};

/// Days since 1970-01-01 of an ISO date (`2026-01-13`, `0044-03-15 BC`).
pub fn parse_date(text: &str) -> Result<i32, ValueError> {
    let (text, bc) = strip_bc(text.trim());
    let date = parse_ymd(text, bc)?;
    i32::try_from((date - UNIX_EPOCH_DATE).num_days()).map_err(|_| ValueError("date out of range"))
}

/// Microseconds since the Unix epoch of an ISO timestamp. With a zone the offset is applied
/// (`2026-01-13 08:00:00+02` is 06:00 UTC); without one the wall-clock reading is kept.
pub fn parse_timestamp(text: &str, with_zone: bool) -> Result<i64, ValueError> {
    let (text, bc) = strip_bc(text.trim());
    let (date_text, rest) = text
        .split_once(' ')
        .or_else(|| text.split_once('T'))
        .ok_or(ValueError("not a timestamp (infinite timestamps have no Arrow form)"))?;
    let date = parse_ymd(date_text, bc)?;
    // The zone starts at the first sign after the time; times themselves contain neither.
    let (time_text, offset_secs) = match rest.find(['+', '-']) {
        Some(pos) => (&rest[..pos], parse_offset(&rest[pos..])?),
        None => (rest, 0),
    };
    if !with_zone && offset_secs != 0 {
        return Err(ValueError("unexpected time zone on a timestamp without time zone"));
    }
    let time = parse_time(time_text)?;
    let micros = date
        .and_time(time)
        .signed_duration_since(UNIX_EPOCH_DATE.and_time(NaiveTime::MIN))
        .num_microseconds()
        .ok_or(ValueError("timestamp out of range"))?;
    micros.checked_sub(offset_secs * 1_000_000).ok_or(ValueError("timestamp out of range"))
}

fn strip_bc(text: &str) -> (&str, bool) {
    match text.strip_suffix(" BC") {
        Some(t) => (t, true),
        None => (text, false),
    }
}

fn parse_ymd(text: &str, bc: bool) -> Result<NaiveDate, ValueError> {
    let bad = ValueError("not a date (infinite dates have no Arrow form)");
    let mut parts = text.splitn(3, '-');
    let y: i32 = parts.next().and_then(|p| p.parse().ok()).ok_or(bad.clone())?;
    let m: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or(bad.clone())?;
    let d: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or(bad.clone())?;
    // There is no year 0 in PostgreSQL's calendar: 1 BC is the proleptic year 0.
    let y = if bc { 1 - y } else { y };
    NaiveDate::from_ymd_opt(y, m, d).ok_or(bad)
}

fn parse_time(text: &str) -> Result<NaiveTime, ValueError> {
    let bad = ValueError("not a time of day");
    let (hms, frac) = text.split_once('.').unwrap_or((text, ""));
    let mut parts = hms.splitn(3, ':');
    let h: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or(bad.clone())?;
    let m: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or(bad.clone())?;
    let s: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or(bad.clone())?;
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    let micros: u32 =
        if frac.is_empty() { 0 } else { format!("{frac:0<6}").parse().map_err(|_| bad.clone())? };
    // 24:00:00 is a valid PostgreSQL time; chrono has no such reading.
    if h == 24 && m == 0 && s == 0 && micros == 0 {
        return Err(ValueError("24:00:00 is not supported"));
    }
    NaiveTime::from_hms_micro_opt(h, m, s, micros).ok_or(bad)
}

/// `+02`, `-05:30`, `+05:53:28`.
fn parse_offset(text: &str) -> Result<i64, ValueError> {
    let bad = ValueError("not a time zone offset");
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let mut secs = 0i64;
    for (i, part) in text[1..].split(':').enumerate() {
        let v: i64 = part.parse().map_err(|_| bad.clone())?;
        secs += v * match i {
            0 => 3600,
            1 => 60,
            2 => 1,
            _ => return Err(bad),
        };
    }
    Ok(sign * secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{Array, AsArray};
    use deltalake::arrow::datatypes::{
        Date32Type, Decimal128Type, Int32Type, TimestampMicrosecondType,
    };

    #[test]
    fn maps_types_by_oid() {
        assert_eq!(ColumnKind::from_pg(oid::UUID, -1).arrow_type(), DataType::Utf8);
        assert_eq!(ColumnKind::from_pg(oid::JSONB, -1).arrow_type(), DataType::Utf8);
        assert_eq!(ColumnKind::from_pg(99_999, -1).arrow_type(), DataType::Utf8);
        assert_eq!(ColumnKind::from_pg(oid::INT2, -1).arrow_type(), DataType::Int32);
        assert_eq!(ColumnKind::from_pg(oid::INT8, -1).arrow_type(), DataType::Int64);
        assert_eq!(ColumnKind::from_pg(oid::FLOAT4, -1).arrow_type(), DataType::Float64);
        assert_eq!(
            ColumnKind::from_pg(oid::NUMERIC, ((14 << 16) | 2) + 4).arrow_type(),
            DataType::Decimal128(14, 2)
        );
        assert_eq!(
            ColumnKind::from_pg(oid::NUMERIC, -1).arrow_type(),
            DataType::Decimal128(38, 10)
        );
        // numeric(5,-2) (PostgreSQL 15): integers up to 7 digits.
        assert_eq!(
            ColumnKind::from_pg(oid::NUMERIC, ((5 << 16) | (-2i32 & 0x7ff)) + 4).arrow_type(),
            DataType::Decimal128(7, 0)
        );
        assert_eq!(ColumnKind::from_pg(oid::NUMERIC, ((60 << 16) | 2) + 4), ColumnKind::Utf8);
        assert_eq!(
            ColumnKind::from_pg(oid::TIMESTAMPTZ, -1).arrow_type(),
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(
            ColumnKind::from_pg(oid::TIMESTAMP, -1).arrow_type(),
            DataType::Timestamp(TimeUnit::Microsecond, None)
        );
        assert_eq!(ColumnKind::from_pg(oid::DATE, -1).arrow_type(), DataType::Date32);
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("123.45", 14, 2), Ok(12_345));
        assert_eq!(parse_decimal("-0.05", 14, 2), Ok(-5));
        assert_eq!(parse_decimal("7", 14, 2), Ok(700));
        assert_eq!(parse_decimal("1.005", 38, 2), Ok(101));
        assert_eq!(parse_decimal("-1.004", 38, 2), Ok(-100));
        assert_eq!(parse_decimal(".5", 5, 1), Ok(5));
        assert!(parse_decimal("NaN", 38, 10).is_err());
        assert!(parse_decimal("Infinity", 38, 10).is_err());
        assert!(parse_decimal("1e5", 38, 10).is_err());
        assert!(parse_decimal("", 38, 10).is_err());
        assert!(parse_decimal("1000", 3, 0).is_err());
        assert!(parse_decimal("99999999999999999999999999999", 38, 10).is_err());
        assert_eq!(
            parse_decimal("9999999999999999999999999999", 38, 10),
            Ok(99_999_999_999_999_999_999_999_999_990_000_000_000)
        );
    }

    #[test]
    fn dates_and_timestamps() {
        assert_eq!(parse_date("1970-01-01"), Ok(0));
        assert_eq!(parse_date("2026-01-13"), Ok(20_466));
        assert_eq!(parse_date("1969-12-31"), Ok(-1));
        assert_eq!(parse_date("0001-01-01 BC"), parse_date("0000-01-01"));
        assert!(parse_date("infinity").is_err());
        assert!(parse_date("2026-02-30").is_err());

        let base = 20_466i64 * 86_400 * 1_000_000;
        assert_eq!(parse_timestamp("2026-01-13 00:00:00+00", true), Ok(base));
        assert_eq!(parse_timestamp("2026-01-13 02:00:00+02", true), Ok(base));
        assert_eq!(parse_timestamp("2026-01-12 18:30:00-05:30", true), Ok(base));
        assert_eq!(parse_timestamp("2026-01-13 00:00:00.5+00", true), Ok(base + 500_000));
        assert_eq!(parse_timestamp("2026-01-13 00:00:00.000001+00", true), Ok(base + 1));
        assert_eq!(parse_timestamp("2026-01-13 00:00:01", false), Ok(base + 1_000_000));
        assert_eq!(parse_timestamp("1969-12-31 23:59:59.999999+00", true), Ok(-1));
        assert!(parse_timestamp("infinity", true).is_err());
        assert!(parse_timestamp("-infinity", false).is_err());
        assert!(parse_timestamp("2026-01-13 25:00:00+00", true).is_err());
    }

    #[test]
    fn scalars() {
        assert_eq!(parse_bool("t"), Ok(true));
        assert_eq!(parse_bool("f"), Ok(false));
        assert!(parse_bool("yes").is_err());
        assert_eq!(parse_float("1.5"), Ok(1.5));
        assert!(parse_float("NaN").is_ok_and(f64::is_nan));
        assert_eq!(parse_float("-Infinity"), Ok(f64::NEG_INFINITY));
        assert!(parse_float("abc").is_err());
    }

    #[test]
    fn builders_keep_columns_aligned_on_bad_values() {
        let mut b = ColumnBuilder::new(ColumnKind::Int32, 4);
        assert!(b.append_text("12").is_ok());
        assert!(b.append_text("99999999999").is_err());
        b.append_null();
        let arr = b.finish();
        let arr = arr.as_primitive::<Int32Type>();
        assert_eq!(arr.len(), 3);
        assert_eq!(arr.value(0), 12);
        assert!(arr.is_null(1) && arr.is_null(2));

        let mut b = ColumnBuilder::new(ColumnKind::Decimal { precision: 14, scale: 2 }, 1);
        assert!(b.append_text("10.50").is_ok());
        let arr = b.finish();
        assert_eq!(arr.data_type(), &DataType::Decimal128(14, 2));
        assert_eq!(arr.as_primitive::<Decimal128Type>().value(0), 1050);

        let mut b = ColumnBuilder::new(ColumnKind::TimestampTz, 1);
        assert!(b.append_text("1970-01-01 00:00:01+00").is_ok());
        let arr = b.finish();
        assert_eq!(arr.data_type(), &ColumnKind::TimestampTz.arrow_type());
        assert_eq!(arr.as_primitive::<TimestampMicrosecondType>().value(0), 1_000_000);

        let mut b = ColumnBuilder::new(ColumnKind::Date, 1);
        assert!(b.append_text("1970-01-02").is_ok());
        assert_eq!(b.finish().as_primitive::<Date32Type>().value(0), 1);

        let mut b = ColumnBuilder::new(ColumnKind::Utf8, 1);
        assert!(b.append_text("Chipo").is_ok());
        assert_eq!(b.finish().as_string::<i32>().value(0), "Chipo");
    }

    mod properties {
        use super::super::*;
        use chrono::Datelike;
        use proptest::prelude::*;

        proptest! {
            /// numeric's text form of any value that fits reads back as the same Decimal128.
            #[test]
            fn decimals_round_trip(mantissa in -999_999_999_999i64..999_999_999_999, scale in 0i8..6) {
                let m = i128::from(mantissa);
                let unit = 10i128.pow(u32::try_from(scale).expect("small"));
                let sign = if m < 0 { "-" } else { "" };
                let text = if scale == 0 {
                    format!("{m}")
                } else {
                    format!("{sign}{}.{:0width$}", (m / unit).abs(), (m % unit).abs(), width = scale as usize)
                };
                prop_assert_eq!(parse_decimal(&text, 38, scale), Ok(m));
            }

            /// An ISO date reads back as its day number, BC years included.
            #[test]
            fn dates_round_trip(days in -1_000_000i32..1_000_000) {
                let date = UNIX_EPOCH_DATE + chrono::Duration::days(i64::from(days));
                let text = if date.year() <= 0 {
                    format!("{:04}-{:02}-{:02} BC", 1 - date.year(), date.month(), date.day())
                } else {
                    date.format("%Y-%m-%d").to_string()
                };
                prop_assert_eq!(parse_date(&text), Ok(days));
            }

            /// A timestamp with a zone offset lands on the same instant as its UTC reading.
            #[test]
            fn timestamps_apply_their_offset(secs in 0i64..4_000_000_000, offset_h in -12i64..14) {
                let utc = chrono::DateTime::from_timestamp(secs, 0).expect("in range").naive_utc();
                let local = utc + chrono::Duration::hours(offset_h);
                let text = format!("{}{:+03}", local.format("%Y-%m-%d %H:%M:%S"), offset_h);
                prop_assert_eq!(parse_timestamp(&text, true), Ok(secs * 1_000_000));
            }

            /// Arbitrary text is a value or a clear refusal, never a panic.
            #[test]
            fn parsers_never_panic(text in "\\PC{0,40}") {
                let _ = parse_decimal(&text, 38, 4);
                let _ = parse_date(&text);
                let _ = parse_timestamp(&text, true);
                let _ = parse_timestamp(&text, false);
                let _ = parse_float(&text);
                let _ = parse_bool(&text);
            }
        }
    }
}
