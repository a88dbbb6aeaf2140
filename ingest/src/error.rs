//! The ingest crate's one error type.

use deltalake::DeltaTableError;
use deltalake::arrow::error::ArrowError;
use deltalake::datafusion::error::DataFusionError;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("invalid ingest configuration: {0}")]
    Config(String),
    #[error("network error talking to PostgreSQL: {0}")]
    Io(#[from] std::io::Error),
    #[error("PostgreSQL refused the replication connection ({code}): {message}")]
    Server { code: String, message: String },
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("replication protocol error: {0}")]
    Protocol(String),
    #[error("cannot decode a pgoutput message: {0}")]
    Decode(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("Delta table {table}: {source}")]
    Delta {
        table: String,
        #[source]
        source: DeltaTableError,
    },
    #[error("Arrow error: {0}")]
    Arrow(#[from] ArrowError),
    #[error("DataFusion error: {0}")]
    DataFusion(#[from] DataFusionError),
    #[error("snapshot of {table}: {message}")]
    Snapshot { table: String, message: String },
    /// Shutdown came in the middle of work that must be whole (nothing of it is acknowledged).
    #[error("shutdown interrupted {0}")]
    Interrupted(String),
    #[error(transparent)]
    Lake(#[from] oneclass_lake::LakeError),
}

impl IngestError {
    /// Attaches the table to a Delta error: the error text alone rarely says which one failed.
    pub(crate) fn delta(table: impl std::fmt::Display) -> impl FnOnce(DeltaTableError) -> Self {
        let table = table.to_string();
        move |source| IngestError::Delta { table, source }
    }

    /// SQLSTATE 55006: the slot is still held by a walsender that has not noticed its client left.
    pub(crate) fn is_object_in_use(&self) -> bool {
        matches!(self, IngestError::Server { code, .. } if code == "55006")
    }
}
