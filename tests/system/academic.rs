//! Academic structure and staff records (issue 16): classes and streams, teaching assignments,
//! rooms, the calendar, and staff records with the data PTR and PQTR need.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::TestApp;

fn fields(problem: &Value) -> Vec<String> {
    let mut f: Vec<String> = problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|f| f["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    f.sort();
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classes_teaching_rooms_and_staff() {
    let app = TestApp::spawn().await;
    let head = app.token("school_head").await;
    let teacher = app.token("teacher").await;
    let other: Uuid = sqlx::query_scalar(
        "SELECT id FROM platform.schools WHERE id NOT IN (
             SELECT m.school_id FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
             WHERE u.username = $1) LIMIT 1",
    )
    .bind(app.username("school_head"))
    .fetch_one(&app.owner)
    .await
    .expect("another school");

    let terms: Vec<Value> =
        app.get(&teacher, "/api/v1/terms?year=2026").await.json().await.expect("terms");
    assert_eq!(terms.len(), 3);
    assert_eq!(terms[2]["start_date"], "2026-09-08");

    // Classes: the field named, one name a year, not at another school.
    let resp = app
        .send(
            "POST",
            &head,
            "/api/v1/classes",
            &json!({"academic_year": 2027, "grade": "G9", "name": "x"}),
        )
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(fields(&resp.json().await.expect("json")), ["grade"]);
    let class =
        json!({"academic_year": 2027, "grade": "F2", "name": "2 Mopane", "stream": "Mopane"});
    let resp = app.send("POST", &head, "/api/v1/classes", &class).await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.expect("json");
    let class_id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(app.send("POST", &head, "/api/v1/classes", &class).await.status(), 409);
    let elsewhere =
        json!({"school_id": other, "academic_year": 2027, "grade": "F2", "name": "2 Mopane"});
    assert_eq!(app.send("POST", &head, "/api/v1/classes", &elsewhere).await.status(), 422);
    assert_eq!(app.send("POST", &teacher, "/api/v1/classes", &class).await.status(), 403);

    // Teaching: a subject of the level, a teacher of the school; the teacher then sees the class.
    let teacher_id: Uuid = sqlx::query_scalar("SELECT id FROM platform.users WHERE username = $1")
        .bind(app.username("teacher"))
        .fetch_one(&app.owner)
        .await
        .expect("teacher");
    let bursar_id: Uuid = sqlx::query_scalar("SELECT id FROM platform.users WHERE username = $1")
        .bind(app.username("bursar"))
        .fetch_one(&app.owner)
        .await
        .expect("bursar");
    let path = format!("/api/v1/classes/{class_id}/teaching");
    let resp = app
        .send(
            "PUT",
            &head,
            &path,
            &json!({"subject_code": "SOC", "user_id": bursar_id, "periods_per_week": 30}),
        )
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(fields(&resp.json().await.expect("json")), ["periods_per_week"]);
    let resp = app
        .send(
            "PUT",
            &head,
            &path,
            &json!({"subject_code": "SOC", "user_id": bursar_id, "periods_per_week": 4}),
        )
        .await;
    assert_eq!(
        fields(&resp.json().await.expect("json")),
        ["subject_code", "user_id"],
        "SOC is primary; a bursar does not teach"
    );
    let resp = app
        .send(
            "PUT",
            &head,
            &path,
            &json!({"subject_code": "MAT", "user_id": teacher_id, "periods_per_week": 6}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let teaching: Vec<Value> = resp.json().await.expect("json");
    assert_eq!(
        (teaching[0]["subject_code"].as_str(), teaching[0]["periods_per_week"].as_i64()),
        (Some("MAT"), Some(6))
    );
    let classes: Vec<Value> =
        app.get(&teacher, "/api/v1/classes?academic_year=2027").await.json().await.expect("json");
    assert!(classes.iter().any(|c| c["id"] == json!(class_id)), "the teacher now sees the class");
    let listed: Vec<Value> = app.get(&teacher, &path).await.json().await.expect("json");
    assert_eq!(listed.len(), 1);

    // Rooms.
    let resp = app
        .send(
            "POST",
            &head,
            "/api/v1/rooms",
            &json!({"name": "Lab 1", "kind": "laboratory", "capacity": 40}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(
        app.send("POST", &head, "/api/v1/rooms", &json!({"name": "Lab 1"})).await.status(),
        409
    );
    let resp = app
        .send(
            "POST",
            &head,
            "/api/v1/rooms",
            &json!({"name": "Shed", "kind": "barn", "capacity": 0}),
        )
        .await;
    assert_eq!(fields(&resp.json().await.expect("json")), ["capacity", "kind"]);
    let rooms: Vec<Value> = app.get(&teacher, "/api/v1/rooms").await.json().await.expect("json");
    assert!(rooms.iter().any(|r| r["name"] == "Lab 1" && r["kind"] == "laboratory"));

    // Staff records: the post and its qualification go together; leaving ends the record.
    let resp = app
        .send(
            "POST",
            &head,
            "/api/v1/staff",
            &json!({"full_name": "Mr K. Dube", "sex": "M", "post": "clerk",
        "qualification": "trained", "ec_number": "12a", "start_date": "2020-01-06"}),
        )
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(fields(&resp.json().await.expect("json")), ["ec_number", "qualification"]);
    let resp = app.send( "POST", &head, "/api/v1/staff", &json!({"full_name": "Mrs T. Chikore", "sex": "F", "post": "teacher",
        "qualification": "untrained", "ec_number": "5512345K", "start_date": "2024-01-09", "user_id": teacher_id})).await;
    assert_eq!(resp.status(), 201);
    let staff: Value = resp.json().await.expect("json");
    let staff_id = staff["id"].as_str().expect("id").to_owned();
    let resp = app
        .send(
            "PATCH",
            &head,
            &format!("/api/v1/staff/{staff_id}"),
            &json!({"qualification": "trained"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.expect("json")["qualification"], "trained");
    let resp = app
        .send(
            "PATCH",
            &head,
            &format!("/api/v1/staff/{staff_id}"),
            &json!({"end_date": "2019-01-01"}),
        )
        .await;
    assert_eq!(resp.status(), 422);
    let resp = app
        .send(
            "PATCH",
            &head,
            &format!("/api/v1/staff/{staff_id}"),
            &json!({"end_date": "2026-11-30"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let in_post: Vec<Value> = app.get(&head, "/api/v1/staff").await.json().await.expect("json");
    assert!(!in_post.iter().any(|s| s["id"] == json!(staff_id)));
    let all: Vec<Value> =
        app.get(&head, "/api/v1/staff?all=true").await.json().await.expect("json");
    assert!(all.iter().any(|s| s["id"] == json!(staff_id) && s["end_date"] == "2026-11-30"));
    assert_eq!(app.get(&teacher, "/api/v1/staff").await.status(), 403);
    let changes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit.events WHERE entity = 'staff.staff' AND entity_id = $1::uuid AND action = 'update'",
    )
    .bind(&staff_id)
    .fetch_one(&app.owner)
    .await
    .expect("audit");
    assert_eq!(changes, 2, "the qualification and the leaving day are in the audit");
    app.stop().await;
}
