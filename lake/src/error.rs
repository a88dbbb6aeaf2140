//! The lake's one error type.

use deltalake::DeltaTableError;
use deltalake::datafusion::error::DataFusionError;

#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    /// The lake's location cannot be used by this build.
    #[error("lake URL {url}: {reason}")]
    Url { url: String, reason: String },
    #[error(transparent)]
    Delta(#[from] DeltaTableError),
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    /// Reading the publication from PostgreSQL.
    #[error("reading the publication: {0}")]
    Source(#[from] sqlx::Error),
}

pub type LakeResult<T> = Result<T, LakeError>;
