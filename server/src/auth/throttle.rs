//! Sign-in throttling the way OWASP recommends (Authentication Cheat Sheet, "Account
//! Lockout"; and "Slow Down Online Guessing Attacks with Device Cookies"): no account is ever
//! locked, a guesser is slowed down, and the owner of a login still gets in.
//!
//! - **Growing delays** after a few failures: of one login from one client address (the
//!   pair), and of one login from any address. Once past the free failures, each further
//!   attempt must wait 1 s, 2 s, 4 s, … (up to a ceiling) after the last failure. A success
//!   starts the count again.
//! - **A much higher ceiling per address alone**, over all logins, so that one person
//!   cannot shut out an office that shares a NAT address, yet a spray of guesses over many
//!   logins from one place is stopped.
//! - **Known devices** (a device cookie, given at a successful sign-in and remembered for
//!   that login) skip the pair, login and address counts and have only their own: a
//!   guesser hammering `admin` from elsewhere, or from the same NAT address, does not keep
//!   the real `admin` out of their usual browser.
//!
//! A refused attempt checks no password (a guesser learns nothing and costs no argon2 work)
//! and is not recorded as a failure, so it does not lengthen the wait. These are pure
//! functions of the attempts the store returns ([`Accounts::login_attempts_since`]), so they
//! hold across restarts and across servers sharing a database.
//!
//! [`Accounts::login_attempts_since`]: crate::accounts::Accounts::login_attempts_since

use std::time::Duration;

use crate::accounts::LoginAttemptRecord;
use chrono::{DateTime, Utc};

/// How sign-ins are slowed down (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Failures of one login from one address before delays start.
    pub pair_free: u32,
    /// Failures of one login from any address (unknown devices) before delays start.
    pub login_free: u32,
    /// Failures from one known device for its login before delays start.
    pub device_free: u32,
    /// The first delay; each further failure doubles it.
    pub first_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Failures from one address (any login, unknown devices) within the window after which
    /// the address waits until the oldest of them leaves the window.
    pub per_address: u32,
    /// How far back failures are counted.
    pub window: Duration,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            pair_free: 3,
            login_free: 10,
            device_free: 5,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
            per_address: 200,
            window: Duration::from_secs(3600),
        }
    }
}

/// Which count refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// This login from this address.
    Pair,
    /// This login from anywhere.
    Login,
    /// This address, over all logins.
    Address,
    /// This known device, for this login.
    Device,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Pair => "login_and_address",
            Reason::Login => "login",
            Reason::Address => "address",
            Reason::Device => "device",
        }
    }
}

/// An attempt to refuse now, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub reason: Reason,
    pub retry_after: Duration,
}

/// Who is trying: the login, the client address, and the device cookie's hash when that
/// device is known for this login.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub login: &'a str,
    pub ip: &'a str,
    pub device: Option<&'a str>,
}

impl Throttle {
    /// The delay owed after `failures` failures when `free` of them cost nothing.
    pub fn delay(&self, failures: usize, free: u32) -> Duration {
        let Some(over) = failures.checked_sub(free as usize) else {
            return Duration::ZERO;
        };
        let factor = 1u32.checked_shl(over.min(31) as u32).unwrap_or(u32::MAX);
        self.first_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// Whether `attempt` may check a password at `now`, given the attempts recorded within
    /// the window for its login and its address (any order).
    pub fn check(
        &self,
        attempt: Attempt<'_>,
        recorded: &[LoginAttemptRecord],
        now: DateTime<Utc>,
    ) -> Result<(), Refused> {
        let since = now - chrono::Duration::from_std(self.window).unwrap_or_default();
        let recent = || recorded.iter().filter(|a| a.at >= since);
        if let Some(device) = attempt.device {
            let mine = |a: &&LoginAttemptRecord| {
                a.login == attempt.login && a.device.as_deref() == Some(device)
            };
            return self.wait(Reason::Device, self.device_free, recent().filter(mine), now);
        }
        let unknown = |a: &&LoginAttemptRecord| a.device.is_none();
        let mut refused: Option<Refused> = None;
        let mut worst = |r: Option<Refused>| {
            if let Some(r) = r
                && refused.is_none_or(|w| r.retry_after > w.retry_after)
            {
                refused = Some(r);
            }
        };
        // The address's ceiling: it waits until enough of its failures leave the window.
        let mut address: Vec<DateTime<Utc>> = recent()
            .filter(unknown)
            .filter(|a| a.ip == attempt.ip && !a.ok)
            .map(|a| a.at)
            .collect();
        if address.len() >= self.per_address as usize {
            address.sort();
            let leaves = address[address.len() - self.per_address as usize]
                + chrono::Duration::from_std(self.window).unwrap_or_default();
            worst(Some(Refused {
                reason: Reason::Address,
                retry_after: until(leaves, now),
            }));
        }
        let pair = |a: &&LoginAttemptRecord| a.login == attempt.login && a.ip == attempt.ip;
        worst(
            self.wait(
                Reason::Pair,
                self.pair_free,
                recent().filter(unknown).filter(pair),
                now,
            )
            .err(),
        );
        let login = |a: &&LoginAttemptRecord| a.login == attempt.login;
        worst(
            self.wait(
                Reason::Login,
                self.login_free,
                recent().filter(unknown).filter(login),
                now,
            )
            .err(),
        );
        match refused {
            Some(r) => Err(r),
            None => Ok(()),
        }
    }

    /// The wait owed for a run of attempts: the failures since the last success, the delay
    /// they earn, counted from the last of them.
    fn wait<'r>(
        &self,
        reason: Reason,
        free: u32,
        attempts: impl Iterator<Item = &'r LoginAttemptRecord>,
        now: DateTime<Utc>,
    ) -> Result<(), Refused> {
        let mut sorted: Vec<&LoginAttemptRecord> = attempts.collect();
        // Attempts within one instant keep the order they were recorded in.
        sorted.sort_by_key(|a| (a.at, a.id));
        let start = sorted.iter().rposition(|a| a.ok).map_or(0, |i| i + 1);
        let failures = &sorted[start..];
        let Some(last) = failures.last() else {
            return Ok(());
        };
        let delay = self.delay(failures.len(), free);
        let free_at = last.at + chrono::Duration::from_std(delay).unwrap_or_default();
        if free_at > now {
            Err(Refused {
                reason,
                retry_after: until(free_at, now),
            })
        } else {
            Ok(())
        }
    }
}

/// Whole seconds from `now` to `at`, at least one.
fn until(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    let ms = (at - now).num_milliseconds().max(0) as u64;
    Duration::from_secs(ms.div_ceil(1000).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_776_000_000 + s, 0).expect("instant")
    }

    fn rec(login: &str, ip: &str, device: Option<&str>, ok: bool, s: i64) -> LoginAttemptRecord {
        LoginAttemptRecord {
            id: s,
            login: login.into(),
            ip: ip.into(),
            device: device.map(str::to_string),
            ok,
            at: at(s),
        }
    }

    fn who<'a>(login: &'a str, ip: &'a str, device: Option<&'a str>) -> Attempt<'a> {
        Attempt { login, ip, device }
    }

    #[test]
    fn delays_double_after_the_free_failures_up_to_the_ceiling() {
        let t = Throttle::default();
        assert_eq!(t.delay(2, 3), Duration::ZERO);
        assert_eq!(t.delay(3, 3), Duration::from_secs(1));
        assert_eq!(t.delay(4, 3), Duration::from_secs(2));
        assert_eq!(t.delay(8, 3), Duration::from_secs(32));
        assert_eq!(t.delay(30, 3), Duration::from_secs(900));
        assert_eq!(t.delay(usize::MAX, 0), Duration::from_secs(900));
    }

    #[test]
    fn the_pair_waits_after_its_free_failures_and_a_success_starts_again() {
        let t = Throttle::default();
        let mut log: Vec<_> = (0..5)
            .map(|i| rec("olga", "10.0.0.1", None, false, i))
            .collect();
        // 5 failures: 4 s owed after the last one (at 4 s).
        let r = t.check(who("olga", "10.0.0.1", None), &log, at(5));
        assert_eq!(
            r,
            Err(Refused {
                reason: Reason::Pair,
                retry_after: Duration::from_secs(3)
            })
        );
        assert_eq!(t.check(who("olga", "10.0.0.1", None), &log, at(8)), Ok(()));
        // Another login from the same address, and the same login from elsewhere, go on.
        assert_eq!(t.check(who("timur", "10.0.0.1", None), &log, at(5)), Ok(()));
        assert_eq!(t.check(who("olga", "10.0.0.2", None), &log, at(5)), Ok(()));
        log.push(rec("olga", "10.0.0.1", None, true, 6));
        log.push(rec("olga", "10.0.0.1", None, false, 7));
        assert_eq!(t.check(who("olga", "10.0.0.1", None), &log, at(7)), Ok(()));
    }

    #[test]
    fn within_one_instant_the_order_of_recording_decides_and_not_the_order_read() {
        let t = Throttle::default();
        // A success, then four failures, all in the same second, read newest first.
        let mut log = vec![rec("olga", "10.0.0.1", None, true, 0)];
        for id in 1..5 {
            log.push(LoginAttemptRecord {
                id,
                ..rec("olga", "10.0.0.1", None, false, 0)
            });
        }
        log.reverse();
        let r = t.check(who("olga", "10.0.0.1", None), &log, at(0));
        assert_eq!(r.map_err(|r| r.reason), Err(Reason::Pair));
    }

    #[test]
    fn a_login_hammered_from_many_addresses_waits_but_its_known_device_does_not() {
        let t = Throttle::default();
        let log: Vec<_> = (0..12)
            .map(|i| rec("admin", &format!("10.0.1.{i}"), None, false, i))
            .collect();
        let r = t
            .check(who("admin", "10.9.9.9", None), &log, at(12))
            .expect_err("waits");
        assert_eq!(r.reason, Reason::Login);
        assert_eq!(r.retry_after, Duration::from_secs(3));
        assert_eq!(
            t.check(who("admin", "10.0.1.3", Some("dev")), &log, at(12)),
            Ok(())
        );
        // A known device has its own count.
        let mut log = log;
        log.extend((0..6).map(|i| rec("admin", "10.0.1.3", Some("dev"), false, 20 + i)));
        let r = t
            .check(who("admin", "10.0.1.3", Some("dev")), &log, at(26))
            .expect_err("the device waits");
        assert_eq!(r.reason, Reason::Device);
    }

    #[test]
    fn an_address_has_a_ceiling_over_all_logins() {
        let t = Throttle {
            per_address: 10,
            ..Throttle::default()
        };
        let log: Vec<_> = (0..10)
            .map(|i| rec(&format!("user{i}"), "10.0.0.7", None, false, i))
            .collect();
        let r = t
            .check(who("fresh", "10.0.0.7", None), &log, at(100))
            .expect_err("the address is over its ceiling");
        assert_eq!(r.reason, Reason::Address);
        // Until the oldest counted failure (at 0 s) leaves the hour.
        assert_eq!(r.retry_after, Duration::from_secs(3500));
        assert_eq!(
            t.check(who("fresh", "10.0.0.7", None), &log, at(3601)),
            Ok(())
        );
        assert_eq!(
            t.check(who("fresh", "10.0.0.8", None), &log, at(100)),
            Ok(())
        );
        assert_eq!(
            t.check(who("fresh", "10.0.0.7", Some("d")), &log, at(100)),
            Ok(())
        );
    }
}
