//! The core crate's error type.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found. Install them with \
         `apt-get install -y postgresql` (Debian/Ubuntu), or set DATABASE_URL to an existing server"
    )]
    PostgresNotInstalled,
    #[error(
        "the postgres user cannot reach {0}: choose a data folder under a path every user may traverse"
    )]
    DataDirNotReachable(PathBuf),
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error("io error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl CoreError {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CoreError {
        let path = path.into();
        move |source| CoreError::Io { path, source }
    }
}
