//! Live updates of new messages: a trigger sends `learner:message` on PostgreSQL's
//! `comms_messages` channel when a message commits; one listener per server ([`Live::listen`])
//! passes each notice to every open event stream, which decides what its reader may see. A
//! lost connection is opened again; notices missed meanwhile are not replayed (the pages read
//! the table when they open).

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The channel the trigger announces messages on.
const CHANNEL: &str = "comms_messages";

/// The server's side of live updates: notices of committed messages, and a signal that ends
/// every open stream when the server shuts down.
#[derive(Clone)]
pub struct Live {
    notices: broadcast::Sender<Notice>,
    stop: CancellationToken,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

/// A message committed: its learner and its id.
#[derive(Debug, Clone, Copy)]
pub struct Notice {
    pub learner: Uuid,
    pub message: Uuid,
}

impl Live {
    pub fn new() -> Self {
        Self { notices: broadcast::channel(1024).0, stop: CancellationToken::new() }
    }

    /// A receiver of the notices from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    /// Cancelled when the server shuts down: open streams end with it.
    pub fn stopped(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Ends the listener and every open stream (at shutdown).
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Listens on the channel until the server stops; a lost connection is opened again.
    pub async fn listen(self, pool: PgPool) {
        while !self.stop.is_cancelled() {
            let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(error) => {
                    tracing::warn!(%error, "live updates: cannot listen; trying again");
                    tokio::select! {
                        _ = self.stop.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(5)) => continue,
                    }
                }
            };
            if let Err(error) = listener.listen(CHANNEL).await {
                tracing::warn!(%error, "live updates: LISTEN failed; trying again");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
            loop {
                let received = tokio::select! {
                    _ = self.stop.cancelled() => return,
                    r = listener.recv() => r,
                };
                match received {
                    Ok(n) => {
                        if let Some(notice) = parse_notice(n.payload()) {
                            // No open stream is not an error.
                            let _ = self.notices.send(notice);
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "live updates: the listener failed; reconnecting");
                        break;
                    }
                }
            }
        }
    }
}

fn parse_notice(payload: &str) -> Option<Notice> {
    let (learner, message) = payload.split_once(':')?;
    Some(Notice { learner: learner.parse().ok()?, message: message.parse().ok()? })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_notice_names_the_learner_and_the_message() {
        let l = uuid::Uuid::now_v7();
        let m = uuid::Uuid::now_v7();
        let n = super::parse_notice(&format!("{l}:{m}")).expect("parsed");
        assert_eq!((n.learner, n.message), (l, m));
        assert!(super::parse_notice("nonsense").is_none());
    }
}
