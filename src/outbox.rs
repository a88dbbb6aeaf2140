//! Sending what the platform queued in `comms.outbox` (invitations, and soon announcements and
//! one-time codes): a durable queue in PostgreSQL, not in memory. A sender claims the messages
//! that are due by moving their next attempt ahead (a short transaction, `SKIP LOCKED`, so
//! several senders share the work), then hands each to the gateway and records the outcome:
//! sent, or tried again later with a growing wait, or failed after [`MAX_ATTEMPTS`]. A sender
//! killed between claiming and recording leaves its messages to be tried again when their time
//! comes; the gateway is given each message's id (`Idempotency-Key`) so that a retry of a message
//! it already took is not a second SMS.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use url::Url;
use uuid::Uuid;

/// Attempts before a message is marked failed.
pub const MAX_ATTEMPTS: i32 = 8;
/// Messages claimed at a time.
const BATCH: i64 = 20;
/// How long an idle sender waits before looking again.
const IDLE: Duration = Duration::from_secs(1);

/// One message to send.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: Uuid,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

/// Where messages go: an SMS (or email) provider.
#[async_trait]
pub trait Gateway: Send + Sync {
    /// Sends the message; the provider's id for it, or why not.
    async fn send(&self, message: &Message) -> Result<String, String>;
}

/// The default: nothing leaves the machine; each message is recorded as sent (its row keeps the
/// text) and logged without its recipient or body.
pub struct LocalGateway;

#[async_trait]
impl Gateway for LocalGateway {
    async fn send(&self, message: &Message) -> Result<String, String> {
        tracing::info!(id = %message.id, channel = %message.channel, "message recorded (local gateway)");
        Ok(format!("local-{}", message.id))
    }
}

/// A provider reached over HTTP: `POST` of `{id, channel, to, subject, body}` as JSON with the
/// message's id as `Idempotency-Key`; any 2xx is sent (the answer's `id`, if any, is kept).
pub struct HttpGateway {
    url: Url,
    http: reqwest::Client,
}

impl HttpGateway {
    pub fn new(url: Url) -> Self {
        let http =
            reqwest::Client::builder().timeout(Duration::from_secs(15)).build().unwrap_or_default();
        Self { url, http }
    }
}

#[async_trait]
impl Gateway for HttpGateway {
    async fn send(&self, m: &Message) -> Result<String, String> {
        let resp = self
            .http
            .post(self.url.clone())
            .header("Idempotency-Key", m.id.to_string())
            .json(&json!({"id": m.id, "channel": m.channel, "to": m.recipient,
                          "subject": m.subject, "body": m.body}))
            .send()
            .await
            .map_err(|e| format!("the gateway could not be reached: {e}"))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("the gateway answered {status}"));
        }
        let answer: serde_json::Value = resp.json().await.unwrap_or_default();
        Ok(answer["id"].as_str().map_or_else(|| m.id.to_string(), str::to_owned))
    }
}

/// The gateway the settings name: HTTP when a URL is given, else the local one.
pub fn gateway(url: Option<&Url>) -> Arc<dyn Gateway> {
    match url {
        Some(u) => Arc::new(HttpGateway::new(u.clone())),
        None => Arc::new(LocalGateway),
    }
}

/// The wait before attempt `n + 1` after `n` attempts: 2, 4, 8 … seconds, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempts.clamp(1, 12) as u32).min(3600))
}

/// Claims the due messages and sends them; how many were sent.
pub async fn deliver_due(pool: &PgPool, gateway: &dyn Gateway) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let due = sqlx::query!(
        "SELECT id, channel, recipient, subject, body, attempts FROM comms.outbox
         WHERE status = 'queued' AND next_attempt_at <= now()
         ORDER BY next_attempt_at, created_at LIMIT $1 FOR UPDATE SKIP LOCKED",
        BATCH,
    )
    .fetch_all(&mut *tx)
    .await?;
    for m in &due {
        let wait = backoff(m.attempts + 1);
        sqlx::query!(
            "UPDATE comms.outbox SET attempts = attempts + 1,
                 next_attempt_at = now() + make_interval(secs => $2)
             WHERE id = $1",
            m.id,
            wait.as_secs_f64(),
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let mut sent = 0;
    for m in due {
        let message = Message {
            id: m.id,
            channel: m.channel,
            recipient: m.recipient,
            subject: m.subject,
            body: m.body,
        };
        match gateway.send(&message).await {
            Ok(provider_id) => {
                sqlx::query!(
                    "UPDATE comms.outbox SET status = 'sent', sent_at = now(), provider_id = $2,
                         last_error = NULL
                     WHERE id = $1",
                    message.id,
                    provider_id,
                )
                .execute(pool)
                .await?;
                sent += 1;
            }
            Err(error) => {
                tracing::warn!(id = %message.id, attempt = m.attempts + 1, %error, "message not sent");
                sqlx::query!(
                    "UPDATE comms.outbox SET last_error = $2,
                         status = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'queued' END
                     WHERE id = $1",
                    message.id,
                    error,
                    MAX_ATTEMPTS,
                )
                .execute(pool)
                .await?;
            }
        }
    }
    Ok(sent)
}

/// Sends until `shutdown`; a database error is logged and tried again after a pause.
pub async fn run(pool: PgPool, gateway: Arc<dyn Gateway>, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let pause = match deliver_due(&pool, gateway.as_ref()).await {
            Ok(n) if n > 0 => Duration::ZERO,
            Ok(_) => IDLE,
            Err(e) => {
                tracing::warn!(error = %e, "the outbox could not be read");
                Duration::from_secs(5)
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_and_stops_at_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(40), Duration::from_secs(3600));
    }
}
