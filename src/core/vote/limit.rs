//! Limits per network address for the class vote's server: a token bucket per address (requests a
//! second, with a burst) and a count of wrong join codes per address in a window of time. Pure: the
//! caller passes the time. Memory is bounded: at most [`MAX_ADDRESSES`] addresses are followed; idle
//! ones are forgotten first, and while the table is full every new address shares one bucket.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The most addresses followed at once (about 60 bytes each).
pub const MAX_ADDRESSES: usize = 4096;

/// Whom a limit applies to: an IPv4 address, or the /64 network of an IPv6 address (one device can
/// hold a whole /64; an IPv4 address mapped into IPv6 counts as that IPv4 address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Client(IpAddr);

impl Client {
    /// The client `addr` belongs to.
    pub fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(v4) => Self(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => Self(IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into())),
            },
        }
    }
}

/// How much one address may ask.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Requests a second, sustained.
    pub rate: f64,
    /// Requests at once after a quiet while (the bucket's size).
    pub burst: f64,
    /// Wrong join codes allowed per address within [`Limits::wrong_code_window`]; more are refused
    /// with 429 without looking at the code (guessing a code takes millions of tries).
    pub wrong_codes: u32,
    /// The window over which wrong codes are counted.
    pub wrong_code_window: Duration,
}

impl Default for Limits {
    /// 20 requests a second with bursts of 60 (a phone asks about once a second; a class behind one
    /// address still fits), 20 wrong codes a minute.
    fn default() -> Self {
        Self {
            rate: 20.0,
            burst: 60.0,
            wrong_codes: 20,
            wrong_code_window: Duration::from_secs(60),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per client: each request takes a token; tokens come back at `rate` a second up to
/// `burst`.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    buckets: HashMap<Client, Bucket>,
    /// Shared by new clients while the table is full.
    overflow: Bucket,
}

impl RateLimiter {
    pub fn new(limits: Limits, now: Instant) -> Self {
        Self {
            limits,
            buckets: HashMap::new(),
            overflow: Bucket {
                tokens: limits.burst,
                last: now,
            },
        }
    }

    /// Takes a token for `client` at `now`: `Ok`, or how long until the next token.
    pub fn allow(&mut self, client: Client, now: Instant) -> Result<(), Duration> {
        let limits = self.limits;
        if !self.buckets.contains_key(&client) && self.buckets.len() >= MAX_ADDRESSES {
            self.forget_idle(now);
        }
        let fresh = Bucket {
            tokens: limits.burst,
            last: now,
        };
        let bucket = if self.buckets.len() < MAX_ADDRESSES || self.buckets.contains_key(&client) {
            self.buckets.entry(client).or_insert(fresh)
        } else {
            &mut self.overflow
        };
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limits.rate).min(limits.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / limits.rate))
        }
    }

    /// Forgets the clients whose bucket has refilled (they are as good as new).
    fn forget_idle(&mut self, now: Instant) {
        let refill = Duration::from_secs_f64(self.limits.burst / self.limits.rate);
        self.buckets
            .retain(|_, b| now.saturating_duration_since(b.last) < refill);
    }

    /// How many clients are followed.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

/// Wrong join codes per client within a window.
#[derive(Debug)]
pub struct WrongCodes {
    limits: Limits,
    /// (wrong codes so far, when the window began).
    counts: HashMap<Client, (u32, Instant)>,
}

impl WrongCodes {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            counts: HashMap::new(),
        }
    }

    /// Whether `client` has used up its wrong codes for now.
    pub fn blocked(&self, client: Client, now: Instant) -> bool {
        self.counts.get(&client).is_some_and(|&(n, since)| {
            n >= self.limits.wrong_codes
                && now.saturating_duration_since(since) < self.limits.wrong_code_window
        })
    }

    /// Counts one wrong code from `client`.
    pub fn record(&mut self, client: Client, now: Instant) {
        let window = self.limits.wrong_code_window;
        if !self.counts.contains_key(&client) && self.counts.len() >= MAX_ADDRESSES {
            self.counts
                .retain(|_, (_, since)| now.saturating_duration_since(*since) < window);
            if self.counts.len() >= MAX_ADDRESSES {
                // under a flood from thousands of addresses the oldest entry makes room
                let oldest = self
                    .counts
                    .iter()
                    .min_by_key(|(_, (_, s))| *s)
                    .map(|(c, _)| *c);
                if let Some(oldest) = oldest {
                    self.counts.remove(&oldest);
                }
            }
        }
        let entry = self.counts.entry(client).or_insert((0, now));
        if now.saturating_duration_since(entry.1) >= window {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(last: u8) -> Client {
        Client::of(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)))
    }

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let limits = Limits {
            rate: 10.0,
            burst: 5.0,
            ..Limits::default()
        };
        let mut limiter = RateLimiter::new(limits, t0);
        for _ in 0..5 {
            assert!(limiter.allow(v4(1), t0).is_ok());
        }
        let wait = limiter.allow(v4(1), t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-9, "{wait:?}");
        // another address has its own bucket
        assert!(limiter.allow(v4(2), t0).is_ok());
        // a tenth of a second later, one more token
        let t1 = t0 + Duration::from_millis(100);
        assert!(limiter.allow(v4(1), t1).is_ok());
        assert!(limiter.allow(v4(1), t1).is_err());
        // after a quiet second the bucket is full again, not fuller
        let t2 = t1 + Duration::from_secs(10);
        for _ in 0..5 {
            assert!(limiter.allow(v4(1), t2).is_ok());
        }
        assert!(limiter.allow(v4(1), t2).is_err());
    }

    #[test]
    fn the_table_stays_bounded_and_new_clients_share_a_bucket_when_it_is_full() {
        let t0 = Instant::now();
        let limits = Limits {
            rate: 1.0,
            burst: 2.0,
            ..Limits::default()
        };
        let mut limiter = RateLimiter::new(limits, t0);
        for i in 0..MAX_ADDRESSES as u32 {
            let client = Client::of(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)));
            assert!(limiter.allow(client, t0).is_ok());
        }
        assert_eq!(limiter.len(), MAX_ADDRESSES);
        // the table is full and nobody is idle: newcomers share the overflow bucket (2 tokens)
        let newcomer = |i: u32| Client::of(IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + i)));
        assert!(limiter.allow(newcomer(0), t0).is_ok());
        assert!(limiter.allow(newcomer(1), t0).is_ok());
        assert!(limiter.allow(newcomer(2), t0).is_err());
        assert_eq!(limiter.len(), MAX_ADDRESSES);
        // once the others have been quiet long enough they are forgotten
        let later = t0 + Duration::from_secs(3);
        assert!(limiter.allow(newcomer(3), later).is_ok());
        assert_eq!(limiter.len(), 1);
    }

    #[test]
    fn wrong_codes_block_an_address_for_the_rest_of_the_window() {
        let t0 = Instant::now();
        let limits = Limits {
            wrong_codes: 3,
            wrong_code_window: Duration::from_secs(60),
            ..Limits::default()
        };
        let mut wrong = WrongCodes::new(limits);
        for _ in 0..3 {
            assert!(!wrong.blocked(v4(1), t0));
            wrong.record(v4(1), t0);
        }
        assert!(wrong.blocked(v4(1), t0));
        assert!(!wrong.blocked(v4(2), t0));
        assert!(wrong.blocked(v4(1), t0 + Duration::from_secs(59)));
        assert!(!wrong.blocked(v4(1), t0 + Duration::from_secs(60)));
        // a new window starts from nothing
        wrong.record(v4(1), t0 + Duration::from_secs(61));
        assert!(!wrong.blocked(v4(1), t0 + Duration::from_secs(61)));
    }

    #[test]
    fn ipv6_clients_are_their_64_bit_network() {
        let a: Ipv6Addr = "2001:db8:1:2::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(Client::of(a.into()), Client::of(b.into()));
        assert_ne!(Client::of(a.into()), Client::of(c.into()));
        let mapped: Ipv6Addr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(Client::of(mapped.into()), v4(1));
    }
}
