//! The school calendar of the seeded years, from `ref.terms`: terms, school days (weekdays in a
//! term, up to the seed's `as_of`), and which of them carry attendance.

use chrono::{Datelike, NaiveDate, Weekday};

use crate::copy::pg_date;
use crate::params::{SeedParams, SynthError};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Term {
    pub(crate) term: i32,
    pub(crate) start: NaiveDate,
    pub(crate) end: NaiveDate,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct SchoolDay {
    pub(crate) date: NaiveDate,
    /// `date` in PostgreSQL's binary form.
    pub(crate) pg: i32,
    pub(crate) term: i32,
    /// School days since the term opened, and until it closes.
    pub(crate) from_start: u32,
    pub(crate) to_end: u32,
    pub(crate) friday: bool,
    /// Attendance is generated for this day.
    pub(crate) marked: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Year {
    pub(crate) year: i32,
    /// Terms that have opened by `as_of`.
    pub(crate) terms: Vec<Term>,
    /// School days up to `as_of`, in order.
    pub(crate) days: Vec<SchoolDay>,
    pub(crate) start: NaiveDate,
    /// The year's last school day, or `as_of` for a year still running.
    pub(crate) end: NaiveDate,
}

#[derive(Debug, Clone)]
pub(crate) struct Calendar {
    /// Oldest first; the last is the current academic year.
    pub(crate) years: Vec<Year>,
}

pub(crate) fn school_days(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect()
}

impl Calendar {
    pub(crate) async fn load(
        conn: &mut sqlx::PgConnection,
        p: &SeedParams,
    ) -> Result<Self, SynthError> {
        let first = p.academic_year - p.years as i32 + 1;
        let rows: Vec<(i32, i32, NaiveDate, NaiveDate)> = sqlx::query!(
            "SELECT academic_year, term, start_date, end_date FROM ref.terms
              WHERE academic_year BETWEEN $1 AND $2 ORDER BY academic_year, term",
            first,
            p.academic_year,
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| (r.academic_year, r.term, r.start_date, r.end_date))
        .collect();
        let mut years = Vec::new();
        for year in first..=p.academic_year {
            let all: Vec<Term> = rows
                .iter()
                .filter(|r| r.0 == year)
                .map(|r| Term { term: r.1, start: r.2, end: r.3 })
                .collect();
            let (Some(first_term), Some(last_term)) = (all.first(), all.last()) else {
                return Err(SynthError::NoTerm(year));
            };
            if first_term.start > p.as_of {
                return Err(SynthError::NoTerm(year));
            }
            let (start, complete) = (first_term.start, last_term.end <= p.as_of);
            let end = if complete { last_term.end } else { p.as_of };
            let terms: Vec<Term> = all.into_iter().filter(|t| t.start <= p.as_of).collect();
            let mut days = Vec::new();
            for t in &terms {
                let dates = school_days(t.start, t.end);
                let n = dates.len() as u32;
                for (i, date) in dates.into_iter().enumerate() {
                    if date > p.as_of {
                        break;
                    }
                    days.push(SchoolDay {
                        date,
                        pg: pg_date(date),
                        term: t.term,
                        from_start: i as u32,
                        to_end: n - 1 - i as u32,
                        friday: date.weekday() == Weekday::Fri,
                        marked: true,
                    });
                }
            }
            years.push(Year { year, terms, days, start, end });
        }
        // Only the last `attendance_days` school days carry marks.
        if let Some(keep) = p.attendance_days {
            let mut left = keep as usize;
            for y in years.iter_mut().rev() {
                for d in y.days.iter_mut().rev() {
                    d.marked = left > 0;
                    left = left.saturating_sub(1);
                }
            }
        }
        Ok(Self { years })
    }

    pub(crate) fn current(&self) -> &Year {
        // `load` always makes at least one year.
        &self.years[self.years.len() - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_days_skip_weekends() {
        let from = NaiveDate::from_ymd_opt(2026, 9, 8).expect("date");
        let to = NaiveDate::from_ymd_opt(2026, 9, 14).expect("date");
        let days = school_days(from, to);
        // Tue 8 … Fri 11, Mon 14.
        assert_eq!(days.len(), 5);
        assert!(days.iter().all(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)));
    }
}
