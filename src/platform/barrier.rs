//! Asymmetric memory barriers: a *light* barrier that costs (almost) nothing, for a path that runs
//! millions of times, and a *heavy* one for the rare path that must synchronise with it.
//!
//! A light and a heavy barrier together order memory like two sequentially consistent fences: for
//! any light barrier `L` and heavy barrier `H`, either everything before `L` is visible after `H`,
//! or everything before `H` is visible after `L`. That is what a Dekker-style handshake needs (each
//! side stores its flag, passes its barrier, then loads the other's flag): at least one side sees
//! the other.
//!
//! On Linux the heavy barrier is `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which makes every
//! running thread of the process execute a full memory barrier, so the light barrier only has to stop
//! the compiler from moving memory accesses across it. Where that is not available (other systems,
//! old kernels, a seccomp filter, Miri) both barriers are real sequentially consistent fences: still
//! correct, and still cheaper than the atomic read-modify-writes they replace.
//!
//! [`init`] decides which of the two is in use, once, before the first light barrier whose pairing
//! matters: whoever calls [`light_given`] or [`heavy`] on some shared data must have called [`init`] before
//! that data was shared (the pool calls it when it is built).

use std::sync::atomic::{compiler_fence, fence, AtomicU8, Ordering};

const UNKNOWN: u8 = 0;
/// The heavy barrier is `membarrier`; light barriers are compiler fences.
const EXPEDITED: u8 = 1;
/// Both barriers are sequentially consistent fences.
const FENCES: u8 = 2;

static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Chooses the barriers' implementation, once per process. Call it before sharing the data that
/// light and heavy barriers will order.
pub fn init() {
    if MODE.load(Ordering::Acquire) != UNKNOWN {
        return;
    }
    let mode = if expedited::register() { EXPEDITED } else { FENCES };
    // Two threads may race here; both register (which is idempotent) and store the same answer.
    MODE.store(mode, Ordering::Release);
}

/// Whether the light barrier must be a real fence (there is no expedited heavy barrier). A caller
/// may keep the answer next to the data it orders and pass it to [`light_given`], so that the
/// frequent side reads no global state.
pub fn light_is_fence() -> bool {
    // Relaxed is enough: `init` happened before the data the barriers order was shared, and the
    // mode never changes once set.
    MODE.load(Ordering::Relaxed) != EXPEDITED
}

/// The barrier of the frequent side, given [`light_is_fence`]'s answer (read after [`init`]).
#[inline(always)]
pub fn light_given(is_fence: bool) {
    if is_fence {
        fence(Ordering::SeqCst);
    } else {
        compiler_fence(Ordering::SeqCst);
    }
}

/// The barrier of the rare side: pairs with every light barrier ([`light_given`]) of every thread.
pub fn heavy() {
    if MODE.load(Ordering::Relaxed) == EXPEDITED {
        expedited::barrier();
    }
    fence(Ordering::SeqCst);
}

#[cfg(all(target_os = "linux", not(miri)))]
mod expedited {
    // From <linux/membarrier.h>.
    const MEMBARRIER_CMD_QUERY: libc::c_long = 0;
    const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    fn membarrier(cmd: libc::c_long) -> libc::c_long {
        // SAFETY: membarrier takes two integer arguments (command and flags) and reads or writes no
        // memory of ours; an unknown or refused command only returns -1.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_long) }
    }

    /// Registers the process for expedited barriers; whether they can be used.
    pub(super) fn register() -> bool {
        let supported = membarrier(MEMBARRIER_CMD_QUERY);
        supported > 0
            && supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED != 0
            && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0
    }

    pub(super) fn barrier() {
        // After a successful registration the command cannot fail (the kernel documents EINVAL
        // and EPERM for unsupported or unregistered commands only). Should it ever fail, the light
        // side would have no real barrier to pair with: stop rather than risk a data race.
        if membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 {
            std::process::abort();
        }
    }
}

#[cfg(not(all(target_os = "linux", not(miri))))]
mod expedited {
    pub(super) fn register() -> bool {
        false
    }

    pub(super) fn barrier() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barriers_run_in_either_mode() {
        init();
        assert_ne!(MODE.load(Ordering::Relaxed), UNKNOWN);
        light_given(light_is_fence());
        heavy();
    }
}
