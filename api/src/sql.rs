//! `POST /api/v1/sql`: analysts' read-only SQL over the lake, pseudonymised and limited to their
//! area. The warehouse enforces read-only, limits and privacy; this module only maps the HTTP.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use oneclass_core::types::Role;
use oneclass_warehouse::{Access, Area, Format};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::error::{ApiResult, FieldError, Problem};
use crate::extract::{ValidJson, Validate};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(run_sql))
}

#[derive(Debug, Deserialize, ToSchema, Clone, Copy, Default)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    #[default]
    Json,
    Csv,
    Arrow,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlRequest {
    /// One read-only statement, e.g. `SELECT count(*) FROM silver.sis.learners`.
    pub sql: String,
    #[serde(default)]
    pub format: OutputFormat,
}

impl Validate for SqlRequest {
    fn validate(&self) -> Vec<FieldError> {
        if self.sql.trim().is_empty() {
            vec![FieldError::new("sql", "must not be empty")]
        } else if self.sql.len() > 100_000 {
            vec![FieldError::new("sql", "at most 100,000 characters")]
        } else {
            vec![]
        }
    }
}

/// The area an analyst's data is limited to, from their account's scope.
fn area_of(user: &AuthUser) -> Area {
    match (&user.province, &user.district) {
        (_, Some(d)) => Area::District(d.clone()),
        (Some(p), None) => Area::Province(p.clone()),
        _ => Area::National,
    }
}

/// Run SQL over the lake (analysts). JSON is `{"columns": [{"name", "type"}…], "rows": [{…}…],
/// "truncated": bool}` with every column in every row; CSV has a header; Arrow is an IPC
/// stream. Direct identifiers are removed and learner ids pseudonymised. A query stopped by its
/// time limit answers 504, by its memory limit 503 (problem types
/// `urn:oneclass:problem:query-time-limit` and `…:query-memory-limit`).
#[utoipa::path(post, path = "/sql", tag = "analytics", request_body = SqlRequest,
    responses((status = 200, description = "the result rows"), (status = 403, body = Problem),
              (status = 422, body = Problem),
              (status = 503, description = "the query's memory limit was reached", body = Problem),
              (status = 504, description = "the query's time limit was reached", body = Problem)),
    security(("bearer" = [])))]
async fn run_sql(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(req): ValidJson<SqlRequest>,
) -> ApiResult<Response> {
    user.require(&[Role::Analyst])?;
    let access = Access::Analyst { area: area_of(&user) };
    let out = state.warehouse.query(&req.sql, &access).await?;
    let format = match req.format {
        OutputFormat::Json => Format::Json,
        OutputFormat::Csv => Format::Csv,
        OutputFormat::Arrow => Format::Arrow,
    };
    let (content_type, body) = oneclass_warehouse::encode(&out, format)?;
    let mut resp = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if out.truncated {
        resp.headers_mut().insert("x-oneclass-truncated", header::HeaderValue::from_static("true"));
    }
    Ok(resp)
}
