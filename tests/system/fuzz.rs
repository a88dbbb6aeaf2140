//! Acceptance 2 (issue 16): requests generated from `/api/v1/openapi.json` itself, for every
//! route, as every role and as nobody: valid-looking and broken parameters and bodies, real ids
//! of the caller's school and of another, random ones. No answer may be a 5xx; every error of
//! the API is problem+json; a success's status is one the document lists, and its JSON has the
//! shape the document gives (the type at the top, the required properties, the enum values of
//! text codes).
//!
//! CI runs a short seeded run. A longer one: `ONECLASS_FUZZ_CASES=20000 ONECLASS_FUZZ_SEED=7
//! cargo test --workspace --test system fuzz -- --nocapture`.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::support::{DEMO_PASSWORD, TestApp};

const ROLES: [&str; 8] = [
    "school_head",
    "deputy",
    "teacher",
    "registrar",
    "bursar",
    "analyst",
    "platform_admin",
    "ministry",
];

struct Doc {
    doc: Value,
}

impl Doc {
    /// The schema `s`, with a `$ref` followed.
    fn resolve<'a>(&'a self, s: &'a Value) -> &'a Value {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or("");
                self.resolve(&self.doc["components"]["schemas"][name])
            }
            None => s,
        }
    }
}

/// Values worth trying: real ids of the caller's school and of another, and junk.
struct Pools {
    ids: Vec<String>,
    texts: Vec<String>,
}

fn pick<'a>(rng: &mut StdRng, items: &'a [String]) -> &'a str {
    items.choose(rng).map(String::as_str).unwrap_or("")
}

/// A value for `schema`: mostly plausible, sometimes of the wrong type or out of range.
fn value(doc: &Doc, schema: &Value, pools: &Pools, rng: &mut StdRng, depth: usize) -> Value {
    let schema = doc.resolve(schema);
    if rng.gen_bool(0.05) {
        return [json!(null), json!(-1), json!("x"), json!([]), json!({}), json!(true)]
            .choose(rng)
            .cloned()
            .unwrap_or(Value::Null);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let chosen = options.choose(rng).cloned().unwrap_or(Value::Null);
        return value(doc, &chosen, pools, rng, depth);
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values.choose(rng).cloned().unwrap_or(Value::Null);
    }
    let kind = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => {
            let ts: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            ts.choose(rng).copied().unwrap_or("null").to_owned()
        }
        _ => "object".to_owned(),
    };
    match (kind.as_str(), schema["format"].as_str()) {
        ("null", _) => Value::Null,
        ("boolean", _) => json!(rng.gen_bool(0.5)),
        ("integer", _) => json!([0, 1, 2, 3, 5, 50, 2026, 10_000, -3][rng.gen_range(0..9)]),
        ("number", _) => json!([0.0, 1.0, 10.0, 40.0, 99.5, 1e9, -2.0][rng.gen_range(0..7)]),
        ("string", Some("uuid")) => json!(pick(rng, &pools.ids)),
        ("string", Some("date")) => {
            json!(
                ["2026-09-08", "2026-12-04", "2027-01-12", "2015-03-01", "1999-13-40"]
                    [rng.gen_range(0..5)]
            )
        }
        ("string", Some("date-time")) => json!("2026-12-05T10:00:00Z"),
        ("string", _) => json!(pick(rng, &pools.texts)),
        ("array", _) if depth < 3 => {
            let n = [0, 1, 2, 3][rng.gen_range(0..4)];
            Value::Array(
                (0..n).map(|_| value(doc, &schema["items"], pools, rng, depth + 1)).collect(),
            )
        }
        ("object", _) if depth < 3 => {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            if let Some(props) = schema["properties"].as_object() {
                for (name, s) in props {
                    let keep = if required.contains(&name.as_str()) { 0.95 } else { 0.6 };
                    if rng.gen_bool(keep) {
                        out.insert(name.clone(), value(doc, s, pools, rng, depth + 1));
                    }
                }
            }
            if rng.gen_bool(0.05) {
                out.insert("unexpected".into(), json!(1));
            }
            Value::Object(out)
        }
        _ => Value::Null,
    }
}

/// A parameter's text in a query string or path.
fn param_text(doc: &Doc, schema: &Value, pools: &Pools, rng: &mut StdRng) -> String {
    match value(doc, schema, pools, rng, 2) {
        Value::String(s) => s,
        Value::Null => String::new(),
        v => v.to_string(),
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether `v` has the shape `schema` gives at its top: its type, its required properties, an
/// enum's values (for strings), each item of an array likewise. Returns what contradicts it.
fn contradiction(doc: &Doc, schema: &Value, v: &Value, depth: usize) -> Option<String> {
    let schema = doc.resolve(schema);
    if depth > 4 {
        return None;
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let fits = options.iter().any(|o| contradiction(doc, o, v, depth + 1).is_none());
        return (!fits).then(|| format!("{v} fits none of {}", Value::Array(options.clone())));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(v)
    {
        return Some(format!("{v} is not one of {}", Value::Array(values.clone())));
    }
    let kinds: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    let fits_kind = kinds.iter().any(|k| match *k {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    });
    if !fits_kind {
        return Some(format!("{v} is not {kinds:?}"));
    }
    if let (Some(obj), Some(required)) = (v.as_object(), schema["required"].as_array()) {
        for r in required.iter().filter_map(Value::as_str) {
            if !obj.contains_key(r) {
                return Some(format!("required property {r} missing from {v}"));
            }
        }
        if let Some(props) = schema["properties"].as_object() {
            for (name, s) in props {
                if let Some(x) = obj.get(name)
                    && let Some(c) = contradiction(doc, s, x, depth + 1)
                {
                    return Some(format!("{name}: {c}"));
                }
            }
        }
    }
    if let Some(items) = v.as_array() {
        for x in items.iter().take(20) {
            if let Some(c) = contradiction(doc, &schema["items"], x, depth + 1) {
                return Some(format!("[item] {c}"));
            }
        }
    }
    None
}

async fn sign_in(app: &TestApp, role: &str) -> Option<String> {
    let username = app.seed.logins.iter().find(|l| l.role.as_str() == role)?.username.clone();
    let resp = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": username, "password": DEMO_PASSWORD}))
        .send()
        .await
        .ok()?;
    let body: Value = resp.json().await.ok()?;
    body["access_token"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_generated_from_the_openapi_document_get_no_5xx_and_match_it() {
    let cases: usize =
        std::env::var("ONECLASS_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let seed: u64 =
        std::env::var("ONECLASS_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(2026);
    let app = TestApp::spawn().await;
    let doc: Value = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    let doc = Doc { doc };
    let mut ids: Vec<String> = sqlx::query_scalar(
        "(SELECT id::text FROM platform.schools ORDER BY emis_code LIMIT 3)
         UNION ALL (SELECT id::text FROM sis.learners ORDER BY school_id, id LIMIT 6)
         UNION ALL (SELECT id::text FROM academic.classes ORDER BY school_id, id LIMIT 6)
         UNION ALL (SELECT id::text FROM sis.enrolments ORDER BY school_id, id LIMIT 4)
         UNION ALL (SELECT id::text FROM assessment.assessments ORDER BY school_id, id LIMIT 4)
         UNION ALL (SELECT id::text FROM platform.users ORDER BY username LIMIT 6)",
    )
    .fetch_all(&app.owner)
    .await
    .expect("ids");
    ids.extend([Uuid::now_v7().to_string(), "not-a-uuid".into(), String::new(), "0".into()]);
    let texts = [
        "",
        "x",
        "MAT",
        "ENG",
        "G3",
        "F4",
        "teacher",
        "csv",
        "json",
        "pending",
        "2026",
        "3",
        "Tendai",
        "O'Brien-Ndlovu",
        "Zoë",
        "' OR 1=1 --",
        "%",
        "../../etc/passwd",
        "+263771234567",
        "0771234567",
        "63-123456 A 42",
        "a@b.co.zw",
        "promote",
        "dropout",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        "x".repeat(300),
        "learner_number,first_name,last_name,sex,date_of_birth\nF-1,Rudo,Moyo,F,2015-01-01\n"
            .into(),
    ])
    .collect();
    let pools = Pools { ids, texts };
    let mut tokens: HashMap<&str, Option<String>> = HashMap::new();
    for role in ROLES {
        tokens.insert(role, sign_in(&app, role).await);
    }
    let mut operations: Vec<(String, String, Value)> = Vec::new();
    for (path, item) in doc.doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            operations.push((path.clone(), method.clone(), op.clone()));
        }
    }
    assert!(operations.len() >= 60, "{} operations", operations.len());
    let mut rng = StdRng::seed_from_u64(seed);
    let mut failures = Vec::new();
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for case in 0..cases {
        let (path, method, op) = &operations[case % operations.len()];
        // Requests that end the caller's own sessions go out signed in only now and then, so
        // that the run keeps its depth (sign-ins are rate-limited).
        let ends_sessions =
            ["logout", "revoke-sessions", "/auth/sessions/", "password", "/members/"]
                .iter()
                .any(|p| path.contains(p));
        let anonymous = rng.gen_bool(if ends_sessions { 0.9 } else { 0.1 });
        let role = if anonymous { None } else { ROLES.choose(&mut rng).copied() };
        let mut url_path = path.clone();
        let mut query = Vec::new();
        let mut headers = Vec::new();
        for p in op["parameters"].as_array().cloned().unwrap_or_default() {
            let name = p["name"].as_str().unwrap_or("").to_owned();
            let text = param_text(&doc, &p["schema"], &pools, &mut rng);
            match p["in"].as_str() {
                Some("path") => url_path = url_path.replace(&format!("{{{name}}}"), &encode(&text)),
                Some("query") if p["required"] == true || rng.gen_bool(0.5) => {
                    query.push(format!("{}={}", encode(&name), encode(&text)))
                }
                Some("header") if rng.gen_bool(0.8) => headers.push((name, text)),
                _ => {}
            }
        }
        let mut url = format!("{}{url_path}", app.base);
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let mut req = app.client.request(method.to_uppercase().parse().expect("method"), &url);
        for (name, v) in headers {
            if let Ok(v) = reqwest::header::HeaderValue::from_str(&v) {
                req = req.header(name, v);
            }
        }
        if let Some(token) = role.and_then(|r| tokens.get(r).cloned().flatten()) {
            req = req.bearer_auth(token);
        }
        let content = &op["requestBody"]["content"];
        if let Some(schema) = content.get("application/json").map(|c| &c["schema"]) {
            req = if rng.gen_bool(0.05) {
                req.header("content-type", "application/json").body("{\"broken\": ")
            } else {
                req.json(&value(&doc, schema, &pools, &mut rng, 0))
            };
        } else if content.get("text/csv").is_some() {
            req = req
                .header("content-type", "text/csv")
                .body(pick(&mut rng, &pools.texts).to_owned());
        }
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        *by_status.entry(status).or_default() += 1;
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = resp.bytes().await.unwrap_or_default();
        let what = format!("{} {url} as {role:?}", method.to_uppercase());
        if status >= 500 {
            failures.push(format!("{what}: {status} {}", String::from_utf8_lossy(&body)));
        } else if status >= 400 && !content_type.starts_with("application/problem+json") {
            failures.push(format!("{what}: {status} is not problem+json ({content_type})"));
        } else if (200..300).contains(&status) {
            let documented = &op["responses"][status.to_string()];
            if documented.is_null() {
                failures.push(format!("{what}: {status} is not a documented answer"));
            } else if let Some(schema) = documented["content"]["application/json"].get("schema")
                && content_type.starts_with("application/json")
            {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(v) => {
                        if let Some(c) = contradiction(&doc, schema, &v, 0) {
                            failures
                                .push(format!("{what}: the answer contradicts the document: {c}"));
                        }
                    }
                    Err(e) => failures.push(format!("{what}: not JSON: {e}")),
                }
            }
        }
        // A signed-out or revoked session (the fuzz may sign itself out): sign in again.
        if status == 401
            && let Some(r) = role
            && tokens.get(r).is_some_and(Option::is_some)
        {
            tokens.insert(r, sign_in(&app, r).await);
        }
    }
    let mut seen: Vec<_> = by_status.into_iter().collect();
    seen.sort();
    eprintln!("{cases} requests over {} operations (seed {seed}): {seen:?}", operations.len());
    assert!(failures.is_empty(), "{} of {cases} failed:\n{}", failures.len(), failures.join("\n"));
    app.stop().await;
}
