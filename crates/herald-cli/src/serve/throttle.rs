//! The bad-key back-off: after a few wrong keys from one address, every request from it that
//! carries a key is refused with 429 for a while, without looking at the key, so guessing
//! costs time. The delay doubles with each further wrong key, up to a cap; an address that
//! stays quiet for the memory window is forgotten. Requests without any key are never counted
//! (they guess nothing, and the health checks send none).
//!
//! Pure: the caller passes the instant, so the policy is tested without waiting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

/// The knobs.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleConfig {
    /// Wrong keys allowed before the first delay.
    pub free_failures: u32,
    /// The first delay; each further wrong key doubles it.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// How long an address's wrong keys are remembered after its last one.
    pub memory: Duration,
    /// Addresses remembered at most (a flood of addresses cannot grow memory without bound).
    pub max_addresses: usize,
}

impl Default for ThrottleConfig {
    fn default() -> ThrottleConfig {
        ThrottleConfig {
            free_failures: 5,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
            memory: Duration::from_secs(30 * 60),
            max_addresses: 4096,
        }
    }
}

/// The delay after `failures` wrong keys in a row: none while within the free ones.
pub fn delay_after(config: &ThrottleConfig, failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(config.free_failures)?;
    let factor = 1u32.checked_shl(over.min(31)).unwrap_or(u32::MAX);
    Some(
        config
            .first_delay
            .checked_mul(factor)
            .unwrap_or(config.max_delay)
            .min(config.max_delay),
    )
}

#[derive(Debug, Clone, Copy)]
struct Strikes {
    failures: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

/// Per-address memory of wrong keys.
#[derive(Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    by_address: HashMap<IpAddr, Strikes>,
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle {
            config,
            by_address: HashMap::new(),
        }
    }

    /// `Err(wait)` while `ip` must wait before presenting a key again.
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let Some(s) = self.by_address.get(&ip).copied() else {
            return Ok(());
        };
        if now.saturating_duration_since(s.last) >= self.config.memory {
            self.by_address.remove(&ip);
            return Ok(());
        }
        match s.blocked_until {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// A wrong key from `ip`; returns the wait it now has, if any.
    pub fn failed(&mut self, ip: IpAddr, now: Instant) -> Option<Duration> {
        if !self.by_address.contains_key(&ip) && self.by_address.len() >= self.config.max_addresses
        {
            self.make_room(now);
        }
        let memory = self.config.memory;
        let s = self.by_address.entry(ip).or_insert(Strikes {
            failures: 0,
            last: now,
            blocked_until: None,
        });
        if now.saturating_duration_since(s.last) >= memory {
            s.failures = 0;
        }
        s.failures = s.failures.saturating_add(1);
        s.last = now;
        let delay = delay_after(&self.config, s.failures);
        s.blocked_until = delay.map(|d| now + d);
        delay
    }

    /// A good key from `ip`: its slate is clean.
    pub fn succeeded(&mut self, ip: IpAddr) {
        self.by_address.remove(&ip);
    }

    /// Forgets what is past its memory; if that is not enough, the address whose last wrong
    /// key is oldest.
    fn make_room(&mut self, now: Instant) {
        let memory = self.config.memory;
        self.by_address
            .retain(|_, s| now.saturating_duration_since(s.last) < memory);
        if self.by_address.len() >= self.config.max_addresses {
            if let Some(oldest) = self
                .by_address
                .iter()
                .min_by_key(|(_, s)| s.last)
                .map(|(ip, _)| *ip)
            {
                self.by_address.remove(&oldest);
            }
        }
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.by_address.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn delays_double_after_the_free_failures_up_to_the_cap() {
        let c = ThrottleConfig::default();
        let table: &[(u32, Option<Duration>)] = &[
            (0, None),
            (1, None),
            (4, None),
            (5, Some(S(1))),
            (6, Some(S(2))),
            (7, Some(S(4))),
            (14, Some(S(512))),
            (15, Some(S(900))),
            (40, Some(S(900))),
            (u32::MAX, Some(S(900))),
        ];
        for &(failures, want) in table {
            assert_eq!(delay_after(&c, failures), want, "after {failures}");
        }
    }

    #[test]
    fn an_address_is_blocked_then_let_through_and_forgotten() {
        let mut t = Throttle::new(ThrottleConfig::default());
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..4 {
            assert_eq!(t.failed(ip, t0), None);
            assert_eq!(t.check(ip, t0), Ok(()));
        }
        assert_eq!(t.failed(ip, t0), Some(S(1)));
        assert_eq!(t.check(ip, t0), Err(S(1)));
        assert_eq!(t.check(other, t0), Ok(()), "only that address");
        assert_eq!(t.check(ip, t0 + S(1)), Ok(()), "the wait is over");
        assert_eq!(
            t.failed(ip, t0 + S(1)),
            Some(S(2)),
            "the next wrong key doubles it"
        );
        assert_eq!(t.check(ip, t0 + S(2)), Err(S(1)));
        // Quiet for the memory window: a fresh start.
        let later = t0 + S(1) + ThrottleConfig::default().memory;
        assert_eq!(t.check(ip, later), Ok(()));
        assert_eq!(t.failed(ip, later), None);
    }

    #[test]
    fn a_good_key_clears_the_slate() {
        let mut t = Throttle::new(ThrottleConfig::default());
        let ip: IpAddr = "::1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..4 {
            t.failed(ip, t0);
        }
        t.succeeded(ip);
        assert_eq!(t.failed(ip, t0), None, "counting starts again");
    }

    #[test]
    fn memory_is_bounded() {
        let config = ThrottleConfig {
            max_addresses: 3,
            ..ThrottleConfig::default()
        };
        let mut t = Throttle::new(config);
        let t0 = Instant::now();
        for i in 0..10u8 {
            t.failed(IpAddr::from([10, 0, 0, i]), t0 + S(u64::from(i)));
            assert!(t.remembered() <= 3);
        }
        let newest = IpAddr::from([10, 0, 0, 9]);
        assert_eq!(t.by_address[&newest].failures, 1, "the newest is kept");
    }
}
