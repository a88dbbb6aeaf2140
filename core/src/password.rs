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

/// What the Postgres-wire endpoint needs to check a password by SCRAM-SHA-256 (RFC 5802, 7677)
/// without knowing it: a salt, an iteration count and `Hi(SASLprep(password), salt, i)`.
///
/// The salted password lets whoever holds it sign in over SCRAM (not over HTTP, which checks the
/// argon2 hash): it is kept beside the argon2 hash in `platform.users`, which is never published
/// to the lake, and never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramSecret {
    pub salt: [u8; 16],
    pub iterations: u32,
    pub salted_password: [u8; 32],
}

impl std::fmt::Debug for ScramSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramSecret").field("iterations", &self.iterations).finish_non_exhaustive()
    }
}

/// PostgreSQL's own iteration count for SCRAM-SHA-256 verifiers.
pub const SCRAM_ITERATIONS: u32 = 4096;

pub fn scram_secret(password: &str) -> ScramSecret {
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
    scram_secret_with_salt(password, &salt)
}

/// A SCRAM secret with a caller-chosen salt: only for synthetic accounts (see `hash_with_salt`).
pub fn scram_secret_with_salt(password: &str, salt: &[u8; 16]) -> ScramSecret {
    // As PostgreSQL does: a password SASLprep rejects is used as it is.
    let normalized = stringprep::saslprep(password).unwrap_or(std::borrow::Cow::Borrowed(password));
    let mut salted_password = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
        normalized.as_bytes(),
        salt,
        SCRAM_ITERATIONS,
        &mut salted_password,
    );
    ScramSecret { salt: *salt, iterations: SCRAM_ITERATIONS, salted_password }
}

#[cfg(test)]
mod tests {
    /// RFC 7677's example: user "user", password "pencil", salt `W22ZaJ0SNY7soEsUEjb6gQ==`, 4096
    /// iterations. Its ServerSignature (`6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=`) is
    /// HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage).
    #[test]
    fn scram_secret_matches_rfc_7677() {
        use hmac::{Hmac, Mac};
        let salt: [u8; 16] = [
            0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e, 0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36,
            0xfa, 0x81,
        ];
        let secret = super::scram_secret_with_salt("pencil", &salt);
        let mac = |key: &[u8], msg: &[u8]| {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
            m.update(msg);
            m.finalize().into_bytes().to_vec()
        };
        let server_key = mac(&secret.salted_password, b"Server Key");
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
            r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
            c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let signature = mac(&server_key, auth_message.as_bytes());
        assert_eq!(
            hex::encode(signature),
            "eabae24d1062db75a9451ff0b6ea7e98c8546549ff741e672d3251b2397de46e"
        );
        assert!(!format!("{secret:?}").contains(&hex::encode(secret.salted_password)));
    }

    /// SASLprep maps a soft hyphen to nothing (RFC 4013, section 3), as psql does before hashing.
    #[test]
    fn scram_secret_normalises_the_password() {
        let salt = [7u8; 16];
        assert_eq!(
            super::scram_secret_with_salt("I\u{00AD}X", &salt),
            super::scram_secret_with_salt("IX", &salt)
        );
    }

    #[test]
    fn hash_then_verify() {
        let h = super::hash("kwaziwai").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("kwaziwai", &h));
        assert!(!super::verify("kwaziwa", &h));
        assert!(!super::verify("kwaziwai", "garbage"));
    }
}

/// A one-time token for a link (an invitation, a password reset): 32 random bytes as hex,
/// and the SHA-256 of that text, which is all the database keeps.
pub fn one_time_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// A six-digit code to send by SMS (a sign-in code): uniform over 000000–999999, from the
/// operating system's generator.
pub fn one_time_code() -> String {
    use rand::Rng;
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

/// The SHA-256 of a one-time token's text, as stored.
pub fn token_hash(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

/// The rules every new password meets (sign-in accepts up to 256 bytes).
pub fn check_new_password(password: &str) -> Result<(), &'static str> {
    if password.chars().count() < 10 {
        Err("must be at least 10 characters")
    } else if password.len() > 256 {
        Err("must be at most 256 bytes")
    } else if password.trim() != password {
        Err("must not start or end with a space")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod token_tests {
    use super::*;

    #[test]
    fn one_time_tokens_are_fresh_and_only_their_hash_matches() {
        let (a, hash_a) = one_time_token();
        let (b, _) = one_time_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a), hash_a);
        assert_ne!(token_hash(&b), hash_a);
    }

    #[test]
    fn new_passwords_are_long_enough_and_not_padded() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password(" ten-or-more ").is_err());
        assert!(check_new_password(&"x".repeat(300)).is_err());
        assert!(check_new_password("Mhoro-shamwari-2026").is_ok());
        // Non-ASCII letters count as characters, not bytes.
        assert!(check_new_password("ŋŋŋŋŋŋŋŋŋŋ").is_ok());
    }
}
