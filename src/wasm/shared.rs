//! What every thread over the threaded build's one shared memory shares besides the ring: the
//! memory's token, which tells it from another memory (a handle's, a Web Lock's name), and the spin
//! lock that its tables are locked with.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

/// This memory's token (0 until first asked for): random, so that two memories differ.
static TOKEN: AtomicU64 = AtomicU64::new(0);

/// Locks `mutex` by spinning: a browser's main thread and its AudioWorklets must never wait on a
/// futex (the browser refuses to block them), and the tables locked so are held for a map lookup
/// only.
pub(crate) fn spin_lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    loop {
        match mutex.try_lock() {
            Ok(guard) => return guard,
            Err(TryLockError::Poisoned(e)) => return e.into_inner(),
            Err(TryLockError::WouldBlock) => std::hint::spin_loop(),
        }
    }
}

/// This memory's token: 53 random bits (a JS number carries them exactly), never 0.
pub(crate) fn token() -> u64 {
    let current = TOKEN.load(Ordering::Acquire);
    if current != 0 {
        return current;
    }
    let fresh = ((js_sys::Math::random() * (1u64 << 53) as f64) as u64).max(1);
    match TOKEN.compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => fresh,
        Err(other) => other,
    }
}
