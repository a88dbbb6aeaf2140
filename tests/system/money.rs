//! Fees as a ledger (issue 17, acceptance 1): after any sequence of payments in either currency
//! (at any rate of the day) and refunds, the account's balances are the invoices less what was
//! paid plus what was given back, in every currency; a payment posted twice with one key is
//! recorded once, also when both arrive at the same moment; receipts are numbered without gaps.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::TestApp;

pub(crate) fn dec(v: &Value) -> Decimal {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not money: {v}"))
}

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

fn round(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

pub(crate) async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("POST")
}

/// A learner of the test bursar's school.
pub(crate) async fn bursars_learner(app: &TestApp) -> Uuid {
    sqlx::query_scalar(
        "SELECT l.id FROM sis.learners l
         JOIN platform.memberships m ON m.school_id = l.school_id AND m.role = 'bursar'
         JOIN platform.users u ON u.id = m.user_id AND u.username = $1
         ORDER BY l.id LIMIT 1",
    )
    .bind(app.username("bursar"))
    .fetch_one(&app.owner)
    .await
    .expect("a learner of the bursar's school")
}

/// A learner of the bursar's school with two fresh invoices: 150.00 USD and 4,000.00 ZWG.
async fn learner_with_invoices(app: &TestApp) -> (Uuid, [Uuid; 2]) {
    let learner = bursars_learner(app).await;
    let mut invoices = [Uuid::nil(); 2];
    for (i, (term, currency, amount)) in
        [(1, "USD", "150.00"), (2, "ZWG", "4000.00")].iter().enumerate()
    {
        invoices[i] = sqlx::query_scalar(
            "INSERT INTO finance.invoices (id, school_id, learner_id, academic_year, term, currency,
                 amount, issued_on, due_on)
             SELECT gen_random_uuid(), school_id, id, 2099, $2, $3, $4::numeric, current_date,
                    current_date + 30
             FROM sis.learners WHERE id = $1 RETURNING id",
        )
        .bind(learner)
        .bind(term)
        .bind(currency)
        .bind(amount)
        .fetch_one(&app.owner)
        .await
        .expect("invoice");
    }
    (learner, invoices)
}

async fn balances(app: &TestApp, token: &str, learner: Uuid) -> BTreeMap<String, [Decimal; 5]> {
    let account: Value = app
        .get(token, &format!("/api/v1/learners/{learner}/account"))
        .await
        .json()
        .await
        .expect("json");
    account["balances"]
        .as_array()
        .expect("balances")
        .iter()
        .map(|b| {
            let cur = b["currency"].as_str().expect("currency").to_owned();
            let money =
                ["invoiced", "corrected", "paid", "refunded", "balance"].map(|k| dec(&b[k]));
            (cur, money)
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Op {
    /// Pay `cents` in USD (or ZWG) against invoice 0 (USD) or 1 (ZWG), at `rate_cents`/100 ZiG
    /// per dollar when the currencies differ.
    Pay { invoice: usize, in_usd: bool, cents: i64, rate_cents: i64 },
    /// Give back `percent` of what is left of an earlier payment.
    Refund { of: usize, percent: i64 },
    /// Correct invoice 0 or 1 by `cents` (either way; refused below zero).
    Correct { invoice: usize, cents: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize, any::<bool>(), 1..60_000i64, 1_000..4_000i64)
            .prop_map(|(invoice, in_usd, cents, rate_cents)| Op::Pay { invoice, in_usd, cents, rate_cents }),
        1 => (0..8usize, 1..=100i64).prop_map(|(of, percent)| Op::Refund { of, percent }),
        1 => (0..2usize, -500_000..50_000i64)
            .prop_filter("not zero", |(_, c)| *c != 0)
            .prop_map(|(invoice, cents)| Op::Correct { invoice, cents }),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn balances_follow_every_sequence_of_payments_refunds_and_conversions() {
    let app = TestApp::spawn().await;
    let bursar = app.token("bursar").await;
    let (learner, invoices) = learner_with_invoices(&app).await;
    let cases =
        std::env::var("ONECLASS_MONEY_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(12);
    let mut runner =
        TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runner.run(&proptest::collection::vec(op(), 1..8), |ops| {
            handle.block_on(async {
                let before = balances(&app, &bursar, learner).await;
                let mut paid = BTreeMap::<String, Decimal>::new();
                let mut refunded = BTreeMap::<String, Decimal>::new();
                let mut corrected = BTreeMap::<String, Decimal>::new();
                // Payments made in this sequence: id, amount, applied, invoice currency, left.
                let mut made: Vec<(String, Decimal, Decimal, &str, Decimal)> = Vec::new();
                for op in &ops {
                    match *op {
                        Op::Pay { invoice, in_usd, cents: c, rate_cents } => {
                            let owed = ["USD", "ZWG"][invoice];
                            let currency = if in_usd { "USD" } else { "ZWG" };
                            let rate = cents(rate_cents);
                            let amount = cents(c);
                            let applied = match (currency, owed) {
                                (a, b) if a == b => amount,
                                ("USD", _) => round(amount * rate),
                                _ => round(amount / rate),
                            };
                            let mut body = json!({"invoice_id": invoices[invoice], "currency": currency,
                                                  "amount": amount.to_string(), "method": "cash"});
                            if currency != owed {
                                body["exchange_rate"] = json!(rate.to_string());
                            }
                            let path = format!("/api/v1/learners/{learner}/payments");
                            let resp = post(&app, &bursar, &path, &Uuid::now_v7().to_string(), &body).await;
                            if applied == Decimal::ZERO {
                                prop_assert_eq!(resp.status().as_u16(), 422);
                                continue;
                            }
                            prop_assert_eq!(resp.status().as_u16(), 201);
                            let p: Value = resp.json().await.expect("json");
                            prop_assert_eq!(dec(&p["amount_applied"]), applied);
                            *paid.entry(owed.into()).or_default() += applied;
                            made.push((p["id"].as_str().expect("id").into(), amount, applied, owed, amount));
                        }
                        Op::Refund { of, percent } => {
                            if made.is_empty() {
                                continue;
                            }
                            let i = of % made.len();
                            let (id, amount, applied, owed, left) = made[i].clone();
                            let back = (left * Decimal::new(percent, 2)).round_dp_with_strategy(2, RoundingStrategy::ToZero);
                            if back == Decimal::ZERO {
                                continue;
                            }
                            let back_applied = round(back * applied / amount).max(cents(1));
                            let body = json!({"amount": back.to_string(), "reason": "overpaid"});
                            let path = format!("/api/v1/payments/{id}/refunds");
                            let resp = post(&app, &bursar, &path, &Uuid::now_v7().to_string(), &body).await;
                            prop_assert_eq!(resp.status().as_u16(), 201);
                            let r: Value = resp.json().await.expect("json");
                            prop_assert_eq!(dec(&r["amount_applied"]), back_applied);
                            *refunded.entry(owed.into()).or_default() += back_applied;
                            made[i].4 = left - back;
                        }
                        Op::Correct { invoice, cents: c } => {
                            let owed = ["USD", "ZWG"][invoice];
                            let amount = cents(c);
                            let asks: Decimal = sqlx::query_scalar(
                                "SELECT invoiced + corrected FROM finance.invoice_balances
                                 WHERE invoice_id = $1",
                            )
                            .bind(invoices[invoice])
                            .fetch_one(&app.owner)
                            .await
                            .expect("what the invoice asks");
                            let body = json!({"amount": amount.to_string(), "reason": "fee set wrong"});
                            let path = format!("/api/v1/invoices/{}/corrections", invoices[invoice]);
                            let resp = post(&app, &bursar, &path, &Uuid::now_v7().to_string(), &body).await;
                            if asks + amount < Decimal::ZERO {
                                prop_assert_eq!(resp.status().as_u16(), 422);
                                continue;
                            }
                            prop_assert_eq!(resp.status().as_u16(), 201);
                            *corrected.entry(owed.into()).or_default() += amount;
                        }
                    }
                }
                let after = balances(&app, &bursar, learner).await;
                for (currency, [invoiced, c0, p0, r0, b0]) in &before {
                    let [invoiced2, c1, p1, r1, b1] = after[currency];
                    let dp = paid.get(currency).copied().unwrap_or_default();
                    let dr = refunded.get(currency).copied().unwrap_or_default();
                    let dc = corrected.get(currency).copied().unwrap_or_default();
                    prop_assert_eq!(invoiced2, *invoiced);
                    prop_assert_eq!(c1, *c0 + dc);
                    prop_assert_eq!(p1, *p0 + dp);
                    prop_assert_eq!(r1, *r0 + dr);
                    prop_assert_eq!(b1, *b0 + dc - dp + dr);
                    prop_assert_eq!(b1, invoiced2 + c1 - p1 + r1);
                }
                Ok(())
            })
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }

    // A refund beyond what is left of a payment is refused, naming the field.
    let body =
        json!({"invoice_id": invoices[0], "currency": "USD", "amount": "10.00", "method": "cash"});
    let path = format!("/api/v1/learners/{learner}/payments");
    let p: Value = post(&app, &bursar, &path, "one-more", &body).await.json().await.expect("json");
    let refund = format!("/api/v1/payments/{}/refunds", p["id"].as_str().expect("id"));
    let resp =
        post(&app, &bursar, &refund, "too-much", &json!({"amount": "10.01", "reason": "x"})).await;
    assert_eq!(resp.status(), 422);
    // Receipts at the school are numbered 1, 2, 3 … with no gap.
    let numbers: Vec<i64> = sqlx::query_scalar(
        "SELECT receipt_number FROM finance.payments p JOIN sis.learners l ON l.id = p.learner_id
         WHERE l.id = $1 AND receipt_number IS NOT NULL ORDER BY 1",
    )
    .bind(learner)
    .fetch_all(&app.owner)
    .await
    .expect("numbers");
    assert_eq!(numbers, (1..=numbers.len() as i64).collect::<Vec<_>>());
    // The API cannot edit or remove an entry.
    let denied = sqlx::query("SET ROLE oneclass_app; UPDATE finance.payments SET amount = 1")
        .execute(&app.owner)
        .await;
    assert!(denied.is_err(), "the API's role may not edit a payment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_posted_twice_with_one_key_is_recorded_once_even_at_the_same_moment() {
    let app = TestApp::spawn().await;
    let bursar = app.token("bursar").await;
    let (learner, invoices) = learner_with_invoices(&app).await;
    let path = format!("/api/v1/learners/{learner}/payments");
    let body = json!({"invoice_id": invoices[1], "currency": "USD", "amount": "20.00",
                      "exchange_rate": "26.80", "method": "ecocash", "reference": "MP2612.1234"});

    // Missing key: refused, naming the header.
    let resp = app.post(&bursar, &path, &body).await;
    assert_eq!(resp.status(), 422);
    let problem: Value = resp.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");

    for round in 0..5 {
        let key = format!("double-tap-{round}");
        let (a, b) = tokio::join!(
            post(&app, &bursar, &path, &key, &body),
            post(&app, &bursar, &path, &key, &body)
        );
        let replayed =
            [&a, &b].iter().filter(|r| r.headers().contains_key("idempotent-replayed")).count();
        assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
        assert_eq!(replayed, 1, "one of the two is the first answer again");
        let (a, b): (Value, Value) = (a.json().await.expect("json"), b.json().await.expect("json"));
        assert_eq!(a["id"], b["id"]);
        assert_eq!(a["receipt_number"], b["receipt_number"]);
        assert_eq!(dec(&a["amount_applied"]), cents(53_600));
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM finance.payments WHERE learner_id = $1 AND idempotency_key LIKE $2",
        )
        .bind(learner)
        .bind(format!("%:{key}"))
        .fetch_one(&app.owner)
        .await
        .expect("count");
        assert_eq!(n, 1, "recorded once");
    }
    // The same key with another payment is refused.
    let other =
        json!({"invoice_id": invoices[1], "currency": "ZWG", "amount": "5.00", "method": "cash"});
    assert_eq!(post(&app, &bursar, &path, "double-tap-0", &other).await.status(), 409);
    // The term report: five payments of 20 US dollars at 26.80 settled 2,680 of the 4,000 ZiG.
    let school: Uuid = sqlx::query_scalar("SELECT school_id FROM sis.learners WHERE id = $1")
        .bind(learner)
        .fetch_one(&app.owner)
        .await
        .expect("school");
    let report: Value = app
        .get(&bursar, &format!("/api/v1/schools/{school}/fees/report?year=2099&term=2"))
        .await
        .json()
        .await
        .expect("json");
    let zig = &report["currencies"][0];
    assert_eq!(report["currencies"].as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(zig["currency"], "ZWG");
    let money = |k: &str| dec(&zig[k]);
    assert_eq!(
        (money("invoiced"), money("paid"), money("refunded"), money("outstanding")),
        (cents(400_000), cents(268_000), cents(0), cents(132_000)),
        "{report}"
    );
    assert_eq!(zig["paid_by_method"], json!([{"method": "ecocash", "amount": "2680.00"}]));
    assert_eq!(
        (zig["learners_invoiced"].as_i64(), zig["learners_in_arrears"].as_i64()),
        (Some(1), Some(1))
    );
    let bad =
        app.get(&bursar, &format!("/api/v1/schools/{school}/fees/report?year=2099&term=4")).await;
    assert_eq!(bad.status(), 422);

    // Who may: a teacher may not record a payment, nor read the account or the report.
    let teacher = app.token("teacher").await;
    assert_eq!(post(&app, &teacher, &path, "t-1", &body).await.status(), 403);
    assert_eq!(
        app.get(&teacher, &format!("/api/v1/learners/{learner}/account")).await.status(),
        403
    );
}
