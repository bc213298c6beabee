//! What every thread over the threaded build's one shared memory shares besides the ring: the
//! memory's token, which tells it from another memory (a handle's, a Web Lock's name), and the spin
//! lock that its tables are locked with.

use std::collections::HashMap;
use std::hash::Hash;
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

/// Puts `key → value` in the table `mutex` guards, which grows fallibly: a trap (wasm has no
/// unwinding) under the spin lock would leave it locked, and every thread that takes it after would
/// spin for ever. Where the memory is full, gives `value` back with the bytes the grown table asked
/// for (about: buckets a power of two, at most 7/8 full, a control byte each), the lock let go.
pub(crate) fn insert_fallibly<K: Eq + Hash, V>(
    mutex: &Mutex<Option<HashMap<K, V>>>,
    key: K,
    value: V,
) -> Result<(), (V, usize)> {
    let mut table = spin_lock(mutex);
    let table = table.get_or_insert_with(HashMap::new);
    if table.try_reserve(1).is_err() {
        let buckets = ((table.len() + 1) * 8 / 7).next_power_of_two();
        return Err((value, buckets * (std::mem::size_of::<(K, V)>() + 1)));
    }
    table.insert(key, value);
    Ok(())
}

/// Pushes `value` on the list `mutex` guards, as [`insert_fallibly`] puts: `Err` with the bytes the
/// grown list asked for.
pub(crate) fn push_fallibly<T>(mutex: &Mutex<Vec<T>>, value: T) -> Result<(), usize> {
    let mut list = spin_lock(mutex);
    if list.try_reserve(1).is_err() {
        return Err((2 * list.capacity()).max(4) * std::mem::size_of::<T>());
    }
    list.push(value);
    Ok(())
}
