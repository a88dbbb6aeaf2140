//! The keys and limits sign-in rests on: the HS256 token keys and the per-key attempt limiter.
//! Held in the application state; used by `auth`.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter as GovernorLimiter};
use jsonwebtoken::{DecodingKey, EncodingKey};

#[derive(Clone)]
pub struct JwtKeys {
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
    pub ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
        }
    }
}

/// Attempts per key (a username or an address), by governor's GCRA: a burst of `per_window`,
/// refilled evenly over `window`. Enough to blunt password guessing on one process; lockout in
/// the database covers the rest.
pub struct RateLimiter {
    inner: DefaultKeyedRateLimiter<String>,
}

/// Keys remembered before the idle ones are dropped; past it, while still full, a flood of
/// distinct keys is refused rather than allowed to grow memory.
const MAX_KEYS: usize = 100_000;

impl RateLimiter {
    pub fn new(per_window: u32, window: Duration) -> Self {
        let burst = NonZeroU32::new(per_window).unwrap_or(NonZeroU32::MIN);
        let period = (window / burst.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self { inner: GovernorLimiter::keyed(quota) }
    }

    pub fn allow(&self, key: &str) -> bool {
        if self.inner.len() > MAX_KEYS {
            self.inner.retain_recent();
            if self.inner.len() > MAX_KEYS {
                return false;
            }
        }
        self.inner.check_key(&key.to_lowercase()).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_past_the_window_budget() {
        let l = RateLimiter::new(3, Duration::from_secs(60));
        assert!(l.allow("a") && l.allow("A") && l.allow("a"));
        assert!(!l.allow("a"));
        assert!(l.allow("b"));
    }

    #[test]
    fn limiter_refills_over_the_window() {
        let l = RateLimiter::new(2, Duration::from_millis(200));
        assert!(l.allow("a") && l.allow("a"));
        assert!(!l.allow("a"));
        std::thread::sleep(Duration::from_millis(150));
        assert!(l.allow("a"), "one attempt back after half the window");
        assert!(!l.allow("a"));
    }
}
