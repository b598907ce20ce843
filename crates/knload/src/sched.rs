//! How the threads that drive the load are scheduled by the OS.
//!
//! A load generator usually shares the machine with the server it measures,
//! and often with other work. Under Linux's fair scheduler every response
//! that wakes the client lets it preempt the server on that core, so the
//! two take turns a request or two at a time and both pay a context switch
//! and a cold cache for each turn. `SCHED_BATCH` keeps the client's
//! wake-ups from preempting: the server runs until it has nothing left to
//! do, and the client then finds many responses at once. Where client and
//! server each have a core to themselves nothing preempts anything, and the
//! policy makes no difference.
//!
//! The same policy makes a sleeping thread late when its core is busy: an
//! open loop's pacer, or a think time, would then send late. So by default
//! only the plain closed loop, which sends whenever a response arrives and
//! has no due times to keep, runs under it.

use clap::ValueEnum;

/// The scheduling policy of knload's connection-loop and pacer threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Scheduling {
    /// `batch` for a closed loop without think time, `normal` for
    /// everything that keeps due times (open loop, scenario workloads).
    #[default]
    Auto,
    /// Linux's SCHED_BATCH: wake-ups do not preempt other threads, the
    /// server under test among them (ordinary policy elsewhere).
    Batch,
    /// The system's ordinary policy (SCHED_OTHER): a woken loop thread may
    /// preempt the server.
    Normal,
}

/// The policy a run's load threads get, once `auto` is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// SCHED_BATCH (Linux).
    Batch,
    /// The ordinary policy.
    Normal,
}

impl Scheduling {
    /// The policy for a run: `Auto` becomes `Batch` for a plain closed loop
    /// (`timed` false) and `Normal` when sends or think times are timed.
    pub fn resolve(self, timed: bool) -> Policy {
        match self {
            Scheduling::Auto if timed => Policy::Normal,
            Scheduling::Auto | Scheduling::Batch => Policy::Batch,
            Scheduling::Normal => Policy::Normal,
        }
    }
}

impl Policy {
    /// Applies the policy to the calling thread. An error means the thread
    /// keeps the policy it had; the caller reports it, the run goes on.
    pub fn apply_to_current_thread(self) -> std::io::Result<()> {
        match self {
            Policy::Normal => Ok(()),
            Policy::Batch => set_batch(),
        }
    }

    /// Applies the policy to the calling thread, a load thread; if that
    /// fails, says so on stderr and lets the thread run on under the
    /// ordinary policy rather than stop the run.
    pub fn apply_or_warn(self) {
        if let Err(e) = self.apply_to_current_thread() {
            eprintln!("knload: warning: could not set the {self:?} scheduling policy on a load thread ({e}); it runs under the ordinary policy (--sched normal silences this)");
        }
    }
}

#[cfg(target_os = "linux")]
fn set_batch() -> std::io::Result<()> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a valid, initialised sched_param that outlives the
    // call, and pid 0 names the calling thread. Lowering a thread to
    // SCHED_BATCH needs no privilege.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn set_batch() -> std::io::Result<()> {
    // Other systems have no such policy; their threads stay as they are.
    Ok(())
}

/// The calling thread's policy, for tests.
#[cfg(all(test, target_os = "linux"))]
fn current_policy() -> i32 {
    // SAFETY: reads the calling thread's policy; no memory is passed.
    unsafe { libc::sched_getscheduler(0) }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn policy_on_new_thread(s: Policy) -> (std::io::Result<()>, i32) {
        std::thread::spawn(move || (s.apply_to_current_thread(), current_policy()))
            .join()
            .expect("the probe thread does not panic")
    }

    #[test]
    fn batch_sets_sched_batch_on_the_calling_thread_only() {
        let (r, policy) = policy_on_new_thread(Policy::Batch);
        r.expect("SCHED_BATCH needs no privilege");
        assert_eq!(policy, libc::SCHED_BATCH);
        // The thread that asked for nothing keeps its ordinary policy.
        assert_eq!(current_policy(), libc::SCHED_OTHER);
    }

    #[test]
    fn auto_is_batch_only_for_an_untimed_closed_loop() {
        assert_eq!(Scheduling::Auto.resolve(false), Policy::Batch);
        assert_eq!(Scheduling::Auto.resolve(true), Policy::Normal);
        for timed in [false, true] {
            assert_eq!(Scheduling::Batch.resolve(timed), Policy::Batch);
            assert_eq!(Scheduling::Normal.resolve(timed), Policy::Normal);
        }
    }

    #[test]
    fn normal_leaves_the_policy_alone() {
        let (r, policy) = policy_on_new_thread(Policy::Normal);
        r.expect("nothing to fail");
        assert_eq!(policy, libc::SCHED_OTHER);
    }
}
