//! The client against the stand-in: a transaction initiated, polled, paid, its update checked;
//! an update delivered twice arrives twice (the merchant must apply it once); a forged update and
//! a wrong key are refused; a poll URL elsewhere is never asked.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use oneclass_paynow::{Client, NewPayment, PaynowError, StandIn, Status};
use rust_decimal::Decimal;
use secrecy::SecretString;

const KEY: &str = "3e9fed89-60e1-4ce5-ab6e-6b1eb2d4f977";

/// The merchant's result URL: records every body posted to it.
async fn merchant() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let app = Router::new()
        .route(
            "/result",
            post(
                |State(got): State<Arc<Mutex<Vec<Vec<u8>>>>>, body: axum::body::Bytes| async move {
                    got.lock().expect("lock").push(body.to_vec());
                    "ok"
                },
            ),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/result", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (url, got)
}

fn payment(result_url: &str) -> NewPayment {
    NewPayment {
        reference: "INV-7/2026-3".into(),
        amount: Decimal::new(12_000, 2),
        additional_info: "Term 3 fees".into(),
        return_url: "http://127.0.0.1:1/portal".into(),
        result_url: result_url.into(),
        auth_email: None,
    }
}

#[tokio::test]
async fn a_payment_round_trip_with_duplicates_and_forgeries() {
    let standin = StandIn::start("1201", KEY).await.expect("stand-in");
    let client = Client::new(standin.base().clone(), "1201", SecretString::from(KEY));
    let (result_url, got) = merchant().await;

    let started = client.initiate(&payment(&result_url)).await.expect("initiated");
    assert!(started.browser_url.starts_with(standin.base().as_str()));
    let id = StandIn::id_of(&started.poll_url).expect("id");
    let polled = client.poll(&started.poll_url).await.expect("polled");
    assert_eq!((polled.status, polled.amount), (Status::Created, Decimal::new(12_000, 2)));
    assert_eq!(polled.reference, "INV-7/2026-3");

    // Paid: the update reaches the result URL and reads back, hash checked.
    assert_eq!(standin.settle(id, Status::Paid).await.expect("settled"), 200);
    let first = got.lock().expect("lock")[0].clone();
    let update = client.check_update(&first).expect("a true update");
    assert!(update.status.is_paid());
    assert_eq!(update.paynow_reference, polled.paynow_reference);
    assert_eq!(client.poll(&started.poll_url).await.expect("polled").status, Status::Paid);

    // Delivered again: the same update twice (the merchant applies it by Paynow's reference).
    standin.deliver(id).await.expect("again");
    assert_eq!(got.lock().expect("lock")[1], first);

    // Forged: a body that says Refunded, signed with another key, is not believed.
    standin.deliver_forged(id, Status::Refunded).await.expect("forged");
    let forged = got.lock().expect("lock")[2].clone();
    assert!(matches!(client.check_update(&forged), Err(PaynowError::BadHash)));

    // A client with the wrong key is refused by Paynow, and never polls another host.
    let wrong = Client::new(standin.base().clone(), "1201", SecretString::from("wrong"));
    match wrong.initiate(&payment(&result_url)).await {
        Err(PaynowError::Refused(reason)) => assert_eq!(reason, "Invalid Hash"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.poll("http://127.0.0.2:9/interface/poll/1").await,
        Err(PaynowError::Invalid { field: "pollurl", .. })
    ));
}

#[tokio::test]
async fn the_payer_cancels_on_the_payment_page() {
    let standin = StandIn::start("1201", KEY).await.expect("stand-in");
    let client = Client::new(standin.base().clone(), "1201", SecretString::from(KEY));
    let (result_url, got) = merchant().await;
    let started = client.initiate(&payment(&result_url)).await.expect("initiated");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = http.get(&started.browser_url).send().await.expect("page");
    assert!(page.text().await.expect("html").contains("Cancel"));
    let resp = http
        .get(format!("{}?outcome=cancelled", started.browser_url))
        .send()
        .await
        .expect("cancel");
    assert_eq!(resp.status(), 303);
    let body = got.lock().expect("lock")[0].clone();
    assert_eq!(client.check_update(&body).expect("true").status, Status::Cancelled);
}
