//! How old a delivery may be. A signed delivery is replayed as it is; once its `jti` is forgotten (after
//! `IDEMPOTENCY_EVENT_TTL_SECS`), only its age tells a replay from a new event, so an older one is refused.

use std::time::Duration;

/// A clock ahead of ours by up to this much is still believed.
const FUTURE_SKEW: Duration = Duration::from_secs(300);
/// Below this, `iat` reads as seconds (RFC 8417's unit); WSO2 writes milliseconds.
const SECONDS_BELOW: u64 = 100_000_000_000;

/// Why a delivery's age is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stale {
    #[error("the delivery has no iat: its age cannot be told")]
    NoIssuedAt,
    #[error("issued {age_secs} s ago, longer than the {window_secs} s a delivery is remembered")]
    TooOld { age_secs: u64, window_secs: u64 },
    #[error("issued {ahead_secs} s in the future")]
    FromTheFuture { ahead_secs: u64 },
}

/// Whether a delivery issued at `issued` (`iat`, epoch milliseconds or seconds) is young enough at `now_ms`.
pub fn check_age(issued: Option<u64>, now_ms: u64, window: Duration) -> Result<(), Stale> {
    let issued = issued.ok_or(Stale::NoIssuedAt)?;
    let issued_ms = if issued < SECONDS_BELOW {
        issued.saturating_mul(1000)
    } else {
        issued
    };
    if issued_ms > now_ms.saturating_add(FUTURE_SKEW.as_millis() as u64) {
        return Err(Stale::FromTheFuture {
            ahead_secs: (issued_ms - now_ms) / 1000,
        });
    }
    let age_ms = now_ms.saturating_sub(issued_ms);
    if age_ms > window.as_millis() as u64 {
        return Err(Stale::TooOld {
            age_secs: age_ms / 1000,
            window_secs: window.as_secs(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_796_000_000_000;
    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn a_delivery_within_the_window_passes_and_an_older_one_is_refused() {
        assert_eq!(check_age(Some(NOW - 1000), NOW, DAY), Ok(()));
        assert_eq!(
            check_age(Some(NOW / 1000 - 60), NOW, DAY),
            Ok(()),
            "seconds"
        );
        assert_eq!(
            check_age(Some(NOW - DAY.as_millis() as u64 - 1000), NOW, DAY),
            Err(Stale::TooOld {
                age_secs: 86_401,
                window_secs: 86_400
            })
        );
        assert_eq!(check_age(None, NOW, DAY), Err(Stale::NoIssuedAt));
        assert_eq!(check_age(Some(NOW + 60_000), NOW, DAY), Ok(()), "skew");
        assert!(matches!(
            check_age(Some(NOW + 3_600_000), NOW, DAY),
            Err(Stale::FromTheFuture { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn any_iat_is_judged_without_a_panic(iat in proptest::num::u64::ANY, now in proptest::num::u64::ANY) {
            let _ = check_age(Some(iat), now, DAY);
        }
    }
}
