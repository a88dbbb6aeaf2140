//! Issue 17, communication: direct messages between a school's staff and a learner's guardian
//! (the guardian told by SMS through the outbox), each guardian in their own conversation only,
//! and the live feed (server-sent events) that brings a new message to an open page, never
//! another family's.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::TestApp;

/// Reads an event stream until a `message` event arrives (or `wait` passes): its data.
async fn next_message(stream: &mut reqwest::Response, wait: Duration) -> Option<Value> {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(at) = text.find("event: message") {
            let rest = &text[at..];
            if let Some(end) = rest.find("\n\n") {
                let data = rest[..end].lines().find_map(|l| l.strip_prefix("data: "))?;
                return serde_json::from_str(data).ok();
            }
        }
        let chunk = tokio::time::timeout_at(deadline, stream.chunk()).await.ok()?.ok()??;
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_and_a_guardian_write_to_each_other_and_open_pages_see_it_at_once() {
    let app = TestApp::spawn().await;
    let parent = app.token("parent").await;
    let head = app.token("school_head").await;
    let children: Vec<Value> =
        app.get(&parent, "/api/v1/portal/children").await.json().await.expect("children");
    let child: Uuid = children[0]["learner_id"].as_str().expect("id").parse().expect("uuid");
    let path = format!("/api/v1/learners/{child}/messages");
    let (mine, phone): (Uuid, String) = sqlx::query_as(
        "SELECT g.id, g.phone FROM sis.guardians g
         JOIN sis.learner_guardians lg ON lg.guardian_id = g.id
         WHERE lg.learner_id = $1 AND g.user_id IS NOT NULL",
    )
    .bind(child)
    .fetch_one(&app.owner)
    .await
    .expect("the demo parent's guardian record");
    // A second guardian of the same child, with no account: their conversation is not ours.
    let other: Uuid = sqlx::query_scalar(
        "WITH g AS (INSERT INTO sis.guardians (id, school_id, full_name, phone)
                    SELECT gen_random_uuid(), school_id, 'Tendai Moyo', '+263719999999'
                    FROM sis.learners WHERE id = $1 RETURNING id, school_id)
         INSERT INTO sis.learner_guardians (learner_id, guardian_id, school_id, relationship)
         SELECT $1, id, school_id, 'father' FROM g RETURNING guardian_id",
    )
    .bind(child)
    .fetch_one(&app.owner)
    .await
    .expect("a second guardian");

    // The parent reads in Shona: the choice is kept with their account, for the SMS they get.
    let chose = app
        .client
        .get(format!("{}/lang/sn", app.base))
        .bearer_auth(&parent)
        .send()
        .await
        .expect("choose a language");
    assert!(chose.status().is_success() || chose.status().is_redirection());

    // The parent's page is open on the live feed.
    let mut feed = app
        .client
        .get(format!("{}{path}/events", app.base))
        .bearer_auth(&parent)
        .send()
        .await
        .expect("the event stream");
    assert_eq!(feed.status(), 200);
    assert_eq!(
        feed.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );

    // The head writes to the other guardian first, then to ours.
    let to_other =
        app.post(&head, &path, &json!({"guardian_id": other, "body": "For Mr Moyo"})).await;
    assert_eq!(to_other.status(), 201);
    let to_mine = app
        .post(&head, &path, &json!({"guardian_id": mine, "body": "Please come on Friday."}))
        .await;
    assert_eq!(to_mine.status(), 201);
    let sent: Value = to_mine.json().await.expect("json");
    assert_eq!(sent["from_guardian"], false);
    // The feed brings ours, and the other guardian's never came through it.
    let live = next_message(&mut feed, Duration::from_secs(10)).await.expect("a live message");
    assert_eq!(live["id"], sent["id"], "the first message on the feed is ours: {live}");
    assert_eq!(live["body"], "Please come on Friday.");

    // The guardian is told by SMS; the guardian's reply goes to the school.
    let sms: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM comms.outbox WHERE kind = 'message' AND recipient = $1",
    )
    .bind(&phone)
    .fetch_all(&app.owner)
    .await
    .expect("the SMS");
    let (school, learner): (String, String) = sqlx::query_as(
        "SELECT s.name, l.first_name FROM sis.learners l
         JOIN platform.schools s ON s.id = l.school_id WHERE l.id = $1",
    )
    .bind(child)
    .fetch_one(&app.owner)
    .await
    .expect("names");
    let shona = oneclass_i18n::Lang::Sn
        .t_args("sms-message-waiting", &[("school", school), ("learner", learner)]);
    assert_eq!(sms, [shona], "one SMS, in the guardian's language");
    let reply = app.post(&parent, &path, &json!({"body": "I will come."})).await;
    assert_eq!(reply.status(), 201);
    let reply: Value = reply.json().await.expect("json");
    assert_eq!(
        (reply["from_guardian"].as_bool(), reply["guardian_id"].as_str()),
        (Some(true), Some(mine.to_string().as_str()))
    );
    // The parent cannot write as the other guardian: the field is theirs alone.
    let forged = app.post(&parent, &path, &json!({"guardian_id": other, "body": "x"})).await;
    let forged: Value = forged.json().await.expect("json");
    assert_eq!(forged["guardian_id"], json!(mine), "a parent always writes as themselves");

    // What each reads: the parent their own conversation; the head every conversation.
    let theirs: Vec<Value> = app.get(&parent, &path).await.json().await.expect("json");
    assert!(theirs.iter().all(|m| m["guardian_id"] == json!(mine)), "{theirs:?}");
    assert_eq!(theirs.len(), 3);
    let all: Vec<Value> = app.get(&head, &path).await.json().await.expect("json");
    assert_eq!(all.len(), 4);

    // Bad input names its field; strangers find nothing; the bursar does not write to families.
    let resp = app.post(&head, &path, &json!({"guardian_id": mine, "body": " "})).await;
    assert_eq!(resp.status(), 422);
    let resp = app.post(&head, &path, &json!({"guardian_id": Uuid::now_v7(), "body": "x"})).await;
    let problem: Value = resp.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "guardian_id");
    let bursar = app.token("bursar").await;
    assert_eq!(app.get(&bursar, &path).await.status(), 403);
    let elsewhere: Uuid = sqlx::query_scalar(
        "SELECT e.learner_id FROM sis.enrolments e
         WHERE e.end_date IS NULL AND e.school_id <> (SELECT school_id FROM sis.learners WHERE id = $1)
         LIMIT 1",
    )
    .bind(child)
    .fetch_one(&app.owner)
    .await
    .expect("a learner of another school");
    for token in [&parent, &head] {
        let status =
            app.get(token, &format!("/api/v1/learners/{elsewhere}/messages")).await.status();
        assert_eq!(status, 404);
        let status = app
            .client
            .get(format!("{}/api/v1/learners/{elsewhere}/messages/events", app.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("events")
            .status();
        assert_eq!(status, 404);
    }
    // The staff page's form: a blank message comes back on the form (422); a good one is sent
    // and the page shows it.
    let page = format!("{}/app/learners/{child}/messages", app.base);
    let blank = app
        .client
        .post(&page)
        .bearer_auth(&head)
        .form(&[("guardian_id", mine.to_string()), ("body", " ".into())])
        .send()
        .await
        .expect("post the form");
    assert_eq!(blank.status(), 422);
    assert!(blank.text().await.expect("page").contains("class=\"err\""));
    let good = app
        .client
        .post(&page)
        .bearer_auth(&head)
        .form(&[("guardian_id", mine.to_string()), ("body", "Term ends on Friday.".into())])
        .send()
        .await
        .expect("post the form");
    assert_eq!(good.status(), 200, "redirected to the conversation");
    assert!(good.text().await.expect("page").contains("Term ends on Friday."));
    // A guardian whose portal access the school withdrew is not written to (they could not
    // read it; the SMS would name the learner to them).
    sqlx::query("UPDATE sis.learner_guardians SET portal = false WHERE guardian_id = $1")
        .bind(other)
        .execute(&app.owner)
        .await
        .expect("withdraw");
    let resp = app.post(&head, &path, &json!({"guardian_id": other, "body": "x"})).await;
    assert_eq!(resp.status(), 422);
    // Messages are never edited: the API's role may not.
    let denied = sqlx::query("SET ROLE oneclass_app; UPDATE comms.messages SET body = 'x'")
        .execute(&app.owner)
        .await;
    assert!(denied.is_err());
    drop(feed);
    app.stop().await;
}
