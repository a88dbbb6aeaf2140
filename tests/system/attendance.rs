//! Attendance (issue 16): late and excused marks, corrections with their history, and summaries
//! per learner and per class over a date range.

use serde_json::{Value, json};

use crate::support::{TestApp, current_term};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_and_corrections_over_a_range() {
    let app = TestApp::spawn().await;
    let teacher = app.token("teacher").await;
    let head = app.token("school_head").await;
    let (term_start, _) = current_term(&app.owner).await;
    let (class_id, register) = app.first_class_register(&teacher, term_start).await;
    let learners: Vec<String> = register["learners"]
        .as_array()
        .expect("learners")
        .iter()
        .filter_map(|l| l["learner_id"].as_str().map(str::to_owned))
        .collect();
    assert!(learners.len() >= 2);
    let (a, b) = (&learners[0], &learners[1]);
    // Three school days from the term's first: a is present, late, excused; b absent twice,
    // then present. The seed marked the first day already: these replace its marks.
    let days: Vec<chrono::NaiveDate> = (0..5)
        .map(|d| term_start + chrono::Duration::days(d))
        .filter(|d| chrono::Datelike::weekday(d).num_days_from_monday() < 5)
        .take(3)
        .collect();
    let path = format!("/api/v1/classes/{class_id}/register");
    for (day, (sa, sb)) in
        days.iter().zip([("present", "absent"), ("late", "absent"), ("excused", "present")])
    {
        let marks = json!({"date": day, "marks": [{"learner_id": a, "status": sa}, {"learner_id": b, "status": sb}]});
        assert_eq!(app.post(&teacher, &path, &marks).await.status(), 200);
    }
    // A correction: b was late, not absent, on the second day.
    let fix = json!({"date": days[1], "marks": [{"learner_id": b, "status": "late"}]});
    assert_eq!(app.post(&teacher, &path, &fix).await.status(), 200);

    let range = format!("from={}&to={}", days[0], days[2]);
    let resp = app.get(&teacher, &format!("/api/v1/learners/{a}/attendance?{range}")).await;
    assert_eq!(resp.status(), 200);
    let mine: Value = resp.json().await.expect("json");
    let statuses: Vec<&str> = mine["days"]
        .as_array()
        .expect("days")
        .iter()
        .filter_map(|d| d["status"].as_str())
        .collect();
    assert_eq!(statuses, ["present", "late", "excused"]);
    // (1 present + 1 late) ÷ 3 marked = 66.7 %.
    assert_eq!(
        mine["summary"],
        json!({"marked": 3, "present": 1, "late": 1, "absent": 0, "excused": 1, "rate": 66.7})
    );
    let class: Value = app
        .get(&teacher, &format!("/api/v1/classes/{class_id}/attendance?{range}"))
        .await
        .json()
        .await
        .expect("json");
    let line = class["learners"]
        .as_array()
        .expect("learners")
        .iter()
        .find(|l| l["learner_id"] == json!(b))
        .cloned()
        .expect("b");
    assert_eq!(
        line["summary"],
        json!({"marked": 3, "present": 1, "late": 1, "absent": 1, "excused": 0, "rate": 66.7})
    );
    assert!(class["total"]["marked"].as_i64().unwrap_or(0) >= 6);

    // The corrections, with who made them: the heads read them, teachers do not.
    let path = format!("/api/v1/classes/{class_id}/attendance/corrections?{range}");
    assert_eq!(app.get(&teacher, &path).await.status(), 403);
    let fixes: Vec<Value> = app.get(&head, &path).await.json().await.expect("json");
    let fix = fixes
        .iter()
        .find(|f| f["learner_id"] == json!(b) && f["date"] == json!(days[1]))
        .expect("the correction");
    assert_eq!(
        (fix["old_status"].as_str(), fix["new_status"].as_str()),
        (Some("absent"), Some("late"))
    );
    assert_eq!(fix["username"], json!(app.username("teacher")));

    // Ranges are checked.
    let backwards = format!("/api/v1/learners/{a}/attendance?from={}&to={}", days[2], days[0]);
    assert_eq!(app.get(&teacher, &backwards).await.status(), 422);
    let long = format!("/api/v1/learners/{a}/attendance?from=2025-01-01&to=2026-12-31");
    assert_eq!(app.get(&teacher, &long).await.status(), 422);
    app.stop().await;
}
