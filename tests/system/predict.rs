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
        // About eight schools a district (Zimbabwe's districts hold a hundred or more), and
        // classes of Zimbabwe's size (a pupil–teacher ratio near 40): the generator draws each
        // year's entry classes afresh, whatever the population, so a district of two or three
        // schools is judged on the luck of a few draws (with 300 schools the worst district, of
        // three schools, was 3.45 % off, its ECD A intake 56 where 47 had entered the year
        // before).
        schools: 600,
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

/// The tables the early-warning features read, as the snapshot must hold them.
const EARLY_WARNING_TABLES: &[&str] = &[
    "platform.schools",
    "ref.terms",
    "sis.learners",
    "sis.enrolments",
    "attendance.daily_marks",
    "assessment.assessments",
    "assessment.results",
    "finance.invoices",
    "finance.payments",
];

/// Issue 18, acceptance 1, 2 and 4 (the lake's side). Three synthetic school years with every
/// day's attendance; the model learns from the learners of 2024 (taken six weeks into the second
/// term, the outcome whether each dropped out later that year or repeated the grade in 2025) and
/// is judged on 2025's, whom it never saw: ROC-AUC at least 0.85 and 0.05 above the attention
/// list's rule, calibration error at most 0.05, and each group's AUC near the others'. Then it
/// scores 2026's learners, each with reasons; analysts read the scores pseudonymised and only in
/// their area.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_early_warning_model_beats_the_rule_on_a_later_cohort_calibrated_and_fair() {
    use std::time::Duration;

    use crate::support::TestApp;

    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
    // CI runs 40 schools; `ONECLASS_EARLY_WARNING_SCHOOLS=400` is the larger run whose provinces
    // hold enough outcomes to measure their gaps (docs/model-card.md).
    let schools = std::env::var("ONECLASS_EARLY_WARNING_SCHOOLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let params = oneclass_synth::SeedParams {
        seed: 1818,
        schools,
        class_size: (25, 35),
        streams: (1, 1),
        academic_year: 2026,
        years: 3,
        as_of,
        attendance_days: None,
        demo_password: crate::support::DEMO_PASSWORD.into(),
    };
    let app = TestApp::spawn_seeded(&params).await;
    let analyst = app.token("analyst").await;
    app.wait_for_snapshot_within(&analyst, EARLY_WARNING_TABLES, Duration::from_secs(900)).await;
    let wh = oneclass::app::warehouse(&app.settings);

    let trained = oneclass::early_warning::train(&wh, None).await.expect("train");
    assert_eq!(trained.train_year, 2024);
    let (year, a) = trained.evaluated_on.as_ref().expect("judged on a later cohort");
    assert_eq!(*year, 2025);
    println!("learnt from {} learners; judged on {year}:\n{a}", trained.learners);
    assert!(a.positives >= 200, "enough outcomes to judge by: {a}");
    assert!(a.auc >= 0.85, "ROC-AUC {:.3}", a.auc);
    assert!(a.auc - a.rule_auc >= 0.05, "model {:.3} against the rule {:.3}", a.auc, a.rule_auc);
    assert!(a.calibration_error <= 0.05, "calibration error {:.3}", a.calibration_error);
    for g in &a.groups {
        assert!(g.measures.len() >= 2, "{} has groups: {a}", g.dimension);
        for m in &g.measures {
            let gap = m.gap_beyond(a.auc, 0.05);
            assert!(gap.is_none(), "{} {}: {gap:?}\n{a}", g.dimension, m.group);
        }
    }

    let scored = oneclass::early_warning::score(&wh, Some(as_of)).await.expect("score");
    let scored = scored.expect("a model to score with");
    assert_eq!(scored.version, trained.version);
    let enrolled: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT learner_id) FROM sis.enrolments
         WHERE start_date <= $1 AND (end_date IS NULL OR end_date > $1)",
    )
    .bind(as_of)
    .fetch_one(&app.owner)
    .await
    .expect("enrolled");
    assert_eq!(scored.learners as i64, enrolled);

    // Analysts: every learner id a keyed pseudonym, the reasons beside the score.
    let rows = app
        .sql(
            &analyst,
            "SELECT learner_id, school_id, score, rank_in_school, reasons FROM gold.predict.scores
             ORDER BY score DESC LIMIT 50",
        )
        .await;
    assert_eq!(rows.len(), 50);
    let raw: Vec<String> = sqlx::query_scalar("SELECT id::text FROM sis.learners")
        .fetch_all(&app.owner)
        .await
        .expect("ids");
    for row in &rows {
        let id = row["learner_id"].as_str().expect("an id");
        assert!(!raw.iter().any(|r| r == id), "a raw learner id reached an analyst: {row}");
        let reasons: serde_json::Value =
            serde_json::from_str(row["reasons"].as_str().expect("reasons")).expect("json");
        assert!(!reasons.as_array().expect("a list").is_empty(), "a high score has reasons");
    }
    // An analyst of one district sees the scores of that district's schools only.
    let (district, schools): (String, Vec<String>) = sqlx::query_as(
        "SELECT district, array_agg(id::text) FROM platform.schools GROUP BY district
         ORDER BY district LIMIT 1",
    )
    .fetch_one(&app.owner)
    .await
    .expect("a district");
    let area = oneclass_warehouse::Access::Analyst {
        area: oneclass_warehouse::Area::District(district.clone()),
    };
    let seen = wh
        .query("SELECT DISTINCT school_id FROM gold.predict.scores", &area)
        .await
        .expect("the district's scores");
    let seen = oneclass_warehouse::encode(&seen, oneclass_warehouse::Format::Csv).expect("csv").1;
    let seen = String::from_utf8(seen.to_vec()).expect("utf-8");
    let theirs: Vec<&str> = seen.lines().skip(1).collect();
    assert!(!theirs.is_empty(), "{district} has scores");
    assert!(theirs.iter().all(|s| schools.iter().any(|x| x == s)), "{district}: {theirs:?}");

    // The head sees their own school's highest scores, named, each with reasons in words, and
    // records what was done; nobody else's school, and no parent sees a score.
    let head = app.token("school_head").await;
    let school: uuid::Uuid = app.school_of("school_head").await;
    let path = format!("/api/v1/schools/{school}/attention?as_of={as_of}");
    let list: serde_json::Value = app.get(&head, &path).await.json().await.expect("list");
    let model = &list["model"];
    assert_eq!(model["model_version"], trained.version, "{list}");
    let ranked = model["learners"].as_array().expect("ranked learners");
    assert!(!ranked.is_empty() && ranked.len() <= 20, "{model}");
    let theirs: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM sis.learners WHERE school_id = $1")
            .bind(school)
            .fetch_all(&app.owner)
            .await
            .expect("the school's learners");
    let mut chances = Vec::new();
    for l in ranked {
        let id: uuid::Uuid = l["learner_id"].as_str().expect("id").parse().expect("uuid");
        assert!(theirs.contains(&id), "a learner of another school: {l}");
        assert!(l["name"].as_str().is_some_and(|n| !n.is_empty()));
        chances.push(l["chance"].as_u64().expect("a chance"));
    }
    assert!(chances.windows(2).all(|w| w[0] >= w[1]), "highest first: {chances:?}");
    assert!(
        ranked[0]["reasons"].as_array().is_some_and(|r| !r.is_empty()),
        "the highest score has reasons: {}",
        ranked[0]
    );
    let first = ranked[0]["learner_id"].as_str().expect("id").to_owned();
    let action = serde_json::json!({"action": "Home visit; the guardian came to school",
                                    "model_version": trained.version});
    let resp = app.post(&head, &format!("/api/v1/learners/{first}/support-actions"), &action).await;
    assert_eq!(resp.status(), 201);
    let list: serde_json::Value = app.get(&head, &path).await.json().await.expect("list");
    assert_eq!(
        list["model"]["learners"][0]["actions"][0]["action"],
        "Home visit; the guardian came to school"
    );
    let empty = serde_json::json!({"action": "  "});
    let resp = app.post(&head, &format!("/api/v1/learners/{first}/support-actions"), &empty).await;
    assert_eq!(resp.status(), 422);
    let other: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM platform.schools WHERE id <> $1 LIMIT 1")
            .bind(school)
            .fetch_one(&app.owner)
            .await
            .expect("another school");
    let resp = app.get(&head, &format!("/api/v1/schools/{other}/attention?as_of={as_of}")).await;
    assert_eq!(resp.status(), 404, "another school's list");
    let teacher = app.token("teacher").await;
    assert_eq!(app.get(&teacher, &path).await.status(), 403);
    let parent = app.token("parent").await;
    assert_eq!(app.get(&parent, &path).await.status(), 403);
    let children: serde_json::Value =
        app.get(&parent, "/api/v1/portal/children").await.json().await.expect("children");
    let child = children[0]["learner_id"].as_str().expect("a child").to_owned();
    for page in ["/portal/".to_owned(), format!("/portal/children/{child}")] {
        let html = app.get(&parent, &page).await.text().await.expect("page");
        for lang in oneclass_i18n::Lang::ALL {
            for key in ["risk-title", "risk-chance"] {
                assert!(!html.contains(&lang.t(key)), "{page} shows {key}");
            }
        }
    }
    let record = app.get(&parent, &format!("/api/v1/portal/children/{child}")).await;
    let record = record.text().await.expect("record");
    assert!(!record.contains("score") && !record.contains("chance"), "{record}");

    // Projections from the same lake: two years beyond 2026, every level adding up.
    let run = oneclass::projections::project_enrolment(&wh, 2, 40.0).await.expect("project");
    assert_eq!(run.base_year, 2026);
    let years: Vec<i32> = run.national.iter().map(|n| n.0).collect();
    assert_eq!(years, [2024, 2025, 2026, 2027, 2028]);
    for (year, learners, low, high, teachers) in &run.national {
        assert!(low <= learners && learners <= high, "{year}: {low} {learners} {high}");
        assert!((teachers - (learners / 40.0).ceil()).abs() < 1.0, "{year}: {teachers}");
        if *year > 2026 {
            assert!(high > low, "{year} has an interval");
        }
    }
    let sums = app
        .sql(
            &analyst,
            "SELECT scope_level, sum(learners) AS n FROM gold.predict.projections
             WHERE year = 2027 GROUP BY scope_level ORDER BY scope_level",
        )
        .await;
    let n: Vec<f64> = sums.iter().map(|r| r["n"].as_f64().expect("n")).collect();
    assert_eq!(n.len(), 3, "{sums:?}");
    assert!((n[0] - n[1]).abs() < 1e-6 && (n[1] - n[2]).abs() < 1e-6, "{sums:?}");
    app.stop().await;
}
