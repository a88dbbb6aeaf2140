//! Password hashing: argon2id with the crate's recommended parameters, PHC strings in storage.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

pub fn hash(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    hash_with(password, &salt)
}

/// A hash with a caller-chosen salt: only for synthetic accounts, whose data must be the same
/// byte for byte for the same seed. Real accounts use `hash`.
pub fn hash_with_salt(password: &str, salt: &[u8; 16]) -> Result<String, HashError> {
    let salt = SaltString::encode_b64(salt).map_err(|e| HashError(e.to_string()))?;
    hash_with(password, &salt)
}

fn hash_with(password: &str, salt: &SaltString) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes(), salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// True when `password` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A fixed hash to verify against when the user does not exist, so that a wrong username costs
/// the same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("not-a-real-password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_then_verify() {
        let h = super::hash("kwaziwai").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("kwaziwai", &h));
        assert!(!super::verify("kwaziwa", &h));
        assert!(!super::verify("kwaziwai", "garbage"));
    }
}
