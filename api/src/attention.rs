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

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_attention))
}

const LEADERS: &[Role] = &[Role::SchoolHead, Role::Deputy];
const QUERY: &str = "attention";

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
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttentionLearner {
    pub learner_id: LearnerId,
    pub learner_number: String,
    pub name: String,
    pub grade: String,
    pub class_name: Option<String>,
    pub reasons: Vec<Reason>,
}

/// One reason a learner is listed, with its evidence in words.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reason {
    /// `chronic_absence`, `falling_marks`, `over_age` or `arrears`.
    pub code: &'static str,
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
    let rows = flagged(state, school, as_of).await?;
    let ids: Vec<Uuid> =
        rows.iter().filter_map(|r| r["learner_id"].as_str()?.parse().ok()).collect();
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
    let mut learners = Vec::with_capacity(people.len());
    for person in &people {
        let id = person.id.to_string();
        let Some(row) = rows.iter().find(|r| r["learner_id"].as_str() == Some(id.as_str())) else {
            continue;
        };
        learners.push(AttentionLearner {
            learner_id: LearnerId::from(person.id),
            learner_number: person.learner_number.clone(),
            name: format!("{} {}", person.first_name, person.last_name),
            grade: row["grade"].as_str().unwrap_or_default().to_owned(),
            class_name: row["class_name"].as_str().map(str::to_owned),
            reasons: reasons(row, lang),
        });
    }
    let read: Vec<(Uuid, Uuid)> = people.iter().map(|p| (p.id, p.school_id)).collect();
    audit_reads(&mut tx, user, request_id, "list", &read).await?;
    tx.commit().await?;
    learners.sort_by(|a, b| b.reasons.len().cmp(&a.reasons.len()).then(a.name.cmp(&b.name)));
    Ok(Attention { school_id: school, as_of, rule: RULE, learners })
}

/// The lake's flagged learners of the school, as JSON rows; none while the lake lacks a table
/// the rule reads (a new deployment).
async fn flagged(state: &AppState, school: SchoolId, as_of: NaiveDate) -> ApiResult<Vec<Value>> {
    let epoch = NaiveDate::default();
    let day = i32::try_from((as_of - epoch).num_days())
        .map_err(|_| ApiError::field("as_of", "out of range"))?;
    let params = vec![ScalarValue::Utf8(Some(school.to_string())), ScalarValue::Date32(Some(day))];
    let batches = match state.warehouse.named(QUERY, params).await {
        Ok(batches) => batches,
        Err(WarehouseError::Invalid(why)) if why.contains("not found") => return Ok(Vec::new()),
        Err(e @ (WarehouseError::Timeout(_) | WarehouseError::ResourcesExhausted(_))) => {
            return Err(e.into());
        }
        Err(e) => return Err(ApiError::Internal(format!("{QUERY}: {e}"))),
    };
    let output = QueryOutput { batches, truncated: false };
    let (_, json) = oneclass_warehouse::encode(&output, Format::Json)
        .map_err(|e| ApiError::Internal(format!("{QUERY}: {e}")))?;
    let answer: Value =
        serde_json::from_slice(&json).map_err(|e| ApiError::Internal(format!("{QUERY}: {e}")))?;
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
            code: "chronic_absence",
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
            code: "falling_marks",
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
            code: "over_age",
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
            code: "arrears",
            text: lang.t1(
                "reason-arrears",
                "owed",
                owed.join(&format!(" {} ", lang.t("reason-and"))),
            ),
        });
    }
    out
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
}
