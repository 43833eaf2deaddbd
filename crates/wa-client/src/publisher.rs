//! The one place the engine tells the world anything: the `watch` of the current
//! [`ConnectionState`], the ordered [`EngineEvent`] stream and the [`Health`] snapshot.
//!
//! The publisher alone holds the three senders, and every event goes through one function: a
//! state change updates the watch first, then health takes in the event by [`note`] (a pure
//! function of the event), then the event goes out. So a subscriber woken by an event already
//! reads the state and health it implies, and health never says what the stream has not
//! been able to say: the order holds by construction rather than by each caller's care.

use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};

use crate::clock::{Clock, UnixMillis};
use crate::events::{ConnectionState, Disconnect, EngineEvent, Health};
use crate::mutex::lock;

/// The senders of everything the engine reports.
pub(crate) struct Publisher {
    state: watch::Sender<ConnectionState>,
    events: broadcast::Sender<EngineEvent>,
    health: Arc<Mutex<Health>>,
    clock: Arc<dyn Clock>,
}

/// The reading ends, for the handle.
pub(crate) struct Readers {
    pub state: watch::Receiver<ConnectionState>,
    pub events: broadcast::Sender<EngineEvent>,
    pub health: HealthView,
}

/// A read-only view of the health snapshot.
#[derive(Clone)]
pub(crate) struct HealthView(Arc<Mutex<Health>>);

impl HealthView {
    /// A copy of the snapshot as it is now.
    pub fn snapshot(&self) -> Health {
        lock(&self.0).clone()
    }
}

/// What a task of a connection publishes with: events other than state changes (those
/// belong to the supervisor alone), into the same stream and health snapshot.
#[derive(Clone)]
pub(crate) struct Emitter {
    events: broadcast::Sender<EngineEvent>,
    health: Arc<Mutex<Health>>,
}

impl Emitter {
    /// Publishes `event` (never a `State`: the state watch is the supervisor's).
    pub fn emit(&self, event: EngineEvent) {
        note(&mut lock(&self.health), &event);
        let _ = self.events.send(event);
    }
}

impl Publisher {
    /// An emitter for tasks that publish on their own.
    pub fn emitter(&self) -> Emitter {
        Emitter {
            events: self.events.clone(),
            health: self.health.clone(),
        }
    }

    /// A publisher starting in `Idle`, with room for `event_capacity` events per subscriber.
    pub fn new(clock: Arc<dyn Clock>, event_capacity: usize) -> (Self, Readers) {
        let (state_tx, state_rx) = watch::channel(ConnectionState::Idle);
        let (events_tx, _) = broadcast::channel(event_capacity.max(1));
        let health = Arc::new(Mutex::new(Health {
            state: ConnectionState::Idle.name().to_owned(),
            state_since_ms: clock.now(),
            ..Health::default()
        }));
        let readers = Readers {
            state: state_rx,
            events: events_tx.clone(),
            health: HealthView(health.clone()),
        };
        let publisher = Self {
            state: state_tx,
            events: events_tx,
            health,
            clock,
        };
        (publisher, readers)
    }

    /// Publishes a state change, stamped now.
    pub fn set_state(&self, state: ConnectionState) {
        let at_ms = self.clock.now();
        self.emit(EngineEvent::State { at_ms, state });
    }

    /// Publishes one event: for a state, the watch first; then health; then the event.
    pub fn emit(&self, event: EngineEvent) {
        self.publish(event, |_| {});
    }

    /// Publishes a disconnect, with the episode's count of failed attempts for health.
    pub fn disconnected(&self, disconnect: Disconnect, failures: u32) {
        self.publish(EngineEvent::Disconnected(disconnect), |h| {
            h.attempt = failures
        });
    }

    fn publish(&self, event: EngineEvent, also: impl FnOnce(&mut Health)) {
        if let EngineEvent::State { state, .. } = &event {
            tracing::info!(state = state.name(), "connection state");
            self.state.send_replace(state.clone());
        }
        {
            let mut health = lock(&self.health);
            note(&mut health, &event);
            also(&mut health);
        }
        // No subscriber is fine: the state watch and health still hold the truth.
        let _ = self.events.send(event);
    }

    /// The account a login used, for health (it is not an event: the app already knows it
    /// from pairing, or from the store after a restart).
    pub fn logged_in_as(&self, jid: Option<String>) {
        lock(&self.health).jid = jid;
    }

    /// The state the watch holds.
    pub fn state(&self) -> ConnectionState {
        self.state.borrow().clone()
    }

    /// When the last ping was answered.
    pub fn last_pong(&self) -> Option<UnixMillis> {
        lock(&self.health).last_pong_ms
    }
}

/// What an event changes in the health snapshot.
pub(crate) fn note(h: &mut Health, event: &EngineEvent) {
    match event {
        EngineEvent::State { at_ms, state } => {
            h.state = state.name().to_owned();
            h.state_since_ms = *at_ms;
            h.next_retry_at_ms = match state {
                ConnectionState::Backoff { until_ms, .. } => Some(*until_ms),
                _ => None,
            };
        }
        EngineEvent::Disconnected(d) => {
            h.last_cause = Some(d.cause);
            h.last_code = d.code;
            h.last_advice = Some(d.advice.clone());
        }
        EngineEvent::Pong { at_ms, rtt_ms } => {
            h.rtt_ms = Some(*rtt_ms);
            h.last_pong_ms = Some(*at_ms);
        }
        EngineEvent::Version { version, source } => {
            h.version = Some(version.clone());
            h.version_source = Some(*source);
        }
        EngineEvent::Paired { jid, .. } => h.jid = Some(jid.clone()),
        EngineEvent::LoggedOut { .. } => h.jid = None,
        EngineEvent::Qr { .. }
        | EngineEvent::PairCode { .. }
        | EngineEvent::KeepAliveTimeout { .. }
        | EngineEvent::KeepAliveRestored { .. }
        | EngineEvent::PrekeysUploaded { .. }
        | EngineEvent::Message { .. }
        | EngineEvent::Receipt { .. } => {}
    }
}

#[cfg(test)]
#[path = "publisher_tests.rs"]
mod tests;
