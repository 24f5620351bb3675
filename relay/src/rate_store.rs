//! The per-client rate limit shared by several relays through Redis or Valkey (`--rate-limit-store`).
//!
//! Every instance asks the store with one Lua script, the same GCRA as the in-process limiter
//! (`limits.rs`), run atomically by the store on the store's own clock, so the budget of a client is one
//! budget whichever instance it reaches. A store that does not answer within [`CALL_TIMEOUT`] is
//! unreachable: the instance then applies its own limit (neither refusing nor allowing everyone), says
//! so once in the log, and asks the store again every [`WATCH_EVERY`] until it answers (said once too).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::limits::StoreStatus;

/// The longest one question to the store may take: a store on the same network answers in a
/// millisecond, and a diagnosis must not wait on a hung one.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// How often the store is asked whether it answers (and, while it does not, the only time it is asked).
pub const WATCH_EVERY: Duration = Duration::from_secs(2);

/// GCRA, as `Hosting::take_rate`: KEYS[1] the client's key; ARGV[1] the emission interval, ARGV[2] the
/// tolerance (interval x (burst - 1)), in milliseconds. Returns 0 when admitted, else the milliseconds to
/// wait. Milliseconds since the epoch (13 digits) stay exact in Lua's doubles and in `%d`.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - now > tolerance then return tat - now - tolerance end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', string.format('%d', next_tat - now))
return 0
";

/// The states of [`RateStore::state`].
const UNKNOWN: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Never quotes the URL: it may carry the store's password.
    #[error("--rate-limit-store: {0}")]
    Url(&'static str),
    #[error("--rate-limit-store: the Redis client for {at}: {source}")]
    Client { at: String, source: redis::RedisError },
}

pub struct RateStore {
    manager: ConnectionManager,
    script: redis::Script,
    /// `HOST:PORT`, for the log: the URL may carry a password.
    at: String,
    /// UNKNOWN until first asked, then UP or DOWN as the last question went.
    state: AtomicU8,
}

impl RateStore {
    /// The store at `url` (`redis://[:PASSWORD@]HOST:PORT[/DB]`), connected on first use. Must be called
    /// inside the tokio runtime; starts the watch that notices when the store answers again.
    pub fn connect(url: &str) -> Result<Arc<RateStore>, StoreError> {
        let parsed = url::Url::parse(url).map_err(|_| StoreError::Url("not a URL like redis://HOST:PORT"))?;
        if parsed.scheme() != "redis" {
            return Err(StoreError::Url("only redis://HOST:PORT is supported (Redis or Valkey)"));
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(StoreError::Url("no host; like redis://HOST:PORT"))?;
        let at = format!("{host}:{}", parsed.port().unwrap_or(6379));
        let client = redis::Client::open(url).map_err(|source| StoreError::Client { at: at.clone(), source })?;
        // One attempt per reconnection (the watch asks again later); every step bounded in time.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT));
        let manager = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|source| StoreError::Client { at: at.clone(), source })?;
        let store = Arc::new(RateStore {
            manager,
            script: redis::Script::new(GCRA),
            at,
            state: AtomicU8::new(UNKNOWN),
        });
        tokio::spawn(watch(Arc::downgrade(&store)));
        Ok(store)
    }

    /// Where the store is (host and port).
    pub fn at(&self) -> &str {
        &self.at
    }

    /// Reachable when it answered the last question; unreachable when it did not, or before the first.
    pub fn status(&self) -> StoreStatus {
        match self.state.load(Ordering::Relaxed) {
            UP => StoreStatus::Reachable,
            _ => StoreStatus::Unreachable,
        }
    }

    /// One rate token for `client` from the shared budget: `Some(Ok)` admitted, `Some(Err(wait))`
    /// refused, `None` when the store cannot say (the caller then applies its own limit). While the
    /// store is known to be down, it is not asked: the watch finds out when it is back.
    pub async fn take(&self, client: IpAddr, interval: Duration, tolerance: Duration) -> Option<Result<(), Duration>> {
        if self.state.load(Ordering::Relaxed) == DOWN {
            return None;
        }
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let mut invocation = self.script.key(key(client));
        invocation.arg(ms(interval).max(1)).arg(ms(tolerance));
        let mut connection = self.manager.clone();
        let asked = tokio::time::timeout(CALL_TIMEOUT, invocation.invoke_async::<u64>(&mut connection)).await;
        match asked {
            Ok(Ok(0)) => {
                self.mark_up();
                Some(Ok(()))
            }
            Ok(Ok(wait_ms)) => {
                self.mark_up();
                Some(Err(Duration::from_millis(wait_ms)))
            }
            Ok(Err(e)) => {
                self.mark_down(&e.to_string());
                None
            }
            Err(_) => {
                self.mark_down(&format!("no answer within {} ms", CALL_TIMEOUT.as_millis()));
                None
            }
        }
    }

    /// Asks the store whether it answers (PING), and records the answer.
    pub async fn check(&self) {
        let mut connection = self.manager.clone();
        let ping = redis::cmd("PING");
        match tokio::time::timeout(CALL_TIMEOUT, ping.query_async::<String>(&mut connection)).await {
            Ok(Ok(_)) => self.mark_up(),
            Ok(Err(e)) => self.mark_down(&e.to_string()),
            Err(_) => self.mark_down(&format!("no answer within {} ms", CALL_TIMEOUT.as_millis())),
        }
    }

    /// Logged when the state changes, never per request.
    fn mark_up(&self) {
        match self.state.swap(UP, Ordering::Relaxed) {
            UP => {}
            DOWN => tracing::info!(
                "rate-limit store {} is reachable again: the rate limit is shared again",
                self.at
            ),
            _ => tracing::info!(
                "rate-limit store {} reachable: the rate limit is shared with the other instances",
                self.at
            ),
        }
    }

    fn mark_down(&self, why: &str) {
        if self.state.swap(DOWN, Ordering::Relaxed) != DOWN {
            tracing::warn!(
                "rate-limit store {} unreachable ({why}): this instance applies its own rate limit until it answers",
                self.at
            );
        }
    }
}

/// Asks the store every [`WATCH_EVERY`], for as long as the store is in use.
async fn watch(store: Weak<RateStore>) {
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        let Some(store) = store.upgrade() else { return };
        store.check().await;
    }
}

/// The client's key in the store: a digest, so a key listing shows no address. (An IPv4 address can be
/// found again from its digest by trying them all: this keeps addresses out of sight, it does not make
/// them anonymous; the store's keys expire when the client's budget is full again.)
fn key(client: IpAddr) -> String {
    let bytes = match client {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    let mut input = b"migcheck rate v1 ".to_vec();
    input.extend_from_slice(&bytes);
    let digest = ring::digest::digest(&ring::digest::SHA256, &input);
    let mut key = String::from("migcheck:rate:");
    for b in &digest.as_ref()[..16] {
        let _ = write!(key, "{b:02x}");
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_shows_no_address() {
        let ip: IpAddr = "198.51.100.7".parse().expect("ip");
        let k = key(ip);
        assert!(k.starts_with("migcheck:rate:"), "{k}");
        assert_eq!(k.len(), "migcheck:rate:".len() + 32);
        assert!(!k.contains("198.51.100.7") && !k.contains("c6336407"), "{k}");
        assert_ne!(k, key("198.51.100.8".parse().expect("ip")));
    }

    #[tokio::test]
    async fn a_url_with_a_password_is_never_quoted() {
        for url in [
            "http://:hunter2@127.0.0.1:6379",
            "redis//:hunter2@x",
            "redis://:hunter2@",
        ] {
            let e = RateStore::connect(url).err().expect("refused").to_string();
            assert!(!e.contains("hunter2"), "{e}");
        }
        let store = RateStore::connect("redis://:hunter2@127.0.0.1:1").expect("a URL");
        assert_eq!(store.at(), "127.0.0.1:1");
        assert_eq!(store.status(), StoreStatus::Unreachable, "not asked yet");
    }
}
