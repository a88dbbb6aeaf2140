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
