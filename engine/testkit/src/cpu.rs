//! CPU time for the benchmarks' load-independent figures.
//!
//! Divan reports wall time, which on a shared machine grows with whatever else runs. The CPU
//! time of the measuring thread leaves out the time it spent descheduled, so the figure stays
//! close to what an idle machine gives (cache and SMT contention still show, a little).

use std::time::Duration;

use cpu_time::{ProcessTime, ThreadTime};

/// CPU time consumed so far by the calling thread.
pub fn thread_cpu() -> Duration {
    ThreadTime::now().as_duration()
}

/// CPU time consumed so far by the whole process (every thread).
pub fn process_cpu() -> Duration {
    ProcessTime::now().as_duration()
}

/// The median CPU time of `rounds` runs of `f`, each preceded by `setup` (not counted).
pub fn median_cpu<S, T>(
    rounds: usize,
    mut setup: impl FnMut() -> S,
    mut f: impl FnMut(S) -> T,
) -> Duration {
    assert!(rounds > 0, "at least one round");
    let mut samples: Vec<Duration> = (0..rounds)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_grows_with_work_and_not_with_sleep() {
        let before = thread_cpu();
        std::thread::sleep(Duration::from_millis(30));
        let slept = thread_cpu() - before;
        let before = thread_cpu();
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let worked = thread_cpu() - before;
        assert!(worked > slept, "worked {worked:?}, slept {slept:?}");
        assert!(worked >= Duration::from_millis(5), "{worked:?}");
    }
}
