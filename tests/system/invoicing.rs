//! Issue 17, finance as a ledger: fees per grade, term and boarding status, the term's invoices
//! generated from them (once per learner, however often it runs), corrections as new entries,
//! and BEAM's bulk remittances split per learner (all or nothing) and reconciled.

use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::money::{dec, post};
use crate::support::TestApp;

const YEAR: i32 = 2098;

/// The bursar's school, and eight of its learners enrolled for `YEAR`: four in G1 (two of them
/// boarders), four in G2.
async fn school_with_enrolments(app: &TestApp) -> (Uuid, Vec<Uuid>) {
    let school: Uuid = sqlx::query_scalar(
        "SELECT m.school_id FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
         WHERE u.username = $1 AND m.role = 'bursar'",
    )
    .bind(app.username("bursar"))
    .fetch_one(&app.owner)
    .await
    .expect("the bursar's school");
    let learners: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM sis.learners WHERE school_id = $1 ORDER BY id LIMIT 8")
            .bind(school)
            .fetch_all(&app.owner)
            .await
            .expect("learners");
    // A learner has one open enrolment: this year's is closed, as the year's end does.
    sqlx::query(
        "UPDATE sis.enrolments SET end_date = start_date, exit_reason = 'other'
         WHERE learner_id = ANY($1) AND end_date IS NULL",
    )
    .bind(&learners)
    .execute(&app.owner)
    .await
    .expect("close this year's enrolments");
    for (i, learner) in learners.iter().enumerate() {
        sqlx::query(
            "INSERT INTO sis.enrolments (id, school_id, learner_id, academic_year, grade,
                 entry_type, start_date, boarding)
             VALUES (gen_random_uuid(), $1, $2, $3, $4, 'promoted', make_date($3, 1, 10), $5)",
        )
        .bind(school)
        .bind(learner)
        .bind(YEAR)
        .bind(if i < 4 { "G1" } else { "G2" })
        .bind(i < 2)
        .execute(&app.owner)
        .await
        .expect("enrolment");
    }
    (school, learners)
}

async fn invoice_of(app: &TestApp, learner: Uuid, term: i32) -> Option<(Uuid, Decimal)> {
    sqlx::query_as(
        "SELECT id, amount FROM finance.invoices
         WHERE learner_id = $1 AND academic_year = $2 AND term = $3",
    )
    .bind(learner)
    .bind(YEAR)
    .bind(term)
    .fetch_optional(&app.owner)
    .await
    .expect("invoice")
}

async fn set_fee(app: &TestApp, token: &str, school: Uuid, body: Value) -> Value {
    let resp = app.post(token, &format!("/api/v1/schools/{school}/fee-structures"), &body).await;
    assert_eq!(resp.status(), 200, "{body}");
    resp.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_terms_invoices_come_from_the_fees_once_per_learner() {
    let app = TestApp::spawn().await;
    let bursar = app.token("bursar").await;
    let (school, learners) = school_with_enrolments(&app).await;
    let fees = format!("/api/v1/schools/{school}/fee-structures");
    let generate = format!("/api/v1/schools/{school}/invoices/generate");

    let day = json!({"academic_year": YEAR, "term": 1, "grade": "G1", "currency": "USD",
                     "amount": "120.00", "due_on": format!("{YEAR}-02-15")});
    let first = set_fee(&app, &bursar, school, day.clone()).await;
    let boarding = json!({"academic_year": YEAR, "term": 1, "grade": "G1", "boarding": true,
                          "currency": "USD", "amount": "450.00", "due_on": format!("{YEAR}-02-15")});
    set_fee(&app, &bursar, school, boarding).await;
    // Setting the same fee again replaces it (the same row, a new amount).
    let mut again = day.clone();
    again["amount"] = json!("125.00");
    let replaced = set_fee(&app, &bursar, school, again).await;
    assert_eq!(replaced["id"], first["id"]);
    assert_eq!(replaced["amount"], "125.00");
    let listed: Vec<Value> =
        app.get(&bursar, &format!("{fees}?year={YEAR}")).await.json().await.expect("json");
    assert_eq!(listed.len(), 2);

    // Bad input names its field; a teacher may not set fees; nor may a bursar at another school.
    let mut bad = day.clone();
    bad["term"] = json!(4);
    bad["amount"] = json!("1.005");
    let resp = app.post(&bursar, &fees, &bad).await;
    assert_eq!(resp.status(), 422);
    let problem: Value = resp.json().await.expect("json");
    let fields: Vec<&str> = crate::support::problem_fields(&problem);
    assert_eq!(fields, ["term", "amount"]);
    let teacher = app.token("teacher").await;
    assert_eq!(app.post(&teacher, &fees, &day).await.status(), 403);
    let other: Uuid = sqlx::query_scalar("SELECT id FROM platform.schools WHERE id <> $1 LIMIT 1")
        .bind(school)
        .fetch_one(&app.owner)
        .await
        .expect("another school");
    let elsewhere = format!("/api/v1/schools/{other}/fee-structures");
    assert_eq!(app.post(&bursar, &elsewhere, &day).await.status(), 403);
    assert_eq!(app.get(&bursar, &elsewhere).await.status(), 403);

    // Generate: G1's four are invoiced (boarders at the boarding fee); G2 has no fee yet.
    let term1 = json!({"academic_year": YEAR, "term": 1, "issued_on": format!("{YEAR}-01-12")});
    let report: Value = app.post(&bursar, &generate, &term1).await.json().await.expect("json");
    assert_eq!(report["created"], 4, "{report}");
    assert_eq!(report["already_invoiced"], 0);
    assert_eq!(report["without_fee"], json!([{"grade": "G2", "boarding": false, "learners": 4}]));
    for (i, learner) in learners.iter().enumerate() {
        let amount = invoice_of(&app, *learner, 1).await.map(|(_, a)| a);
        let want = match i {
            0 | 1 => Some(Decimal::new(45_000, 2)),
            2 | 3 => Some(Decimal::new(12_500, 2)),
            _ => None,
        };
        assert_eq!(amount, want, "learner {i}");
    }
    // Run again after G2's fee is set: only G2's four are made; nobody is invoiced twice.
    set_fee(
        &app,
        &bursar,
        school,
        json!({"academic_year": YEAR, "term": 1, "grade": "G2", "currency": "ZWG",
               "amount": "3000.00", "due_on": format!("{YEAR}-01-01")}),
    )
    .await;
    let (a, b) =
        tokio::join!(app.post(&bursar, &generate, &term1), app.post(&bursar, &generate, &term1));
    let (a, b): (Value, Value) = (a.json().await.expect("json"), b.json().await.expect("json"));
    assert_eq!(a["created"].as_i64().unwrap_or(-1) + b["created"].as_i64().unwrap_or(-1), 4);
    let invoices: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM finance.invoices WHERE school_id = $1 AND academic_year = $2",
    )
    .bind(school)
    .bind(YEAR)
    .fetch_one(&app.owner)
    .await
    .expect("count");
    assert_eq!(invoices, 8);
    // A fee due before the invoice is issued falls due on the day of issue.
    let due: chrono::NaiveDate = sqlx::query_scalar(
        "SELECT due_on FROM finance.invoices WHERE learner_id = $1 AND academic_year = $2",
    )
    .bind(learners[7])
    .bind(YEAR)
    .fetch_one(&app.owner)
    .await
    .expect("due");
    assert_eq!(due.to_string(), format!("{YEAR}-01-12"));
    let resp = app.post(&bursar, &generate, &json!({"academic_year": YEAR, "term": 0})).await;
    assert_eq!(resp.status(), 422);
    // A learner invoiced for the term at another school transfers in: this school invoices
    // them too (the other school's invoice stays the other school's).
    let mover: Uuid =
        sqlx::query_scalar("SELECT id FROM sis.learners WHERE school_id <> $1 ORDER BY id LIMIT 1")
            .bind(school)
            .fetch_one(&app.owner)
            .await
            .expect("a learner elsewhere");
    for sql in [
        "INSERT INTO finance.invoices (id, school_id, learner_id, academic_year, term, currency,
             amount, issued_on, due_on)
         SELECT gen_random_uuid(), school_id, id, $3, 1, 'USD', 99, make_date($3, 1, 5),
                make_date($3, 2, 1) FROM sis.learners WHERE id = $1",
        "UPDATE sis.enrolments SET end_date = start_date, exit_reason = 'transfer_out'
         WHERE learner_id = $1 AND end_date IS NULL",
        "UPDATE sis.learners SET school_id = $2 WHERE id = $1",
        "INSERT INTO sis.enrolments (id, school_id, learner_id, academic_year, grade, entry_type,
             start_date)
         VALUES (gen_random_uuid(), $2, $1, $3, 'G1', 'transfer_in', make_date($3, 1, 20))",
    ] {
        sqlx::query(sql).bind(mover).bind(school).bind(YEAR).execute(&app.owner).await.expect(sql);
    }
    let report: Value = app.post(&bursar, &generate, &term1).await.json().await.expect("json");
    assert_eq!(
        (report["created"].as_i64(), report["already_invoiced"].as_i64()),
        (Some(1), Some(8))
    );
    let at_both: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT school_id) FROM finance.invoices
         WHERE learner_id = $1 AND academic_year = $2 AND term = 1",
    )
    .bind(mover)
    .bind(YEAR)
    .fetch_one(&app.owner)
    .await
    .expect("count");
    assert_eq!(at_both, 2);

    // A correction is a new entry: the invoice keeps its amount, the balance follows.
    let (invoice, _) = invoice_of(&app, learners[2], 1).await.expect("invoice");
    let path = format!("/api/v1/invoices/{invoice}/corrections");
    let body = json!({"amount": "-25.00", "reason": "sibling discount"});
    let resp = post(&app, &bursar, &path, "fix-1", &body).await;
    assert_eq!(resp.status(), 201);
    let fixed: Value = resp.json().await.expect("json");
    assert_eq!(
        (dec(&fixed["invoice_total"]), dec(&fixed["balance"])),
        (Decimal::new(10_000, 2), Decimal::new(10_000, 2))
    );
    // Replayed with its key, it is recorded once; below zero is refused.
    post(&app, &bursar, &path, "fix-1", &body).await;
    let resp =
        post(&app, &bursar, &path, "fix-2", &json!({"amount": "-100.01", "reason": "x"})).await;
    assert_eq!(resp.status(), 422);
    let early = json!({"amount": "1.00", "reason": "x", "corrected_on": format!("{YEAR}-01-11")});
    let resp = post(&app, &bursar, &path, "fix-3", &early).await;
    let problem: Value = resp.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "corrected_on");
    let account: Value = app
        .get(&bursar, &format!("/api/v1/learners/{}/account", learners[2]))
        .await
        .json()
        .await
        .expect("json");
    let kinds: Vec<&str> = account["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["academic_year"] == YEAR)
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["invoice", "correction"]);
    let usd = account["balances"]
        .as_array()
        .expect("balances")
        .iter()
        .find(|b| b["currency"] == "USD")
        .expect("USD");
    let amount: Decimal = sqlx::query_scalar("SELECT amount FROM finance.invoices WHERE id = $1")
        .bind(invoice)
        .fetch_one(&app.owner)
        .await
        .expect("amount");
    assert_eq!(amount, Decimal::new(12_500, 2), "the invoice itself is never edited");
    assert_eq!(
        dec(&usd["balance"]),
        dec(&usd["invoiced"]) + dec(&usd["corrected"]) - dec(&usd["paid"]) + dec(&usd["refunded"])
    );
    // The term's report counts the correction.
    let report: Value = app
        .get(&bursar, &format!("/api/v1/schools/{school}/fees/report?year={YEAR}&term=1"))
        .await
        .json()
        .await
        .expect("json");
    let usd = report["currencies"]
        .as_array()
        .expect("currencies")
        .iter()
        .find(|c| c["currency"] == "USD")
        .expect("USD");
    // Two boarders at 450, three day scholars at 125 (the one who transferred in among them).
    assert_eq!(dec(&usd["invoiced"]), Decimal::new(127_500, 2));
    assert_eq!(dec(&usd["corrected"]), Decimal::new(-2_500, 2));
    assert_eq!(dec(&usd["outstanding"]), Decimal::new(125_000, 2));
    // A bursar of another school finds no such invoice.
    let other_invoice: Uuid =
        sqlx::query_scalar("SELECT id FROM finance.invoices WHERE school_id = $1 LIMIT 1")
            .bind(other)
            .fetch_one(&app.owner)
            .await
            .expect("an invoice of another school");
    let resp = post(
        &app,
        &bursar,
        &format!("/api/v1/invoices/{other_invoice}/corrections"),
        "fix-elsewhere",
        &json!({"amount": "-1.00", "reason": "x"}),
    )
    .await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_beam_remittance_is_split_per_learner_all_or_nothing_and_reconciled() {
    let app = TestApp::spawn().await;
    let bursar = app.token("bursar").await;
    let (school, learners) = school_with_enrolments(&app).await;
    for (grade, currency, amount) in [("G1", "USD", "120.00"), ("G2", "ZWG", "3000.00")] {
        for boarding in [false, true] {
            set_fee(
                &app,
                &bursar,
                school,
                json!({"academic_year": YEAR, "term": 2, "grade": grade, "boarding": boarding,
                       "currency": currency, "amount": amount, "due_on": format!("{YEAR}-06-01")}),
            )
            .await;
        }
    }
    let generate = format!("/api/v1/schools/{school}/invoices/generate");
    let made: Value = app
        .post(&bursar, &generate, &json!({"academic_year": YEAR, "term": 2}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(made["created"], 8);
    sqlx::query("UPDATE sis.learners SET is_beam = true WHERE id = ANY($1)")
        .bind(&learners[..2])
        .execute(&app.owner)
        .await
        .expect("beam learners");
    let path = format!("/api/v1/schools/{school}/beam-remittances");
    let line = |i: usize, amount: &str| json!({"learner_id": learners[i], "amount": amount});
    let remittance = |total: &str, lines: Vec<Value>| {
        json!({"reference": "BEAM/2098/T2/001", "academic_year": YEAR, "term": 2,
               "currency": "USD", "total": total, "exchange_rate": "26.50",
               "paid_on": format!("{YEAR}-05-20"), "lines": lines})
    };
    let payments = async || -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM finance.payments WHERE method = 'beam' AND school_id = $1 AND academic_year = $2")
            .bind(school)
            .bind(YEAR)
            .fetch_one(&app.owner)
            .await
            .expect("count")
    };

    // Refused, naming what is wrong, and nothing is recorded (amounts too large to add up and
    // rates too small to divide by are refused as bad input, not a crash).
    let mut huge = remittance(
        "1.00",
        vec![line(0, "79228162514264337593543950335"), line(1, "79228162514264337593543950335")],
    );
    let resp = post(&app, &bursar, &path, "huge", &huge).await;
    assert_eq!(resp.status(), 422);
    huge = remittance("120.00", vec![line(0, "60.00"), line(4, "60.00")]);
    huge["exchange_rate"] = json!("0.00000000000000000001");
    let resp = post(&app, &bursar, &path, "tiny-rate", &huge).await;
    let problem: Value = resp.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "exchange_rate", "{problem}");
    for (body, field) in [
        (remittance("100.00", vec![line(0, "60.00"), line(1, "60.00")]), "total"),
        (remittance("120.00", vec![line(0, "60.00"), line(0, "60.00")]), "lines[1].learner_id"),
    ] {
        let resp = post(&app, &bursar, &path, &Uuid::now_v7().to_string(), &body).await;
        assert_eq!(resp.status(), 422, "{body}");
        let problem: Value = resp.json().await.expect("json");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let stranger: Uuid = sqlx::query_scalar(
        "SELECT id FROM sis.learners WHERE school_id = $1 AND NOT (id = ANY($2)) LIMIT 1",
    )
    .bind(school)
    .bind(&learners)
    .fetch_one(&app.owner)
    .await
    .expect("a learner without the term's invoice");
    let body = remittance(
        "150.00",
        vec![line(0, "50.00"), json!({"learner_id": stranger, "amount": "100.00"})],
    );
    let resp = post(&app, &bursar, &path, "bad-line", &body).await;
    assert_eq!(resp.status(), 422);
    let problem: Value = resp.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "lines[1].learner_id", "{problem}");
    assert_eq!(payments().await, 0, "all or nothing");

    // Three learners: two USD invoices, one ZWG invoice paid in dollars at the remittance's rate.
    let body = remittance("300.00", vec![line(0, "120.00"), line(1, "80.00"), line(4, "100.00")]);
    let resp = post(&app, &bursar, &path, "beam-t2", &body).await;
    assert_eq!(resp.status(), 201);
    let r: Value = resp.json().await.expect("json");
    assert_eq!(r["reconciled"], true);
    assert_eq!(dec(&r["allocated"]), Decimal::new(30_000, 2));
    let lines = r["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 3);
    let receipts: Vec<i64> = lines.iter().filter_map(|l| l["receipt_number"].as_i64()).collect();
    assert!(receipts.windows(2).all(|w| w[1] == w[0] + 1), "consecutive receipts {receipts:?}");
    let of = |i: usize| {
        lines.iter().find(|l| l["learner_id"] == json!(learners[i])).expect("a line").clone()
    };
    assert_eq!(dec(&of(0)["invoice_balance"]), Decimal::ZERO);
    assert_eq!(dec(&of(1)["invoice_balance"]), Decimal::new(4_000, 2));
    assert_eq!(of(4)["applied_currency"], "ZWG");
    assert_eq!(dec(&of(4)["amount_applied"]), Decimal::new(265_000, 2));
    assert_eq!(dec(&of(4)["invoice_balance"]), Decimal::new(35_000, 2));
    // Learner 4's record does not say BEAM pays: flagged for the bursar to check.
    assert_eq!(r["not_on_beam"], json!([learners[4]]));
    assert_eq!(payments().await, 3);

    // The same key again answers the first remittance; the same reference under another key is
    // refused.
    let again = post(&app, &bursar, &path, "beam-t2", &body).await;
    assert!(again.headers().contains_key("idempotent-replayed"));
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], r["id"]);
    let resp = post(&app, &bursar, &path, "beam-t2-bis", &body).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(payments().await, 3);

    // A refund of one line shows on the reconciliation: 10 dollars are no longer allocated.
    let payment = of(1)["payment_id"].as_str().expect("payment").to_owned();
    let resp = post(
        &app,
        &bursar,
        &format!("/api/v1/payments/{payment}/refunds"),
        "beam-back",
        &json!({"amount": "10.00", "reason": "BEAM overpaid"}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let id = r["id"].as_str().expect("id");
    let now: Value = app
        .get(&bursar, &format!("/api/v1/beam-remittances/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(now["reconciled"], false);
    assert_eq!(dec(&now["allocated"]), Decimal::new(29_000, 2));
    // Teachers do not read the school's money; another school's bursar cannot record here.
    let teacher = app.token("teacher").await;
    assert_eq!(app.get(&teacher, &format!("/api/v1/beam-remittances/{id}")).await.status(), 403);
    let other: Uuid = sqlx::query_scalar("SELECT id FROM platform.schools WHERE id <> $1 LIMIT 1")
        .bind(school)
        .fetch_one(&app.owner)
        .await
        .expect("another school");
    let resp = post(
        &app,
        &bursar,
        &format!("/api/v1/schools/{other}/beam-remittances"),
        "beam-elsewhere",
        &body,
    )
    .await;
    assert_eq!(resp.status(), 403);
}
