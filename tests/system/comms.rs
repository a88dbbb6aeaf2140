//! Announcements (issue 17, communication): to the whole school, a grade, a class or only the
//! parents of a class; by SMS to each guardian with a phone once (a mother of two learners of the
//! class gets one message), queued in the outbox in the announcement's own transaction; a teacher only to
//! the classes they teach; bad input named field by field.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::TestApp;

async fn guardian(app: &TestApp, token: &str, learner: &str, body: Value) -> Value {
    let resp = app.post(token, &format!("/api/v1/learners/{learner}/guardians"), &body).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    resp.json().await.expect("guardian")
}

async fn field_of(resp: reqwest::Response) -> Vec<String> {
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.expect("problem");
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcements_reach_the_guardians_concerned_once_and_teachers_only_their_classes() {
    let app = TestApp::spawn().await;
    let head = app.token("school_head").await;
    let teacher = app.token("teacher").await;
    let today = chrono::Utc::now().date_naive();
    let (class, register) = app.first_class_register(&teacher, today).await;
    let learners: Vec<String> = register["learners"]
        .as_array()
        .expect("learners")
        .iter()
        .map(|l| l["learner_id"].as_str().expect("id").to_owned())
        .collect();
    assert!(learners.len() >= 3, "a class of at least three");

    // A mother of two learners of the class, a father of the second, an aunt with no phone.
    let mother = guardian(
        &app,
        &head,
        &learners[0],
        json!({"full_name": "Rudo Moyo", "phone": "077 111 1111", "relationship": "mother"}),
    )
    .await;
    guardian(
        &app,
        &head,
        &learners[1],
        json!({"guardian_id": mother["guardian_id"], "relationship": "mother"}),
    )
    .await;
    guardian(
        &app,
        &head,
        &learners[1],
        json!({"full_name": "Tafadzwa Moyo", "phone": "+263772222222", "relationship": "father"}),
    )
    .await;
    guardian(&app, &head, &learners[2], json!({"full_name": "Chipo Dube", "relationship": "aunt"}))
        .await;

    let sent = app
        .post(
            &head,
            "/api/v1/announcements",
            &json!({"audience": "class_parents", "class_id": class, "title": "Parents' meeting",
                    "body": "Friday at 2 pm in the hall.", "sms": true}),
        )
        .await;
    assert_eq!(sent.status(), 201);
    let sent: Value = sent.json().await.expect("announcement");
    assert_eq!(sent["audience"], "class_parents");
    // Every phone of a guardian of a learner in the class (the seeded guardians' and ours), once.
    let expected: BTreeSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT g.phone FROM sis.enrolments e JOIN sis.learner_guardians lg ON lg.learner_id = e.learner_id
         JOIN sis.guardians g ON g.id = lg.guardian_id
         WHERE e.class_id = $1::uuid AND e.end_date IS NULL AND g.phone IS NOT NULL",
    )
    .bind(&class)
    .fetch_all(&app.owner)
    .await
    .expect("phones")
    .into_iter()
    .collect();
    assert!(expected.contains("+263771111111") && expected.contains("+263772222222"));
    assert_eq!(sent["sms_queued"], expected.len(), "{sent}");
    let recipients: Vec<(String, String)> = sqlx::query_as(
        "SELECT recipient, body FROM comms.outbox WHERE kind = 'announcement' ORDER BY recipient",
    )
    .fetch_all(&app.owner)
    .await
    .expect("outbox");
    let phones: BTreeSet<String> = recipients.iter().map(|(r, _)| r.clone()).collect();
    assert_eq!(phones, expected);
    assert_eq!(recipients.len(), expected.len(), "one message a guardian");
    assert!(recipients[0].1.contains("Parents' meeting") && recipients[0].1.contains("Friday"));

    // Without `sms` nothing is queued.
    let quiet = app
        .post(
            &head,
            "/api/v1/announcements",
            &json!({"audience": "school", "title": "Closing day", "body": "School closes at 11."}),
        )
        .await;
    assert_eq!(quiet.status(), 201);
    let quiet: Value = quiet.json().await.expect("announcement");
    assert_eq!(quiet["sms_queued"], 0);
    let queued: i64 =
        sqlx::query_scalar("SELECT count(*) FROM comms.outbox WHERE kind = 'announcement'")
            .fetch_one(&app.owner)
            .await
            .expect("count");
    assert_eq!(queued as usize, expected.len());

    // A teacher: their own class yes; the whole school or a class they do not teach, no.
    let own = app
        .post(
            &teacher,
            "/api/v1/announcements",
            &json!({"audience": "class", "class_id": class, "title": "Homework",
                    "body": "Exercise 4, page 12."}),
        )
        .await;
    assert_eq!(own.status(), 201);
    let whole = app
        .post(
            &teacher,
            "/api/v1/announcements",
            &json!({"audience": "school", "title": "T", "body": "B"}),
        )
        .await;
    assert_eq!(field_of(whole).await, ["audience"]);
    let other_class: Option<Uuid> = sqlx::query_scalar(
        "SELECT c.id FROM academic.classes c
         WHERE c.school_id = (SELECT school_id FROM academic.classes WHERE id = $1::uuid)
           AND NOT EXISTS (SELECT 1 FROM academic.class_teachers ct JOIN platform.users u
                           ON u.id = ct.user_id WHERE ct.class_id = c.id AND u.username = $2)
         LIMIT 1",
    )
    .bind(&class)
    .bind(app.username("teacher"))
    .fetch_optional(&app.owner)
    .await
    .expect("query");
    if let Some(other) = other_class {
        let resp = app
            .post(
                &teacher,
                "/api/v1/announcements",
                &json!({"audience": "class", "class_id": other, "title": "T", "body": "B"}),
            )
            .await;
        assert_eq!(field_of(resp).await, ["class_id"]);
    }

    // Bad input, named.
    let resp = app
        .post(
            &head,
            "/api/v1/announcements",
            &json!({"audience": "grade", "title": "", "body": "B"}),
        )
        .await;
    let mut fields = field_of(resp).await;
    fields.sort();
    assert_eq!(fields, ["grade", "title"]);
    let resp = app
        .post(
            &head,
            "/api/v1/announcements",
            &json!({"audience": "everyone", "title": "T", "body": "B"}),
        )
        .await;
    assert_eq!(field_of(resp).await, ["audience"]);

    // Bursars read, but do not announce.
    let bursar = app.token("bursar").await;
    let resp = app
        .post(
            &bursar,
            "/api/v1/announcements",
            &json!({"audience": "school", "title": "T", "body": "B"}),
        )
        .await;
    assert_eq!(resp.status(), 403);

    // The list: newest first, a page at a time.
    let first: Value =
        app.get(&bursar, "/api/v1/announcements?limit=2").await.json().await.expect("page");
    let titles: Vec<&str> = first["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["title"].as_str().expect("t"))
        .collect();
    assert_eq!(titles, ["Homework", "Closing day"]);
    let after = first["next_after"].as_str().expect("a next page");
    let second: Value = app
        .get(&bursar, &format!("/api/v1/announcements?limit=2&after={after}"))
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(second["items"][0]["title"], "Parents' meeting");
    assert_eq!(second["items"][0]["class_name"].as_str().map(|s| !s.is_empty()), Some(true));
    assert!(second["next_after"].is_null());
    app.stop().await;
}
