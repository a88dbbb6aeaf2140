//! Issue 18, acceptance 5: on a table whose label is a noisy function of two of its columns, the
//! evaluation finds those two columns as the top features and an AUC within 0.02 of the known
//! ceiling (the AUC of the true probabilities themselves), from CSV and from Parquet alike.

use std::io::Write;

use oneclass_predict::metrics::roc_auc;
use oneclass_predict::{Table, evaluate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Rows of a known answer: `attendance` and `mark_trend` decide the label through a logistic
/// function; `age`, `noise_a`, `noise_b` and `district` (text) are irrelevant. The true
/// probability of every row is returned beside it.
fn known_table(rows: usize, seed: u64) -> (String, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut csv =
        String::from("learner,school,attendance,mark_trend,age,noise_a,noise_b,district,left\n");
    let mut truth = Vec::with_capacity(rows);
    for i in 0..rows {
        let attendance: f64 = rng.gen_range(0.5..1.0);
        let mark_trend: f64 = rng.gen_range(-30.0..30.0);
        let logit = -8.0 * (attendance - 0.8) - 0.08 * mark_trend - 1.5;
        let p = 1.0 / (1.0 + (-logit).exp());
        let left = u8::from(rng.gen_bool(p));
        truth.push(p);
        let age: u32 = rng.gen_range(6..19);
        let (a, b): (f64, f64) = (rng.gen_range(0.0..1.0), rng.gen_range(-5.0..5.0));
        let district = ["Harare", "Bulawayo", "Mutare", "Gweru"][rng.gen_range(0..4)];
        let school = format!("S{:03}", rng.gen_range(0..60));
        csv.push_str(&format!(
            "L{i},{school},{attendance:.4},{mark_trend:.2},{age},{a:.4},{b:.4},{district},{left}\n"
        ));
    }
    (csv, truth)
}

#[test]
fn finds_the_two_columns_that_decide_the_label_and_reaches_the_ceiling() {
    let (csv, truth) = known_table(6_000, 18);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("learners.csv");
    std::fs::File::create(&path).and_then(|mut f| f.write_all(csv.as_bytes())).expect("write");
    let table = Table::read(&path, "left", "school").expect("the table");
    assert_eq!(table.rows(), 6_000);
    // The learner's id is a feature like any other column; it is text, coded as a category.
    assert_eq!(table.names.len(), 7);

    let ceiling = roc_auc(&truth, &table.label).expect("two classes");
    let result = evaluate(&table, 5).expect("evaluated");
    println!("ceiling {ceiling:.3}\n{result}");
    let top: Vec<&str> = result.importance.iter().take(2).map(|(n, _)| n.as_str()).collect();
    assert!(
        top.contains(&"attendance") && top.contains(&"mark_trend"),
        "the top two features are {top:?}"
    );
    assert!(
        (result.auc - ceiling).abs() <= 0.02,
        "AUC {:.3} against a ceiling of {ceiling:.3}",
        result.auc
    );
    assert!(result.calibration_error < 0.05, "calibration error {:.3}", result.calibration_error);
    assert_eq!(result.rows, 6_000, "every row scored once");
    assert!(result.groups.len() >= 50, "{} schools", result.groups.len());
    assert!(result.precision_top_10 > result.positives as f64 / result.rows as f64);
}

#[test]
fn a_bad_table_is_refused_naming_what_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "school,x,left\nA,1,0\nB,2,maybe\n").expect("write");
    let err = Table::read(&path, "left", "school").expect_err("refused").to_string();
    assert!(err.contains("row 2") && err.contains("maybe"), "{err}");
    let err = Table::read(&path, "gone", "school").expect_err("refused").to_string();
    assert!(err.contains("no column \"gone\""), "{err}");
    std::fs::write(&path, "school,x,left\nA,1,0\nB,2,0\n").expect("write");
    let err = Table::read(&path, "left", "school").expect_err("refused").to_string();
    assert!(err.contains("same in every row"), "{err}");
}

#[test]
fn a_parquet_table_reads_as_its_csv_does() {
    use std::sync::Arc;

    use deltalake::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
    use deltalake::arrow::record_batch::RecordBatch;
    use deltalake::parquet::arrow::ArrowWriter;

    let dir = tempfile::tempdir().expect("tempdir");
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("school", Arc::new(StringArray::from(vec!["A", "A", "B", "B"]))),
        ("attendance", Arc::new(Float64Array::from(vec![Some(0.9), None, Some(0.5), Some(0.7)]))),
        ("age", Arc::new(Int64Array::from(vec![10, 11, 12, 13]))),
        ("district", Arc::new(StringArray::from(vec!["Mutare", "Gweru", "Mutare", "Harare"]))),
        ("left", Arc::new(BooleanArray::from(vec![false, true, true, false]))),
    ];
    let batch = RecordBatch::try_from_iter(columns).expect("batch");
    let path = dir.path().join("learners.parquet");
    let file = std::fs::File::create(&path).expect("file");
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");

    let table = Table::read(&path, "left", "school").expect("the table");
    assert_eq!(table.names, ["attendance", "age", "district"]);
    assert_eq!(table.label, [0.0, 1.0, 1.0, 0.0]);
    assert_eq!(table.groups, ["A", "A", "B", "B"]);
    assert!(table.columns[0][1].is_nan(), "a missing value stays missing");
    assert_eq!(table.columns[1], [10.0, 11.0, 12.0, 13.0]);
    // Text is coded as categories in sorted order: Gweru 0, Harare 1, Mutare 2.
    assert_eq!(table.columns[2], [2.0, 0.0, 2.0, 1.0]);
}
