//! Assessment (issue 16): assessments with weights, results all or nothing, the gradebook's term
//! marks graded on the class's ZIMSEC scale, report cards, and examination entries.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestApp, current_term};

async fn put(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .put(format!("{}{path}", app.base))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("PUT")
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|f| f["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assessments_gradebook_report_card_and_exam_entries() {
    let app = TestApp::spawn().await;
    // The head sets and marks the assessments of a class the demo teacher does not teach, and
    // the teacher is refused that class's cards and gradebook.
    let head = app.token("school_head").await;
    let teacher = app.token("teacher").await;
    let (term_start, _) = current_term(&app.owner).await;
    let (year, term): (i32, i32) =
        sqlx::query_as("SELECT academic_year, term FROM ref.terms WHERE start_date = $1")
            .bind(term_start)
            .fetch_one(&app.owner)
            .await
            .expect("term");
    let classes: Vec<Value> =
        app.get(&head, "/api/v1/classes").await.json().await.expect("classes");
    let taught: Vec<Value> =
        app.get(&teacher, "/api/v1/classes").await.json().await.expect("classes");
    let class = classes
        .iter()
        .find(|c| {
            c["academic_year"] == json!(year)
                && !c["grade"].as_str().unwrap_or("ECD").starts_with("ECD")
                && !taught.iter().any(|t| t["id"] == c["id"])
        })
        .expect("an assessed class of this year");
    let class_id = class["id"].as_str().expect("id").to_owned();
    let primary = class["grade"].as_str().is_some_and(|g| g.starts_with('G'));
    let learners: Vec<Uuid> = sqlx::query_scalar(
        "SELECT learner_id FROM sis.enrolments WHERE class_id = $1::uuid AND end_date IS NULL
         ORDER BY learner_id",
    )
    .bind(&class_id)
    .fetch_all(&app.owner)
    .await
    .expect("learners");
    assert!(learners.len() >= 3);
    let outsider: Uuid = sqlx::query_scalar(
        "SELECT id FROM sis.learners WHERE id NOT IN (
             SELECT learner_id FROM sis.enrolments WHERE class_id = $1::uuid) LIMIT 1",
    )
    .bind(&class_id)
    .fetch_one(&app.owner)
    .await
    .expect("a learner of another class");

    // Reference data: the learning areas and the three scales.
    let level = if primary { "primary" } else { "o_level" };
    let subjects: Vec<Value> = app
        .get(&head, &format!("/api/v1/subjects?level={level}"))
        .await
        .json()
        .await
        .expect("subjects");
    assert!(subjects.iter().any(|s| s["code"] == "MAT"));
    let scales: Vec<Value> =
        app.get(&head, "/api/v1/grading/scales").await.json().await.expect("scales");
    let units: Vec<&str> = scales[0]["grades"]
        .as_array()
        .expect("grades")
        .iter()
        .filter_map(|g| g["grade"].as_str())
        .collect();
    assert_eq!(
        (scales[0]["exam"].as_str(), units),
        (Some("G7"), vec!["1", "2", "3", "4", "5", "6", "7", "8", "9"])
    );

    // Assessments: refused with the field named, then two in Mathematics.
    let path = format!("/api/v1/classes/{class_id}/assessments");
    let bad =
        json!({"subject_code": "PHY", "name": "Test", "max_score": 40, "held_on": "2019-01-01"});
    let resp = app.post(&head, &path, &bad).await;
    assert_eq!(resp.status(), 422);
    let problem: Value = resp.json().await.expect("json");
    let mut bad_fields = fields(&problem);
    bad_fields.sort();
    if primary {
        assert_eq!(bad_fields, ["held_on", "subject_code"]);
    } else {
        assert!(bad_fields.contains(&"held_on".to_owned()));
    }
    let test = json!({"subject_code": "MAT", "name": "Fractions test", "max_score": 40, "weight": 1, "held_on": term_start});
    let exam = json!({"subject_code": "MAT", "name": "End of term", "max_score": 100, "weight": 3, "held_on": term_start});
    let resp = app.post(&head, &path, &test).await;
    assert_eq!(resp.status(), 201);
    let test: Value = resp.json().await.expect("json");
    assert_eq!(test["term"], json!(term));
    let exam: Value = app.post(&head, &path, &exam).await.json().await.expect("json");
    let (test_id, exam_id) = (test["id"].as_str().expect("id"), exam["id"].as_str().expect("id"));

    // Results are all or nothing, every bad line named.
    let results = format!("/api/v1/assessments/{test_id}/results");
    let resp = put(
        &app,
        &head,
        &results,
        &json!({"results": [
            {"learner_id": learners[0], "score": 30},
            {"learner_id": outsider, "score": 10},
            {"learner_id": learners[1], "score": 41}]}),
    )
    .await;
    assert_eq!(resp.status(), 422);
    let problem: Value = resp.json().await.expect("json");
    assert_eq!(fields(&problem), ["results[1].learner_id", "results[2].score"]);
    let written: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assessment.results WHERE assessment_id = $1::uuid",
    )
    .bind(test_id)
    .fetch_one(&app.owner)
    .await
    .expect("count");
    assert_eq!(written, 0, "nothing of a refused request is written");
    // Learner 0: 30/40 and 60/100 → (75 × 1 + 60 × 3) ÷ 4 = 63.75 → 63.8 %. Learner 1: 20/40 and
    // 90/100 → (50 + 270) ÷ 4 = 80 %. Learner 2 missed the test: 40/100 → 40 %.
    let saved: Value = put(
        &app,
        &head,
        &results,
        &json!({"results": [{"learner_id": learners[0], "score": 30}, {"learner_id": learners[1], "score": 20}]}),
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(saved["saved"], 2);
    let resp = put(
        &app,
        &head,
        &format!("/api/v1/assessments/{exam_id}/results"),
        &json!({"results": [
            {"learner_id": learners[0], "score": 60},
            {"learner_id": learners[1], "score": 90},
            {"learner_id": learners[2], "score": 40}]}),
    )
    .await;
    assert_eq!(resp.status(), 200);

    let book: Value = app
        .get(&head, &format!("/api/v1/classes/{class_id}/gradebook?subject=MAT&term={term}"))
        .await
        .json()
        .await
        .expect("gradebook");
    let line = |id: Uuid| {
        book["learners"]
            .as_array()
            .expect("learners")
            .iter()
            .find(|l| l["learner_id"] == json!(id))
            .cloned()
            .expect("line")
    };
    let (first, second, third) = (line(learners[0]), line(learners[1]), line(learners[2]));
    assert_eq!(first["scores"], json!([30.0, 60.0]));
    assert_eq!(first["term_mark"]["percent"], json!(63.8));
    assert_eq!(second["term_mark"]["percent"], json!(80.0));
    assert_eq!(third["scores"], json!([null, 40.0]));
    assert_eq!(third["term_mark"]["percent"], json!(40.0));
    // Grades on the class's scale: Grade 7 units (63.8 → 4, 80 → 1, 40 → 6) or O level (C, A, D).
    let grades: Vec<&str> =
        [&first, &second, &third].iter().filter_map(|l| l["term_mark"]["grade"].as_str()).collect();
    assert_eq!(grades, if primary { ["4", "1", "6"] } else { ["C", "A", "D"] });

    // The report card: the same figures, the class average and position, printable HTML.
    let resp = app
        .get(
            &head,
            &format!("/api/v1/learners/{}/report-card?year={year}&term={term}", learners[0]),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap_or("").starts_with("text/html"));
    let html = resp.text().await.expect("html");
    // Class average (63.75 + 80 + 40) ÷ 3 = 61.25 → 61.3; learner 0 is 2nd of 3.
    for want in ["Mathematics", "63.8", "61.3", "2 of 3"] {
        assert!(html.contains(want), "{want} in the report card");
    }
    assert!(!html.contains("<script"));
    let other = app
        .get(
            &teacher,
            &format!("/api/v1/learners/{}/report-card?year={year}&term={term}", learners[0]),
        )
        .await;
    assert_eq!(other.status(), 404, "a teacher sees the cards of their classes only");
    let book = app
        .get(&teacher, &format!("/api/v1/classes/{class_id}/gradebook?subject=MAT&term={term}"))
        .await;
    assert_eq!(book.status(), 404);

    // Examination entries: a Grade 7 (or Form 4) candidate of the registrar's school.
    let registrar = app.token("registrar").await;
    let candidate: Option<(Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT e.learner_id, e.school_id, e.grade FROM sis.enrolments e
         JOIN platform.memberships m ON m.school_id = e.school_id
         JOIN platform.users u ON u.id = m.user_id
         WHERE u.username = $1 AND e.academic_year = $2 AND e.end_date IS NULL
           AND e.grade IN ('G7', 'F4') ORDER BY e.learner_id LIMIT 1",
    )
    .bind(app.username("registrar"))
    .bind(year)
    .fetch_optional(&app.owner)
    .await
    .expect("candidate");
    let Some((candidate, school, grade)) = candidate else {
        panic!("the seeded school has a Grade 7 or Form 4 class");
    };
    let (exam, subjects) =
        if grade == "G7" { ("G7", ["ENG", "MAT", "SCI"]) } else { ("O", ["ENG", "MAT", "GEO"]) };
    let entry = |subjects: &[&str], number: &str| json!({"learner_id": candidate, "academic_year": year, "exam": exam, "candidate_number": number, "subjects": subjects});
    let resp = app.post(&registrar, "/api/v1/exam-entries", &entry(&["MAT"], "12A")).await;
    assert_eq!(resp.status(), 422);
    let problem: Value = resp.json().await.expect("json");
    assert_eq!(fields(&problem), ["candidate_number"]);
    let resp = app
        .post(&registrar, "/api/v1/exam-entries", &entry(&["ENG", "XYZ", "ENG"], "012345"))
        .await;
    assert_eq!(resp.status(), 422);
    let problem: Value = resp.json().await.expect("json");
    assert_eq!(fields(&problem), ["subjects[1]", "subjects[2]"]);
    let wrong_exam = json!({"learner_id": candidate, "academic_year": year, "exam": "A",
                            "candidate_number": "012345", "subjects": ["MAT"]});
    let resp = app.post(&registrar, "/api/v1/exam-entries", &wrong_exam).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        app.post(&registrar, "/api/v1/exam-entries", &entry(&subjects, "012345")).await.status(),
        201
    );
    assert_eq!(
        app.post(&registrar, "/api/v1/exam-entries", &entry(&subjects, "012345")).await.status(),
        409
    );
    let resp = app
        .get(
            &registrar,
            &format!("/api/v1/schools/{school}/exam-entries?year={year}&exam={exam}&format=csv"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let csv = resp.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "candidate_number,learner_number,last_name,first_name,sex,date_of_birth,exam,subject_code"
    );
    assert_eq!(lines.len(), 4);
    assert!(
        lines[1].starts_with("012345,") && lines[1].ends_with(&format!(",{exam},{}", subjects[0]))
    );
    // Teachers do not enter candidates.
    assert_eq!(
        app.post(&teacher, "/api/v1/exam-entries", &entry(&["MAT"], "099999")).await.status(),
        403
    );
    app.stop().await;
}
