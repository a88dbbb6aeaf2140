//! Request body extraction that names the bad field: malformed JSON, a missing field, an unknown
//! code and a domain rule broken all answer 422 problem+json with a field list.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use oneclass_i18n::Lang;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// Domain checks that serde cannot express (dates in the future, lengths, formats).
pub trait Validate {
    fn validate(&self) -> Vec<FieldError>;
}

/// A JSON body, parsed and validated.
pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
        let value = parse::<T>(&bytes)?;
        let errors = value.validate();
        if errors.is_empty() { Ok(ValidJson(value)) } else { Err(ApiError::Validation(errors)) }
    }
}

/// Parses JSON into `T`, turning serde's errors into field errors.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => Ok(v),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(ApiError::field("body", format!("malformed JSON: {inner}")));
            }
            let message = inner.to_string();
            // serde reports a missing field at its parent's path; name the field itself.
            let field = match message.strip_prefix("missing field `") {
                Some(rest) => {
                    let name = rest.split('`').next().unwrap_or_default();
                    if path == "." { name.to_string() } else { format!("{path}.{name}") }
                }
                None if path == "." => "body".to_string(),
                None => path,
            };
            let reason = match message.find(" at line ") {
                Some(i) => message[..i].to_string(),
                None => message,
            };
            Err(ApiError::Validation(vec![FieldError::new(field, reason)]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        sex: oneclass_core::types::Sex,
        marks: Vec<Mark>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Mark {
        status: oneclass_core::types::AttendanceStatus,
    }

    fn field_of(json: &str) -> String {
        match parse::<Item>(json.as_bytes()) {
            Err(ApiError::Validation(errs)) => errs[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn names_the_offending_field() {
        assert_eq!(field_of(r#"{"sex":"F","marks":[]}"#), "name");
        assert_eq!(field_of(r#"{"name":"a","sex":"X","marks":[]}"#), "sex");
        assert_eq!(
            field_of(r#"{"name":"a","sex":"F","marks":[{"status":"gone"}]}"#),
            "marks[0].status"
        );
        assert_eq!(field_of(r#"{"name":"a","#), "body");
        assert_eq!(field_of(r#"{"name":"a","sex":"F","marks":[{}]}"#), "marks[0].status");
    }
}

/// The language of a page: the user's choice (a cookie, set by the switcher at `/lang/{code}`),
/// else their browser's `Accept-Language`, else English.
#[derive(Debug, Clone, Copy)]
pub struct PageLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let cookies = parts.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok());
        let accept = parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        Ok(PageLang(oneclass_i18n::of_request(cookies, accept)))
    }
}
