//! The outbox survives a crash (issue 17, acceptance 6): a message queued while the SMS gateway
//! is down is tried, the sender (`oneclass outbox`, its own process) is killed with SIGKILL, the
//! gateway comes back, and a new sender sends the message, once.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::process::{Child, Command};
use uuid::Uuid;

/// A provider's HTTP endpoint: down or up; when up, counts each message by its
/// `Idempotency-Key` (posts of one key after the first are taken, not sent again).
#[derive(Default)]
struct Provider {
    up: AtomicBool,
    posts: Mutex<HashMap<String, usize>>,
}

async fn provider() -> (String, Arc<Provider>) {
    let state = Arc::new(Provider::default());
    let app = Router::new()
        .route(
            "/messages",
            post(|State(p): State<Arc<Provider>>, headers: HeaderMap| async move {
                if !p.up.load(Ordering::SeqCst) {
                    return (StatusCode::SERVICE_UNAVAILABLE, "down".to_string());
                }
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                *p.posts.lock().expect("lock").entry(key.clone()).or_default() += 1;
                (StatusCode::OK, format!("{{\"id\": \"sms-{key}\"}}"))
            }),
        )
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/messages", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (url, state)
}

fn sender(owner_url: &str, gateway: &str, lake: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_oneclass"))
        .arg("outbox")
        .env("DATABASE_URL", owner_url)
        .env("ONECLASS_APP_PASSWORD", oneclass_testkit::APP_PASSWORD)
        .env("ONECLASS_CDC_PASSWORD", oneclass_testkit::CDC_PASSWORD)
        .env("ONECLASS_JWT_SECRET", "outbox-test-jwt-secret-of-at-least-32-characters")
        .env("ONECLASS_PSEUDONYM_KEY", crate::support::PSEUDONYM_KEY)
        .env("ONECLASS_LAKE", lake)
        .env("ONECLASS_SMS_GATEWAY_URL", gateway)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn oneclass outbox")
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_queued_before_a_kill_is_sent_once_after_restart() {
    let owner_url = oneclass_testkit::fresh_database().await;
    let owner = oneclass_core::db::pool(&owner_url, 2).await.expect("pool");
    let lake = tempfile::Builder::new().prefix("oneclass-outbox-lake").tempdir().expect("lake");
    let (gateway, provider) = provider().await;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO comms.outbox (id, channel, recipient, subject, body, kind)
         VALUES ($1, 'sms', '+263771234567', 'OneClass', 'Your code is 482913', 'test')",
    )
    .bind(id)
    .execute(&owner)
    .await
    .expect("queue");
    let state = |owner: sqlx::PgPool| async move {
        sqlx::query_as::<_, (String, i32, Option<String>)>(
            "SELECT status, attempts, provider_id FROM comms.outbox WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&owner)
        .await
        .expect("row")
    };

    // The gateway is down: the sender tries, fails, and is killed before it tries again.
    let mut first = sender(&owner_url, &gateway, lake.path());
    until("a first attempt", async || state(owner.clone()).await.1 >= 1).await;
    assert!(first.try_wait().expect("try_wait").is_none(), "the sender is still running");
    first.kill().await.expect("SIGKILL");
    let (status, attempts, _) = state(owner.clone()).await;
    assert_eq!(status, "queued", "still to send after {attempts} attempt(s)");
    assert!(provider.posts.lock().expect("lock").is_empty(), "nothing taken while down");

    // The gateway is back; a new sender sends the message when its next attempt is due.
    provider.up.store(true, Ordering::SeqCst);
    let mut second = sender(&owner_url, &gateway, lake.path());
    until("the message sent", async || state(owner.clone()).await.0 == "sent").await;
    let (_, _, provider_id) = state(owner.clone()).await;
    assert_eq!(provider_id, Some(format!("sms-{id}")));
    // Given a moment more, nothing is sent again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        provider.posts.lock().expect("lock").clone(),
        HashMap::from([(id.to_string(), 1)]),
        "sent once"
    );
    second.kill().await.expect("stop");
}

/// Delivery reports: the provider tells whether a message it was given reached the phone; the
/// report is kept beside the message. Only with the configured token, only for a message it was
/// given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_providers_delivery_reports_are_kept_beside_their_messages() {
    let app = crate::support::TestApp::spawn_with(|s| {
        s.sms_report_token = Some("report-token-of-the-provider".into());
    })
    .await;
    for (id, provider, status) in
        [(1, "prov-1", "sent"), (2, "prov-2", "sent"), (3, "prov-3", "queued")]
    {
        sqlx::query(
            "INSERT INTO comms.outbox (id, channel, recipient, subject, body, kind, status, provider_id)
             VALUES (uuid_in(lpad($1::text, 32, '0')::cstring), 'sms', '+263770000001', 's', 'b',
                     'test', $3, $2)",
        )
        .bind(id)
        .bind(provider)
        .bind(status)
        .execute(&app.owner)
        .await
        .expect("a message");
    }
    let report = |token: &str, body: serde_json::Value| {
        app.client
            .post(format!("{}/api/v1/sms/delivery-reports", app.base))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let token = "report-token-of-the-provider";
    let ok = report(token, serde_json::json!({"id": "prov-1", "status": "delivered"})).await;
    assert_eq!(ok.expect("post").status(), 204);
    let failed = report(
        token,
        serde_json::json!({"id": "prov-2", "status": "failed", "detail": "handset off for 48 h"}),
    )
    .await;
    assert_eq!(failed.expect("post").status(), 204);
    let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT provider_id, delivery, delivery_detail FROM comms.outbox
         WHERE provider_id LIKE 'prov-%' ORDER BY provider_id",
    )
    .fetch_all(&app.owner)
    .await
    .expect("rows");
    assert_eq!(
        rows,
        [
            ("prov-1".into(), Some("delivered".into()), None),
            ("prov-2".into(), Some("undelivered".into()), Some("handset off for 48 h".into())),
            ("prov-3".into(), None, None),
        ]
    );
    // A wrong token, an unknown id, a message not yet sent, a status we do not know.
    let wrong = report("guess", serde_json::json!({"id": "prov-1", "status": "undelivered"})).await;
    assert_eq!(wrong.expect("post").status(), 401);
    let unknown = report(token, serde_json::json!({"id": "prov-9", "status": "delivered"})).await;
    assert_eq!(unknown.expect("post").status(), 404);
    let queued = report(token, serde_json::json!({"id": "prov-3", "status": "delivered"})).await;
    assert_eq!(queued.expect("post").status(), 404);
    let odd = report(token, serde_json::json!({"id": "prov-1", "status": "read"})).await;
    assert_eq!(odd.expect("post").status(), 422);
    app.stop().await;
}
