//! The parents' portal (issue 17, acceptance 4): a parent signs in with a code sent by SMS and
//! sees only their own children: not another family's at the same school, not another school's,
//! and no longer a learner whose school withdrew their access. Codes work once, for ten minutes,
//! and five wrong tries spend them; a parent may then set a password and sign in with it.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::TestApp;

/// The code in the latest sign-in SMS to `phone`.
async fn code_sent_to(app: &TestApp, phone: &str) -> String {
    let body: String = sqlx::query_scalar(
        "SELECT body FROM comms.outbox WHERE kind = 'otp' AND recipient = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(phone)
    .fetch_one(&app.owner)
    .await
    .expect("a code was sent");
    // The only run of six digits, whatever the language around it ("ngu-123456.").
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("six digits in the SMS")
        .to_owned()
}

async fn verify(app: &TestApp, phone: &str, code: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/auth/otp/verify", app.base))
        .json(&json!({"phone": phone, "code": code}))
        .send()
        .await
        .expect("verify")
}

async fn ask_code(app: &TestApp, phone: &str) -> u16 {
    app.client
        .post(format!("{}/api/v1/auth/otp", app.base))
        .json(&json!({"phone": phone}))
        .send()
        .await
        .expect("otp")
        .status()
        .as_u16()
}

/// A guardian of the demo school who has no portal account yet: (phone as stored, learner).
async fn new_parent(app: &TestApp) -> (String, Uuid) {
    sqlx::query_as(
        "SELECT g.phone, lg.learner_id FROM sis.guardians g
         JOIN sis.learner_guardians lg ON lg.guardian_id = g.id
         JOIN sis.learners l ON l.id = lg.learner_id
         WHERE g.user_id IS NULL AND l.status = 'active'
           AND l.school_id = (SELECT m.school_id FROM platform.memberships m
                              JOIN platform.users u ON u.id = m.user_id WHERE u.username = $1)
         ORDER BY l.learner_number DESC LIMIT 1",
    )
    .bind(app.username("school_head"))
    .fetch_one(&app.owner)
    .await
    .expect("a guardian without an account")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parents_sign_in_with_a_code_once_then_a_password() {
    let app = TestApp::spawn().await;
    let (phone, learner) = new_parent(&app).await;
    // Typed as people type it: 0 7X XXX XXXX.
    let local = format!("0{} {} {}", &phone[4..6], &phone[6..9], &phone[9..]);

    assert_eq!(ask_code(&app, &local).await, 202);
    let code = code_sent_to(&app, &phone).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(verify(&app, &local, wrong).await.status(), 401);
    let resp = verify(&app, &local, &code).await;
    assert_eq!(resp.status(), 200);
    let token = resp.json::<Value>().await.expect("token")["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert_eq!(verify(&app, &local, &code).await.status(), 401, "a code works once");
    // The code comes in the language of the page (the browser's) that asked for it.
    let asked = app
        .client
        .post(format!("{}/api/v1/auth/otp", app.base))
        .header("accept-language", "nd-ZW, en;q=0.5")
        .json(&json!({"phone": local}))
        .send()
        .await
        .expect("otp");
    assert_eq!(asked.status(), 202);
    let ndebele = code_sent_to(&app, &phone).await;
    let body: String = sqlx::query_scalar(
        "SELECT body FROM comms.outbox WHERE kind = 'otp' AND recipient = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(&phone)
    .fetch_one(&app.owner)
    .await
    .expect("the SMS");
    let want = oneclass_i18n::Lang::Nd
        .t_args("sms-sign-in-code", &[("code", ndebele), ("minutes", "10".into())]);
    assert_eq!(body, want);

    let children: Vec<Value> =
        app.get(&token, "/api/v1/portal/children").await.json().await.expect("children");
    let ids: Vec<&str> = children.iter().map(|c| c["learner_id"].as_str().expect("id")).collect();
    assert_eq!(ids, [learner.to_string()]);
    // A parent is no member of staff.
    assert_eq!(app.get(&token, "/api/v1/learners").await.status(), 403);
    assert_eq!(app.get(&token, &format!("/api/v1/learners/{learner}")).await.status(), 403);

    // A password, then sign-in with the phone number as typed and the password.
    let resp = app.post(&token, "/api/v1/portal/password", &json!({"new_password": "short"})).await;
    assert_eq!(resp.status(), 422);
    let resp = app
        .post(&token, "/api/v1/portal/password", &json!({"new_password": "mhuri-yangu-2026"}))
        .await;
    assert_eq!(resp.status(), 204);
    let login = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": local, "password": "mhuri-yangu-2026"}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);

    // Five wrong tries spend a code; a phone that is no guardian's is told the same and sent
    // nothing.
    assert_eq!(ask_code(&app, &phone).await, 202);
    let code = code_sent_to(&app, &phone).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(verify(&app, &phone, wrong).await.status(), 401);
    }
    assert_eq!(verify(&app, &phone, &code).await.status(), 401, "spent by five wrong tries");
    assert_eq!(ask_code(&app, "+263719999999").await, 202);
    let sent: i64 =
        sqlx::query_scalar("SELECT count(*) FROM comms.outbox WHERE recipient = '+263719999999'")
            .fetch_one(&app.owner)
            .await
            .expect("count");
    assert_eq!(sent, 0);
    let resp = app
        .client
        .post(format!("{}/api/v1/auth/otp", app.base))
        .json(&json!({"phone": "12345"}))
        .send()
        .await
        .expect("otp");
    assert_eq!(resp.status(), 422);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_parent_sees_only_their_own_children() {
    let (app, standin) = TestApp::spawn_with_paynow().await;
    let parent = app.token("parent").await;
    let mine: Vec<Value> =
        app.get(&parent, "/api/v1/portal/children").await.json().await.expect("children");
    assert_eq!(mine.len(), 1, "the demo parent has one child: {mine:?}");
    let child: Uuid = mine[0]["learner_id"].as_str().expect("id").parse().expect("uuid");
    let (school, class): (Uuid, Uuid) = sqlx::query_as(
        "SELECT school_id, class_id FROM sis.enrolments WHERE learner_id = $1 AND end_date IS NULL",
    )
    .bind(child)
    .fetch_one(&app.owner)
    .await
    .expect("the child's class");
    // Another family's child in the same class, and a child of another school.
    let neighbour: Uuid = sqlx::query_scalar(
        "SELECT learner_id FROM sis.enrolments WHERE class_id = $1 AND learner_id <> $2
           AND end_date IS NULL LIMIT 1",
    )
    .bind(class)
    .bind(child)
    .fetch_one(&app.owner)
    .await
    .expect("a classmate");
    let elsewhere: Uuid = sqlx::query_scalar(
        "SELECT learner_id FROM sis.enrolments WHERE school_id <> $1 AND end_date IS NULL LIMIT 1",
    )
    .bind(school)
    .fetch_one(&app.owner)
    .await
    .expect("a learner of another school");
    let (year, term): (i32, i32) = sqlx::query_as(
        "SELECT academic_year, term FROM ref.terms WHERE start_date <= current_date
         ORDER BY start_date DESC LIMIT 1",
    )
    .fetch_one(&app.owner)
    .await
    .expect("term");

    let invoice_of = |learner: Uuid| {
        let owner = app.owner.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>(
                "SELECT id FROM finance.invoices WHERE learner_id = $1 ORDER BY issued_on DESC LIMIT 1",
            )
            .bind(learner)
            .fetch_one(&owner)
            .await
            .expect("an invoice")
        }
    };
    let paynow_rows = || {
        let owner = app.owner.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM finance.paynow_transactions")
                .fetch_one(&owner)
                .await
                .expect("count")
        }
    };

    // Their own child: the record, the report card, paying an invoice.
    assert_eq!(app.get(&parent, &format!("/api/v1/portal/children/{child}")).await.status(), 200);
    let card = app
        .get(&parent, &format!("/api/v1/learners/{child}/report-card?year={year}&term={term}"))
        .await;
    assert_eq!(card.status(), 200);
    assert_eq!(app.get(&parent, &format!("/portal/children/{child}")).await.status(), 200);
    let invoice = invoice_of(child).await;
    let resp = app
        .post(
            &parent,
            &format!("/api/v1/learners/{child}/paynow"),
            &json!({"invoice_id": invoice, "amount": "10.00"}),
        )
        .await;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    let started = paynow_rows().await;

    // Anyone else's: not found, and nothing written.
    for other in [neighbour, elsewhere] {
        for path in [
            format!("/api/v1/portal/children/{other}"),
            format!("/api/v1/learners/{other}/report-card?year={year}&term={term}"),
            format!("/portal/children/{other}"),
        ] {
            let status = app.get(&parent, &path).await.status().as_u16();
            assert_eq!(status, 404, "GET {path}");
        }
        for path in [
            format!("/api/v1/learners/{other}/account"),
            format!("/api/v1/learners/{other}/guardians"),
            format!("/api/v1/learners/{other}/enrolments"),
        ] {
            let status = app.get(&parent, &path).await.status().as_u16();
            assert!(matches!(status, 403 | 404), "GET {path}: {status}");
        }
        let theirs = invoice_of(other).await;
        let resp = app
            .post(
                &parent,
                &format!("/api/v1/learners/{other}/paynow"),
                &json!({"invoice_id": theirs, "amount": "10.00"}),
            )
            .await;
        assert!(
            matches!(resp.status().as_u16(), 404 | 422),
            "paying for {other}: {}",
            resp.status()
        );
        // Their own child's invoice under another's id is no better.
        let resp = app
            .post(
                &parent,
                &format!("/api/v1/learners/{other}/paynow"),
                &json!({"invoice_id": invoice, "amount": "10.00"}),
            )
            .await;
        assert!(matches!(resp.status().as_u16(), 404 | 422));
    }
    assert_eq!(paynow_rows().await, started, "nothing started for another's child");

    // Announcements: their child's school and class, not another class's or school's.
    let head = app.token("school_head").await;
    let other_class: Uuid = sqlx::query_scalar(
        "SELECT id FROM academic.classes WHERE school_id = $1 AND id <> $2 LIMIT 1",
    )
    .bind(school)
    .bind(class)
    .fetch_one(&app.owner)
    .await
    .expect("another class");
    for (audience, class_id, title) in [
        ("school", None, "For the whole school"),
        ("class", Some(class), "For the child's class"),
        ("class_parents", Some(other_class), "For another class's parents"),
    ] {
        let mut body = json!({"audience": audience, "title": title, "body": "B"});
        if let Some(c) = class_id {
            body["class_id"] = json!(c);
        }
        assert_eq!(app.post(&head, "/api/v1/announcements", &body).await.status(), 201);
    }
    sqlx::query(
        "INSERT INTO comms.announcements (id, school_id, audience, title, body)
         SELECT gen_random_uuid(), school_id, 'school', 'Another school''s', 'B'
         FROM sis.enrolments WHERE learner_id = $1 AND end_date IS NULL",
    )
    .bind(elsewhere)
    .execute(&app.owner)
    .await
    .expect("another school's announcement");
    let seen: Value = app.get(&parent, "/api/v1/announcements").await.json().await.expect("page");
    let mut titles: Vec<&str> = seen["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["title"].as_str().expect("t"))
        .collect();
    titles.sort();
    assert_eq!(titles, ["For the child's class", "For the whole school"]);

    // The school withdraws this guardian's access: the child is gone from the portal at once.
    let registrar = app.token("registrar").await;
    let guardian: Uuid = sqlx::query_scalar(
        "SELECT g.id FROM sis.guardians g JOIN sis.learner_guardians lg ON lg.guardian_id = g.id
         JOIN platform.users u ON u.id = g.user_id WHERE lg.learner_id = $1 AND u.username = $2",
    )
    .bind(child)
    .bind(app.username("parent"))
    .fetch_one(&app.owner)
    .await
    .expect("the parent's guardian record");
    let link = format!("/api/v1/learners/{child}/guardians/{guardian}");
    let resp = app.send("PATCH", &registrar, &link, &json!({"portal": false})).await;
    assert_eq!(resp.status(), 204);
    let left: Vec<Value> =
        app.get(&parent, "/api/v1/portal/children").await.json().await.expect("children");
    assert!(left.is_empty(), "{left:?}");
    for path in [
        format!("/api/v1/portal/children/{child}"),
        format!("/api/v1/learners/{child}/report-card?year={year}&term={term}"),
    ] {
        assert_eq!(app.get(&parent, &path).await.status(), 404, "GET {path} after withdrawal");
    }
    let seen: Value = app.get(&parent, "/api/v1/announcements").await.json().await.expect("page");
    assert_eq!(seen["items"].as_array().map(Vec::len), Some(0));
    // Given back, it is there again; a guardian of another school's learner cannot be changed.
    assert_eq!(app.send("PATCH", &registrar, &link, &json!({"portal": true})).await.status(), 204);
    assert_eq!(app.get(&parent, &format!("/api/v1/portal/children/{child}")).await.status(), 200);
    let foreign = format!("/api/v1/learners/{elsewhere}/guardians/{guardian}");
    assert_eq!(
        app.send("PATCH", &registrar, &foreign, &json!({"portal": false})).await.status(),
        404
    );
    drop(standin);
    app.stop().await;
}
