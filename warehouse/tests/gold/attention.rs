//! The rule for learners who need attention (`queries/attention.sql`) over a small hand-built
//! lake, on 20 March 2026 at school X. Term 1 of 2026 runs 13 January to 9 April; term 3 of
//! 2025 is the term before it.
//!
//! - l1 (G3, aged 8): 10 marks this term, 2 absent: 20 %, chronic absence.
//! - l2 (G3, born 2 February 2014: 11 on 1 January, official age 8): over-age by 3.
//! - l3 (G3): Mathematics 70 % in term 3 of 2025, 55 % now: falling marks (15 points).
//! - l4 (G3): nothing paid on a ZiG invoice of 1,000 due 1 February (47 days before the day);
//!   a USD invoice of 100 is paid in full; one of 50 falls due on 1 May, after the day.
//! - l5 (G3): 4 marks, 2 absent (50 %, but under 5 marks); 60 % then 52 % (8 points); 60 of a
//!   USD invoice of 100 due 1 February paid (a family paying), and nothing yet of one of 30 due
//!   1 March (19 days before the day): listed for nothing.
//! - l6 left on 1 March with every mark absent: not enrolled on the day, not listed.
//! - y1 is at another school (Y), absent every day: not this school's.

use std::sync::Arc;

use deltalake::arrow::array::{ArrayRef, Int32Array};
use oneclass_testkit::lake::{FixtureLake, dates, money, opt_dates, text};
use oneclass_warehouse::{Format, QueryOutput, ScalarValue, Warehouse, encode};
use serde_json::Value;

use super::TestResult;

/// A daily mark: (learner, school, date, status).
type Mark = (String, &'static str, String, &'static str);

fn ints(values: &[i32]) -> ArrayRef {
    Arc::new(Int32Array::from(values.to_vec()))
}

async fn lake() -> Result<FixtureLake, Box<dyn std::error::Error>> {
    let lake = FixtureLake::new()?;
    lake.write(
        "silver/ref/terms",
        vec![
            ("academic_year", ints(&[2025, 2026])),
            ("term", ints(&[3, 1])),
            ("start_date", dates(&["2025-09-09", "2026-01-13"])),
            ("end_date", dates(&["2025-12-04", "2026-04-09"])),
        ],
    )
    .await?;
    let learners = ["l1", "l2", "l3", "l4", "l5", "l6", "y1"];
    let mut born = ["2017-05-10"; 7];
    born[1] = "2014-02-02";
    let schools = ["s-x", "s-x", "s-x", "s-x", "s-x", "s-x", "s-y"];
    lake.write(
        "silver/sis/learners",
        vec![
            ("id", text(&learners)),
            ("school_id", text(&schools)),
            ("sex", text(&["F", "M", "F", "M", "F", "M", "F"])),
            ("date_of_birth", dates(&born)),
        ],
    )
    .await?;
    let mut ends = [None; 7];
    ends[5] = Some("2026-03-01");
    lake.write(
        "silver/sis/enrolments",
        vec![
            ("id", text(&learners.map(|l| l))),
            ("school_id", text(&schools)),
            ("learner_id", text(&learners)),
            ("academic_year", ints(&[2026; 7])),
            ("grade", text(&["G3"; 7])),
            ("class_id", text(&["k-x", "k-x", "k-x", "k-x", "k-x", "k-x", "k-y"])),
            ("start_date", dates(&["2026-01-13"; 7])),
            ("end_date", opt_dates(&ends)),
        ],
    )
    .await?;
    lake.write(
        "silver/academic/classes",
        vec![
            ("id", text(&["k-x", "k-y"])),
            ("school_id", text(&["s-x", "s-y"])),
            ("academic_year", ints(&[2026, 2026])),
            ("grade", text(&["G3", "G3"])),
            ("name", text(&["3 Green", "3 Gold"])),
        ],
    )
    .await?;
    // (learner, school, marks, absent), on school days from 2 February.
    let marked = [
        ("l1", "s-x", 10, 2),
        ("l2", "s-x", 10, 0),
        ("l5", "s-x", 4, 2),
        ("l6", "s-x", 10, 10),
        ("y1", "s-y", 10, 10),
    ];
    let mut rows: Vec<Mark> = Vec::new();
    for (learner, school, marks, absent) in marked {
        for day in 0..marks {
            let date = format!("2026-02-{:02}", 2 + day);
            rows.push((
                learner.to_owned(),
                school,
                date,
                if day < absent { "absent" } else { "present" },
            ));
        }
    }
    let ids: Vec<String> = (0..rows.len()).map(|i| format!("m{i}")).collect();
    let column = |f: &dyn Fn(&Mark) -> String| {
        let values: Vec<String> = rows.iter().map(f).collect();
        text(&values.iter().map(String::as_str).collect::<Vec<_>>())
    };
    lake.write(
        "silver/attendance/daily_marks",
        vec![
            ("id", text(&ids.iter().map(String::as_str).collect::<Vec<_>>())),
            ("school_id", column(&|r| r.1.to_owned())),
            ("class_id", column(&|r| if r.1 == "s-x" { "k-x".into() } else { "k-y".into() })),
            ("learner_id", column(&|r| r.0.clone())),
            ("date", {
                let values: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
                dates(&values)
            }),
            ("status", column(&|r| r.3.to_owned())),
        ],
    )
    .await?;
    lake.write(
        "silver/assessment/assessments",
        vec![
            ("id", text(&["a-2025", "a-2026"])),
            ("school_id", text(&["s-x", "s-x"])),
            ("class_id", text(&["k-x", "k-x"])),
            ("academic_year", ints(&[2025, 2026])),
            ("term", ints(&[3, 1])),
            ("subject_code", text(&["MAT", "MAT"])),
            ("held_on", dates(&["2025-11-20", "2026-03-10"])),
        ],
    )
    .await?;
    lake.write(
        "silver/assessment/results",
        vec![
            ("id", text(&["r1", "r2", "r3", "r4"])),
            ("school_id", text(&["s-x"; 4])),
            ("assessment_id", text(&["a-2025", "a-2026", "a-2025", "a-2026"])),
            ("learner_id", text(&["l3", "l3", "l5", "l5"])),
            ("score", money(&[7_000, 5_500, 6_000, 5_200])),
            ("max_score", money(&[10_000; 4])),
        ],
    )
    .await?;
    lake.write(
        "silver/finance/invoices",
        vec![
            ("id", text(&["i1", "i2", "i3", "i4", "i5"])),
            ("school_id", text(&["s-x"; 5])),
            ("learner_id", text(&["l4", "l4", "l4", "l5", "l5"])),
            ("academic_year", ints(&[2026; 5])),
            ("term", ints(&[1; 5])),
            ("currency", text(&["ZWG", "USD", "USD", "USD", "USD"])),
            ("amount", money(&[100_000, 10_000, 5_000, 10_000, 3_000])),
            (
                "due_on",
                dates(&["2026-02-01", "2026-02-01", "2026-05-01", "2026-02-01", "2026-03-01"]),
            ),
        ],
    )
    .await?;
    lake.write(
        "silver/finance/payments",
        vec![
            ("id", text(&["p2", "p4"])),
            ("school_id", text(&["s-x"; 2])),
            ("learner_id", text(&["l4", "l5"])),
            ("invoice_id", text(&["i2", "i4"])),
            ("method", text(&["ecocash", "cash"])),
            ("currency", text(&["USD", "USD"])),
            ("amount_applied", money(&[10_000, 6_000])),
        ],
    )
    .await?;
    Ok(lake)
}

#[tokio::test]
async fn the_rule_lists_each_learner_for_its_reasons() -> TestResult {
    let lake = lake().await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    let epoch = chrono::NaiveDate::default();
    let day = (chrono::NaiveDate::from_ymd_opt(2026, 3, 20).expect("a date") - epoch).num_days();
    let day = i32::try_from(day)?;
    let batches = warehouse
        .named(
            "attention",
            vec![ScalarValue::Utf8(Some("s-x".into())), ScalarValue::Date32(Some(day))],
        )
        .await?;
    let (_, json) = encode(&QueryOutput { batches, truncated: false }, Format::Json)?;
    let answer: Value = serde_json::from_slice(&json)?;
    let mut got: Vec<String> = answer["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let reasons: Vec<&str> = ["chronic_absence", "falling_marks", "over_age", "arrears"]
                .into_iter()
                .filter(|reason| r[reason] == Value::Bool(true))
                .collect();
            format!(
                "{} {} {}",
                r["learner_id"].as_str().unwrap_or("?"),
                r["class_name"].as_str().unwrap_or("?"),
                reasons.join(",")
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "l1 3 Green chronic_absence",
            "l2 3 Green over_age",
            "l3 3 Green falling_marks",
            "l4 3 Green arrears",
        ]
    );
    let row = |id: &str| {
        answer["rows"].as_array().expect("rows").iter().find(|r| r["learner_id"] == id).cloned()
    };
    let l1 = row("l1").expect("l1");
    assert_eq!((l1["marks"].as_i64(), l1["absent"].as_i64()), (Some(10), Some(2)));
    let l2 = row("l2").expect("l2");
    assert_eq!((l2["age"].as_i64(), l2["official_age"].as_i64()), (Some(11), Some(8)));
    let l3 = row("l3").expect("l3");
    let near = |v: &Value, want: f64| v.as_f64().is_some_and(|v| (v - want).abs() < 1e-9);
    assert!(near(&l3["mark_before"], 70.0) && near(&l3["mark_now"], 55.0), "{l3}");
    let l4 = row("l4").expect("l4");
    assert_eq!((l4["arrears_usd"].as_f64(), l4["arrears_zwg"].as_f64()), (Some(0.0), Some(1000.0)));
    Ok(())
}
