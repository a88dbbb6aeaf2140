//! The streaming replication transport: a `replication=database` connection that authenticates
//! (SCRAM-SHA-256, md5 or cleartext), runs replication commands, and then speaks CopyBoth:
//! XLogData and keepalives in, Standby Status Updates out.
//!
//! sqlx cannot open replication connections, so this is written against the wire protocol with
//! `postgres-protocol` for message encoding and SCRAM. Backend messages are parsed here because
//! the crate's parser does not know CopyBothResponse.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{ChannelBinding, SCRAM_SHA_256, ScramSha256};
use postgres_protocol::message::frontend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::SourceConfig;
use crate::error::IngestError;
use crate::lsn::Lsn;

/// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01 UTC).
pub const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

/// Frames larger than this are refused rather than buffered: a corrupt length must not make
/// us allocate gigabytes. pgoutput sends one WAL change per frame, so 1 GiB is generous.
const MAX_FRAME: usize = 1 << 30;

/// One message of the CopyBoth stream.
#[derive(Debug)]
pub enum ReplicationMessage {
    XLogData {
        wal_end: Lsn,
        data: Bytes,
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

pub struct ReplicationConnection {
    stream: TcpStream,
    inbuf: BytesMut,
    out: BytesMut,
    streaming: bool,
}

impl ReplicationConnection {
    pub async fn connect(cfg: &SourceConfig) -> Result<Self, IngestError> {
        let stream = TcpStream::connect((cfg.host.as_str(), cfg.port)).await?;
        stream.set_nodelay(true)?;
        let mut conn = Self {
            stream,
            inbuf: BytesMut::with_capacity(64 * 1024),
            out: BytesMut::with_capacity(1024),
            streaming: false,
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
                            frontend::password_message(cfg.password.as_bytes(), &mut self.out)?;
                            self.flush().await?;
                        }
                        5 => {
                            if body.remaining() < 4 {
                                return Err(IngestError::Protocol("short md5 salt".into()));
                            }
                            let salt = [body[0], body[1], body[2], body[3]];
                            let hash = md5_hash(cfg.user.as_bytes(), cfg.password.as_bytes(), salt);
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
                                cfg.password.as_bytes(),
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
    pub async fn start_replication(
        &mut self,
        slot: &str,
        start: Lsn,
        publication: &str,
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

    /// Next message of the stream. Cancel-safe: bytes already read stay buffered, so it can sit
    /// in a `select!` beside timers.
    pub async fn recv(&mut self) -> Result<ReplicationMessage, IngestError> {
        loop {
            let (tag, mut body) = self.read_frame().await?;
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
                            return Ok(ReplicationMessage::XLogData { wal_end, data: body });
                        }
                        b'k' => {
                            if body.remaining() < 17 {
                                return Err(IngestError::Protocol("short keepalive".into()));
                            }
                            let wal_end = Lsn(body.get_u64());
                            let _server_clock = body.get_i64();
                            let reply_requested = body.get_u8() == 1;
                            return Ok(ReplicationMessage::Keepalive { wal_end, reply_requested });
                        }
                        other => {
                            return Err(IngestError::Protocol(format!(
                                "unknown CopyData message {:?}",
                                char::from(other)
                            )));
                        }
                    }
                }
                b'c' => {
                    self.streaming = false;
                    return Ok(ReplicationMessage::End);
                }
                b'E' => return Err(server_error(&body)),
                // Notices and parameter changes can arrive at any time.
                b'N' | b'S' => {}
                other => {
                    return Err(IngestError::Protocol(format!(
                        "unexpected message {:?} while streaming",
                        char::from(other)
                    )));
                }
            }
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

    /// Ends the session politely; the walsender then releases the slot at once, so a restart
    /// does not have to wait for it to time out.
    pub async fn close(mut self) {
        if self.streaming {
            frontend::copy_done(&mut self.out);
        }
        frontend::terminate(&mut self.out);
        let _ = self.flush().await;
        let _ = self.stream.shutdown().await;
    }

    async fn flush(&mut self) -> Result<(), IngestError> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// One backend message: its tag and body (length word removed).
    async fn read_frame(&mut self) -> Result<(u8, Bytes), IngestError> {
        loop {
            if self.inbuf.len() >= 5 {
                let len = u32::from_be_bytes([
                    self.inbuf[1],
                    self.inbuf[2],
                    self.inbuf[3],
                    self.inbuf[4],
                ]) as usize;
                if !(4..=MAX_FRAME).contains(&len) {
                    return Err(IngestError::Protocol(format!("invalid message length {len}")));
                }
                if self.inbuf.len() > len {
                    let mut frame = self.inbuf.split_to(len + 1);
                    let tag = frame[0];
                    frame.advance(5);
                    return Ok((tag, frame.freeze()));
                }
                self.inbuf.reserve(len + 1 - self.inbuf.len());
            }
            let n = self.stream.read_buf(&mut self.inbuf).await?;
            if n == 0 {
                return Err(IngestError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "PostgreSQL closed the replication connection",
                )));
            }
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
