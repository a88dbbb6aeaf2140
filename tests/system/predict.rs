//! `oneclass predict evaluate` from the command line (issue 18): a researcher's table in, the
//! measures out, and a clear message for a table it cannot use.

use std::fmt::Write as _;
use std::process::Command;

#[test]
fn predict_evaluate_prints_the_measures_of_a_researchers_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("records.csv");
    // A label that follows `absent_days` (and nothing else), 40 schools.
    let mut csv = String::from("school,absent_days,shoe_size,left\n");
    for i in 0..1_200u32 {
        let absent = (i * 7919) % 40;
        let left = u8::from((i * 104_729) % 40 < absent);
        let _ = writeln!(csv, "S{},{absent},{},{left}", i % 40, 30 + (i * 31) % 15);
    }
    std::fs::write(&path, csv).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_oneclass"))
        .args(["predict", "evaluate", "--table"])
        .arg(&path)
        .args(["--label", "left", "--group", "school", "--folds", "4"])
        .output()
        .expect("run oneclass");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("| ROC-AUC |") && text.contains("| expected calibration error |"));
    let first_feature =
        text.lines().skip_while(|l| !l.starts_with("| feature |")).nth(2).expect("a feature line");
    assert!(first_feature.starts_with("| absent_days |"), "{text}");

    let out = Command::new(env!("CARGO_BIN_EXE_oneclass"))
        .args(["predict", "evaluate", "--table"])
        .arg(&path)
        .args(["--label", "stayed", "--group", "school"])
        .output()
        .expect("run oneclass");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no column \"stayed\""), "{err}");
}

/// Issue 18, acceptance 3: the projection back-tested on the synthetic country. Three school
/// years are generated; 2026 is projected from 2025 with the ratios seen from 2024 to 2025 (the
/// entry grade following each district's population of four-year-olds), and set against what
/// the generator realised: every district's total within 3 %, the nation's within 1 %.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projecting_a_year_ahead_lands_near_what_happened() {
    use std::collections::BTreeMap;

    use oneclass_predict::projection::{Counts, GRADES, project};

    let owner =
        oneclass_core::db::pool(&oneclass_testkit::fresh_database().await, 4).await.expect("pool");
    let params = oneclass_synth::SeedParams {
        seed: 18,
        // About five schools a district, and classes of Zimbabwe's size (a pupil–teacher ratio
        // near 40): the generator draws each year's entry classes afresh, so a district of one
        // small school would be judged on the luck of one draw.
        schools: 300,
        class_size: (35, 45),
        streams: (1, 2),
        academic_year: 2026,
        years: 3,
        as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date"),
        attendance_days: Some(1),
        demo_password: crate::support::DEMO_PASSWORD.into(),
    };
    oneclass_synth::seed(&owner, &params).await.expect("seed");
    // Learners enrolled on each year's census date (1 March), by district and grade.
    let rows: Vec<(String, i32, String, i64)> = sqlx::query_as(
        "SELECT s.district, e.academic_year, e.grade, count(DISTINCT e.learner_id)
         FROM sis.enrolments e JOIN platform.schools s ON s.id = e.school_id
         WHERE e.start_date <= make_date(e.academic_year, 3, 1)
           AND (e.end_date IS NULL OR e.end_date >= make_date(e.academic_year, 3, 1))
         GROUP BY 1, 2, 3",
    )
    .fetch_all(&owner)
    .await
    .expect("counts");
    let mut counts = Counts::new();
    for (district, year, grade, n) in rows {
        let g = GRADES.iter().position(|x| *x == grade).expect("a known grade");
        counts.entry((district, year)).or_insert([0.0; GRADES.len()])[g] = n as f64;
    }
    let fours: BTreeMap<(String, i32), f64> = sqlx::query_as::<_, (String, i32, i64)>(
        "SELECT district, year, sum(population)::bigint FROM ref.population WHERE age = 4
         GROUP BY 1, 2",
    )
    .fetch_all(&owner)
    .await
    .expect("population")
    .into_iter()
    .map(|(d, y, n)| ((d, y), n as f64))
    .collect();
    let growth = |district: &str, year: i32| {
        let now = fours.get(&(district.to_owned(), year))?;
        let before = fours.get(&(district.to_owned(), year - 1))?;
        (*before > 0.0).then(|| now / before)
    };
    let mut history = counts.clone();
    history.retain(|(_, year), _| *year <= 2025);
    let projected = project(&history, 2025, 1, &growth);

    let mut worst = (String::new(), 0.0f64);
    let (mut national_projected, mut national_actual) = (0.0, 0.0);
    let districts: Vec<&String> =
        counts.keys().filter(|(_, y)| *y == 2026).map(|(d, _)| d).collect();
    assert!(districts.len() >= 10, "{} districts", districts.len());
    for district in districts {
        let actual: f64 = counts[&(district.clone(), 2026)].iter().sum();
        let mine: f64 = projected.iter().filter(|p| &p.area == district).map(|p| p.learners).sum();
        let error = (mine - actual).abs() / actual;
        if error > worst.1 {
            worst = (district.clone(), error);
        }
        national_projected += mine;
        national_actual += actual;
    }
    let national = (national_projected - national_actual).abs() / national_actual;
    println!(
        "back-test 2026 from 2025: worst district {} off by {:.2} %, nation off by {:.2} % \
         ({national_projected:.0} projected, {national_actual:.0} enrolled)",
        worst.0,
        worst.1 * 100.0,
        national * 100.0
    );
    assert!(worst.1 <= 0.03, "district {} off by {:.1} %", worst.0, worst.1 * 100.0);
    assert!(national <= 0.01, "the nation off by {:.2} %", national * 100.0);
}
