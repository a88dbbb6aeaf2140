//! The gold indicators over a small hand-built lake, each figure worked out by hand below.
//!
//! Four schools: A and B (primary) in Harare / Harare Central, C (primary) and D High in
//! Bulawayo / Bulawayo Central. Year 2026, terms 13 Jan – 9 Apr and 12 May – 6 Aug; the census
//! date is the first Monday of March, 2 March 2026 (1 March is a Sunday). 2027 has a first term
//! and enrolment, for the flow rates (see their test).
//!
//! Enrolment on the census date:
//! - A: a1 F, a2 F, a3 M, a4 M (from 13 Jan); a5 left on 20 Feb and a6 came on 1 Apr: not counted. 4.
//! - B: b1 F, b2 M, b3 M. 3.
//! - C: c1 F (G1), c2 F, c3 F (G7). 3.
//!
//! Teachers on the census date:
//! - A: t1 trained, t2 untrained; the head is not a teacher; t3 (trained) left on 31 Jan. 2, 1 trained.
//! - B: one trained teacher. 1, 1 trained.
//! - C: none: PTR and PQTR at C, in its district and its province have a numerator (3) and a
//!   denominator of 0, and no value (null: never 0 or infinity).
//!
//! PTR: A 4/2 = 2; B 3/1 = 3; Harare Central and Harare 7/3 = 2.333…; national 10/3.
//! PQTR: A 4/1 = 4; B 3/1 = 3; Harare 7/2 = 3.5; national 10/2 = 5.
//!
//! Marks (a mark on 20 Apr, between the terms, is not a school day and does not count):
//! - A: a1 present, absent; a2 late, present; a3 absent, absent; a4 present, present.
//!   ATTENDANCE_RATE: F 3/4 = 75, M 2/4 = 50, T 5/8 = 62.5.
//!   CHRONIC_ABSENCE_RATE (absent on ≥ 10 % of marked days): a1 (50 %) and a3 (100 %):
//!   F 1/2 = 50, M 1/2 = 50, T 2/4 = 50.
//! - B: b1 present; b2 absent; b3 excused (neither attended nor absent).
//!   ATTENDANCE_RATE: F 1/1 = 100, M 0/2 = 0, T 1/3 = 33.3…
//!   CHRONIC_ABSENCE_RATE: b2 only: F 0/1 = 0, M 1/2 = 50, T 1/3 = 33.3…
//! - C: no marks, so no attendance rows at all for C, Bulawayo Central or Bulawayo.
//!
//! National ATTENDANCE_RATE: F 4/5 = 80, M 2/6 = 33.3…, T 6/11 = 54.5…;
//! CHRONIC_ABSENCE_RATE: F 1/3, M 2/4 = 50, T 3/7.
//!
//! Enrolment ratios. Every learner is in G3 and 8 on 1 January 2026 (born 10 May 2017), except
//! b3 (born 1 March 2012: 13, over primary age), c3 (G7, born 1 February 2013: 12) and c1 (born
//! 1 June 2019: 6, a new entrant to
//! G1). Population (2026): Harare Central aged 6 F 4, M 4; aged 8 F 10, M 10; aged 14 F 7.
//! Bulawayo Central aged 6 F 5, M 5; aged 9 F 5. Primary ages 6–12: Harare Central F 14, M 14;
//! Bulawayo Central F 10, M 5.
//! - GER_PRIMARY: Harare Central F 3/14 (a1 a2 b1), M 4/14 (a3 a4 b2 b3), T 7/28 = 25;
//!   Bulawayo Central F 3/10 = 30 (c1 c2 c3, 12), M 0/5 = 0, T 3/15; national T 10/43. At a school there is
//!   no population: the school's learners count, its value is null.
//! - NER_PRIMARY: as GER but without b3: Harare Central M 3/14, T 6/28; national T 9/43.
//! - GIR: c1 alone, over the population aged 6: Bulawayo Central F 1/5 = 20, T 1/10 = 10;
//!   Harare Central T 0/8 = 0; national T 1/18.
//! - GER_LOWER_SECONDARY: nobody in F1–F4; Harare Central F 0/7 = 0.
//!
//! Grade 7 2026 at C (aggregate: units of the best four subjects, a missing one counted as 9;
//! a pass is 24 or less by default): c3 (F) 1 2 3 4 9 9, aggregate 10, passes; g1 (M, not
//! enrolled) 5 6 7 8 9, aggregate 26, fails; g2 (F, not enrolled) sat three subjects, 2 2 2,
//! aggregate 6 + 9 = 15, passes. F 2/2, M 0/1, T 2/3; the same at Bulawayo and nationally.
//! With the threshold at 12, g2 fails too: F 1/2, T 1/3.
//! O level 2026 at D High: d1 (F) A B C C C D, five at C or better: passes; d2 (M) C C C C D E,
//! four: does not. F 1/1, M 0/1, T 1/2 = 50.
//! BEAM paid for b1 (F, B) in 2026; a1's payments were cash and EcoCash. Enrolment on the census
//! date: A 4, B 3, C 3 (c1 c2 c3). B F 1/1 = 100, B T 1/3; A T 0/4; national T 1/10.
//!
//! Fee collection 2026 (USD invoices only; c1's ZiG invoice and its payment are left out, so C
//! has no row): A F (a1) paid 60 + 50 (1,300 ZiG at 26 a dollar) of 200 = 55 %; B F (b1, by
//! BEAM) 80/80 = 100, B M (b2, nothing paid) 0/80 = 0, B T 80/160 = 50; Harare Central and
//! national T 190/360, national F 190/280, M 0/80.

mod attention;

use std::collections::BTreeMap;
use std::sync::Arc;

use deltalake::arrow::array::{ArrayRef, Float64Array, Int32Array};
use oneclass_testkit::lake::{FixtureLake, dates, money, opt_dates, opt_text, text};
use oneclass_warehouse::{Access, BuildKind, Format, GoldSettings, Warehouse, encode};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn years(n: usize) -> ArrayRef {
    Arc::new(Int32Array::from(vec![2026; n]))
}

async fn lake() -> Result<FixtureLake, Box<dyn std::error::Error>> {
    let lake = FixtureLake::new()?;
    lake.write(
        "silver/platform/schools",
        vec![
            ("id", text(&["s-a", "s-b", "s-c", "s-d"])),
            ("emis_code", text(&["1001", "1002", "2001", "2002"])),
            ("name", text(&["A Primary", "B Primary", "C Primary", "D High"])),
            ("province", text(&["Harare", "Harare", "Bulawayo", "Bulawayo"])),
            (
                "district",
                text(&["Harare Central", "Harare Central", "Bulawayo Central", "Bulawayo Central"]),
            ),
        ],
    )
    .await?;
    lake.write(
        "silver/ref/terms",
        vec![
            ("academic_year", Arc::new(Int32Array::from(vec![2026, 2026, 2027])) as ArrayRef),
            ("term", Arc::new(Int32Array::from(vec![1, 2, 1])) as ArrayRef),
            ("start_date", dates(&["2026-01-13", "2026-05-12", "2027-01-12"])),
            ("end_date", dates(&["2026-04-09", "2026-08-06", "2027-04-08"])),
        ],
    )
    .await?;
    let learners = ["a1", "a2", "a3", "a4", "a5", "a6", "b1", "b2", "b3", "c1", "c2", "c3"];
    let mut born = ["2017-05-10"; 12];
    born[8] = "2012-03-01";
    born[9] = "2019-06-01";
    born[11] = "2013-02-01";
    let mut grades = ["G3"; 12];
    grades[9] = "G1";
    grades[11] = "G7";
    let mut entries = ["promoted"; 12];
    entries[9] = "new";
    let school_of = |l: &&str| format!("s-{}", &l[..1]);
    let schools: Vec<String> = learners.iter().map(school_of).collect();
    let schools: Vec<&str> = schools.iter().map(String::as_str).collect();
    lake.write(
        "silver/sis/learners",
        vec![
            ("id", text(&learners)),
            ("school_id", text(&schools)),
            ("sex", text(&["F", "F", "M", "M", "M", "F", "F", "M", "M", "F", "F", "F"])),
            ("date_of_birth", dates(&born)),
        ],
    )
    .await?;
    let mut starts = vec!["2026-01-13"; learners.len()];
    starts[5] = "2026-04-01";
    let mut ends = vec![None; learners.len()];
    ends[4] = Some("2026-02-20");
    lake.write(
        "silver/sis/enrolments",
        vec![
            ("id", text(&learners.map(|l| l))),
            ("school_id", text(&schools)),
            ("learner_id", text(&learners)),
            ("academic_year", years(learners.len())),
            ("grade", text(&grades)),
            ("entry_type", text(&entries)),
            ("start_date", dates(&starts)),
            ("end_date", opt_dates(&ends)),
        ],
    )
    .await?;
    // O-level candidates at D High, not enrolled: d1 passes five subjects at C or better, d2 four.
    lake.write(
        "silver/sis/learners",
        vec![
            ("id", text(&["d1", "d2", "g1", "g2"])),
            ("school_id", text(&["s-d", "s-d", "s-c", "s-c"])),
            ("sex", text(&["F", "M", "M", "F"])),
            ("date_of_birth", dates(&["2009-04-04", "2009-07-07", "2013-03-03", "2013-05-05"])),
        ],
    )
    .await?;
    // (learner, exam, grade): O level at D High, Grade 7 at C.
    let results: Vec<(&str, &str, &str)> = ["A", "B", "C", "C", "C", "D"]
        .iter()
        .map(|g| ("d1", "O", *g))
        .chain(["C", "C", "C", "C", "D", "E"].iter().map(|g| ("d2", "O", *g)))
        .chain(["1", "2", "3", "4", "9", "9"].iter().map(|g| ("c3", "G7", *g)))
        .chain(["5", "6", "7", "8", "9"].iter().map(|g| ("g1", "G7", *g)))
        .chain(["2", "2", "2"].iter().map(|g| ("g2", "G7", *g)))
        .collect();
    let ids: Vec<String> = (0..results.len()).map(|i| format!("x{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let subjects: Vec<String> = (0..results.len()).map(|i| format!("S{}", i % 6)).collect();
    let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
    let learners_of: Vec<&str> = results.iter().map(|r| r.0).collect();
    let exams_of: Vec<&str> = results.iter().map(|r| r.1).collect();
    let grades_of: Vec<&str> = results.iter().map(|r| r.2).collect();
    let sat_at: Vec<&str> =
        results.iter().map(|r| if r.1 == "O" { "s-d" } else { "s-c" }).collect();
    lake.write(
        "silver/assessment/exam_results",
        vec![
            ("id", text(&ids)),
            ("school_id", text(&sat_at)),
            ("learner_id", text(&learners_of)),
            ("academic_year", Arc::new(Int32Array::from(vec![2026; results.len()])) as ArrayRef),
            ("exam", text(&exams_of)),
            ("subject_code", text(&subjects)),
            ("grade", text(&grades_of)),
        ],
    )
    .await?;
    // Fees (2026). Invoices in USD: a1 100.00 in each of two terms, b1 and b2 80.00; c1's is in
    // ZiG (2,000.00). BEAM paid b1's fees; a1 paid 60.00 cash on the first, and 1,300.00 ZiG at
    // 26 ZiG a dollar (50.00 applied) on the second; c1 paid the ZiG invoice.
    lake.write(
        "silver/finance/invoices",
        vec![
            ("id", text(&["i-a1-1", "i-a1-2", "i-b1", "i-b2", "i-c1"])),
            ("school_id", text(&["s-a", "s-a", "s-b", "s-b", "s-c"])),
            ("learner_id", text(&["a1", "a1", "b1", "b2", "c1"])),
            ("academic_year", years(5)),
            ("term", Arc::new(Int32Array::from(vec![1, 2, 1, 1, 1])) as ArrayRef),
            ("currency", text(&["USD", "USD", "USD", "USD", "ZWG"])),
            ("amount", money(&[10_000, 10_000, 8_000, 8_000, 200_000])),
        ],
    )
    .await?;
    lake.write(
        "silver/finance/payments",
        vec![
            ("id", text(&["p1", "p2", "p3", "p4"])),
            ("school_id", text(&["s-b", "s-a", "s-a", "s-c"])),
            ("learner_id", text(&["b1", "a1", "a1", "c1"])),
            ("invoice_id", text(&["i-b1", "i-a1-1", "i-a1-2", "i-c1"])),
            ("academic_year", years(4)),
            ("method", text(&["beam", "cash", "ecocash", "cash"])),
            ("currency", text(&["USD", "USD", "ZWG", "ZWG"])),
            ("amount_applied", money(&[8_000, 6_000, 5_000, 200_000])),
        ],
    )
    .await?;
    // 2027: (school, learner, grade, entry); a4 and b3 are gone, c3 is in F1 at D High.
    let next: [(&str, &str, &str, &str); 8] = [
        ("s-a", "a1", "G4", "promoted"),
        ("s-a", "a2", "G3", "repeater"),
        ("s-a", "a3", "G4", "promoted"),
        ("s-b", "b1", "G4", "promoted"),
        ("s-b", "b2", "G4", "promoted"),
        ("s-c", "c1", "G2", "promoted"),
        ("s-c", "c2", "G4", "promoted"),
        ("s-d", "c3", "F1", "new"),
    ];
    lake.write(
        "silver/sis/enrolments",
        vec![
            ("id", text(&next.map(|n| n.1).map(|l| if l == "a1" { "n-a1" } else { l }))),
            ("school_id", text(&next.map(|n| n.0))),
            ("learner_id", text(&next.map(|n| n.1))),
            ("academic_year", Arc::new(Int32Array::from(vec![2027; 8])) as ArrayRef),
            ("grade", text(&next.map(|n| n.2))),
            ("entry_type", text(&next.map(|n| n.3))),
            ("start_date", dates(&["2027-01-12"; 8])),
            ("end_date", opt_dates(&[None; 8])),
        ],
    )
    .await?;
    lake.write(
        "silver/staff/staff",
        vec![
            ("id", text(&["t1", "t2", "h1", "t3", "tb"])),
            ("school_id", text(&["s-a", "s-a", "s-a", "s-a", "s-b"])),
            ("sex", text(&["F", "M", "F", "M", "F"])),
            ("post", text(&["teacher", "teacher", "head", "teacher", "teacher"])),
            (
                "qualification",
                opt_text(&[
                    Some("trained"),
                    Some("untrained"),
                    None,
                    Some("trained"),
                    Some("trained"),
                ]),
            ),
            ("start_date", dates(&["2020-01-10"; 5])),
            ("end_date", opt_dates(&[None, None, None, Some("2026-01-31"), None])),
        ],
    )
    .await?;
    let population: [(&str, i32, &str, i32); 8] = [
        ("Harare Central", 6, "F", 4),
        ("Harare Central", 6, "M", 4),
        ("Harare Central", 8, "F", 10),
        ("Harare Central", 8, "M", 10),
        ("Harare Central", 14, "F", 7),
        ("Bulawayo Central", 6, "F", 5),
        ("Bulawayo Central", 6, "M", 5),
        ("Bulawayo Central", 9, "F", 5),
    ];
    lake.write(
        "silver/ref/population",
        vec![
            ("year", years(population.len())),
            ("district", text(&population.map(|p| p.0))),
            ("age", Arc::new(Int32Array::from(population.map(|p| p.1).to_vec())) as ArrayRef),
            ("sex", text(&population.map(|p| p.2))),
            ("population", Arc::new(Int32Array::from(population.map(|p| p.3).to_vec()))),
        ],
    )
    .await?;
    let marks: [(&str, &str, &str); 13] = [
        ("a1", "2026-02-02", "present"),
        ("a1", "2026-02-03", "absent"),
        ("a1", "2026-04-20", "present"),
        ("a2", "2026-02-02", "late"),
        ("a2", "2026-02-03", "present"),
        ("a3", "2026-02-02", "absent"),
        ("a3", "2026-02-03", "absent"),
        ("a4", "2026-02-02", "present"),
        ("a4", "2026-02-03", "present"),
        ("b1", "2026-02-02", "present"),
        ("b2", "2026-02-02", "absent"),
        ("b3", "2026-02-02", "excused"),
        ("a4", "2025-12-01", "absent"),
    ];
    let ids: Vec<String> = (0..marks.len()).map(|i| format!("m{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mark_schools: Vec<String> = marks.iter().map(|m| school_of(&m.0)).collect();
    let mark_schools: Vec<&str> = mark_schools.iter().map(String::as_str).collect();
    let mark_classes: Vec<String> = marks.iter().map(|m| format!("k-{}", &m.0[..1])).collect();
    let mark_classes: Vec<&str> = mark_classes.iter().map(String::as_str).collect();
    lake.write(
        "silver/academic/classes",
        vec![
            ("id", text(&["k-a", "k-b"])),
            ("school_id", text(&["s-a", "s-b"])),
            ("academic_year", years(2)),
            ("grade", text(&["G3", "G3"])),
            ("name", text(&["3 Red", "3 Blue"])),
        ],
    )
    .await?;
    // Mathematics at A in term 1: a test out of 50 and an examination out of 100.
    lake.write(
        "silver/assessment/assessments",
        vec![
            ("id", text(&["as1", "as2"])),
            ("school_id", text(&["s-a", "s-a"])),
            ("class_id", text(&["k-a", "k-a"])),
            ("academic_year", years(2)),
            ("term", Arc::new(Int32Array::from(vec![1, 1])) as ArrayRef),
            ("subject_code", text(&["MAT", "MAT"])),
        ],
    )
    .await?;
    let results = [("a1", "as1", 45, 50), ("a1", "as2", 80, 100), ("a2", "as1", 20, 50)];
    let results = results.iter().chain(&[("a2", "as2", 50, 100), ("a3", "as1", 50, 50)]);
    let results: Vec<_> = results.chain(&[("a3", "as2", 100, 100)]).copied().collect();
    lake.write(
        "silver/assessment/results",
        vec![
            (
                "id",
                text(&(0..6).map(|i| ["r0", "r1", "r2", "r3", "r4", "r5"][i]).collect::<Vec<_>>()),
            ),
            ("school_id", text(&["s-a"; 6])),
            ("assessment_id", text(&results.iter().map(|r| r.1).collect::<Vec<_>>())),
            ("learner_id", text(&results.iter().map(|r| r.0).collect::<Vec<_>>())),
            ("score", money(&results.iter().map(|r| i128::from(r.2) * 100).collect::<Vec<_>>())),
            (
                "max_score",
                money(&results.iter().map(|r| i128::from(r.3) * 100).collect::<Vec<_>>()),
            ),
        ],
    )
    .await?;
    lake.write(
        "silver/attendance/daily_marks",
        vec![
            ("id", text(&ids)),
            ("school_id", text(&mark_schools)),
            ("class_id", text(&mark_classes)),
            ("learner_id", text(&marks.map(|m| m.0))),
            ("date", dates(&marks.map(|m| m.1))),
            ("status", text(&marks.map(|m| m.2))),
        ],
    )
    .await?;
    Ok(lake)
}

/// (indicator, scope level, scope code, sex) → (numerator, denominator, value).
type Figures = BTreeMap<(String, String, String, String), (f64, f64, f64)>;

async fn figures(warehouse: &Warehouse) -> Result<Figures, Box<dyn std::error::Error>> {
    let out = warehouse
        .query(
            "SELECT indicator, scope_level, scope_code, sex, numerator, denominator, value \
             FROM gold.indicators.values WHERE year = 2026 AND grade IS NULL",
            &Access::Full,
        )
        .await?;
    let answer: serde_json::Value = serde_json::from_slice(&encode(&out, Format::Json)?.1)?;
    let mut found = Figures::new();
    for row in answer["rows"].as_array().ok_or("rows")? {
        let s = |k: &str| row[k].as_str().unwrap_or_default().to_owned();
        let n = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
        found.insert(
            (s("indicator"), s("scope_level"), s("scope_code"), s("sex")),
            (n("numerator"), n("denominator"), n("value")),
        );
    }
    Ok(found)
}

fn key(indicator: &str, level: &str, code: &str, sex: &str) -> (String, String, String, String) {
    (indicator.into(), level.into(), code.into(), sex.into())
}

#[tokio::test]
async fn indicators_match_the_hand_worked_figures() -> TestResult {
    let lake = lake().await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    let report = warehouse.rebuild_gold(|_, _, _| {}).await?;
    assert!(report.skipped.is_empty(), "{report:?}");
    let got = figures(&warehouse).await?;
    let want: &[(&str, &str, &str, &str, f64, f64)] = &[
        ("PTR", "school", "s-a", "T", 4.0, 2.0),
        ("PTR", "school", "s-b", "T", 3.0, 1.0),
        ("PTR", "district", "Harare Central", "T", 7.0, 3.0),
        ("PTR", "province", "Harare", "T", 7.0, 3.0),
        ("PTR", "national", "ZW", "T", 10.0, 3.0),
        ("PQTR", "school", "s-a", "T", 4.0, 1.0),
        ("PQTR", "province", "Harare", "T", 7.0, 2.0),
        ("PQTR", "national", "ZW", "T", 10.0, 2.0),
        ("ATTENDANCE_RATE", "school", "s-a", "F", 3.0, 4.0),
        ("ATTENDANCE_RATE", "school", "s-a", "M", 2.0, 4.0),
        ("ATTENDANCE_RATE", "school", "s-a", "T", 5.0, 8.0),
        ("ATTENDANCE_RATE", "school", "s-b", "M", 0.0, 2.0),
        ("ATTENDANCE_RATE", "school", "s-b", "T", 1.0, 3.0),
        ("ATTENDANCE_RATE", "national", "ZW", "F", 4.0, 5.0),
        ("ATTENDANCE_RATE", "national", "ZW", "M", 2.0, 6.0),
        ("ATTENDANCE_RATE", "national", "ZW", "T", 6.0, 11.0),
        ("CHRONIC_ABSENCE_RATE", "school", "s-a", "T", 2.0, 4.0),
        ("CHRONIC_ABSENCE_RATE", "school", "s-b", "F", 0.0, 1.0),
        ("CHRONIC_ABSENCE_RATE", "school", "s-b", "M", 1.0, 2.0),
        ("CHRONIC_ABSENCE_RATE", "national", "ZW", "F", 1.0, 3.0),
        ("CHRONIC_ABSENCE_RATE", "national", "ZW", "T", 3.0, 7.0),
        ("GER_PRIMARY", "district", "Harare Central", "F", 3.0, 14.0),
        ("GER_PRIMARY", "district", "Harare Central", "M", 4.0, 14.0),
        ("GER_PRIMARY", "district", "Harare Central", "T", 7.0, 28.0),
        ("GER_PRIMARY", "province", "Bulawayo", "F", 3.0, 10.0),
        ("GER_PRIMARY", "province", "Bulawayo", "M", 0.0, 5.0),
        ("GER_PRIMARY", "national", "ZW", "T", 10.0, 43.0),
        ("NER_PRIMARY", "district", "Harare Central", "M", 3.0, 14.0),
        ("NER_PRIMARY", "national", "ZW", "T", 9.0, 43.0),
        ("GIR", "district", "Bulawayo Central", "F", 1.0, 5.0),
        ("GIR", "district", "Bulawayo Central", "T", 1.0, 10.0),
        ("GIR", "district", "Harare Central", "T", 0.0, 8.0),
        ("GIR", "national", "ZW", "T", 1.0, 18.0),
        ("GER_LOWER_SECONDARY", "district", "Harare Central", "F", 0.0, 7.0),
        ("G7_PASS_RATE", "school", "s-c", "F", 2.0, 2.0),
        ("G7_PASS_RATE", "school", "s-c", "M", 0.0, 1.0),
        ("G7_PASS_RATE", "school", "s-c", "T", 2.0, 3.0),
        ("G7_PASS_RATE", "province", "Bulawayo", "T", 2.0, 3.0),
        ("G7_PASS_RATE", "national", "ZW", "F", 2.0, 2.0),
        ("O_LEVEL_PASS_RATE", "school", "s-d", "F", 1.0, 1.0),
        ("O_LEVEL_PASS_RATE", "school", "s-d", "M", 0.0, 1.0),
        ("O_LEVEL_PASS_RATE", "national", "ZW", "T", 1.0, 2.0),
        ("BEAM_COVERAGE", "school", "s-a", "T", 0.0, 4.0),
        ("BEAM_COVERAGE", "school", "s-b", "F", 1.0, 1.0),
        ("BEAM_COVERAGE", "school", "s-b", "T", 1.0, 3.0),
        ("BEAM_COVERAGE", "national", "ZW", "T", 1.0, 10.0),
        ("FEE_COLLECTION_RATE", "school", "s-a", "F", 110.0, 200.0),
        ("FEE_COLLECTION_RATE", "school", "s-a", "T", 110.0, 200.0),
        ("FEE_COLLECTION_RATE", "school", "s-b", "F", 80.0, 80.0),
        ("FEE_COLLECTION_RATE", "school", "s-b", "M", 0.0, 80.0),
        ("FEE_COLLECTION_RATE", "school", "s-b", "T", 80.0, 160.0),
        ("FEE_COLLECTION_RATE", "district", "Harare Central", "T", 190.0, 360.0),
        ("FEE_COLLECTION_RATE", "national", "ZW", "F", 190.0, 280.0),
        ("FEE_COLLECTION_RATE", "national", "ZW", "M", 0.0, 80.0),
        ("FEE_COLLECTION_RATE", "national", "ZW", "T", 190.0, 360.0),
    ];
    for &(indicator, level, code, sex, numerator, denominator) in want {
        let k = key(indicator, level, code, sex);
        let Some(&(n, d, v)) = got.get(&k) else { panic!("no figure for {k:?}: {got:#?}") };
        let scale =
            if indicator.starts_with("PTR") || indicator.starts_with("PQTR") { 1.0 } else { 100.0 };
        assert_eq!((n, d), (numerator, denominator), "{k:?}");
        assert!((v - numerator / denominator * scale).abs() < 1e-9, "{k:?}: value {v}");
    }
    assert_eq!(got[&key("PTR", "district", "Harare Central", "T")].2, 7.0 / 3.0);
    assert_eq!(got[&key("ATTENDANCE_RATE", "school", "s-a", "T")].2, 62.5);
    // No teachers: the learners count, the value is null rather than 0 or infinity.
    for k in [
        key("PTR", "school", "s-c", "T"),
        key("PTR", "district", "Bulawayo Central", "T"),
        key("PQTR", "province", "Bulawayo", "T"),
    ] {
        let (n, d, v) = got[&k];
        assert!(n == 3.0 && d == 0.0 && v.is_nan(), "{k:?}: {:?}", got.get(&k));
    }
    // No marks: no row.
    for k in [
        key("ATTENDANCE_RATE", "school", "s-c", "T"),
        key("CHRONIC_ABSENCE_RATE", "province", "Bulawayo", "F"),
    ] {
        assert!(!got.contains_key(&k), "{k:?} should be absent: {:?}", got.get(&k));
    }
    // Gender parity of the primary GER: Harare Central r = (3/14) ÷ (4/14) = 0.75; nationally
    // r = (6/24) ÷ (4/19) > 1, so the index is 2 − 1/r; Bulawayo Central's boys have a GER of 0:
    // no index there.
    let gpi = |code: &str| got.get(&key("GPI_GER_PRIMARY", "district", code, "T")).map(|f| f.2);
    assert_eq!(gpi("Harare Central"), Some(0.75));
    assert_eq!(gpi("Bulawayo Central"), None);
    let national = got[&key("GPI_GER_PRIMARY", "national", "ZW", "T")].2;
    assert!((national - (2.0 - (4.0 / 19.0) / (6.0 / 24.0))).abs() < 1e-9, "{national}");
    // A school has no population: its learners count, its enrolment ratio has no value.
    let (n, d, v) = got[&key("GER_PRIMARY", "school", "s-a", "T")];
    assert!(n == 4.0 && d == 0.0 && v.is_nan(), "{n} {d} {v}");
    // PTR has no split by sex.
    assert!(!got.contains_key(&key("PTR", "national", "ZW", "F")));
    // Fees invoiced in ZiG only: no fee collection figure for C or its district.
    assert!(!got.contains_key(&key("FEE_COLLECTION_RATE", "school", "s-c", "T")));
    assert!(!got.contains_key(&key("FEE_COLLECTION_RATE", "district", "Bulawayo Central", "T")));
    Ok(())
}

/// The Grade 7 pass threshold is the deployment's: at 12, g2 (aggregate 15) fails too.
#[tokio::test]
async fn the_g7_pass_threshold_is_the_deployments() -> TestResult {
    let lake = lake().await?;
    let strict = GoldSettings { g7_pass_aggregate: 12 };
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec()).with_gold_settings(strict);
    warehouse.rebuild_gold(|_, _, _| {}).await?;
    let got = figures(&warehouse).await?;
    let figure = |sex: &str| {
        let (n, d, _) = got[&key("G7_PASS_RATE", "school", "s-c", sex)];
        (n, d)
    };
    assert_eq!((figure("F"), figure("M"), figure("T")), ((1.0, 2.0), (0.0, 1.0), (1.0, 3.0)));
    Ok(())
}

/// The marts, worked by hand from the lake above (2026).
/// - enrolment (census date 2 March): A G3 age 8 F 2 (a1 a2), M 2 (a3 a4); B G3 age 8 F 1, M 1,
///   age 13 M 1 (b3); C G1 age 6 F 1 (c1), G3 age 8 F 1, G7 age 12 F 1.
/// - attendance_weekly: class 3 Red (A), week of Monday 2 February: learners a1–a4, 8 marks, 5
///   attended (a1 1, a2 2, a4 2), 3 absent; 3 Blue (B): 3 learners, 3 marks, 1 attended, 1
///   absent (b3 excused). a1's mark of 20 April (between terms) and a4's of 2025 are not school
///   days of a term the lake holds.
/// - results, Mathematics, term 1, 3 Red: a1 (F) 90 % and 80 % → 85, band 8; a2 (F) 40 % and
///   50 % → 45, band 4; a3 (M) 100 % twice → 100, band 9 (the top band holds 100 %).
/// - fees: A term 1 USD invoiced 1 (100), paid cash 60; term 2 invoiced 100, paid EcoCash 50
///   (the dollars applied); B term 1 invoiced 2 learners 160, BEAM 80; C term 1 ZWG 2,000
///   invoiced and 2,000 paid in cash.
/// - staffing: A 4 learners, 2 teachers, 1 trained (50 %), PTR 2, PQTR 4; B 3, 1, 1 (100 %), 3,
///   3; C 3 learners, no teachers: no share and no ratios.
#[tokio::test]
async fn marts_match_the_hand_worked_counts() -> TestResult {
    let lake = lake().await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    let report = warehouse.rebuild_gold(|_, _, _| {}).await?;
    assert!(report.skipped.is_empty(), "{report:?}");
    let names: Vec<&str> = report.marts.iter().map(|m| m.0).collect();
    assert_eq!(names, oneclass_warehouse::MARTS.iter().map(|m| m.name).collect::<Vec<_>>());
    let rows = |sql: &'static str| {
        let warehouse = &warehouse;
        async move {
            let out = warehouse.query(sql, &Access::Full).await.expect(sql);
            let answer: serde_json::Value =
                serde_json::from_slice(&encode(&out, Format::Json).expect("json").1).expect("json");
            let columns: Vec<&str> = answer["columns"]
                .as_array()
                .expect("columns")
                .iter()
                .map(|c| c["name"].as_str().expect("a name"))
                .collect();
            answer["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .map(|r| {
                    let shown =
                        columns.iter().map(|c| r[c].to_string().trim_matches('"').to_owned());
                    shown.collect::<Vec<_>>().join(" ")
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        rows(
            "SELECT school_id, grade, age, sex, learners FROM gold.marts.enrolment
              WHERE year = 2026 ORDER BY school_id, grade, age, sex"
        )
        .await,
        [
            "s-a G3 8 F 2",
            "s-a G3 8 M 2",
            "s-b G3 8 F 1",
            "s-b G3 8 M 1",
            "s-b G3 13 M 1",
            "s-c G1 6 F 1",
            "s-c G3 8 F 1",
            "s-c G7 12 F 1",
        ]
    );
    assert_eq!(
        rows(
            "SELECT class_name, grade, CAST(week AS VARCHAR) AS week, learners, marks, attended,
                     absent FROM gold.marts.attendance_weekly ORDER BY class_name"
        )
        .await,
        ["3 Blue G3 2026-02-02 3 3 1 1", "3 Red G3 2026-02-02 4 8 5 3"]
    );
    assert_eq!(
        rows(
            "SELECT class_name, subject_code, term, sex, band, learners, marks_total
              FROM gold.marts.results ORDER BY sex, band"
        )
        .await,
        ["3 Red MAT 1 F 4 1 45.0", "3 Red MAT 1 F 8 1 85.0", "3 Red MAT 1 M 9 1 100.0"]
    );
    assert_eq!(
        rows(
            "SELECT school_id, term, currency, coalesce(method, 'invoiced') AS method, entries,
                     learners, amount FROM gold.marts.fees ORDER BY school_id, term, method"
        )
        .await,
        [
            "s-a 1 USD cash 1 1 60.0",
            "s-a 1 USD invoiced 1 1 100.0",
            "s-a 2 USD ecocash 1 1 50.0",
            "s-a 2 USD invoiced 1 1 100.0",
            "s-b 1 USD beam 1 1 80.0",
            "s-b 1 USD invoiced 2 2 160.0",
            "s-c 1 ZWG cash 1 1 2000.0",
            "s-c 1 ZWG invoiced 1 1 2000.0",
        ]
    );
    assert_eq!(
        rows(
            "SELECT school_id, learners, teachers, trained_teachers, trained_share, ptr, pqtr
              FROM gold.marts.staffing WHERE year = 2026 ORDER BY school_id"
        )
        .await,
        ["s-a 4 2 1 50.0 2.0 4.0", "s-b 3 1 1 100.0 3.0 3.0", "s-c 3 0 0 null null null",]
    );
    Ok(())
}

/// Every numerator and denominator of a scope is the sum of those of the scopes inside it.
#[tokio::test]
async fn each_scope_sums_the_scopes_inside_it() -> TestResult {
    let lake = lake().await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    warehouse.rebuild_gold(|_, _, _| {}).await?;
    let checks = warehouse.check_gold_sums().await?;
    assert_eq!(checks.len(), 3);
    for check in &checks {
        assert!(check.outer_rows > 0 && check.wrong == 0, "{check:?}");
    }
    // A national figure that is not the sum of the provinces' is found.
    let schema = oneclass_warehouse::indicator_schema();
    let wrong = deltalake::arrow::record_batch::RecordBatch::try_new(
        schema,
        vec![
            text(&["PTR"]),
            Arc::new(Int32Array::from(vec![2027])),
            text(&["national"]),
            text(&["ZW"]),
            opt_text(&[None]),
            text(&["T"]),
            Arc::new(Float64Array::from(vec![99.0])),
            Arc::new(Float64Array::from(vec![3.0])),
            Arc::new(Float64Array::from(vec![33.0])),
        ],
    )?;
    lake.write_batch("gold/indicators/values", wrong, &[]).await?;
    let checks = warehouse.check_gold_sums().await?;
    assert_eq!((checks[0].outer, checks[0].wrong), ("national", 1), "{checks:?}");
    Ok(())
}

/// A rebuild replaces gold whole: the new version holds the new figures only.
#[tokio::test]
async fn a_rebuild_replaces_the_previous_figures() -> TestResult {
    let lake = lake().await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    let first = warehouse.rebuild_gold(|_, _, _| {}).await?;
    let mut heard = Vec::new();
    let second = warehouse
        .build_gold(BuildKind::Full, |code, done, of| heard.push((code.to_owned(), done, of)))
        .await?;
    assert_eq!(second.version, first.version + 1);
    assert_eq!(second.rows(), first.rows());
    let total = oneclass_warehouse::gold_steps();
    assert_eq!(heard.first(), Some(&("gold_teacher_ratios".to_owned(), 0, total)));
    assert_eq!(heard.last(), Some(&(String::new(), total, total)));
    let out =
        warehouse.query("SELECT count(*) AS n FROM gold.indicators.values", &Access::Full).await?;
    let answer: serde_json::Value = serde_json::from_slice(&encode(&out, Format::Json)?.1)?;
    assert_eq!(answer["rows"][0]["n"].as_u64(), Some(second.rows() as u64));
    Ok(())
}

/// The flow rates of 2026, from the enrolment of 2026 and 2027 (census dates 2 March 2026 and
/// 1 March 2027). G3 in 2026: a1 a2 a3 a4 at A, b1 b2 b3 at B, c2 at C: F 4, M 4. In 2027: a2
/// repeats G3; a1 a3 b1 b2 c2 are in G4; a4 and b3 are gone. c1 (G1) is in G2; c3 (G7 at C)
/// entered F1 at D High, a new entrant.
/// - REPETITION_RATE G3: F 1/4 = 25, M 0/4, T 1/8 = 12.5.
/// - PROMOTION_RATE G3: F 3/4 (a1 b1 c2), M 2/4 (a3 b2), T 5/8 = 62.5; G1 1/1; G7 nationally
///   1/1, but at C itself 0/1 (c3 went to another school).
/// - DROPOUT_RATE G3: F (4 − 3 − 1)/4 = 0, M (4 − 2 − 0)/4 = 50, T 2/8 = 25.
/// - TRANSITION_RATE: F1 new entrants 1 ÷ (G7 1 − G7 repeaters 0) = 100 nationally.
/// - All grades: REPETITION_RATE T 1 ÷ (G1 1 + G3 8 + G7 1) = 10.
#[tokio::test]
async fn flow_rates_follow_learners_into_the_next_year() -> TestResult {
    let lake = lake().await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    warehouse.rebuild_gold(|_, _, _| {}).await?;
    let out = warehouse
        .query(
            "SELECT indicator, scope_level, scope_code, coalesce(grade, 'all') AS grade, sex, \
                    numerator, denominator \
             FROM gold.indicators.values WHERE year = 2026 AND indicator IN \
               ('REPETITION_RATE', 'PROMOTION_RATE', 'DROPOUT_RATE', 'TRANSITION_RATE')",
            &Access::Full,
        )
        .await?;
    let answer: serde_json::Value = serde_json::from_slice(&encode(&out, Format::Json)?.1)?;
    let mut got = BTreeMap::new();
    for row in answer["rows"].as_array().ok_or("rows")? {
        let s = |k: &str| row[k].as_str().unwrap_or_default().to_owned();
        let n = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
        got.insert(
            (s("indicator"), s("scope_level"), s("scope_code"), s("grade"), s("sex")),
            (n("numerator"), n("denominator")),
        );
    }
    let want: &[(&str, &str, &str, &str, &str, f64, f64)] = &[
        ("REPETITION_RATE", "national", "ZW", "G3", "F", 1.0, 4.0),
        ("REPETITION_RATE", "national", "ZW", "G3", "M", 0.0, 4.0),
        ("REPETITION_RATE", "national", "ZW", "G3", "T", 1.0, 8.0),
        ("REPETITION_RATE", "school", "s-a", "G3", "T", 1.0, 4.0),
        ("REPETITION_RATE", "national", "ZW", "all", "T", 1.0, 10.0),
        ("PROMOTION_RATE", "national", "ZW", "G3", "F", 3.0, 4.0),
        ("PROMOTION_RATE", "national", "ZW", "G3", "M", 2.0, 4.0),
        ("PROMOTION_RATE", "national", "ZW", "G3", "T", 5.0, 8.0),
        ("PROMOTION_RATE", "national", "ZW", "G1", "T", 1.0, 1.0),
        ("PROMOTION_RATE", "national", "ZW", "G7", "T", 1.0, 1.0),
        ("PROMOTION_RATE", "school", "s-c", "G7", "T", 0.0, 1.0),
        ("DROPOUT_RATE", "national", "ZW", "G3", "F", 0.0, 4.0),
        ("DROPOUT_RATE", "national", "ZW", "G3", "M", 2.0, 4.0),
        ("DROPOUT_RATE", "national", "ZW", "G3", "T", 2.0, 8.0),
        ("TRANSITION_RATE", "national", "ZW", "all", "T", 1.0, 1.0),
        ("TRANSITION_RATE", "province", "Bulawayo", "all", "F", 1.0, 1.0),
    ];
    for &(indicator, level, code, grade, sex, numerator, denominator) in want {
        let k = (indicator.into(), level.into(), code.into(), grade.into(), sex.into());
        assert_eq!(got.get(&k), Some(&(numerator, denominator)), "{k:?}");
    }
    // 2027 has no next year yet: no flow rates for it.
    let later = warehouse
        .query(
            "SELECT count(*) AS n FROM gold.indicators.values \
             WHERE year = 2027 AND indicator = 'REPETITION_RATE'",
            &Access::Full,
        )
        .await?;
    let answer: serde_json::Value = serde_json::from_slice(&encode(&later, Format::Json)?.1)?;
    assert_eq!(answer["rows"][0]["n"], 0);
    Ok(())
}

/// A learner's grade in 2026, and in 2027 their grade and entry, if they are still enrolled.
type Path = (&'static str, &'static str, Option<(&'static str, &'static str)>);

/// Survival to G7 by the reconstructed cohort, over a one-school lake. 2026: two learners in each
/// of G1–G6. 2027: of G1's, one is in G2 and one repeats G1 (p = r = 1/2: all eventually go on,
/// 1/2 ÷ (1 − 1/2) = 1); of G2's, one is in G3 and one has left (p = 1/2, r = 0: 1/2); G3–G6
/// both go on (1). Of 1,000 entrants, 1,000 × 1 × 1/2 × 1 × 1 × 1 × 1 = 500 reach G7: 50 %.
#[tokio::test]
async fn survival_to_g7_follows_the_reconstructed_cohort() -> TestResult {
    let lake = FixtureLake::new()?;
    lake.write(
        "silver/platform/schools",
        vec![
            ("id", text(&["s-q"])),
            ("emis_code", text(&["3001"])),
            ("name", text(&["Q Primary"])),
            ("province", text(&["Manicaland"])),
            ("district", text(&["Mutare"])),
        ],
    )
    .await?;
    lake.write(
        "silver/ref/terms",
        vec![
            ("academic_year", Arc::new(Int32Array::from(vec![2026, 2027])) as ArrayRef),
            ("term", Arc::new(Int32Array::from(vec![1, 1])) as ArrayRef),
            ("start_date", dates(&["2026-01-13", "2027-01-12"])),
            ("end_date", dates(&["2026-04-09", "2027-04-08"])),
        ],
    )
    .await?;
    // (learner, 2026 grade, 2027 grade and entry, if any)
    let paths: [Path; 12] = [
        ("l1a", "G1", Some(("G2", "promoted"))),
        ("l1b", "G1", Some(("G1", "repeater"))),
        ("l2a", "G2", Some(("G3", "promoted"))),
        ("l2b", "G2", None),
        ("l3a", "G3", Some(("G4", "promoted"))),
        ("l3b", "G3", Some(("G4", "promoted"))),
        ("l4a", "G4", Some(("G5", "promoted"))),
        ("l4b", "G4", Some(("G5", "promoted"))),
        ("l5a", "G5", Some(("G6", "promoted"))),
        ("l5b", "G5", Some(("G6", "promoted"))),
        ("l6a", "G6", Some(("G7", "promoted"))),
        ("l6b", "G6", Some(("G7", "promoted"))),
    ];
    let ids = paths.map(|p| p.0);
    lake.write(
        "silver/sis/learners",
        vec![
            ("id", text(&ids)),
            ("school_id", text(&["s-q"; 12])),
            ("sex", text(&["F"; 12])),
            ("date_of_birth", dates(&["2015-05-05"; 12])),
        ],
    )
    .await?;
    let mut rows: Vec<(String, &str, i32, &str, &str)> =
        paths.iter().map(|p| (format!("{}-26", p.0), p.0, 2026, p.1, "promoted")).collect();
    rows.extend(
        paths.iter().filter_map(|p| p.2.map(|(g, e)| (format!("{}-27", p.0), p.0, 2027, g, e))),
    );
    let row_ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let starts: Vec<&str> =
        rows.iter().map(|r| if r.2 == 2026 { "2026-01-13" } else { "2027-01-12" }).collect();
    lake.write(
        "silver/sis/enrolments",
        vec![
            ("id", text(&row_ids)),
            ("school_id", text(&vec!["s-q"; rows.len()])),
            ("learner_id", text(&rows.iter().map(|r| r.1).collect::<Vec<_>>())),
            (
                "academic_year",
                Arc::new(Int32Array::from(rows.iter().map(|r| r.2).collect::<Vec<_>>()))
                    as ArrayRef,
            ),
            ("grade", text(&rows.iter().map(|r| r.3).collect::<Vec<_>>())),
            ("entry_type", text(&rows.iter().map(|r| r.4).collect::<Vec<_>>())),
            ("start_date", dates(&starts)),
            ("end_date", opt_dates(&vec![None; rows.len()])),
        ],
    )
    .await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    let report = warehouse.rebuild_gold(|_, _, _| {}).await?;
    // School, district, province and nation, for F and T.
    assert!(report.built.contains(&("survival", 8)), "{report:?}");
    let out = warehouse
        .query(
            "SELECT scope_level, sex, numerator, denominator, value FROM gold.indicators.values \
             WHERE indicator = 'SURVIVAL_G7' AND year = 2026 ORDER BY scope_level, sex",
            &Access::Full,
        )
        .await?;
    let answer: serde_json::Value = serde_json::from_slice(&encode(&out, Format::Json)?.1)?;
    for row in answer["rows"].as_array().ok_or("rows")? {
        assert_eq!(row["numerator"].as_f64().map(f64::round), Some(500.0), "{row}");
        assert_eq!(row["denominator"], 1000.0, "{row}");
        assert!((row["value"].as_f64().unwrap_or(0.0) - 50.0).abs() < 1e-9, "{row}");
    }
    assert_eq!(answer["rows"].as_array().map(Vec::len), Some(8), "{answer}");
    Ok(())
}

/// Every figure of gold, as sorted text, to compare two builds.
async fn all_of_gold(warehouse: &Warehouse) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for table in
        ["gold.indicators.values", "gold.indicators.counts", "gold.marts.attendance_weekly"]
    {
        let answer = warehouse.query(&format!("SELECT * FROM {table}"), &Access::Full).await?;
        let json: serde_json::Value = serde_json::from_slice(&encode(&answer, Format::Json)?.1)?;
        for row in json["rows"].as_array().expect("rows") {
            // Sums of money may differ in the last bits with the order they were added in.
            let mut row = row.clone();
            for v in row.as_object_mut().expect("a row").values_mut() {
                if let Some(f) = v.as_f64().filter(|f| f.fract() != 0.0) {
                    *v = serde_json::json!(format!("{f:.9}"));
                }
            }
            out.push(format!("{table} {row}"));
        }
    }
    out.sort();
    Ok(out)
}

/// An incremental build redoes only the schools whose rows changed since the last build, and
/// leaves gold exactly as a full build would. The fixture's tables record no LSN (as before
/// ingest's first commit); marks committed at LSN 100 and 200 do:
/// - build 1 (full): everything;
/// - marks at LSN 100 (b1 at B absent on 4 February): the marks table is new to the build log,
///   so every school it names is redone: A and B;
/// - marks at LSN 200 (a4 at A late on 4 February): only A;
/// - nothing new: nothing is written.
#[tokio::test]
async fn an_incremental_build_redoes_only_changed_schools_and_equals_a_full_one() -> TestResult {
    let lake = lake().await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    let first = warehouse.rebuild_gold(|_, _, _| {}).await?;
    assert_eq!(first.kind, BuildKind::Full);
    let mark = |id: &'static str, school: &'static str, class: &'static str, learner, status| {
        vec![
            ("id", text(&[id])),
            ("school_id", text(&[school])),
            ("class_id", text(&[class])),
            ("learner_id", text(&[learner])),
            ("date", dates(&["2026-02-04"])),
            ("status", text(&[status])),
        ]
    };
    lake.write_at("silver/attendance/daily_marks", mark("n1", "s-b", "k-b", "b1", "absent"), 100)
        .await?;
    let second = warehouse.rebuild_gold(|_, _, _| {}).await?;
    assert_eq!((second.kind, second.schools), (BuildKind::Incremental, Some(2)), "{second:?}");
    lake.write_at("silver/attendance/daily_marks", mark("n2", "s-a", "k-a", "a4", "late"), 200)
        .await?;
    let third = warehouse.rebuild_gold(|_, _, _| {}).await?;
    assert_eq!((third.kind, third.schools), (BuildKind::Incremental, Some(1)), "{third:?}");
    // B's attendance now: b1 present and absent, b2 absent, b3 excused: 1 of 4 marks.
    let figures_now = figures(&warehouse).await?;
    let (n, d, _) = figures_now[&key("ATTENDANCE_RATE", "school", "s-b", "T")];
    assert_eq!((n, d), (1.0, 4.0));
    let (n, d, _) = figures_now[&key("ATTENDANCE_RATE", "school", "s-a", "T")];
    assert_eq!((n, d), (6.0, 9.0), "a4's late mark counts as attended");
    let incremental = all_of_gold(&warehouse).await?;

    let fourth = warehouse.rebuild_gold(|_, _, _| {}).await?;
    assert!(fourth.up_to_date && fourth.schools == Some(0), "{fourth:?}");
    let full = warehouse.build_gold(BuildKind::Full, |_, _, _| {}).await?;
    assert_eq!(full.version, third.version + 1, "the up-to-date build wrote nothing");
    assert_eq!(incremental, all_of_gold(&warehouse).await?);
    Ok(())
}

/// When more than three quarters of the schools changed, an incremental build redoes them all
/// as a full one (cheaper than filtering every model by a list of nearly every school).
#[tokio::test]
async fn an_incremental_build_of_nearly_every_school_is_a_full_one() -> TestResult {
    let lake = lake().await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    warehouse.rebuild_gold(|_, _, _| {}).await?;
    let marks = [("a1", "s-a"), ("b1", "s-b"), ("c1", "s-c"), ("d1", "s-d")];
    lake.write_at(
        "silver/attendance/daily_marks",
        vec![
            ("id", text(&["x1", "x2", "x3", "x4"])),
            ("school_id", text(&marks.map(|m| m.1))),
            ("class_id", text(&["k-a", "k-b", "k-c", "k-d"])),
            ("learner_id", text(&marks.map(|m| m.0))),
            ("date", dates(&["2026-02-05"; 4])),
            ("status", text(&["present"; 4])),
        ],
        300,
    )
    .await?;
    let report = warehouse.rebuild_gold(|_, _, _| {}).await?;
    assert_eq!((report.kind, report.schools), (BuildKind::Full, None), "{report:?}");
    Ok(())
}

/// A build is whole when an incremental one would leave figures out: when enrolment reaches a
/// new year (every school gains the flow rates of the year before), and after a build that
/// skipped a model because its table was missing (once the table arrives, every school needs
/// the model, not only those the table names).
#[tokio::test]
async fn new_years_and_tables_that_arrive_late_rebuild_everything() -> TestResult {
    let lake = lake().await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    // No payments yet: BEAM coverage (and the fees mart) wait for them.
    let payments = lake.path().join("silver/finance/payments");
    let kept = lake.path().join("payments-later");
    std::fs::rename(&payments, &kept)?;
    let first = warehouse.rebuild_gold(|_, _, _| {}).await?;
    assert!(first.skipped.iter().any(|(m, _)| *m == "gold_beam_coverage"), "{first:?}");
    std::fs::rename(&kept, &payments)?;
    let second = warehouse.rebuild_gold(|_, _, _| {}).await?;
    assert_eq!((second.kind, second.skipped.len()), (BuildKind::Full, 0), "{second:?}");
    let third = warehouse.rebuild_gold(|_, _, _| {}).await?;
    assert!(third.up_to_date, "{third:?}");

    // The first enrolment of 2028, at A.
    lake.write_at(
        "silver/sis/enrolments",
        vec![
            ("id", text(&["e-2028"])),
            ("school_id", text(&["s-a"])),
            ("learner_id", text(&["a1"])),
            ("academic_year", Arc::new(Int32Array::from(vec![2028])) as ArrayRef),
            ("grade", text(&["G5"])),
            ("entry_type", text(&["promoted"])),
            ("start_date", dates(&["2028-01-11"])),
            ("end_date", opt_dates(&[None])),
        ],
        400,
    )
    .await?;
    let fourth = warehouse.rebuild_gold(|_, _, _| {}).await?;
    assert_eq!(fourth.kind, BuildKind::Full, "{fourth:?}");
    Ok(())
}

/// A row an update moved to another school leaves the first one: t1, a trained teacher at A,
/// moves to B at LSN 200 (bronze holds both versions). The incremental build redoes A as well
/// as B: A's PTR is 4 learners ÷ 1 teacher, B's 3 ÷ 2, as a full build has them.
#[tokio::test]
async fn a_row_moved_to_another_school_is_taken_from_the_first() -> TestResult {
    use deltalake::arrow::array::{Int64Array, RecordBatch};
    let lake = lake().await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    // The staff as ingest would have left them at LSN 100, and their changelog.
    std::fs::remove_dir_all(lake.path().join("silver/staff/staff"))?;
    let staff = |ids: &[&'static str], schools: &[&'static str]| {
        let n = ids.len();
        vec![
            ("id", text(ids)),
            ("school_id", text(schools)),
            ("sex", text(&vec!["F"; n])),
            ("post", text(&vec!["teacher"; n])),
            ("qualification", opt_text(&vec![Some("trained"); n])),
            ("start_date", dates(&vec!["2020-01-10"; n])),
            ("end_date", opt_dates(&vec![None; n])),
        ]
    };
    lake.write_at("silver/staff/staff", staff(&["t2", "tb"], &["s-a", "s-b"]), 100).await?;
    lake.write_at("silver/staff/staff", staff(&["t1"], &["s-a"]), 100).await?;
    let bronze = |ids: &[&'static str], schools: &[&'static str], op: &'static str, lsn: i64| {
        RecordBatch::try_from_iter(vec![
            ("id", text(ids)),
            ("school_id", text(schools)),
            ("_op", text(&vec![op; ids.len()])),
            ("_lsn", Arc::new(Int64Array::from(vec![lsn; ids.len()])) as ArrayRef),
        ])
    };
    lake.write_batch(
        "bronze/staff/staff",
        bronze(&["t2", "tb", "t1"], &["s-a", "s-b", "s-a"], "r", 100)?,
        &[],
    )
    .await?;
    warehouse.build_gold(BuildKind::Full, |_, _, _| {}).await?;
    let before = figures(&warehouse).await?;
    assert_eq!(before[&key("PTR", "school", "s-a", "T")].1, 2.0, "t1 and t2 at A");

    // The update: silver holds t1 at B (its row rewritten at LSN 200), bronze both versions.
    let url = url::Url::from_directory_path(lake.path().join("silver/staff/staff"))
        .map_err(|()| "a path")?;
    let table = deltalake::open_table(url).await?;
    table.delete().with_predicate("id = 't1'").await?;
    lake.write_at("silver/staff/staff", staff(&["t1"], &["s-b"]), 200).await?;
    lake.write_batch("bronze/staff/staff", bronze(&["t1"], &["s-b"], "u", 200)?, &[]).await?;
    let report = warehouse.rebuild_gold(|_, _, _| {}).await?;
    assert_eq!((report.kind, report.schools), (BuildKind::Incremental, Some(2)), "{report:?}");
    let after = figures(&warehouse).await?;
    assert_eq!(after[&key("PTR", "school", "s-a", "T")].1, 1.0, "t1 has left A");
    assert_eq!(after[&key("PTR", "school", "s-b", "T")].1, 2.0, "t1 is at B");
    let incremental = all_of_gold(&warehouse).await?;
    warehouse.build_gold(BuildKind::Full, |_, _, _| {}).await?;
    assert_eq!(incremental, all_of_gold(&warehouse).await?);
    Ok(())
}

/// Two builds at once (the server's schedule and an operator's command): the one that writes
/// the counts second, from a table another build has replaced since it began, fails instead of
/// overwriting newer counts with older ones, and writes no watermarks; the next build redoes it.
#[tokio::test(flavor = "multi_thread")]
async fn a_build_overtaken_by_another_fails_rather_than_losing_its_work() -> TestResult {
    let lake = lake().await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    warehouse.build_gold(BuildKind::Full, |_, _, _| {}).await?;
    let other = Warehouse::new(lake.url(), b"key".to_vec());
    let mut overtaken = false;
    // The other build runs whole while this one is at its first model.
    let result = warehouse
        .build_gold(BuildKind::Full, |step, _, _| {
            if step == "gold_teacher_ratios" && !overtaken {
                overtaken = true;
                let other = &other;
                tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(async {
                        other
                            .build_gold(BuildKind::Full, |_, _, _| {})
                            .await
                            .expect("the other build")
                    })
                });
            }
        })
        .await;
    assert!(overtaken);
    let err = result.expect_err("the overtaken build fails");
    assert!(err.to_string().contains("another gold build"), "{err}");
    Ok(())
}

/// Analysts read the marts of their area, but not the enrolment mart's ages: a cell of one
/// learner of a sex, grade and school would tell that learner's age, which silver does not show.
#[tokio::test]
async fn analysts_read_the_marts_without_the_ages_of_small_cells() -> TestResult {
    let lake = lake().await?;
    let warehouse = Warehouse::new(lake.url(), b"key".to_vec());
    warehouse.rebuild_gold(|_, _, _| {}).await?;
    let analyst = Access::Analyst { area: oneclass_warehouse::Area::National };
    let err = warehouse
        .query("SELECT age FROM gold.marts.enrolment", &analyst)
        .await
        .expect_err("no ages for analysts");
    assert!(err.to_string().contains("age"), "{err}");
    let out = warehouse
        .query(
            "SELECT CAST(sum(learners) AS BIGINT) AS n FROM gold.marts.enrolment WHERE year = 2026",
            &analyst,
        )
        .await?;
    let answer: serde_json::Value = serde_json::from_slice(&encode(&out, Format::Json)?.1)?;
    assert_eq!(answer["rows"][0]["n"].as_i64(), Some(10), "the counts remain: {answer}");
    let full = warehouse.query("SELECT age FROM gold.marts.enrolment", &Access::Full).await?;
    assert!(full.num_rows() > 0);
    Ok(())
}
