//! What can go wrong talking to Paynow.

/// What can go wrong talking to Paynow.
#[derive(Debug, thiserror::Error)]
pub enum PaynowError {
    #[error("the form's hash does not match its values and the integration key")]
    BadHash,
    #[error("the form has no `{0}`")]
    Missing(&'static str),
    #[error("`{field}` is not valid: {value}")]
    Invalid { field: &'static str, value: String },
    #[error("Paynow refused: {0}")]
    Refused(String),
    #[error("Paynow could not be reached: {0}")]
    Http(#[from] reqwest::Error),
}
