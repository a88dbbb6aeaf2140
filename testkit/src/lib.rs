//! What the test binaries share, so each test says only what it checks:
//! - [`cluster`]: one private PostgreSQL cluster per test binary (started on first use, stopped
//!   and removed when the binary exits), a fresh migrated database per test;
//! - [`lake`]: Delta tables written from Arrow columns into a temporary folder;
//! - [`ingest`]: a database with its own slot and a lake (folder or [`s3`]), ingest's settings
//!   over them, reading lake tables back, waiting until silver matches PostgreSQL;
//! - [`python`]: Python clients (moto, psycopg, DuckDB, deltalake) in venvs made on first use;
//! - [`wait`]: polling until a condition holds, with a deadline and a message naming it.
//!
//! A dev-dependency only: nothing in the product depends on it.

pub mod browser;
pub mod cluster;
pub mod ingest;
pub mod lake;
pub mod python;
pub mod s3;
pub mod wait;

pub use cluster::{
    APP_PASSWORD, CDC_PASSWORD, fresh_database, fresh_named_database, passwords, shared_cluster,
};
pub use wait::eventually;
