//! The warehouse's one error type: what a user got wrong (shown to them, a 4xx) is kept apart from
//! what failed inside (logged, a 5xx), so callers never leak internals or blame users for outages.

use std::time::Duration;

use deltalake::arrow::error::ArrowError;
use deltalake::datafusion::error::DataFusionError;

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    /// The text is not SQL that the engine can parse.
    #[error("SQL syntax error: {0}")]
    Syntax(String),
    /// Parsed, but cannot be planned: unknown table or column, wrong types, unsupported feature.
    #[error("invalid query: {0}")]
    Invalid(String),
    /// A statement that is not a single read-only query.
    #[error("refused: {0}")]
    Refused(String),
    /// The query ran into a data-dependent error (division by zero, a failed cast, …).
    #[error("query failed: {0}")]
    Execution(String),
    #[error("query exceeded its time limit of {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("query exceeded its memory limit: {0}")]
    ResourcesExhausted(String),
    /// A named query that is not in `queries/`: a programming error of the caller.
    #[error("no named query called {0:?}")]
    UnknownNamedQuery(String),
    #[error("lake error: {0}")]
    Lake(#[from] deltalake::DeltaTableError),
    #[error("storage error: {0}")]
    Storage(#[from] deltalake::ObjectStoreError),
    #[error("encoding error: {0}")]
    Encode(#[from] ArrowError),
    #[error("internal error: {0}")]
    Internal(DataFusionError),
    /// Another gold build replaced a table this one read since it began: this one stopped
    /// before writing over the newer figures (and its watermarks), so the next build redoes it.
    #[error(
        "another gold build replaced {0} while this one ran: nothing of this build was kept; run it again"
    )]
    Overtaken(String),
    /// The server's own settings cannot be used (a TLS certificate that does not parse).
    #[error("configuration error: {0}")]
    Config(String),
}

impl WarehouseError {
    /// True when the query read a table the lake does not hold yet (a new deployment, gold or a
    /// model not built yet): callers show "nothing yet" rather than fail.
    pub fn is_missing_table(&self) -> bool {
        matches!(self, Self::Invalid(why) if why.contains("not found"))
    }

    /// True when the user's input caused the error and the message is safe and useful to show
    /// them (an HTTP 4xx); false for failures that should be logged and answered with a 500.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Self::Syntax(_)
                | Self::Invalid(_)
                | Self::Refused(_)
                | Self::Execution(_)
                | Self::Timeout(_)
                | Self::ResourcesExhausted(_)
        )
    }
}

impl From<DataFusionError> for WarehouseError {
    fn from(err: DataFusionError) -> Self {
        // Context and diagnostic wrappers only decorate the cause; classify by the innermost error
        // but keep the full message, which names the table or column involved.
        let message = err.to_string();
        match err.find_root() {
            DataFusionError::SQL(..) => Self::Syntax(message),
            DataFusionError::Plan(_)
            | DataFusionError::SchemaError(..)
            | DataFusionError::NotImplemented(_) => Self::Invalid(message),
            DataFusionError::ResourcesExhausted(_) => Self::ResourcesExhausted(message),
            DataFusionError::Execution(_) => Self::Execution(message),
            DataFusionError::ArrowError(arrow, _) if is_data_error(arrow) => {
                Self::Execution(message)
            }
            _ => Self::Internal(err),
        }
    }
}

/// Arrow errors that a query's own data or expressions cause, as opposed to I/O or corrupt files.
fn is_data_error(err: &ArrowError) -> bool {
    matches!(
        err,
        ArrowError::DivideByZero
            | ArrowError::ArithmeticOverflow(_)
            | ArrowError::CastError(_)
            | ArrowError::ComputeError(_)
            | ArrowError::InvalidArgumentError(_)
            | ArrowError::ParseError(_)
    )
}
