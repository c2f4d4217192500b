//! Thread CPU time for the benchmarks' load-independent figures.
//!
//! Divan reports wall time, which on a shared machine grows with whatever else runs. The CPU
//! time of the measuring thread leaves out the time it spent descheduled, so the figure stays
//! close to what an idle machine gives (cache and SMT contention still show, a little).

// Each benchmark includes this file and uses only part of it.
#![allow(dead_code)]

/// CPU time consumed so far by the calling thread.
#[cfg(unix)]
pub fn thread_cpu() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant of the platform.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Elsewhere wall time stands in for it.
#[cfg(not(unix))]
pub fn thread_cpu() -> std::time::Duration {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// The median CPU time of `rounds` runs of `f`, each preceded by `setup` (not counted).
pub fn median_cpu<S, T>(
    rounds: usize,
    mut setup: impl FnMut() -> S,
    mut f: impl FnMut(S) -> T,
) -> std::time::Duration {
    let mut samples: Vec<std::time::Duration> = (0..rounds)
        .map(|_| {
            let input = setup();
            let before = thread_cpu();
            let out = f(input);
            let spent = thread_cpu() - before;
            drop(std::hint::black_box(out));
            spent
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}
