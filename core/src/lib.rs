//! Shared foundation of OneClass: value types parsed once at the edge, the PostgreSQL cluster
//! harness used by `oneclass demo` and the tests, and database setup (migrations, roles).

pub mod cluster;
pub mod db;
pub mod error;
pub mod grading;
pub mod ids;
pub mod password;
pub mod types;

pub use error::CoreError;
