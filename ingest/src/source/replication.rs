//! The streaming replication transport: a `replication=database` connection that authenticates
//! (SCRAM-SHA-256, md5 or cleartext), runs replication commands, and then speaks CopyBoth:
//! XLogData and keepalives in, Standby Status Updates out.
//!
//! sqlx cannot open replication connections, so this is written against the wire protocol with
//! `postgres-protocol` for message encoding and SCRAM. Backend messages are parsed here because
//! the crate's parser does not know CopyBothResponse.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{ChannelBinding, SCRAM_SHA_256, ScramSha256};
use postgres_protocol::message::frontend;
use secrecy::ExposeSecret;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinHandle;

use crate::config::SourceConfig;
use crate::error::IngestError;
use crate::lsn::Lsn;
use crate::source::pgoutput::{self, PgOutput};

/// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01 UTC).
pub const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

/// How often the server hears from us even when nothing happens (wal_sender_timeout is
/// usually 60 s).
pub(crate) const STATUS_INTERVAL: Duration = Duration::from_secs(5);

/// Frames larger than this are refused rather than buffered: a corrupt length must not make
/// us allocate gigabytes. pgoutput sends one WAL change per frame, so 1 GiB is generous.
const MAX_FRAME: usize = 1 << 30;

/// One message of the CopyBoth stream.
#[derive(Debug)]
pub enum ReplicationMessage {
    /// A pgoutput message, decoded by the reader task.
    XLogData {
        wal_end: Lsn,
        message: PgOutput,
    },
    Keepalive {
        wal_end: Lsn,
        reply_requested: bool,
    },
    /// The server ended the stream (CopyDone).
    End,
}

#[derive(Debug, Clone)]
pub struct SystemIdentity {
    pub system_id: String,
    pub timeline: String,
    pub xlog_pos: Lsn,
    pub database: String,
}

#[derive(Debug, Clone)]
pub struct CreatedSlot {
    pub consistent_point: Lsn,
    pub snapshot_name: String,
}

/// Messages in the reader's channel beyond which it waits (each also holds its bytes of the
/// budget).
const CHANNEL_MESSAGES: usize = 1 << 16;

pub struct ReplicationConnection {
    /// The command phase's stream; taken apart when streaming starts.
    stream: Option<TcpStream>,
    inbuf: BytesMut,
    out: BytesMut,
    streaming: bool,
    /// While streaming: the stream's write half (status updates, CopyDone)…
    write: Option<OwnedWriteHalf>,
    /// …and what the reader task has read and decoded.
    reader: Option<Reader>,
}

/// A task that reads and decodes the stream while the caller does other work (writes a batch,
/// folds, compacts), so the server is not held up by it, up to a budget of bytes: a message
/// holds its bytes of the budget until it is taken from the channel.
struct Reader {
    rx: mpsc::Receiver<(Result<ReplicationMessage, IngestError>, Option<OwnedSemaphorePermit>)>,
    task: JoinHandle<()>,
}

impl ReplicationConnection {
    pub async fn connect(cfg: &SourceConfig) -> Result<Self, IngestError> {
        let stream = TcpStream::connect((cfg.host.as_str(), cfg.port)).await?;
        stream.set_nodelay(true)?;
        let mut conn = Self {
            stream: Some(stream),
            inbuf: BytesMut::with_capacity(64 * 1024),
            out: BytesMut::with_capacity(1024),
            streaming: false,
            write: None,
            reader: None,
        };
        // Text output of every value depends on these settings; pin them so that the same
        // parser reads pgoutput and the snapshot's COPY.
        let params = [
            ("user", cfg.user.as_str()),
            ("database", cfg.database.as_str()),
            ("replication", "database"),
            ("application_name", "oneclass-ingest"),
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO"),
            ("TimeZone", "UTC"),
            ("extra_float_digits", "3"),
        ];
        frontend::startup_message(params.iter().copied(), &mut conn.out)?;
        conn.flush().await?;
        conn.authenticate(cfg).await?;
        conn.wait_ready().await?;
        Ok(conn)
    }

    async fn authenticate(&mut self, cfg: &SourceConfig) -> Result<(), IngestError> {
        let mut scram: Option<ScramSha256> = None;
        loop {
            let (tag, mut body) = self.read_frame().await?;
            match tag {
                b'R' => {
                    let code = get_i32(&mut body)?;
                    match code {
                        0 => return Ok(()),
                        3 => {
                            frontend::password_message(
                                cfg.password.expose_secret().as_bytes(),
                                &mut self.out,
                            )?;
                            self.flush().await?;
                        }
                        5 => {
                            if body.remaining() < 4 {
                                return Err(IngestError::Protocol("short md5 salt".into()));
                            }
                            let salt = [body[0], body[1], body[2], body[3]];
                            let hash = md5_hash(
                                cfg.user.as_bytes(),
                                cfg.password.expose_secret().as_bytes(),
                                salt,
                            );
                            frontend::password_message(hash.as_bytes(), &mut self.out)?;
                            self.flush().await?;
                        }
                        10 => {
                            let mechanisms = cstrings(&body);
                            if !mechanisms.iter().any(|m| m == SCRAM_SHA_256) {
                                return Err(IngestError::Auth(format!(
                                    "server offers only {mechanisms:?}; SCRAM-SHA-256 without TLS is required"
                                )));
                            }
                            let client = ScramSha256::new(
                                cfg.password.expose_secret().as_bytes(),
                                ChannelBinding::unsupported(),
                            );
                            frontend::sasl_initial_response(
                                SCRAM_SHA_256,
                                client.message(),
                                &mut self.out,
                            )?;
                            self.flush().await?;
                            scram = Some(client);
                        }
                        11 => {
                            let client = scram.as_mut().ok_or_else(|| {
                                IngestError::Protocol("SASL continue before start".into())
                            })?;
                            client.update(&body).map_err(|e| IngestError::Auth(e.to_string()))?;
                            frontend::sasl_response(client.message(), &mut self.out)?;
                            self.flush().await?;
                        }
                        12 => {
                            let client = scram.as_mut().ok_or_else(|| {
                                IngestError::Protocol("SASL final before start".into())
                            })?;
                            // Verifies the server's signature: a server that does not know the
                            // password cannot impersonate the real one.
                            client.finish(&body).map_err(|e| IngestError::Auth(e.to_string()))?;
                        }
                        other => {
                            return Err(IngestError::Auth(format!(
                                "unsupported authentication method (code {other})"
                            )));
                        }
                    }
                }
                b'E' => {
                    let err = server_error(&body);
                    return Err(match err {
                        IngestError::Server { code, message }
                            if code == "28P01" || code == "28000" =>
                        {
                            IngestError::Auth(message)
                        }
                        other => other,
                    });
                }
                b'v' => {
                    return Err(IngestError::Protocol(
                        "server asked to negotiate the protocol version".into(),
                    ));
                }
                b'N' => {}
                other => {
                    return Err(IngestError::Protocol(format!(
                        "unexpected message {:?} during authentication",
                        char::from(other)
                    )));
                }
            }
        }
    }

    /// Consumes messages until ReadyForQuery, failing on ErrorResponse.
    async fn wait_ready(&mut self) -> Result<(), IngestError> {
        let mut error = None;
        loop {
            let (tag, body) = self.read_frame().await?;
            match tag {
                b'Z' => return error.map_or(Ok(()), Err),
                b'E' => error = Some(server_error(&body)),
                _ => {}
            }
        }
    }

    /// Runs one simple-query command and returns its rows as text.
    pub async fn simple_query(
        &mut self,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, IngestError> {
        if self.streaming {
            return Err(IngestError::Protocol("query on a streaming connection".into()));
        }
        frontend::query(sql, &mut self.out)?;
        self.flush().await?;
        let mut rows = Vec::new();
        let mut error = None;
        loop {
            let (tag, body) = self.read_frame().await?;
            match tag {
                b'D' => rows.push(data_row(body)?),
                b'E' => error = Some(server_error(&body)),
                b'Z' => return error.map_or(Ok(rows), Err),
                _ => {}
            }
        }
    }

    pub async fn identify_system(&mut self) -> Result<SystemIdentity, IngestError> {
        let rows = self.simple_query("IDENTIFY_SYSTEM").await?;
        let row = rows
            .first()
            .ok_or_else(|| IngestError::Protocol("IDENTIFY_SYSTEM returned no row".into()))?;
        let col = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        Ok(SystemIdentity {
            system_id: col(0),
            timeline: col(1),
            xlog_pos: col(2).parse().map_err(IngestError::Protocol)?,
            database: col(3),
        })
    }

    /// Creates the slot and exports its snapshot. The snapshot lives only while this connection
    /// stays idle: copy the tables before sending anything else here.
    pub async fn create_slot(&mut self, slot: &str) -> Result<CreatedSlot, IngestError> {
        let rows = self
            .simple_query(&format!(
                "CREATE_REPLICATION_SLOT {slot} LOGICAL pgoutput EXPORT_SNAPSHOT"
            ))
            .await?;
        let row = rows.first().ok_or_else(|| {
            IngestError::Protocol("CREATE_REPLICATION_SLOT returned no row".into())
        })?;
        let consistent_point = row
            .get(1)
            .cloned()
            .flatten()
            .ok_or_else(|| IngestError::Protocol("no consistent point".into()))?
            .parse()
            .map_err(IngestError::Protocol)?;
        let snapshot_name = row
            .get(2)
            .cloned()
            .flatten()
            .ok_or_else(|| IngestError::Protocol("no exported snapshot".into()))?;
        Ok(CreatedSlot { consistent_point, snapshot_name })
    }

    /// Enters CopyBoth mode. Changes committed before `start` (or before the slot's confirmed
    /// flush position, whichever is later) are not sent again.
    /// Starts streaming; from then on a reader task reads and decodes up to `read_ahead_bytes`
    /// of the stream ahead of [`recv`](Self::recv).
    pub async fn start_replication(
        &mut self,
        slot: &str,
        start: Lsn,
        publication: &str,
        read_ahead_bytes: usize,
    ) -> Result<(), IngestError> {
        let names = format!("\"{}\"", publication.replace('"', "\"\"")).replace('\'', "''");
        let sql = format!(
            "START_REPLICATION SLOT {slot} LOGICAL {start} (proto_version '1', publication_names '{names}')"
        );
        frontend::query(&sql, &mut self.out)?;
        self.flush().await?;
        let mut error = None;
        loop {
            let (tag, body) = self.read_frame().await?;
            match tag {
                b'W' => {
                    self.streaming = true;
                    self.start_reader(read_ahead_bytes)?;
                    return Ok(());
                }
                b'E' => error = Some(server_error(&body)),
                b'Z' => {
                    return Err(error.unwrap_or_else(|| {
                        IngestError::Protocol("START_REPLICATION did not start streaming".into())
                    }));
                }
                _ => {}
            }
        }
    }

    fn start_reader(&mut self, budget: usize) -> Result<(), IngestError> {
        let stream = self
            .stream
            .take()
            .ok_or_else(|| IngestError::Protocol("the connection is already streaming".into()))?;
        let (read, write) = stream.into_split();
        let (tx, rx) = mpsc::channel(CHANNEL_MESSAGES);
        let budget = budget.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        let inbuf = std::mem::take(&mut self.inbuf);
        let task =
            tokio::spawn(read_stream(read, inbuf, tx, Arc::new(Semaphore::new(budget)), budget));
        self.write = Some(write);
        self.reader = Some(Reader { rx, task });
        Ok(())
    }

    /// Next message of the stream, read and decoded ahead by the reader task. Cancel-safe, so it
    /// can sit in a `select!` beside timers.
    pub async fn recv(&mut self) -> Result<ReplicationMessage, IngestError> {
        let reader = self
            .reader
            .as_mut()
            .ok_or_else(|| IngestError::Protocol("the connection is not streaming".into()))?;
        match reader.rx.recv().await {
            // The permit goes with the message: its bytes return to the budget.
            Some((msg, _permit)) => msg,
            None => Err(IngestError::Protocol("the replication reader stopped".into())),
        }
    }

    /// Standby Status Update. `flushed` tells the server it may recycle WAL and move the slot's
    /// confirmed_flush_lsn: only pass positions whose changes are durable in the lake.
    pub async fn send_status(
        &mut self,
        written: Lsn,
        flushed: Lsn,
        reply: bool,
    ) -> Result<(), IngestError> {
        let mut payload = BytesMut::with_capacity(34);
        payload.put_u8(b'r');
        payload.put_u64(written.0);
        payload.put_u64(flushed.0);
        payload.put_u64(flushed.0);
        payload.put_i64(now_pg_micros());
        payload.put_u8(u8::from(reply));
        frontend::CopyData::new(payload.freeze())?.write(&mut self.out);
        self.flush().await
    }

    /// Runs `work` while telling the server every [`STATUS_INTERVAL`] that we are alive
    /// (positions unchanged), so a long write does not hit `wal_sender_timeout`. The reader task
    /// keeps reading and decoding the stream meanwhile, up to its budget.
    pub(crate) async fn keep_alive<T>(
        &mut self,
        received: Lsn,
        acked: Lsn,
        work: impl Future<Output = Result<T, IngestError>>,
    ) -> Result<T, IngestError> {
        let mut work = std::pin::pin!(work);
        let mut status_at = tokio::time::Instant::now() + STATUS_INTERVAL;
        loop {
            tokio::select! {
                biased;
                result = &mut work => return result,
                () = tokio::time::sleep_until(status_at) => {
                    self.send_status(received.max(acked), acked, false).await?;
                    status_at = tokio::time::Instant::now() + STATUS_INTERVAL;
                }
            }
        }
    }

    /// Ends the session politely; the walsender then releases the slot at once, so a restart
    /// does not have to wait for it to time out.
    pub async fn close(mut self) {
        if self.streaming {
            frontend::copy_done(&mut self.out);
        }
        frontend::terminate(&mut self.out);
        let _ = self.flush().await;
        if let Some(reader) = self.reader.take() {
            reader.task.abort();
        }
        if let Some(mut write) = self.write.take() {
            let _ = write.shutdown().await;
        }
        if let Some(mut stream) = self.stream.take() {
            let _ = stream.shutdown().await;
        }
    }

    async fn flush(&mut self) -> Result<(), IngestError> {
        if !self.out.is_empty() {
            if let Some(write) = self.write.as_mut() {
                write.write_all(&self.out).await?;
            } else if let Some(stream) = self.stream.as_mut() {
                stream.write_all(&self.out).await?;
            } else {
                return Err(IngestError::Protocol("the connection is closed".into()));
            }
            self.out.clear();
        }
        Ok(())
    }

    /// One backend message of the command phase: its tag and body (length word removed).
    async fn read_frame(&mut self) -> Result<(u8, Bytes), IngestError> {
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| IngestError::Protocol("the connection is streaming".into()))?;
        read_frame(stream, &mut self.inbuf).await
    }
}

impl Drop for ReplicationConnection {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            reader.task.abort();
        }
    }
}

/// The reader task: frames of the CopyBoth stream, parsed and decoded, into the channel, until
/// the stream ends, fails, or the receiver is gone.
async fn read_stream<R: AsyncRead + Unpin>(
    mut read: R,
    mut inbuf: BytesMut,
    tx: mpsc::Sender<(Result<ReplicationMessage, IngestError>, Option<OwnedSemaphorePermit>)>,
    budget: Arc<Semaphore>,
    limit: usize,
) {
    loop {
        let frame = read_frame(&mut read, &mut inbuf).await;
        let size = frame.as_ref().map_or(0, |(_, body)| body.len());
        let msg = frame.and_then(|(tag, body)| streaming_message(tag, body)).transpose();
        let Some(msg) = msg else { continue };
        let last = !matches!(
            msg,
            Ok(ReplicationMessage::XLogData { .. } | ReplicationMessage::Keepalive { .. })
        );
        // A message larger than the whole budget takes all of it.
        let permits = u32::try_from(size.clamp(1, limit)).unwrap_or(u32::MAX);
        let Ok(permit) = budget.clone().acquire_many_owned(permits).await else { return };
        if tx.send((msg, Some(permit))).await.is_err() || last {
            return;
        }
    }
}

/// A frame of the CopyBoth stream as a message; None for one to skip (notices, parameter
/// changes).
fn streaming_message(tag: u8, mut body: Bytes) -> Result<Option<ReplicationMessage>, IngestError> {
    match tag {
        b'd' => {
            if body.is_empty() {
                return Err(IngestError::Protocol("empty CopyData".into()));
            }
            let kind = body.get_u8();
            match kind {
                b'w' => {
                    if body.remaining() < 24 {
                        return Err(IngestError::Protocol("short XLogData header".into()));
                    }
                    let _wal_start = body.get_u64();
                    let wal_end = Lsn(body.get_u64());
                    let _server_clock = body.get_i64();
                    let message = pgoutput::decode(body)?;
                    Ok(Some(ReplicationMessage::XLogData { wal_end, message }))
                }
                b'k' => {
                    if body.remaining() < 17 {
                        return Err(IngestError::Protocol("short keepalive".into()));
                    }
                    let wal_end = Lsn(body.get_u64());
                    let _server_clock = body.get_i64();
                    let reply_requested = body.get_u8() == 1;
                    Ok(Some(ReplicationMessage::Keepalive { wal_end, reply_requested }))
                }
                other => Err(IngestError::Protocol(format!(
                    "unknown CopyData message {:?}",
                    char::from(other)
                ))),
            }
        }
        b'c' => Ok(Some(ReplicationMessage::End)),
        b'E' => Err(server_error(&body)),
        // Notices and parameter changes can arrive at any time.
        b'N' | b'S' => Ok(None),
        other => Err(IngestError::Protocol(format!(
            "unexpected message {:?} while streaming",
            char::from(other)
        ))),
    }
}

/// One backend message from `stream`: its tag and body (length word removed). Cancel-safe:
/// bytes already read stay in `inbuf`.
async fn read_frame<S: AsyncRead + Unpin>(
    stream: &mut S,
    inbuf: &mut BytesMut,
) -> Result<(u8, Bytes), IngestError> {
    loop {
        if inbuf.len() >= 5 {
            let len = u32::from_be_bytes([inbuf[1], inbuf[2], inbuf[3], inbuf[4]]) as usize;
            if !(4..=MAX_FRAME).contains(&len) {
                return Err(IngestError::Protocol(format!("invalid message length {len}")));
            }
            if inbuf.len() > len {
                let mut frame = inbuf.split_to(len + 1);
                let tag = frame[0];
                frame.advance(5);
                return Ok((tag, frame.freeze()));
            }
            inbuf.reserve(len + 1 - inbuf.len());
        }
        let n = stream.read_buf(inbuf).await?;
        if n == 0 {
            return Err(IngestError::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "PostgreSQL closed the replication connection",
            )));
        }
    }
}

pub fn now_pg_micros() -> i64 {
    let since_unix = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    i64::try_from(since_unix.as_micros()).unwrap_or(i64::MAX) - PG_EPOCH_OFFSET_MICROS
}

fn get_i32(body: &mut Bytes) -> Result<i32, IngestError> {
    if body.remaining() < 4 {
        return Err(IngestError::Protocol("short message".into()));
    }
    Ok(body.get_i32())
}

/// NUL-terminated strings up to the terminating empty one.
fn cstrings(body: &[u8]) -> Vec<String> {
    body.split(|b| *b == 0)
        .take_while(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// ErrorResponse fields: SQLSTATE ('C') and message ('M'), plus detail when present.
fn server_error(body: &[u8]) -> IngestError {
    let mut code = String::new();
    let mut message = String::new();
    let mut detail = String::new();
    let mut rest = body;
    while let Some((&kind, tail)) = rest.split_first() {
        if kind == 0 {
            break;
        }
        let end = tail.iter().position(|b| *b == 0).unwrap_or(tail.len());
        let value = String::from_utf8_lossy(&tail[..end]).into_owned();
        match kind {
            b'C' => code = value,
            b'M' => message = value,
            b'D' => detail = value,
            _ => {}
        }
        rest = tail.get(end + 1..).unwrap_or(&[]);
    }
    if !detail.is_empty() {
        message = format!("{message} ({detail})");
    }
    IngestError::Server { code, message }
}

fn data_row(mut body: Bytes) -> Result<Vec<Option<String>>, IngestError> {
    if body.remaining() < 2 {
        return Err(IngestError::Protocol("short DataRow".into()));
    }
    let n = body.get_i16();
    let mut row = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    for _ in 0..n {
        let len = get_i32(&mut body)?;
        if len < 0 {
            row.push(None);
            continue;
        }
        let len = len as usize;
        if body.remaining() < len {
            return Err(IngestError::Protocol("short DataRow value".into()));
        }
        let value = body.split_to(len);
        row.push(Some(String::from_utf8_lossy(&value).into_owned()));
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_error_fields() {
        let body = b"SERROR\0C55006\0Mreplication slot \"x\" is active\0\0";
        let err = server_error(body);
        assert!(err.is_object_in_use());
        assert!(err.to_string().contains("is active"));
    }

    fn copy_data(payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![b'd'];
        frame.extend_from_slice(&u32::try_from(payload.len() + 4).expect("len").to_be_bytes());
        frame.extend_from_slice(payload);
        frame
    }

    /// XLogData carrying a pgoutput Begin (final LSN `lsn`), padded by a Message of `pad` bytes.
    fn begin(wal_end: u64, lsn: u64) -> Vec<u8> {
        let mut p = vec![b'w'];
        p.extend_from_slice(&0u64.to_be_bytes());
        p.extend_from_slice(&wal_end.to_be_bytes());
        p.extend_from_slice(&0i64.to_be_bytes());
        p.push(b'B');
        p.extend_from_slice(&lsn.to_be_bytes());
        p.extend_from_slice(&0i64.to_be_bytes());
        p.extend_from_slice(&7u32.to_be_bytes());
        copy_data(&p)
    }

    #[tokio::test]
    async fn reader_decodes_in_order_and_waits_for_its_budget() {
        let (mut server, client) = tokio::io::duplex(1 << 16);
        let (tx, mut rx) = mpsc::channel(16);
        // A budget smaller than one message: the reader holds one message at a time.
        let reader =
            tokio::spawn(read_stream(client, BytesMut::new(), tx, Arc::new(Semaphore::new(8)), 8));
        let mut keepalive = vec![b'k'];
        keepalive.extend_from_slice(&30u64.to_be_bytes());
        keepalive.extend_from_slice(&0i64.to_be_bytes());
        keepalive.push(1);
        let mut bytes = begin(10, 100);
        bytes.extend(begin(20, 200));
        // A notice between: skipped.
        bytes.extend_from_slice(&[b'N', 0, 0, 0, 5, 0]);
        bytes.extend(copy_data(&keepalive));
        bytes.extend_from_slice(&[b'c', 0, 0, 0, 4]);
        server.write_all(&bytes).await.expect("write");

        let (first, permit) = rx.recv().await.expect("first message");
        assert!(matches!(
            first,
            Ok(ReplicationMessage::XLogData {
                wal_end: Lsn(10),
                message: PgOutput::Begin { final_lsn: Lsn(100), .. }
            })
        ));
        // The budget is held by the first message until it is let go (a slow reader only
        // makes this pass more easily; it fails only when the reader goes past the budget).
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(rx.try_recv().is_err(), "read past the budget");
        drop(permit);
        let (second, _) = rx.recv().await.expect("second");
        assert!(matches!(second, Ok(ReplicationMessage::XLogData { wal_end: Lsn(20), .. })));
        let (third, _) = rx.recv().await.expect("keepalive");
        assert!(matches!(
            third,
            Ok(ReplicationMessage::Keepalive { wal_end: Lsn(30), reply_requested: true })
        ));
        let (end, _) = rx.recv().await.expect("end");
        assert!(matches!(end, Ok(ReplicationMessage::End)));
        reader.await.expect("the reader ends after CopyDone");
        assert!(rx.recv().await.is_none());
    }

    #[tokio::test]
    async fn reader_reports_a_broken_stream_and_stops() {
        let (server, client) = tokio::io::duplex(64);
        let (tx, mut rx) = mpsc::channel(4);
        let reader = tokio::spawn(read_stream(
            client,
            BytesMut::new(),
            tx,
            Arc::new(Semaphore::new(64)),
            64,
        ));
        drop(server);
        let (msg, _) = rx.recv().await.expect("an error");
        assert!(matches!(msg, Err(IngestError::Io(_))), "{msg:?}");
        reader.await.expect("stopped");
    }

    #[test]
    fn parses_data_rows_with_nulls() {
        let mut b = BytesMut::new();
        b.put_i16(2);
        b.put_i32(3);
        b.put_slice(b"abc");
        b.put_i32(-1);
        let row = data_row(b.freeze()).expect("row");
        assert_eq!(row, vec![Some("abc".to_string()), None]);
    }
}
