//! Paynow through the API (issue 17, acceptance 1), against the local stand-in that speaks
//! Paynow's protocol: a forged update changes nothing, an update delivered twice (also at the
//! same moment) is applied once, a cancelled payment records nothing.

use oneclass_paynow::{StandIn, Status};
use serde_json::{Value, json};
use std::time::Duration;

use uuid::Uuid;

use crate::support::TestApp;

/// The Paynow payments of the test's invoice: how many, and their sum.
async fn payments_of(app: &TestApp, invoice: Uuid) -> (i64, Option<String>) {
    sqlx::query_as(
        "SELECT count(*), sum(amount_applied)::text FROM finance.payments
         WHERE invoice_id = $1 AND method = 'paynow'",
    )
    .bind(invoice)
    .fetch_one(&app.owner)
    .await
    .expect("payments")
}

/// A fresh invoice of `dollars` US dollars for the learner, term `term` of 2098.
async fn usd_invoice(app: &TestApp, learner: Uuid, term: i32, dollars: i32) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO finance.invoices (id, school_id, learner_id, academic_year, term, currency,
             amount, issued_on, due_on)
         SELECT gen_random_uuid(), school_id, id, 2098, $2, 'USD', $3, current_date, current_date
         FROM sis.learners WHERE id = $1 RETURNING id",
    )
    .bind(learner)
    .bind(term)
    .bind(dollars)
    .fetch_one(&app.owner)
    .await
    .expect("invoice")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paynow_updates_are_checked_and_applied_once() {
    let (app, standin) = TestApp::spawn_with_paynow().await;
    let bursar = app.token("bursar").await;
    let learner = crate::money::bursars_learner(&app).await;
    let invoice = usd_invoice(&app, learner, 1, 120).await;
    let path = format!("/api/v1/learners/{learner}/paynow");
    let start = |amount: &str| json!({"invoice_id": invoice, "amount": amount});

    // Bad input is named; a teacher may not start a payment.
    let resp = app.post(&bursar, &path, &start("0")).await;
    assert_eq!(resp.status(), 422);
    let teacher = app.token("teacher").await;
    assert_eq!(app.post(&teacher, &path, &start("5.00")).await.status(), 403);

    let started: Value =
        app.post(&bursar, &path, &start("45.50")).await.json().await.expect("json");
    let browser = started["browser_url"].as_str().expect("browser url");
    assert!(browser.starts_with(standin.base().as_str()), "{started}");
    let id = StandIn::id_of(browser).expect("id");

    // A forged update (signed with another key) is refused and changes nothing.
    assert_eq!(standin.deliver_forged(id, Status::Paid).await.expect("posted"), 403);
    assert_eq!(payments_of(&app, invoice).await, (0, None));

    // Paid: one payment, with a receipt number, whatever the number of deliveries.
    assert_eq!(standin.settle(id, Status::Paid).await.expect("posted"), 200);
    assert_eq!(standin.deliver(id).await.expect("again"), 200);
    assert_eq!(payments_of(&app, invoice).await, (1, Some("45.50".into())));
    let receipt: Option<i64> = sqlx::query_scalar(
        "SELECT receipt_number FROM finance.payments WHERE invoice_id = $1 AND method = 'paynow'",
    )
    .bind(invoice)
    .fetch_one(&app.owner)
    .await
    .expect("receipt");
    assert!(receipt.is_some());

    // Two deliveries of another transaction at the same moment: applied once.
    let second: Value = app.post(&bursar, &path, &start("10.00")).await.json().await.expect("json");
    let id2 = StandIn::id_of(second["browser_url"].as_str().expect("url")).expect("id");
    assert_eq!(standin.settle(id2, Status::Paid).await.expect("posted"), 200);
    let (a, b) = tokio::join!(standin.deliver(id2), standin.deliver(id2));
    assert_eq!((a.expect("a"), b.expect("b")), (200, 200));
    assert_eq!(payments_of(&app, invoice).await, (2, Some("55.50".into())));

    // Cancelled: recorded as such, no payment.
    let third: Value = app.post(&bursar, &path, &start("7.00")).await.json().await.expect("json");
    let id3 = StandIn::id_of(third["browser_url"].as_str().expect("url")).expect("id");
    assert_eq!(standin.settle(id3, Status::Cancelled).await.expect("posted"), 200);
    assert_eq!(payments_of(&app, invoice).await.0, 2);
    let status: String =
        sqlx::query_scalar("SELECT status FROM finance.paynow_transactions WHERE reference = $1")
            .bind(third["reference"].as_str().expect("reference"))
            .fetch_one(&app.owner)
            .await
            .expect("status");
    assert_eq!(status, "Cancelled");

    // The account shows the two Paynow payments against the invoice.
    let account: Value = app
        .get(&bursar, &format!("/api/v1/learners/{learner}/account"))
        .await
        .json()
        .await
        .expect("json");
    let paynow = account["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["method"] == "paynow" && e["academic_year"] == 2098)
        .count();
    assert_eq!(paynow, 2);
}

/// A status update that never arrives: the payer paid, the post to the result URL was lost.
/// The poll job asks Paynow and records the payment once, however often it runs, and the result
/// URL's late delivery then changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_status_update_is_found_by_polling_and_applied_once() {
    let (app, standin) = TestApp::spawn_with_paynow().await;
    let bursar = app.token("bursar").await;
    let learner = crate::money::bursars_learner(&app).await;
    let invoice = usd_invoice(&app, learner, 2, 80).await;
    let path = format!("/api/v1/learners/{learner}/paynow");
    let started: Value = app
        .post(&bursar, &path, &json!({"invoice_id": invoice, "amount": "30.00"}))
        .await
        .json()
        .await
        .expect("json");
    let id = StandIn::id_of(started["browser_url"].as_str().expect("url")).expect("id");
    let client = oneclass_paynow::Client::new(
        standin.base().clone(),
        crate::support::PAYNOW_ID,
        crate::support::PAYNOW_KEY.into(),
    );
    let running = tokio_util::sync::CancellationToken::new();
    let poll = || oneclass::paynow_poll::poll_open(&app.owner, &client, Duration::ZERO, &running);

    // Not paid yet: asked, nothing changes.
    let first = poll().await.expect("poll");
    assert_eq!((first.asked, first.changed), (1, 0));
    assert_eq!(payments_of(&app, invoice).await, (0, None));
    // Paid, and the update lost: the next round finds it.
    standin.set_status(id, Status::Paid).expect("paid");
    let second = poll().await.expect("poll");
    assert_eq!((second.asked, second.changed), (1, 1));
    assert_eq!(payments_of(&app, invoice).await, (1, Some("30.00".into())));
    // A paid transaction is not asked again; the late post changes nothing.
    assert_eq!(poll().await.expect("poll").asked, 0);
    assert_eq!(standin.deliver(id).await.expect("late"), 200);
    assert_eq!(payments_of(&app, invoice).await, (1, Some("30.00".into())));
}
