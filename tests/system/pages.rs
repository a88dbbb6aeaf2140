//! The staff pages' forms (issue 17): what a form refuses comes back on the form with the field
//! named and nothing written; a payment form sent twice records one payment; pages without a
//! session send the user to sign in.

use uuid::Uuid;

use crate::support::TestApp;

async fn form(
    app: &TestApp,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .form(fields)
        .send()
        .await
        .expect("form")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_forms_name_what_is_wrong_write_nothing_half_and_pay_once() {
    let app = TestApp::spawn().await;
    let registrar = app.token("registrar").await;
    let class: Uuid = sqlx::query_scalar(
        "SELECT c.id FROM academic.classes c JOIN platform.memberships m ON m.school_id = c.school_id
         JOIN platform.users u ON u.id = m.user_id
         WHERE u.username = $1 ORDER BY c.academic_year DESC, c.grade LIMIT 1",
    )
    .bind(app.username("registrar"))
    .fetch_one(&app.owner)
    .await
    .expect("a class");
    let class = class.to_string();
    let admission = |number: &'static str, phone: &'static str| {
        vec![
            ("first_name", "Farai"),
            ("last_name", "Mutasa"),
            ("sex", "M"),
            ("date_of_birth", "2018-02-03"),
            ("learner_number", number),
            ("guardian_name", "Ruth Mutasa"),
            ("guardian_phone", phone),
            ("relationship", "mother"),
        ]
    };
    let owner = app.owner.clone();
    let written = |number: &'static str| {
        let owner = owner.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM sis.learners WHERE learner_number = $1",
            )
            .bind(number)
            .fetch_one(&owner)
            .await
            .expect("count")
        }
    };

    // A bad phone: 422, the field named, the form kept, nothing written.
    let mut fields = admission("P-1", "12345");
    fields.push(("class_id", &class));
    let resp = form(&app, &registrar, "/app/learners/new", &fields).await;
    assert_eq!(resp.status(), 422);
    let page = resp.text().await.expect("page");
    assert!(page.contains("guardian_phone"), "{page}");
    assert!(page.contains("value=\"Farai\""), "what was typed is kept");
    assert_eq!(written("P-1").await, 0);

    // Admitted; then the same number again is refused on the form, and nothing more is written.
    let mut fields = admission("P-1", "0712 345 678");
    fields.push(("class_id", &class));
    let resp = form(&app, &registrar, "/app/learners/new", &fields).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.url().path().starts_with("/app/learners/"), "the learner's page");
    let guardians_before: i64 = sqlx::query_scalar("SELECT count(*) FROM sis.guardians")
        .fetch_one(&app.owner)
        .await
        .expect("count");
    let resp = form(&app, &registrar, "/app/learners/new", &fields).await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.expect("page").contains("learner_number"));
    assert_eq!(written("P-1").await, 1);
    let guardians_after: i64 = sqlx::query_scalar("SELECT count(*) FROM sis.guardians")
        .fetch_one(&app.owner)
        .await
        .expect("count");
    assert_eq!(guardians_before, guardians_after, "no guardian without their learner");

    // A payment form sent twice (a double tap) records one payment under one receipt.
    let bursar = app.token("bursar").await;
    let (learner, invoice): (Uuid, Uuid) = sqlx::query_as(
        "SELECT i.learner_id, i.id FROM finance.invoices i JOIN platform.memberships m
           ON m.school_id = i.school_id JOIN platform.users u ON u.id = m.user_id
         WHERE u.username = $1 AND i.currency = 'USD' LIMIT 1",
    )
    .bind(app.username("bursar"))
    .fetch_one(&app.owner)
    .await
    .expect("an invoice");
    let key = Uuid::new_v4().to_string();
    let invoice = invoice.to_string();
    let payment = [
        ("key", key.as_str()),
        ("invoice_id", invoice.as_str()),
        ("currency", "USD"),
        ("amount", "7.25"),
        ("exchange_rate", ""),
        ("method", "cash"),
        ("reference", ""),
    ];
    let path = format!("/app/learners/{learner}/payments");
    let first = form(&app, &bursar, &path, &payment).await;
    let second = form(&app, &bursar, &path, &payment).await;
    assert_eq!((first.status().as_u16(), second.status().as_u16()), (200, 200));
    assert_eq!(first.url().query(), second.url().query(), "the same receipt");
    assert!(first.url().query().is_some_and(|q| q.starts_with("receipt=")));
    let payments: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM finance.payments WHERE learner_id = $1 AND amount = 7.25",
    )
    .bind(learner)
    .fetch_one(&app.owner)
    .await
    .expect("count");
    assert_eq!(payments, 1);
    // A bad amount comes back on the learner's page.
    let mut bad = payment.to_vec();
    bad[0] = ("key", "another-key");
    bad[3] = ("amount", "seven");
    let resp = form(&app, &bursar, &path, &bad).await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.expect("page").contains("amount: must be an amount"));

    // No session: the sign-in form.
    let resp =
        app.client.get(format!("{}/app/learners/{learner}", app.base)).send().await.expect("get");
    assert_eq!(resp.url().path(), "/app/login");
    app.stop().await;
}
