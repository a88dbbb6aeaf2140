//! `POST /api/v1/sql`: analysts' read-only SQL over the lake, pseudonymised and limited to their
//! area. The warehouse enforces read-only, limits and privacy; this module only maps the HTTP.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use oneclass_core::types::Role;
use oneclass_warehouse::{Access, Area, Encoder, Format, QueryStream, RecordBatch, WarehouseError};
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

#[derive(Debug, Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Json,
    Csv,
    Arrow,
}

impl OutputFormat {
    /// The format an `Accept` header asks for, by its first media type we serve.
    fn accepted(accept: &str) -> Option<Self> {
        accept.split(',').find_map(|item| {
            let media = item.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            match media.as_str() {
                "application/json" => Some(Self::Json),
                "text/csv" => Some(Self::Csv),
                "application/vnd.apache.arrow.stream" => Some(Self::Arrow),
                _ => None,
            }
        })
    }
}

impl From<OutputFormat> for Format {
    fn from(f: OutputFormat) -> Self {
        match f {
            OutputFormat::Json => Format::Json,
            OutputFormat::Csv => Format::Csv,
            OutputFormat::Arrow => Format::Arrow,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlRequest {
    /// One read-only statement, e.g. `SELECT count(*) FROM silver.sis.learners`.
    pub sql: String,
    /// `json`, `csv` or `arrow`; without it, the request's `Accept` header decides (`text/csv`,
    /// `application/vnd.apache.arrow.stream`), and JSON is the default.
    #[serde(default)]
    pub format: Option<OutputFormat>,
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
pub(crate) fn area_of(user: &AuthUser) -> Area {
    Area::of_scope(user.province.clone(), user.district.clone())
}

/// Run SQL over the lake (analysts). JSON is `{"columns": [{"name", "type"}…], "rows": [{…}…],
/// "truncated": bool}` with every column in every row, at most 100,000 rows (`truncated` says
/// when there were more); CSV has a header; Arrow is an IPC stream. CSV and Arrow are not capped:
/// they are streamed as the query produces them. Direct identifiers are removed and learner ids
/// pseudonymised. A query stopped by its time limit answers 504, by its memory limit 503
/// (problem types `urn:oneclass:problem:query-time-limit` and `…:query-memory-limit`); one that
/// hits a limit after its answer has begun ends the response early (an incomplete body).
#[utoipa::path(post, path = "/sql", tag = "analytics", request_body = SqlRequest,
    responses((status = 200, description = "the result rows"), (status = 403, body = Problem),
              (status = 422, body = Problem),
              (status = 503, description = "the query's memory limit was reached", body = Problem),
              (status = 504, description = "the query's time limit was reached", body = Problem)),
    security(("bearer" = [])))]
async fn run_sql(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ValidJson(req): ValidJson<SqlRequest>,
) -> ApiResult<Response> {
    answer(&state, &user, &req.sql, req.format, &headers).await
}

/// An analyst's SQL answered in `format`, or the one `headers` accept (JSON by default).
pub(crate) async fn answer(
    state: &AppState,
    user: &AuthUser,
    sql: &str,
    format: Option<OutputFormat>,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    user.require(&[Role::Analyst])?;
    let access = Access::Analyst { area: area_of(user) };
    let format = format
        .or_else(|| {
            headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .and_then(OutputFormat::accepted)
        })
        .unwrap_or(OutputFormat::Json);
    let mut stream = state.warehouse.query_stream(sql, &access).await?;
    // The first batch before the status line: a query that fails at once gets its own status.
    let first = stream.next().await.transpose()?;
    let cap = (format == OutputFormat::Json).then(|| state.warehouse.limits().max_rows);
    let mut encoder = Encoder::new(format.into(), stream.schema());
    let content_type = encoder.content_type();
    let mut head = encoder.start()?;
    let mut answer = Answer { stream, encoder, cap, rows: 0, done: false };
    if let Some(batch) = first {
        head.extend(answer.take(batch)?);
    }
    let rest = futures::stream::unfold(answer, |mut answer| async move {
        let piece = answer.next_piece().await?;
        Some((piece, answer))
    });
    let body = futures::stream::once(async move { Ok(Bytes::from(head)) }).chain(rest);
    Ok(([(header::CONTENT_TYPE, content_type)], Body::from_stream(body)).into_response())
}

/// The rest of an answer being streamed.
struct Answer {
    stream: QueryStream,
    encoder: Encoder,
    /// JSON's row cap; CSV and Arrow have none.
    cap: Option<usize>,
    rows: usize,
    done: bool,
}

impl Answer {
    /// A batch's bytes, cut at the cap (and the answer's end written) when it reaches it.
    fn take(&mut self, batch: RecordBatch) -> Result<Vec<u8>, WarehouseError> {
        let room = self.cap.map_or(usize::MAX, |cap| cap - self.rows);
        if batch.num_rows() > room {
            let mut bytes = self.encoder.batch(&batch.slice(0, room))?;
            bytes.extend(self.encoder.finish(true)?);
            self.rows += room;
            self.done = true;
            return Ok(bytes);
        }
        self.rows += batch.num_rows();
        self.encoder.batch(&batch)
    }

    /// The next piece of the body; an error ends the body early, so the client sees an
    /// incomplete answer rather than a short one that looks whole.
    async fn next_piece(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if self.done {
            return None;
        }
        let bytes = match self.stream.next().await {
            None => {
                self.done = true;
                self.encoder.finish(false)
            }
            Some(Ok(batch)) => self.take(batch),
            Some(Err(e)) => Err(e),
        };
        Some(bytes.map(Bytes::from).map_err(|e| {
            tracing::warn!(error = %e, "an SQL answer stopped part-way");
            self.done = true;
            std::io::Error::other(e.to_string())
        }))
    }
}
