//! A local Paynow: the same routes, forms and hashes, on 127.0.0.1. Transactions are settled by
//! the payer's page (`GET /pay/{id}?outcome=paid|cancelled`) or by the test
//! ([`StandIn::settle`]), and the update is posted to the merchant's result URL as Paynow posts
//! it. A test can deliver an update again, or post one signed with the wrong key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rust_decimal::Decimal;
use tokio::net::TcpListener;
use url::Url;

use crate::error::PaynowError;
use crate::form::{Form, Status, Update};

#[derive(Debug, Clone)]
struct Transaction {
    reference: String,
    amount: Decimal,
    return_url: String,
    result_url: String,
    status: Status,
}

struct Inner {
    integration_id: String,
    key: String,
    base: Url,
    transactions: Mutex<HashMap<u64, Transaction>>,
    http: reqwest::Client,
}

/// A running stand-in; it stops when dropped.
pub struct StandIn {
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StandIn {
    /// Serves a stand-in for the integration `integration_id` with `key` on a free port.
    pub async fn start(integration_id: &str, key: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let base = Url::parse(&format!("http://{}/", listener.local_addr()?))
            .map_err(std::io::Error::other)?;
        let inner = Arc::new(Inner {
            integration_id: integration_id.into(),
            key: key.into(),
            base,
            transactions: Mutex::new(HashMap::new()),
            http: reqwest::Client::new(),
        });
        let app = Router::new()
            .route("/interface/initiatetransaction", post(initiate))
            .route("/interface/poll/{id}", post(poll))
            .route("/pay/{id}", get(pay))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the Paynow stand-in stopped");
            }
        });
        Ok(Self { inner, task })
    }

    /// Where a [`Client`](crate::Client) should send its requests.
    pub fn base(&self) -> &Url {
        &self.inner.base
    }

    /// The transaction a poll or browser URL names.
    pub fn id_of(url: &str) -> Option<u64> {
        url.trim_end_matches('/').rsplit('/').next()?.split('?').next()?.parse().ok()
    }

    /// Sets the transaction's status and posts the update to the merchant; the merchant's
    /// answer status.
    pub async fn settle(&self, id: u64, status: Status) -> Result<u16, PaynowError> {
        self.inner.set(id, status)?;
        self.deliver(id).await
    }

    /// Sets the transaction's status without telling the merchant: the payer paid, and the
    /// status update was lost on the way (the merchant learns it only by polling).
    pub fn set_status(&self, id: u64, status: Status) -> Result<(), PaynowError> {
        self.inner.set(id, status)
    }

    /// Posts the transaction's current update to the merchant (again).
    pub async fn deliver(&self, id: u64) -> Result<u16, PaynowError> {
        let form = self.inner.update(id)?.to_form(&self.inner.key);
        self.inner.post_to_merchant(id, &form).await
    }

    /// Posts an update that says `status` but is signed with another key, as a forger would.
    pub async fn deliver_forged(&self, id: u64, status: Status) -> Result<u16, PaynowError> {
        let mut update = self.inner.update(id)?;
        update.status = status;
        let form = update.to_form("not the integration key");
        self.inner.post_to_merchant(id, &form).await
    }
}

impl Inner {
    fn transaction(&self, id: u64) -> Result<Transaction, PaynowError> {
        self.transactions
            .lock()
            .map_err(|_| PaynowError::Refused("stand-in state poisoned".into()))?
            .get(&id)
            .cloned()
            .ok_or_else(|| PaynowError::Invalid { field: "id", value: id.to_string() })
    }

    fn set(&self, id: u64, status: Status) -> Result<(), PaynowError> {
        let mut all = self
            .transactions
            .lock()
            .map_err(|_| PaynowError::Refused("stand-in state poisoned".into()))?;
        let t = all
            .get_mut(&id)
            .ok_or_else(|| PaynowError::Invalid { field: "id", value: id.to_string() })?;
        t.status = status;
        Ok(())
    }

    fn update(&self, id: u64) -> Result<Update, PaynowError> {
        let t = self.transaction(id)?;
        Ok(Update {
            reference: t.reference,
            amount: t.amount,
            paynow_reference: format!("{}", 9_000_000 + id),
            poll_url: format!("{}interface/poll/{id}", self.base),
            status: t.status,
        })
    }

    async fn post_to_merchant(&self, id: u64, form: &Form) -> Result<u16, PaynowError> {
        let url = self.transaction(id)?.result_url;
        let resp = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.encode())
            .send()
            .await?;
        Ok(resp.status().as_u16())
    }
}

fn form_answer(form: &Form) -> Response {
    ([(header::CONTENT_TYPE, "application/x-www-form-urlencoded")], form.encode()).into_response()
}

fn refuse(reason: &str) -> Response {
    form_answer(&Form(vec![("status".into(), "Error".into()), ("error".into(), reason.into())]))
}

async fn initiate(State(inner): State<Arc<Inner>>, body: axum::body::Bytes) -> Response {
    let form = Form::parse(&body);
    if form.verify(&inner.key).is_err() {
        return refuse("Invalid Hash");
    }
    if form.get("id") != Some(inner.integration_id.as_str()) {
        return refuse("Invalid Id");
    }
    let amount = form.get("amount").and_then(|a| a.parse::<Decimal>().ok());
    let (Some(reference), Some(amount), Some(return_url), Some(result_url)) =
        (form.get("reference"), amount, form.get("returnurl"), form.get("resulturl"))
    else {
        return refuse("Missing or invalid field");
    };
    if amount <= Decimal::ZERO {
        return refuse("Invalid amount");
    }
    let Ok(mut all) = inner.transactions.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let id = all.len() as u64 + 1;
    all.insert(
        id,
        Transaction {
            reference: reference.into(),
            amount,
            return_url: return_url.into(),
            result_url: result_url.into(),
            status: Status::Created,
        },
    );
    form_answer(
        &Form(vec![
            ("status".into(), "Ok".into()),
            ("browserurl".into(), format!("{}pay/{id}", inner.base)),
            ("pollurl".into(), format!("{}interface/poll/{id}", inner.base)),
        ])
        .signed(&inner.key),
    )
}

async fn poll(State(inner): State<Arc<Inner>>, Path(id): Path<u64>) -> Response {
    match inner.update(id) {
        Ok(update) => form_answer(&update.to_form(&inner.key)),
        Err(_) => refuse("Transaction not found"),
    }
}

async fn pay(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<u64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Ok(t) = inner.transaction(id) else {
        return (StatusCode::NOT_FOUND, "no such transaction").into_response();
    };
    let status = match q.get("outcome").map(String::as_str) {
        Some("paid") => Status::Paid,
        Some("cancelled") => Status::Cancelled,
        _ => {
            // The payer's page: two links, as plain as Paynow's own.
            let page = format!(
                "<!doctype html><meta charset=utf-8><title>Paynow (stand-in)</title>\
                 <h1>Pay {} for {}</h1><p><a href=\"/pay/{id}?outcome=paid\">Pay</a> \
                 <a href=\"/pay/{id}?outcome=cancelled\">Cancel</a></p>",
                t.amount, t.reference
            );
            return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
        }
    };
    if inner.set(id, status).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let form = match inner.update(id) {
        Ok(u) => u.to_form(&inner.key),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    if let Err(e) = inner.post_to_merchant(id, &form).await {
        tracing::warn!(error = %e, "the stand-in could not deliver the update");
    }
    Redirect::to(&t.return_url).into_response()
}
