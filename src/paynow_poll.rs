//! Asking Paynow about payments whose status update never came. Paynow posts an update to the
//! result URL when a payer pays, but a post can be lost (the server was down, the network was
//! cut); Paynow's answer is then to poll the transaction's poll URL. This job polls every open
//! transaction (status `Created` or `Sent`, no payment yet) a minute after it started and for two
//! days, and applies what Paynow says through `finance.apply_paynow_update`, the same function
//! the result URL uses: a payment polled and also posted is recorded once.

use std::time::Duration;

use oneclass_paynow::Client;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// How often open transactions are polled.
pub const EVERY: Duration = Duration::from_secs(30);
/// Transactions younger than this are left to the status update.
pub const DUE_AFTER: Duration = Duration::from_secs(60);
/// Transactions polled at a time.
const BATCH: i64 = 100;

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Polled {
    pub asked: usize,
    /// Status changes recorded (paid, cancelled, …).
    pub changed: usize,
}

/// Polls the open transactions older than `due_after` once, least recently asked first (each
/// answer touches the row), so a backlog of abandoned payments does not keep newer ones from
/// being asked; stops at `shutdown`.
pub async fn poll_open(
    pool: &PgPool,
    client: &Client,
    due_after: Duration,
    shutdown: &CancellationToken,
) -> anyhow::Result<Polled> {
    let open = sqlx::query!(
        "SELECT reference, poll_url FROM finance.paynow_transactions
         WHERE payment_id IS NULL AND status IN ('Created', 'Sent')
           AND created_at <= now() - make_interval(secs => $1)
           AND created_at > now() - interval '2 days'
         ORDER BY updated_at LIMIT $2",
        due_after.as_secs_f64(),
        BATCH,
    )
    .fetch_all(pool)
    .await?;
    let mut polled = Polled::default();
    for t in open {
        polled.asked += 1;
        let answer = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = client.poll(&t.poll_url) => a,
        };
        let update = match answer {
            Ok(u) => u,
            Err(error) => {
                tracing::warn!(reference = %t.reference, %error, "Paynow poll failed");
                continue;
            }
        };
        if update.reference != t.reference {
            tracing::warn!(reference = %t.reference, "Paynow answered a poll about another reference");
            continue;
        }
        let outcome = oneclass_api::paynow::apply_update(pool, &update).await?;
        if outcome == "applied" || (outcome == "recorded" && update.status.as_str() != "Created") {
            polled.changed += 1;
        }
        tracing::info!(reference = %t.reference, status = update.status.as_str(), outcome, "Paynow polled");
    }
    Ok(polled)
}

/// Polls every [`EVERY`] until `shutdown`.
pub async fn run(pool: PgPool, client: Client, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        if let Err(error) = poll_open(&pool, &client, DUE_AFTER, &shutdown).await {
            tracing::warn!(%error, "Paynow transactions could not be polled");
        }
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}
