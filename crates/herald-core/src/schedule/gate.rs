//! The one gate every send passes: a random pause between any two sends, a minimum between
//! two sends to the same chat, an hourly cap, and a pause after a rate limit — so a burst of
//! due sends or a catch-up after downtime does not look like spam to WhatsApp.
//!
//! It works on the monotonic clock, so wall-clock jumps neither open nor jam it.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

/// The gate's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateConfig {
    /// The random pause between two sends is drawn from `min_gap..=max_gap`.
    pub min_gap: Duration,
    pub max_gap: Duration,
    /// The least time between two sends to one chat.
    pub per_chat: Duration,
    /// The most sends in any hour.
    pub hourly_cap: u32,
    /// Seeds the random pauses (tests); `None` seeds from the OS.
    pub seed: Option<u64>,
}

impl Default for GateConfig {
    fn default() -> GateConfig {
        GateConfig {
            min_gap: Duration::from_secs(4),
            max_gap: Duration::from_secs(12),
            per_chat: Duration::from_secs(30),
            hourly_cap: 60,
            seed: None,
        }
    }
}

const HOUR: Duration = Duration::from_secs(3600);

/// The gate's state: a few instants, plus one per chat sent to within `per_chat`.
#[derive(Debug)]
pub struct Gate {
    config: GateConfig,
    rng: StdRng,
    /// When the next send of any chat may go.
    open_at: Option<Instant>,
    chats: HashMap<String, Instant>,
    /// The sends of the last hour, oldest first.
    hour: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

impl Gate {
    pub fn new(config: GateConfig) -> Gate {
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        Gate {
            config,
            rng,
            open_at: None,
            chats: HashMap::new(),
            hour: VecDeque::new(),
            paused_until: None,
        }
    }

    /// The earliest instant a send to `chat` may go.
    pub fn ready_at(&self, chat: &str, now: Instant) -> Instant {
        let mut at = now;
        if let Some(open) = self.open_at {
            at = at.max(open);
        }
        if let Some(last) = self.chats.get(chat) {
            at = at.max(*last + self.config.per_chat);
        }
        let cap = self.config.hourly_cap.max(1) as usize;
        if self.hour.len() >= cap {
            if let Some(oldest) = self.hour.get(self.hour.len() - cap) {
                at = at.max(*oldest + HOUR);
            }
        }
        if let Some(until) = self.paused_until {
            at = at.max(until);
        }
        at
    }

    /// A send to `chat` went at `now`.
    pub fn record(&mut self, chat: &str, now: Instant) {
        let (lo, hi) = (
            self.config.min_gap,
            self.config.max_gap.max(self.config.min_gap),
        );
        let gap = self.rng.gen_range(lo..=hi);
        self.open_at = Some(now + gap);
        self.chats.insert(chat.to_owned(), now);
        self.hour.push_back(now);
        // Forget what can no longer hold a send back, so memory stays flat.
        let per_chat = self.config.per_chat;
        self.chats.retain(|_, at| *at + per_chat > now);
        while self.hour.front().is_some_and(|at| *at + HOUR <= now) {
            self.hour.pop_front();
        }
    }

    /// Holds every send until `until` (a rate limit or temporary ban).
    pub fn pause_until(&mut self, until: Instant) {
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> Gate {
        Gate::new(GateConfig {
            hourly_cap: 3,
            seed: Some(7),
            ..GateConfig::default()
        })
    }

    #[test]
    fn spaces_sends_by_a_random_gap_in_range() {
        let mut g = gate();
        let t0 = Instant::now();
        assert_eq!(g.ready_at("a", t0), t0);
        let mut gaps = Vec::new();
        let mut now = t0;
        for i in 0..50 {
            let chat = format!("chat{i}");
            now = g.ready_at(&chat, now);
            g.record(&chat, now);
            let next = g.ready_at("other", now);
            gaps.push(next - now);
            // Move past the hourly cap so only the gap counts.
            now += HOUR;
        }
        assert!(gaps
            .iter()
            .all(|g| *g >= Duration::from_secs(4) && *g <= Duration::from_secs(12)));
        assert!(gaps.iter().any(|g| *g != gaps[0]), "the gap varies");
    }

    #[test]
    fn per_chat_minimum_hourly_cap_and_pause() {
        let mut g = gate();
        let t0 = Instant::now();
        g.record("a", t0);
        assert_eq!(g.ready_at("a", t0), t0 + Duration::from_secs(30));
        assert!(g.ready_at("b", t0) <= t0 + Duration::from_secs(12));
        g.record("b", t0 + Duration::from_secs(60));
        g.record("c", t0 + Duration::from_secs(120));
        // Three in the hour: the fourth waits until the first is an hour old.
        assert_eq!(g.ready_at("d", t0 + Duration::from_secs(180)), t0 + HOUR);
        g.pause_until(t0 + 2 * HOUR);
        assert_eq!(
            g.ready_at("d", t0 + Duration::from_secs(180)),
            t0 + 2 * HOUR
        );
    }
}
