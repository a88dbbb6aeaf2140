//! The learners of a school who need attention: a rule anyone can check (chronic absence,
//! falling marks, over-age for the grade, fees in arrears), computed over the lake by
//! `queries/attention.sql`, named from PostgreSQL under the reader's row-level security, each
//! with the evidence in words, and audited as a read of every learner listed. For the school's
//! head and deputies. Staff record what they do about it elsewhere; the list only informs.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{NaiveDate, Utc};
use oneclass_core::ids::{LearnerId, SchoolId};
use oneclass_core::types::Role;
use oneclass_i18n::Lang;
use oneclass_warehouse::{Format, QueryOutput, ScalarValue, WarehouseError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::PageLang;
use crate::learners::audit_reads;
use crate::state::{AppState, RequestId};
use crate::support::{self, SupportAction};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_attention))
}

const LEADERS: &[Role] = &[Role::SchoolHead, Role::Deputy];
const QUERY: &str = "attention";
const SCORES_QUERY: &str = "predict_school_scores";
/// How many of a school's highest scores the list shows.
const MODEL_LIST: i64 = 20;

/// The rule, as the list states it.
pub const RULE: &str = "Enrolled learners with any of: absent on 10 % or more of their marked \
    school days this term (once they have 5 marks); a mean term mark 10 points or more below \
    the term before; two or more years above the official age of their grade; an invoice due \
    30 days or more with nothing paid against it.";

#[derive(Debug, Serialize, ToSchema)]
pub struct Attention {
    pub school_id: SchoolId,
    pub as_of: NaiveDate,
    /// The rule the list follows.
    pub rule: &'static str,
    /// Most reasons first, then by name.
    pub learners: Vec<AttentionLearner>,
    /// The early-warning model's highest scores at the school, when it has scored it.
    pub model: Option<ModelRanking>,
}

/// The learners the early-warning model ranks most at risk at one school.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelRanking {
    pub model_version: i32,
    /// The day the learners were scored.
    pub scored_on: NaiveDate,
    /// Highest chance first.
    pub learners: Vec<AtRiskLearner>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AtRiskLearner {
    pub learner_id: LearnerId,
    pub learner_number: String,
    pub name: String,
    pub grade: String,
    /// The estimated chance, in per cent, of dropping out or repeating the grade this year.
    pub chance: u8,
    /// The features that raised the score most, in words.
    pub reasons: Vec<Reason>,
    /// What staff recorded doing, newest first.
    pub actions: Vec<SupportAction>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttentionLearner {
    pub learner_id: LearnerId,
    pub learner_number: String,
    pub name: String,
    pub grade: String,
    pub class_name: Option<String>,
    pub reasons: Vec<Reason>,
    /// What staff recorded doing, newest first.
    pub actions: Vec<SupportAction>,
}

/// One reason a learner is listed, with its evidence in words.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reason {
    /// The rule's `chronic_absence`, `falling_marks`, `over_age` or `arrears`; or the model's
    /// feature (`absent_last_10`, `mark_change`, …).
    pub code: String,
    pub text: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AttentionQuery {
    /// The day the list is for (YYYY-MM-DD); today when absent.
    pub as_of: Option<NaiveDate>,
}

/// The learners of the school who need attention on a day, each with their reasons. Audited as
/// a read of every learner listed.
#[utoipa::path(get, path = "/schools/{id}/attention", tag = "learners",
    params(("id" = Uuid, Path, description = "school id"), AttentionQuery),
    responses((status = 200, body = Attention), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_attention(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(school): Path<SchoolId>,
    Query(q): Query<AttentionQuery>,
    PageLang(lang): PageLang,
) -> ApiResult<Json<Attention>> {
    let as_of = q.as_of.unwrap_or_else(|| Utc::now().date_naive());
    Ok(Json(attention(&state, &user, &request_id, school, as_of, lang).await?))
}

/// The list for `school` on `as_of`, as the user may see it.
pub(crate) async fn attention(
    state: &AppState,
    user: &AuthUser,
    request_id: &RequestId,
    school: SchoolId,
    as_of: NaiveDate,
    lang: Lang,
) -> ApiResult<Attention> {
    user.require(LEADERS)?;
    if !user.schools.contains(&school) {
        return Err(ApiError::NotFound);
    }
    let rows = lake_rows(state, QUERY, flagged_params(school, as_of)?).await?;
    let scores = lake_rows(
        state,
        SCORES_QUERY,
        vec![ScalarValue::Utf8(Some(school.to_string())), ScalarValue::Int64(Some(MODEL_LIST))],
    )
    .await?;
    let id_of = |r: &Value| r["learner_id"].as_str()?.parse::<Uuid>().ok();
    let ids: Vec<Uuid> = rows.iter().chain(&scores).filter_map(id_of).collect();
    let mut tx = begin_scoped(&state.pool, user).await?;
    // Row-level security decides whom the reader may name; the lake only says who is flagged.
    let people = sqlx::query!(
        "SELECT id, school_id, learner_number, first_name, last_name FROM sis.learners
         WHERE id = ANY($1) AND school_id = $2",
        &ids,
        school as SchoolId,
    )
    .fetch_all(&mut *tx)
    .await?;
    let named: Vec<Uuid> = people.iter().map(|p| p.id).collect();
    let actions = support::for_learners(&mut tx, &named).await?;
    let actions_of = |id: Uuid| -> Vec<SupportAction> {
        actions.iter().filter(|a| Uuid::from(a.learner_id) == id).cloned().collect()
    };
    let person = |id: Uuid| people.iter().find(|p| p.id == id);
    let mut learners = Vec::with_capacity(rows.len());
    for row in &rows {
        let Some(p) = id_of(row).and_then(person) else { continue };
        learners.push(AttentionLearner {
            learner_id: LearnerId::from(p.id),
            learner_number: p.learner_number.clone(),
            name: format!("{} {}", p.first_name, p.last_name),
            grade: row["grade"].as_str().unwrap_or_default().to_owned(),
            class_name: row["class_name"].as_str().map(str::to_owned),
            reasons: reasons(row, lang),
            actions: actions_of(p.id),
        });
    }
    let model = scores.first().map(|first| ModelRanking {
        model_version: first["model_version"].as_i64().unwrap_or(0) as i32,
        scored_on: first["as_of"].as_str().and_then(|d| d.parse().ok()).unwrap_or(as_of),
        learners: scores
            .iter()
            .filter_map(|row| {
                let p = id_of(row).and_then(person)?;
                Some(AtRiskLearner {
                    learner_id: LearnerId::from(p.id),
                    learner_number: p.learner_number.clone(),
                    name: format!("{} {}", p.first_name, p.last_name),
                    grade: row["grade"].as_str().unwrap_or_default().to_owned(),
                    chance: (row["score"].as_f64().unwrap_or(0.0) * 100.0).round().clamp(0.0, 100.0)
                        as u8,
                    reasons: model_reasons(row, lang),
                    actions: actions_of(p.id),
                })
            })
            .collect(),
    });
    let read: Vec<(Uuid, Uuid)> = people.iter().map(|p| (p.id, p.school_id)).collect();
    audit_reads(&mut tx, user, request_id, "list", &read).await?;
    tx.commit().await?;
    learners.sort_by(|a, b| b.reasons.len().cmp(&a.reasons.len()).then(a.name.cmp(&b.name)));
    Ok(Attention { school_id: school, as_of, rule: RULE, learners, model })
}

fn flagged_params(school: SchoolId, as_of: NaiveDate) -> ApiResult<Vec<ScalarValue>> {
    let epoch = NaiveDate::default();
    let day = i32::try_from((as_of - epoch).num_days())
        .map_err(|_| ApiError::field("as_of", "out of range"))?;
    Ok(vec![ScalarValue::Utf8(Some(school.to_string())), ScalarValue::Date32(Some(day))])
}

/// A named query's rows over the lake, as JSON; none while the lake lacks a table it reads (a
/// new deployment, or no model has scored yet).
async fn lake_rows(
    state: &AppState,
    query: &str,
    params: Vec<ScalarValue>,
) -> ApiResult<Vec<Value>> {
    let batches = match state.warehouse.named(query, params).await {
        Ok(batches) => batches,
        Err(e) if e.is_missing_table() => return Ok(Vec::new()),
        Err(e @ (WarehouseError::Timeout(_) | WarehouseError::ResourcesExhausted(_))) => {
            return Err(e.into());
        }
        Err(e) => return Err(ApiError::Internal(format!("{query}: {e}"))),
    };
    let output = QueryOutput { batches, truncated: false };
    let (_, json) = oneclass_warehouse::encode(&output, Format::Json)
        .map_err(|e| ApiError::Internal(format!("{query}: {e}")))?;
    let answer: Value =
        serde_json::from_slice(&json).map_err(|e| ApiError::Internal(format!("{query}: {e}")))?;
    Ok(answer["rows"].as_array().cloned().unwrap_or_default())
}

/// Each rule that holds for a flagged row, with its evidence, in the reader's language.
fn reasons(row: &Value, lang: Lang) -> Vec<Reason> {
    let flag = |name: &str| row[name].as_bool().unwrap_or(false);
    let int = |name: &str| row[name].as_i64().unwrap_or(0);
    let float = |name: &str| row[name].as_f64().unwrap_or(0.0);
    let mut out = Vec::new();
    if flag("chronic_absence") {
        let (absent, marks) = (int("absent"), int("marks"));
        let share = if marks > 0 { absent as f64 / marks as f64 * 100.0 } else { 0.0 };
        out.push(Reason {
            code: "chronic_absence".into(),
            text: lang.t_args(
                "reason-chronic-absence",
                &[
                    ("absent", absent.to_string()),
                    ("marks", marks.to_string()),
                    ("share", format!("{share:.0}")),
                ],
            ),
        });
    }
    if flag("falling_marks") {
        out.push(Reason {
            code: "falling_marks".into(),
            text: lang.t_args(
                "reason-falling-marks",
                &[
                    ("before", format!("{:.0}", float("mark_before"))),
                    ("now", format!("{:.0}", float("mark_now"))),
                ],
            ),
        });
    }
    if flag("over_age") {
        out.push(Reason {
            code: "over_age".into(),
            text: lang.t_args(
                "reason-over-age",
                &[
                    ("age", int("age").to_string()),
                    ("grade", row["grade"].as_str().unwrap_or_default().to_owned()),
                    ("official", int("official_age").to_string()),
                ],
            ),
        });
    }
    if flag("arrears") {
        let owed: Vec<String> = [("US$", float("arrears_usd")), ("ZiG", float("arrears_zwg"))]
            .iter()
            .filter(|(_, amount)| *amount > 0.0)
            .map(|(currency, amount)| format!("{currency} {amount:.2}"))
            .collect();
        out.push(Reason {
            code: "arrears".into(),
            text: lang.t1(
                "reason-arrears",
                "owed",
                owed.join(&format!(" {} ", lang.t("reason-and"))),
            ),
        });
    }
    out
}

/// The model's reasons for a score (`[{feature, value, weight}]`), in the reader's language.
fn model_reasons(row: &Value, lang: Lang) -> Vec<Reason> {
    let listed: Vec<Value> =
        row["reasons"].as_str().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    listed
        .iter()
        .filter_map(|r| {
            let feature = r["feature"].as_str()?;
            let text = feature_in_words(feature, r["value"].as_f64(), row, lang)?;
            Some(Reason { code: feature.to_owned(), text })
        })
        .collect()
}

/// One feature's value in words ("absent 6 days in the last two weeks"); `None` for a feature
/// this release does not know (a newer model's).
fn feature_in_words(feature: &str, value: Option<f64>, row: &Value, lang: Lang) -> Option<String> {
    let whole = |v: f64| format!("{v:.0}");
    let percent = |v: f64| format!("{:.0}", v * 100.0);
    let signed = |v: f64| format!("{v:+.0}");
    let yes_no = |key: &str, v: f64| lang.t1(key, "on", if v >= 0.5 { "yes" } else { "no" });
    let missing = match feature {
        "mark_this_year" | "mark_last_year" | "mark_change" => "risk-no-marks",
        "unpaid_share" => "risk-no-fees",
        _ => "risk-no-attendance",
    };
    let Some(v) = value else { return Some(lang.t(missing)) };
    Some(match feature {
        "absent_last_10" => lang.t1("risk-absent-last-10", "n", whole(v)),
        "absent_share" => lang.t1("risk-absent-share", "share", percent(v)),
        "absent_share_4_weeks" => lang.t1("risk-absent-4-weeks", "share", percent(v)),
        "absence_change" => lang.t1("risk-absence-change", "points", signed(v * 100.0)),
        "mark_this_year" => lang.t1("risk-mark-this-year", "mark", whole(v)),
        "mark_last_year" => lang.t1("risk-mark-last-year", "mark", whole(v)),
        "mark_change" => lang.t1("risk-mark-change", "points", signed(v)),
        "over_age" => lang.t1("risk-over-age", "years", whole(v)),
        "repeater" if v >= 0.5 => lang.t("risk-repeater"),
        "transfer_in" if v >= 0.5 => lang.t("risk-transfer-in"),
        "unpaid_share" => lang.t1("risk-unpaid-share", "share", percent(v)),
        "invoices_unpaid" => lang.t1("risk-invoices-unpaid", "n", whole(v)),
        "beam" => yes_no("risk-beam", v),
        "ovc" => yes_no("risk-ovc", v),
        "disability" => yes_no("risk-disability", v),
        "rural" => yes_no("risk-rural", v),
        "secondary_school" => yes_no("risk-secondary", v),
        "school_absent_share" => lang.t1("risk-school-absence", "share", percent(v)),
        "grade_level" => {
            lang.t1("risk-grade", "grade", row["grade"].as_str().unwrap_or_default().to_owned())
        }
        "days_marked" => lang.t1("risk-days-marked", "n", whole(v)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_states_its_evidence() {
        let row = serde_json::json!({
            "grade": "G5", "chronic_absence": true, "absent": 6, "marks": 30,
            "falling_marks": true, "mark_before": 64.4, "mark_now": 48.0,
            "over_age": true, "age": 13, "official_age": 10,
            "arrears": true, "arrears_usd": 120.0, "arrears_zwg": 0.0,
        });
        let texts: Vec<String> = reasons(&row, Lang::En).into_iter().map(|r| r.text).collect();
        assert_eq!(
            texts,
            [
                "absent 6 of 30 marked days this term (20 %)",
                "mean term mark fell from 64 % to 48 %",
                "aged 13 in G5, where the official age is 10",
                "nothing paid on fees due 30 days or more: US$ 120.00",
            ]
        );
        let calm = serde_json::json!({"chronic_absence": false, "over_age": false});
        assert!(reasons(&calm, Lang::En).is_empty());
        let shona: Vec<String> = reasons(&row, Lang::Sn).into_iter().map(|r| r.text).collect();
        assert_eq!(shona.len(), 4);
        assert!(shona.iter().zip(&texts).all(|(sn, en)| sn != en), "{shona:?}");
    }

    #[test]
    fn the_models_reasons_are_said_in_words() {
        let row = serde_json::json!({
            "grade": "F2",
            "reasons": r#"[{"feature":"absent_last_10","value":6.0,"weight":0.9},
                           {"feature":"mark_change","value":-18.25,"weight":0.4},
                           {"feature":"beam","value":0.0,"weight":0.1},
                           {"feature":"mark_last_year","value":null,"weight":0.08},
                           {"feature":"from_a_newer_model","value":1.0,"weight":0.07}]"#,
        });
        let said: Vec<(String, String)> =
            model_reasons(&row, Lang::En).into_iter().map(|r| (r.code, r.text)).collect();
        let expected = [
            ("absent_last_10", "absent 6 days in the last two weeks"),
            ("mark_change", "mean term mark changed by -18 points since the term before"),
            ("beam", "not on BEAM"),
            ("mark_last_year", "no marks recorded"),
        ];
        let expected: Vec<(String, String)> =
            expected.iter().map(|(c, t)| ((*c).to_owned(), (*t).to_owned())).collect();
        assert_eq!(said, expected);
        for lang in [Lang::Sn, Lang::Nd] {
            let other: Vec<String> =
                model_reasons(&row, lang).into_iter().map(|r| r.text).collect();
            assert_eq!(other.len(), 4);
            assert!(other.iter().zip(&expected).all(|(o, (_, en))| o != en), "{other:?}");
        }
    }
}
