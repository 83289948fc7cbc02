//! Pacing: at most so many messages a second on one channel (`ALERT_SEND_RATE`), so that a burst of alerts meets
//! SES's sending rate (14 a second on a new production account) instead of its throttling.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

pub struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    pub fn per_second(rate: u32) -> Self {
        Pacer {
            interval: Duration::from_secs(1) / rate.max(1),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this channel's next free slot, and takes it.
    pub async fn ready(&self) {
        let mut next = self.next.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep_until((*next).into()).await;
        }
        *next = (*next).max(now) + self.interval;
    }

    /// Whether the next slot comes before `deadline`.
    pub async fn free_before(&self, deadline: Instant) -> bool {
        *self.next.lock().await <= deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_are_spread_at_the_rate() {
        let pacer = Pacer::per_second(20);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.ready().await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(190), "{took:?}");
        assert!(took < Duration::from_millis(600), "{took:?}");
    }
}
