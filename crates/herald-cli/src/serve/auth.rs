//! API keys on requests: `X-API-Key: KEY` or `Authorization: Bearer KEY`, never the URL (a
//! key in a URL ends up in proxy logs and shell history). Keys are checked against the live
//! digests at every request, so a key revoked with `herald-cli api-key revoke` stops working
//! at once, even while the daemon runs. No key is configured by default and none is ever
//! implied: with no live key, every protected request is refused.
//!
//! Wrong keys count against the sending address (see `throttle.rs`); a missing key does not.
//! Addresses are the TCP peer's: behind a reverse proxy they are the proxy's, which is the
//! safe reading (a forwarded-for header is whatever the client wrote).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tokio::time::Instant;

use super::error::ApiError;
use super::state::AppState;
use crate::api_keys;

/// The header a key may come in (besides `Authorization: Bearer`).
pub const KEY_HEADER: &str = "x-api-key";

/// What a request carried.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented<'a> {
    None,
    Key(&'a str),
    /// A key header that cannot be a key (not ASCII, or an `Authorization` of another scheme).
    Unreadable,
}

/// The key a request presents, from its headers only.
pub fn presented(headers: &HeaderMap) -> Presented<'_> {
    if let Some(v) = headers.get(KEY_HEADER) {
        return match v.to_str() {
            Ok(k) if !k.trim().is_empty() => Presented::Key(k.trim()),
            _ => Presented::Unreadable,
        };
    }
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let Ok(text) = v.to_str() else {
            return Presented::Unreadable;
        };
        return match text.split_once(' ') {
            Some((scheme, key))
                if scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty() =>
            {
                Presented::Key(key.trim())
            }
            _ => Presented::Unreadable,
        };
    }
    Presented::None
}

/// Checks the request's key: `Ok(None)` when it carries none, `Ok(Some(name))` for a live key,
/// 401 for a wrong one, 429 while its address must wait.
pub fn check(
    app: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<Option<String>, ApiError> {
    let key = match presented(headers) {
        Presented::None => return Ok(None),
        Presented::Key(k) => Some(k),
        Presented::Unreadable => None,
    };
    let ip = peer.ip();
    let now = Instant::now();
    if let Err(wait) = app.throttle().check(ip, now) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_bad_keys",
            "too many wrong API keys from this address",
            "Wait for the time in Retry-After, then send a valid key.",
        )
        .retry_after(wait));
    }
    let found = match key {
        Some(k) => app.with_db("checking the API key", |db| api_keys::check(db, k))?,
        None => None,
    };
    match found {
        Some(name) => {
            app.throttle().succeeded(ip);
            Ok(Some(name))
        }
        None => {
            let wait = app.throttle().failed(ip, now);
            // The address and the count, never the key.
            tracing::warn!(%ip, blocked_for_s = wait.map(|w| w.as_secs()), "wrong API key");
            Err(ApiError::unauthorized(
                "the API key is not valid (wrong or revoked)",
            ))
        }
    }
}

/// Middleware for the protected routes: a live key or no entry.
pub async fn require_key(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    match check(&app, request.headers(), peer)? {
        Some(_) => Ok(next.run(request).await),
        None => Err(ApiError::unauthorized("this endpoint needs an API key")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_bytes(value).unwrap());
        }
        h
    }

    #[test]
    fn keys_come_from_the_two_headers_only() {
        type Headers = &'static [(&'static str, &'static [u8])];
        let table: &[(Headers, Presented<'_>)] = &[
            (&[], Presented::None),
            (
                &[("x-api-key", b"herald_abc")],
                Presented::Key("herald_abc"),
            ),
            (
                &[("x-api-key", b" herald_abc ")],
                Presented::Key("herald_abc"),
            ),
            (&[("x-api-key", b"")], Presented::Unreadable),
            (&[("x-api-key", b"\xff\xfe")], Presented::Unreadable),
            (
                &[("authorization", b"Bearer herald_abc")],
                Presented::Key("herald_abc"),
            ),
            (
                &[("authorization", b"bearer herald_abc")],
                Presented::Key("herald_abc"),
            ),
            (
                &[("authorization", b"Basic dXNlcjpwYXNz")],
                Presented::Unreadable,
            ),
            (&[("authorization", b"Bearer ")], Presented::Unreadable),
            (
                &[
                    ("x-api-key", b"from-header"),
                    ("authorization", b"Bearer other"),
                ],
                Presented::Key("from-header"),
            ),
            (&[("cookie", b"key=herald_abc")], Presented::None),
        ];
        for (pairs, want) in table {
            assert_eq!(&presented(&headers(pairs)), want, "{pairs:?}");
        }
    }
}
