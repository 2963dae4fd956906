//! Work shared with idle cores without ever waiting for one. A job is a fixed set of pieces
//! behind a claim counter; the caller offers it to a few persistent helper threads and then
//! claims pieces itself, one after another, until none is left. A helper that the scheduler
//! runs in time takes some; one that runs late finds nothing left to take. The caller only
//! ever waits for a piece a helper is already running, never for a helper to start, so on a
//! busy machine a job costs what it would alone (a freshly spawned thread per request cost a
//! third of the throughput with one busy neighbour process).
//!
//! Pieces must be `'static` (the helpers outlive the call): they capture shared handles
//! (`Arc`, `Bytes`), not borrows.

use std::{
    collections::VecDeque,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        Arc, Condvar, Mutex, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
};

/// What helpers see of a job: something to claim pieces of until none is left.
trait Claim: Send + Sync {
    /// Runs unclaimed pieces until none is left.
    fn work(&self);
}

struct Job<T, F> {
    run: F,
    pieces: usize,
    next: AtomicUsize,
    /// Each piece's result, `None` until done (or if it panicked).
    results: Mutex<Vec<Option<T>>>,
    /// Pieces finished (or failed), with a signal for the caller waiting on a helper's piece.
    finished: Mutex<usize>,
    all_finished: Condvar,
}

impl<T: Send, F: Fn(usize) -> T + Send + Sync> Job<T, F> {
    /// Claims and runs one piece; false when none was left.
    fn claim_one(&self) -> bool {
        let i = self.next.fetch_add(1, Ordering::AcqRel);
        if i >= self.pieces {
            return false;
        }
        let out = catch_unwind(AssertUnwindSafe(|| (self.run)(i))).ok();
        if let Some(slot) = lock(&self.results).get_mut(i) {
            *slot = out;
        }
        let mut finished = lock(&self.finished);
        *finished += 1;
        if *finished == self.pieces {
            self.all_finished.notify_all();
        }
        true
    }
}

impl<T: Send, F: Fn(usize) -> T + Send + Sync> Claim for Job<T, F> {
    fn work(&self) {
        while self.claim_one() {}
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The helper threads and the jobs offered to them.
struct Pool {
    offered: Mutex<VecDeque<Arc<dyn Claim>>>,
    wake: Condvar,
    /// Helpers asleep, waiting for a job: a job is offered only when one is.
    idle: AtomicUsize,
    helpers: usize,
}

impl Pool {
    fn helper(&self) {
        loop {
            let job = {
                let mut offered = lock(&self.offered);
                loop {
                    if let Some(job) = offered.front() {
                        break job.clone();
                    }
                    self.idle.fetch_add(1, Ordering::AcqRel);
                    offered = self.wake.wait(offered).unwrap_or_else(|e| e.into_inner());
                    self.idle.fetch_sub(1, Ordering::AcqRel);
                }
            };
            job.work();
            // Nothing left to claim: withdraw the offer if its caller has not yet.
            let mut offered = lock(&self.offered);
            if offered.front().is_some_and(|j| Arc::ptr_eq(j, &job)) {
                offered.pop_front();
            }
        }
    }
}

/// One helper per core beyond the caller's (at most 15), started on first use. `None` on a single core
/// or when no thread could be started.
fn pool() -> Option<&'static Pool> {
    static POOL: OnceLock<Option<&'static Pool>> = OnceLock::new();
    *POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        // `VIGIL_SHARE_HELPERS=0` turns sharing off (every piece on its caller's thread).
        let wanted = std::env::var("VIGIL_SHARE_HELPERS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(cores.saturating_sub(1))
            .min(15);
        if wanted == 0 {
            return None;
        }
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            offered: Mutex::new(VecDeque::new()),
            wake: Condvar::new(),
            idle: AtomicUsize::new(0),
            helpers: wanted,
        }));
        let started = (0..wanted)
            .filter(|n| {
                std::thread::Builder::new()
                    .name(format!("vigil-share-{n}"))
                    .spawn(|| pool.helper())
                    .is_ok()
            })
            .count();
        (started > 0).then_some(pool)
    })
}

/// Helper threads (0 on a single core): callers size their pieces by it.
pub fn helpers() -> usize {
    pool().map_or(0, |p| p.helpers)
}

/// Whether a helper is asleep waiting for work: when none is, splitting work only costs.
pub fn anyone_idle() -> bool {
    pool().is_some_and(|p| p.idle.load(Ordering::Acquire) > 0)
}

/// Runs `run(0)`, …, `run(pieces - 1)`, on this thread and on whichever helpers are idle and
/// get to run in time; returns the results in piece order. `None` if a piece panicked.
pub fn run<T, F>(pieces: usize, run: F) -> Option<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> T + Send + Sync + 'static,
{
    shared(pieces, run)
}

fn shared<T, F>(pieces: usize, run: F) -> Option<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> T + Send + Sync + 'static,
{
    // Pieces for the helpers: all but the one this thread starts on.
    let wanted = pieces.saturating_sub(1);
    let pool = match pool() {
        Some(p) if wanted > 0 && p.idle.load(Ordering::Acquire) > 0 => p,
        // Nobody idle to share with: no queue, no wake-up, no result slots.
        _ => return catch_unwind(AssertUnwindSafe(|| (0..pieces).map(&run).collect())).ok(),
    };
    let job = Arc::new(Job {
        run,
        pieces,
        next: AtomicUsize::new(0),
        results: Mutex::new((0..pieces).map(|_| None).collect()),
        finished: Mutex::new(0),
        all_finished: Condvar::new(),
    });
    let offer: Arc<dyn Claim> = job.clone();
    lock(&pool.offered).push_back(offer.clone());
    // As many helpers as there are pieces not ours; each takes pieces until none is left.
    for _ in 0..wanted.min(pool.helpers) {
        pool.wake.notify_one();
    }
    job.work();
    lock(&pool.offered).retain(|j| !Arc::ptr_eq(j, &offer));
    // Only pieces a running helper claimed can still be unfinished.
    let mut finished = lock(&job.finished);
    while *finished < pieces {
        finished = job
            .all_finished
            .wait(finished)
            .unwrap_or_else(|e| e.into_inner());
    }
    drop(finished);
    std::mem::take(&mut *lock(&job.results))
        .into_iter()
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_piece_runs_once_in_order_whoever_runs_it() {
        for pieces in [0, 1, 2, 3, 17] {
            let runs = Arc::new(AtomicUsize::new(0));
            let counted = runs.clone();
            let out = run(pieces, move |i| {
                counted.fetch_add(1, Ordering::Relaxed);
                i * 10
            })
            .unwrap();
            assert_eq!(out, (0..pieces).map(|i| i * 10).collect::<Vec<_>>());
            assert_eq!(runs.load(Ordering::Relaxed), pieces);
        }
    }

    #[test]
    fn many_callers_at_once_each_get_their_own_results() {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                std::thread::spawn(move || {
                    for round in 0..200 {
                        let out = run(5, move |i| (t, round, i)).unwrap();
                        let want: Vec<_> = (0..5).map(|i| (t, round, i)).collect();
                        assert_eq!(out, want);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn a_panicking_piece_fails_the_job_not_the_caller() {
        let out = run(4, |i| {
            assert!(i != 2, "piece 2 fails");
            i
        });
        assert_eq!(out, None);
        // The helpers survive it.
        assert_eq!(run(3, |i| i).unwrap(), [0, 1, 2]);
    }

    #[test]
    fn a_caller_never_waits_for_a_helper_that_does_not_run() {
        // Keep every helper busy on a piece of one job, then run another: its caller must
        // take all of its pieces itself rather than wait for a helper.
        let Some(pool) = pool() else {
            return;
        };
        let until = |done: &dyn Fn() -> bool| {
            for _ in 0..5000 {
                if done() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            panic!("timed out");
        };
        until(&|| pool.idle.load(Ordering::Acquire) == pool.helpers);
        let entered = Arc::new(AtomicUsize::new(0));
        let release = Arc::new((Mutex::new(false), Condvar::new()));
        let (held, counted) = (release.clone(), entered.clone());
        let blocker = std::thread::spawn(move || {
            run(pool.helpers + 1, move |_| {
                counted.fetch_add(1, Ordering::AcqRel);
                let (m, cv) = &*held;
                let mut go = lock(m);
                while !*go {
                    go = cv.wait(go).unwrap();
                }
            })
        });
        until(&|| entered.load(Ordering::Acquire) == pool.helpers + 1);
        let caller = std::thread::current().id();
        let ran_on = run(4, move |_| std::thread::current().id()).unwrap();
        assert!(ran_on.iter().all(|t| *t == caller), "{ran_on:?}");
        let (m, cv) = &*release;
        *lock(m) = true;
        cv.notify_all();
        assert_eq!(blocker.join().unwrap().unwrap().len(), pool.helpers + 1);
    }
}
