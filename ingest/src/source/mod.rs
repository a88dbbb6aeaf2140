//! The source side: PostgreSQL as ingest reads it — the replication transport, the pgoutput
//! decoder and the plain SQL queries (catalog, slot state, the snapshot's COPY). Concrete on
//! purpose: there is one source, spoken to in its own protocol (ADR 0008), so no trait stands
//! in front of it.

pub(crate) mod pgoutput;
pub(crate) mod replication;
pub(crate) mod sql;
