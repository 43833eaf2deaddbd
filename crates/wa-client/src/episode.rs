//! What the supervisor carries from one connection to the next: the retry count of the
//! current episode (the run of attempts since the last good login or the user's retry), the
//! WhatsApp Web version in use, and how far a 405 got us with refreshing it.

use std::time::Duration;

use wa_core::backoff::{BackoffPolicy, Next, RetryState};
use wa_core::disconnect::{ClassifyContext, Verdict};
use wa_core::payload::AppVersion;

use crate::events::VersionSource;

/// The version refresh a 405 asks for: one per episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Refresh {
    /// No 405 in this episode.
    #[default]
    NotNeeded,
    /// A 405 came: the next dial fetches the version afresh.
    Due,
    /// Fetched after a 405: another 405 in this episode is final.
    Done,
}

#[derive(Debug, Default)]
pub(crate) struct Episode {
    retry: RetryState,
    refresh: Refresh,
    version: Option<(AppVersion, VersionSource)>,
}

impl Episode {
    /// Failed attempts so far.
    pub fn failures(&self) -> u32 {
        self.retry.failures
    }

    /// What the classifier needs to know about the episode.
    pub fn classify_context(&self) -> ClassifyContext {
        ClassifyContext {
            version_refreshed: self.refresh != Refresh::NotNeeded,
        }
    }

    /// Takes in what the classifier said about a close.
    pub fn on_verdict(&mut self, verdict: &Verdict) {
        if verdict.refresh_version {
            self.refresh = Refresh::Due;
        }
    }

    /// A close that redials at once.
    pub fn on_immediate(&mut self, policy: &BackoffPolicy, online_for: Duration) {
        self.retry.on_immediate(policy, online_for);
    }

    /// A close that backs off: the policy's next step.
    pub fn on_backoff(
        &mut self,
        policy: &BackoffPolicy,
        online_for: Duration,
        at_least: Duration,
        unit: f64,
    ) -> Next {
        self.retry.on_backoff(policy, online_for, at_least, unit)
    }

    /// The user asked to try again: a fresh episode.
    pub fn on_user_retry(&mut self) {
        self.retry.on_user_retry();
        self.refresh = Refresh::NotNeeded;
    }

    /// A login that worked ends the episode's version refresh.
    pub fn on_login(&mut self) {
        self.refresh = Refresh::NotNeeded;
    }

    /// Whether the next dial must resolve the version, and whether it must skip the cache.
    /// `Some(true)` moves a due refresh to done.
    pub fn version_to_resolve(&mut self) -> Option<bool> {
        match (self.version, self.refresh) {
            (_, Refresh::Due) => {
                self.refresh = Refresh::Done;
                Some(true)
            }
            (None, _) => Some(false),
            (Some(_), _) => None,
        }
    }

    /// The version resolved for the next dials.
    pub fn set_version(&mut self, version: AppVersion, source: VersionSource) {
        self.version = Some((version, source));
    }

    /// The version to claim, once resolved.
    pub fn version(&self) -> Option<AppVersion> {
        self.version.map(|(v, _)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outdated() -> Verdict {
        wa_core::disconnect::classify(
            &wa_core::disconnect::CloseReason::Failure(wa_core::disconnect::Failure {
                reason: wa_core::disconnect::FailureReason::ClientOutdated,
                ban_code: None,
                expire_secs: None,
                location: None,
                message: None,
            }),
            ClassifyContext::default(),
        )
    }

    #[test]
    fn a_405_refreshes_the_version_once_per_episode() {
        let v = AppVersion {
            primary: 2,
            secondary: 3000,
            tertiary: 1,
        };
        let mut e = Episode::default();
        assert_eq!(e.version_to_resolve(), Some(false), "first dial resolves");
        e.set_version(v, VersionSource::Cached);
        assert_eq!(e.version_to_resolve(), None, "then keeps it");
        assert!(!e.classify_context().version_refreshed);

        e.on_verdict(&outdated());
        assert_eq!(e.refresh, Refresh::Due);
        assert!(e.classify_context().version_refreshed);
        assert_eq!(e.version_to_resolve(), Some(true), "a 405 forces a fetch");
        assert_eq!(e.refresh, Refresh::Done);
        assert_eq!(e.version_to_resolve(), None, "only once");
        assert!(e.classify_context().version_refreshed, "a second 405 stops");

        e.on_login();
        assert!(!e.classify_context().version_refreshed, "a login ends it");
        e.on_verdict(&outdated());
        e.on_user_retry();
        assert_eq!(e.refresh, Refresh::NotNeeded, "so does the user's retry");
        assert_eq!(e.version(), Some(v));
    }

    #[test]
    fn the_users_retry_starts_the_count_afresh() {
        let p = BackoffPolicy::default();
        let mut e = Episode::default();
        for _ in 0..3 {
            e.on_backoff(&p, Duration::ZERO, Duration::ZERO, 0.5);
        }
        assert_eq!(e.failures(), 3);
        e.on_immediate(&p, Duration::ZERO);
        assert_eq!(e.failures(), 3, "a quick 515 keeps the count");
        e.on_user_retry();
        assert_eq!(e.failures(), 0);
    }
}
