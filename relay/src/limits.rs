//! What keeps a hosted relay usable for everyone: a rate per client address, a cap on diagnoses running
//! at once, a deadline for each, an optional access token and the origins allowed to call the API. The
//! rate is counted in this process, or shared by several through a store (`rate_store.rs`).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderValue;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::rate_store::RateStore;

/// The numbers; the defaults are what a public relay needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Diagnoses each client address may start per minute, on average.
    pub rate_per_minute: u32,
    /// Diagnoses a client address may start at once before the rate applies.
    pub burst: u32,
    /// Diagnoses running at once, all clients together.
    pub max_concurrent: usize,
    /// The longest one diagnosis may run; then it is stopped.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate_per_minute: 10,
            burst: 5,
            max_concurrent: 32,
            deadline: Duration::from_secs(90),
        }
    }
}

/// Why a diagnosis may not start now, and when to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub message: String,
    pub retry_after_secs: u64,
}

/// Whether the rate limit's shared store answers (`/readyz` is not ready while it does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreStatus {
    /// No `--rate-limit-store`: the limit is this process's own.
    NotConfigured,
    Reachable,
    /// Not answering (or not asked yet): this instance applies its own limit meanwhile.
    Unreachable,
}

/// How the relay is exposed: limits, access token, allowed origins; and the counters the limits need.
pub struct Hosting {
    pub limits: Limits,
    token: Option<[u8; 32]>,
    /// Origins whose pages may call the API (CORS); none by default.
    pub cors_origins: Vec<HeaderValue>,
    /// Reverse proxies in front of the relay whose `X-Forwarded-For` is believed; none by default.
    trusted_proxies: Vec<IpNet>,
    slots: Arc<Semaphore>,
    /// Per client address, the theoretical arrival time of its next request (GCRA).
    next_arrival: Mutex<HashMap<IpAddr, Instant>>,
    /// The rate shared with other instances (`--rate-limit-store`); while it is unreachable, or without
    /// one, `next_arrival` counts.
    store: Option<Arc<RateStore>>,
}

impl Default for Hosting {
    fn default() -> Self {
        Hosting::new(Limits::default())
    }
}

/// Past this many tracked addresses, the ones already back to a full burst are forgotten.
const TRACKED: usize = 10_000;

impl Hosting {
    pub fn new(limits: Limits) -> Self {
        Hosting {
            slots: Arc::new(Semaphore::new(limits.max_concurrent)),
            limits,
            token: None,
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            next_arrival: Mutex::new(HashMap::new()),
            store: None,
        }
    }

    /// Shares the rate limit with the other instances that use `store`.
    pub fn with_rate_limit_store(mut self, store: Arc<RateStore>) -> Self {
        self.store = Some(store);
        self
    }

    pub fn store_status(&self) -> StoreStatus {
        match &self.store {
            None => StoreStatus::NotConfigured,
            Some(store) => store.status(),
        }
    }

    /// Asks the shared store, if any, whether it answers (at start, so the log and `/readyz` say so at
    /// once; afterwards the store's own watch does).
    pub async fn check_store(&self) {
        if let Some(store) = &self.store {
            store.check().await;
        }
    }

    /// Requires `Authorization: Bearer TOKEN` on the API.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(digest(token.as_bytes()));
        self
    }

    pub fn with_cors_origins(mut self, origins: Vec<HeaderValue>) -> Self {
        self.cors_origins = origins;
        self
    }

    /// Believes `X-Forwarded-For` from these networks (the reverse proxy the relay is hosted behind).
    pub fn with_trusted_proxies(mut self, proxies: Vec<IpNet>) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    pub fn trusted_proxies(&self) -> &[IpNet] {
        &self.trusted_proxies
    }

    /// The client the limits count: the connection's peer, or, when that peer is a trusted proxy, the
    /// nearest address in `X-Forwarded-For` that is not one (the entries further left are the client's
    /// own to write, so they are never believed).
    pub fn client_address(&self, peer: Option<IpAddr>, forwarded_for: Option<&[u8]>) -> Option<IpAddr> {
        let trusted = |ip: &IpAddr| self.trusted_proxies.iter().any(|n| n.contains(&ip.to_canonical()));
        let peer = peer?;
        if !trusted(&peer) {
            return Some(peer);
        }
        let header = forwarded_for
            .and_then(|h| std::str::from_utf8(h).ok())
            .unwrap_or_default();
        for hop in header.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if trusted(&ip) => continue,
                Ok(ip) => return Some(ip),
                // Garbage where an address should be: stop believing the header.
                Err(_) => break,
            }
        }
        Some(peer)
    }

    pub fn needs_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether an `Authorization` header value carries the token (compared in constant time).
    pub fn token_matches(&self, authorization: Option<&[u8]>) -> bool {
        let Some(expected) = &self.token else {
            return true;
        };
        // `Bearer TOKEN`: the scheme's case does not matter (RFC 9110, 11.1), nor how many spaces follow.
        let Some((scheme, given)) = authorization.and_then(|a| Some(a.split_at(a.iter().position(|b| *b == b' ')?)))
        else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case(b"bearer") {
            return false;
        }
        let given = digest(given.trim_ascii());
        // Both sides are SHA-256 digests: equal lengths, and every byte is looked at.
        given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// Every diagnosis slot is taken: a new diagnosis would be refused (`/readyz` reports it).
    pub fn saturated(&self) -> bool {
        self.slots.available_permits() == 0
    }

    /// A slot for one diagnosis from `client`, held until the diagnosis ends; or why not.
    pub async fn admit(&self, client: Option<IpAddr>) -> Result<OwnedSemaphorePermit, Refused> {
        let permit = Arc::clone(&self.slots).try_acquire_owned().map_err(|_| Refused {
            message: format!(
                "this relay is running {} diagnoses already; try again in a few seconds",
                self.limits.max_concurrent
            ),
            retry_after_secs: 5,
        })?;
        if let Some(ip) = client {
            let key = client_key(ip);
            let shared = match &self.store {
                Some(store) => store.take(key, self.interval(), self.tolerance()).await,
                None => None,
            };
            shared
                .unwrap_or_else(|| self.take_rate(key))
                .map_err(|wait| self.too_many(wait))?;
        }
        Ok(permit)
    }

    /// GCRA: requests arrive one `interval` apart on average, and up to `tolerance` ahead of that.
    fn interval(&self) -> Duration {
        Duration::from_secs(60) / self.limits.rate_per_minute.max(1)
    }

    fn tolerance(&self) -> Duration {
        self.interval() * self.limits.burst.max(1).saturating_sub(1)
    }

    /// This process's own count: `Err(wait)` when `ip` is over its rate.
    fn take_rate(&self, ip: IpAddr) -> Result<(), Duration> {
        let (interval, tolerance) = (self.interval(), self.tolerance());
        let now = Instant::now();
        let mut map = self.next_arrival.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= TRACKED {
            map.retain(|_, at| *at > now);
        }
        let at = map.get(&ip).copied().filter(|at| *at > now).unwrap_or(now);
        let ahead = at - now;
        if ahead > tolerance {
            return Err(ahead - tolerance);
        }
        map.insert(ip, at + interval);
        Ok(())
    }

    fn too_many(&self, wait: Duration) -> Refused {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Refused {
            message: format!(
                "too many diagnoses from your address ({} a minute); try again in {secs} s",
                self.limits.rate_per_minute
            ),
            retry_after_secs: secs,
        }
    }
}

/// The unit the rate applies to: an IPv4 address, or an IPv6 /64 (one subscriber's network, in which
/// a client may pick any address it likes).
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_the_rate() {
        let hosting = Hosting::new(Limits {
            rate_per_minute: 10,
            burst: 3,
            ..Limits::default()
        });
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let other: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..3 {
            assert!(hosting.admit(Some(ip)).await.is_ok());
        }
        let refused = hosting.admit(Some(ip)).await.expect_err("over the burst");
        assert_eq!(refused.retry_after_secs, 6);
        assert!(
            hosting.admit(Some(other)).await.is_ok(),
            "another address has its own budget"
        );
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(hosting.admit(Some(ip)).await.is_ok(), "one more after one interval");
        assert!(hosting.admit(Some(ip)).await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn an_ipv6_network_shares_one_budget() {
        let hosting = Hosting::new(Limits {
            burst: 1,
            ..Limits::default()
        });
        let one: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let same_net: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let other_net: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert!(hosting.admit(Some(one)).await.is_ok());
        assert!(hosting.admit(Some(same_net)).await.is_err());
        assert!(hosting.admit(Some(other_net)).await.is_ok());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let open = Hosting::default();
        let proxy = Some(ip("10.0.0.5"));
        assert_eq!(
            open.client_address(proxy, Some(b"198.51.100.7")),
            proxy,
            "no proxy trusted"
        );
        let behind = Hosting::default().with_trusted_proxies(vec!["10.0.0.0/8".parse().expect("cidr")]);
        assert_eq!(
            behind.client_address(proxy, Some(b"198.51.100.7")),
            Some(ip("198.51.100.7"))
        );
        // The client wrote the left part: the nearest untrusted hop counts.
        assert_eq!(
            behind.client_address(proxy, Some(b"1.2.3.4, 198.51.100.7, 10.0.0.9")),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(behind.client_address(proxy, Some(b"not-an-ip")), proxy);
        assert_eq!(behind.client_address(proxy, None), proxy);
        let direct = Some(ip("203.0.113.9"));
        assert_eq!(
            behind.client_address(direct, Some(b"198.51.100.7")),
            direct,
            "a client that is not the proxy cannot pick its address"
        );
    }

    #[test]
    fn the_token_is_a_bearer_token() {
        let open = Hosting::default();
        assert!(open.token_matches(None));
        let closed = Hosting::default().with_token("s3cret");
        assert!(closed.needs_token());
        assert!(closed.token_matches(Some(b"Bearer s3cret")));
        assert!(!closed.token_matches(Some(b"Bearer s3cre")));
        assert!(!closed.token_matches(Some(b"Basic s3cret")));
        assert!(!closed.token_matches(Some(b"Bearers3cret")));
        assert!(!closed.token_matches(Some(b"s3cret")));
        assert!(!closed.token_matches(None));
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        let closed = Hosting::default().with_token("s3cret");
        for header in [
            &b"bearer s3cret"[..],
            b"BEARER s3cret",
            b"bEaReR s3cret",
            b"Bearer  s3cret",
        ] {
            assert!(
                closed.token_matches(Some(header)),
                "{}",
                String::from_utf8_lossy(header)
            );
        }
        assert!(!closed.token_matches(Some(b"bearer wrong")));
    }
}
