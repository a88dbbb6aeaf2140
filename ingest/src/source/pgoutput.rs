//! Decoder for pgoutput protocol version 1 ("Logical Replication Message Formats" in the
//! PostgreSQL manual). Pure: bytes in, messages out, so it is tested with hand-built frames.

use bytes::{Buf, Bytes};

use crate::error::IngestError;
use crate::lsn::Lsn;

/// One column value of a TupleData.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Datum {
    Null,
    /// A TOASTed value the change did not touch: the server does not resend it.
    Unchanged,
    Text(String),
    /// Only sent when binary mode is requested, which we never do.
    Binary(Bytes),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationColumn {
    /// Part of the replica identity (the primary key for REPLICA IDENTITY DEFAULT).
    pub key: bool,
    pub name: String,
    pub type_oid: u32,
    pub typmod: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub oid: u32,
    pub namespace: String,
    pub name: String,
    pub replica_identity: u8,
    pub columns: Vec<RelationColumn>,
}

/// Which old tuple an Update or Delete carries: only the key columns (`K`), or the whole old
/// row under REPLICA IDENTITY FULL (`O`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OldKind {
    Key,
    Full,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgOutput {
    Begin { final_lsn: Lsn, commit_ts: i64, xid: u32 },
    Commit { commit_lsn: Lsn, end_lsn: Lsn, commit_ts: i64 },
    Origin { lsn: Lsn, name: String },
    Relation(Relation),
    Type { oid: u32, namespace: String, name: String },
    Insert { relation: u32, new: Vec<Datum> },
    Update { relation: u32, old: Option<(OldKind, Vec<Datum>)>, new: Vec<Datum> },
    Delete { relation: u32, old: (OldKind, Vec<Datum>) },
    Truncate { relations: Vec<u32>, cascade: bool, restart_identity: bool },
    Message { transactional: bool, lsn: Lsn, prefix: String, content: Bytes },
}

/// Timestamps in pgoutput are microseconds since 2000-01-01; these stay in that epoch and the
/// caller converts.
pub fn decode(data: Bytes) -> Result<PgOutput, IngestError> {
    let mut r = Reader(data);
    let tag = r.u8()?;
    let msg = match tag {
        b'B' => PgOutput::Begin { final_lsn: Lsn(r.u64()?), commit_ts: r.i64()?, xid: r.u32()? },
        b'C' => {
            let _flags = r.u8()?;
            PgOutput::Commit {
                commit_lsn: Lsn(r.u64()?),
                end_lsn: Lsn(r.u64()?),
                commit_ts: r.i64()?,
            }
        }
        b'O' => PgOutput::Origin { lsn: Lsn(r.u64()?), name: r.cstring()? },
        b'R' => {
            let oid = r.u32()?;
            let namespace = r.cstring()?;
            let name = r.cstring()?;
            let replica_identity = r.u8()?;
            let n = r.i16()?;
            let mut columns = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
            for _ in 0..n {
                let flags = r.u8()?;
                columns.push(RelationColumn {
                    key: flags & 1 == 1,
                    name: r.cstring()?,
                    type_oid: r.u32()?,
                    typmod: r.i32()?,
                });
            }
            // An empty namespace means pg_catalog.
            let namespace = if namespace.is_empty() { "pg_catalog".to_string() } else { namespace };
            PgOutput::Relation(Relation { oid, namespace, name, replica_identity, columns })
        }
        b'Y' => PgOutput::Type { oid: r.u32()?, namespace: r.cstring()?, name: r.cstring()? },
        b'I' => {
            let relation = r.u32()?;
            r.expect(b'N')?;
            PgOutput::Insert { relation, new: r.tuple()? }
        }
        b'U' => {
            let relation = r.u32()?;
            let mut old = None;
            let mut marker = r.u8()?;
            if marker == b'K' || marker == b'O' {
                let kind = if marker == b'K' { OldKind::Key } else { OldKind::Full };
                old = Some((kind, r.tuple()?));
                marker = r.u8()?;
            }
            if marker != b'N' {
                return Err(IngestError::Decode(format!(
                    "Update: expected 'N', got {:?}",
                    char::from(marker)
                )));
            }
            PgOutput::Update { relation, old, new: r.tuple()? }
        }
        b'D' => {
            let relation = r.u32()?;
            let kind = match r.u8()? {
                b'K' => OldKind::Key,
                b'O' => OldKind::Full,
                other => {
                    return Err(IngestError::Decode(format!(
                        "Delete: expected 'K' or 'O', got {:?}",
                        char::from(other)
                    )));
                }
            };
            PgOutput::Delete { relation, old: (kind, r.tuple()?) }
        }
        b'T' => {
            let n = r.u32()?;
            let options = r.u8()?;
            let mut relations = Vec::with_capacity(usize::try_from(n.min(65_536)).unwrap_or(0));
            for _ in 0..n {
                relations.push(r.u32()?);
            }
            PgOutput::Truncate {
                relations,
                cascade: options & 1 != 0,
                restart_identity: options & 2 != 0,
            }
        }
        b'M' => {
            let flags = r.u8()?;
            let lsn = Lsn(r.u64()?);
            let prefix = r.cstring()?;
            let len = r.u32()? as usize;
            let content = r.take(len)?;
            PgOutput::Message { transactional: flags & 1 != 0, lsn, prefix, content }
        }
        other => {
            return Err(IngestError::Decode(format!(
                "unknown message type {:?}",
                char::from(other)
            )));
        }
    };
    Ok(msg)
}

struct Reader(Bytes);

impl Reader {
    fn need(&self, n: usize) -> Result<(), IngestError> {
        if self.0.remaining() < n {
            return Err(IngestError::Decode(format!(
                "message truncated: needed {n} more bytes, have {}",
                self.0.remaining()
            )));
        }
        Ok(())
    }

    fn u8(&mut self) -> Result<u8, IngestError> {
        self.need(1)?;
        Ok(self.0.get_u8())
    }

    fn i16(&mut self) -> Result<i16, IngestError> {
        self.need(2)?;
        Ok(self.0.get_i16())
    }

    fn u32(&mut self) -> Result<u32, IngestError> {
        self.need(4)?;
        Ok(self.0.get_u32())
    }

    fn i32(&mut self) -> Result<i32, IngestError> {
        self.need(4)?;
        Ok(self.0.get_i32())
    }

    fn u64(&mut self) -> Result<u64, IngestError> {
        self.need(8)?;
        Ok(self.0.get_u64())
    }

    fn i64(&mut self) -> Result<i64, IngestError> {
        self.need(8)?;
        Ok(self.0.get_i64())
    }

    fn take(&mut self, n: usize) -> Result<Bytes, IngestError> {
        self.need(n)?;
        Ok(self.0.split_to(n))
    }

    fn expect(&mut self, want: u8) -> Result<(), IngestError> {
        let got = self.u8()?;
        if got != want {
            return Err(IngestError::Decode(format!(
                "expected {:?}, got {:?}",
                char::from(want),
                char::from(got)
            )));
        }
        Ok(())
    }

    fn cstring(&mut self) -> Result<String, IngestError> {
        let end = self
            .0
            .iter()
            .position(|b| *b == 0)
            .ok_or_else(|| IngestError::Decode("unterminated string".into()))?;
        let s = self.0.split_to(end);
        self.0.advance(1);
        String::from_utf8(s.to_vec()).map_err(|_| IngestError::Decode("string is not UTF-8".into()))
    }

    fn tuple(&mut self) -> Result<Vec<Datum>, IngestError> {
        let n = self.i16()?;
        let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        for _ in 0..n {
            let datum = match self.u8()? {
                b'n' => Datum::Null,
                b'u' => Datum::Unchanged,
                b't' => {
                    let len = self.u32()? as usize;
                    let raw = self.take(len)?;
                    let text = String::from_utf8(raw.to_vec())
                        .map_err(|_| IngestError::Decode("text value is not UTF-8".into()))?;
                    Datum::Text(text)
                }
                b'b' => {
                    let len = self.u32()? as usize;
                    Datum::Binary(self.take(len)?)
                }
                other => {
                    return Err(IngestError::Decode(format!(
                        "unknown tuple value kind {:?}",
                        char::from(other)
                    )));
                }
            };
            out.push(datum);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{BufMut, BytesMut};

    fn cstr(b: &mut BytesMut, s: &str) {
        b.put_slice(s.as_bytes());
        b.put_u8(0);
    }

    fn text(b: &mut BytesMut, s: &str) {
        b.put_u8(b't');
        b.put_u32(s.len() as u32);
        b.put_slice(s.as_bytes());
    }

    #[test]
    fn begin_and_commit() {
        let mut b = BytesMut::new();
        b.put_u8(b'B');
        b.put_u64(0x1_0000_0010);
        b.put_i64(123_456);
        b.put_u32(777);
        assert_eq!(
            decode(b.freeze()).expect("begin"),
            PgOutput::Begin { final_lsn: Lsn(0x1_0000_0010), commit_ts: 123_456, xid: 777 }
        );

        let mut b = BytesMut::new();
        b.put_u8(b'C');
        b.put_u8(0);
        b.put_u64(100);
        b.put_u64(148);
        b.put_i64(-5);
        assert_eq!(
            decode(b.freeze()).expect("commit"),
            PgOutput::Commit { commit_lsn: Lsn(100), end_lsn: Lsn(148), commit_ts: -5 }
        );
    }

    #[test]
    fn relation_with_key_flags() {
        let mut b = BytesMut::new();
        b.put_u8(b'R');
        b.put_u32(16_384);
        cstr(&mut b, "sis");
        cstr(&mut b, "learners");
        b.put_u8(b'd');
        b.put_i16(2);
        b.put_u8(1);
        cstr(&mut b, "id");
        b.put_u32(2950);
        b.put_i32(-1);
        b.put_u8(0);
        cstr(&mut b, "fee");
        b.put_u32(1700);
        b.put_i32(((14 << 16) | 2) + 4);
        let PgOutput::Relation(rel) = decode(b.freeze()).expect("relation") else {
            panic!("not a relation");
        };
        assert_eq!(rel.namespace, "sis");
        assert_eq!(rel.name, "learners");
        assert_eq!(rel.columns.len(), 2);
        assert!(rel.columns[0].key);
        assert!(!rel.columns[1].key);
        assert_eq!(rel.columns[1].typmod, ((14 << 16) | 2) + 4);
    }

    #[test]
    fn relation_in_pg_catalog_has_empty_namespace() {
        let mut b = BytesMut::new();
        b.put_u8(b'R');
        b.put_u32(1);
        cstr(&mut b, "");
        cstr(&mut b, "t");
        b.put_u8(b'd');
        b.put_i16(0);
        let PgOutput::Relation(rel) = decode(b.freeze()).expect("relation") else {
            panic!("not a relation");
        };
        assert_eq!(rel.namespace, "pg_catalog");
    }

    #[test]
    fn insert_with_null_text_and_unchanged() {
        let mut b = BytesMut::new();
        b.put_u8(b'I');
        b.put_u32(42);
        b.put_u8(b'N');
        b.put_i16(3);
        text(&mut b, "Tendai");
        b.put_u8(b'n');
        b.put_u8(b'u');
        assert_eq!(
            decode(b.freeze()).expect("insert"),
            PgOutput::Insert {
                relation: 42,
                new: vec![Datum::Text("Tendai".into()), Datum::Null, Datum::Unchanged]
            }
        );
    }

    #[test]
    fn update_with_and_without_old_key() {
        let mut b = BytesMut::new();
        b.put_u8(b'U');
        b.put_u32(7);
        b.put_u8(b'N');
        b.put_i16(1);
        text(&mut b, "x");
        assert_eq!(
            decode(b.freeze()).expect("update"),
            PgOutput::Update { relation: 7, old: None, new: vec![Datum::Text("x".into())] }
        );

        let mut b = BytesMut::new();
        b.put_u8(b'U');
        b.put_u32(7);
        b.put_u8(b'K');
        b.put_i16(1);
        text(&mut b, "old");
        b.put_u8(b'N');
        b.put_i16(1);
        text(&mut b, "new");
        assert_eq!(
            decode(b.freeze()).expect("update"),
            PgOutput::Update {
                relation: 7,
                old: Some((OldKind::Key, vec![Datum::Text("old".into())])),
                new: vec![Datum::Text("new".into())]
            }
        );
    }

    #[test]
    fn delete_and_truncate() {
        let mut b = BytesMut::new();
        b.put_u8(b'D');
        b.put_u32(9);
        b.put_u8(b'O');
        b.put_i16(2);
        text(&mut b, "k");
        b.put_u8(b'n');
        assert_eq!(
            decode(b.freeze()).expect("delete"),
            PgOutput::Delete {
                relation: 9,
                old: (OldKind::Full, vec![Datum::Text("k".into()), Datum::Null])
            }
        );

        let mut b = BytesMut::new();
        b.put_u8(b'T');
        b.put_u32(2);
        b.put_u8(3);
        b.put_u32(10);
        b.put_u32(11);
        assert_eq!(
            decode(b.freeze()).expect("truncate"),
            PgOutput::Truncate { relations: vec![10, 11], cascade: true, restart_identity: true }
        );
    }

    #[test]
    fn type_origin_and_message() {
        let mut b = BytesMut::new();
        b.put_u8(b'Y');
        b.put_u32(5000);
        cstr(&mut b, "public");
        cstr(&mut b, "mood");
        assert_eq!(
            decode(b.freeze()).expect("type"),
            PgOutput::Type { oid: 5000, namespace: "public".into(), name: "mood".into() }
        );

        let mut b = BytesMut::new();
        b.put_u8(b'O');
        b.put_u64(99);
        cstr(&mut b, "upstream");
        assert_eq!(
            decode(b.freeze()).expect("origin"),
            PgOutput::Origin { lsn: Lsn(99), name: "upstream".into() }
        );

        let mut b = BytesMut::new();
        b.put_u8(b'M');
        b.put_u8(1);
        b.put_u64(5);
        cstr(&mut b, "p");
        b.put_u32(2);
        b.put_slice(b"hi");
        assert_eq!(
            decode(b.freeze()).expect("message"),
            PgOutput::Message {
                transactional: true,
                lsn: Lsn(5),
                prefix: "p".into(),
                content: Bytes::from_static(b"hi")
            }
        );
    }

    #[test]
    fn truncated_and_unknown_messages_are_errors_not_panics() {
        for raw in [
            &b""[..],
            b"B\x00\x00",
            b"I\x00\x00\x00\x01N\x00\x01t\x00\x00\x00\x09ab",
            b"Z",
            b"R\x00\x00\x00\x01abc",
        ] {
            assert!(decode(Bytes::copy_from_slice(raw)).is_err(), "{raw:?}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn datum() -> impl Strategy<Value = Datum> {
            prop_oneof![
                Just(Datum::Null),
                Just(Datum::Unchanged),
                "\\PC{0,40}".prop_map(Datum::Text),
            ]
        }

        proptest! {
            /// Whatever the server (or a broken connection) hands over, decoding answers with a
            /// message or an error, never a panic.
            #[test]
            fn decoding_never_panics(
                tag in prop::sample::select(b"BCORIUDTYMx".to_vec()),
                body in prop::collection::vec(any::<u8>(), 0..128),
            ) {
                let mut b = BytesMut::new();
                b.put_u8(tag);
                b.put_slice(&body);
                let _ = decode(b.freeze());
            }

            /// An insert of any row (text, nulls, unchanged TOAST) decodes to that row.
            #[test]
            fn inserts_decode_to_their_row(
                relation in any::<u32>(),
                row in prop::collection::vec(datum(), 0..12),
            ) {
                let mut b = BytesMut::new();
                b.put_u8(b'I');
                b.put_u32(relation);
                b.put_u8(b'N');
                b.put_i16(i16::try_from(row.len()).expect("few columns"));
                for d in &row {
                    match d {
                        Datum::Null => b.put_u8(b'n'),
                        Datum::Unchanged => b.put_u8(b'u'),
                        Datum::Text(t) => text(&mut b, t),
                        Datum::Binary(_) => unreachable!("not generated"),
                    }
                }
                prop_assert_eq!(decode(b.freeze()).expect("insert"), PgOutput::Insert { relation, new: row });
            }
        }
    }
}
