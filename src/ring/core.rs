//! The ring's index protocol, shared by every flavour: one writer, any number of readers.
//!
//! Positions are item counts that only grow (`u64`: they never wrap in practice); an item's slot is
//! its position modulo the capacity. The writer owns the slots from its position up to the slowest
//! reader's position plus the capacity; each reader owns nothing, and may read the slots from its
//! position up to the writer's. Because ring memory is visible twice in a row (double-mapped or
//! mirrored), both of these regions are one contiguous slice, even across the end.
//!
//! Ordering: the writer fills slots, publishes them (the mirror copy), then stores its new position
//! with `Release`; a reader loads that position with `Acquire` before reading. A reader stores its
//! position with `Release` after reading; the writer loads it with `Acquire` before reusing the slots.
//! With no readers the writer never waits: it overwrites. A reader added later starts at the writer's
//! position. When the writer is dropped, readers read what is left and then see the end.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::{Arc, Condvar, Mutex};

use super::{Item, RingError};
use crate::platform::ring_memory::{RingBackend, RingMemory, RingMemoryOptions};

/// A position on its own cache line, so that the writer's and readers' updates do not collide.
#[repr(align(128))]
struct Position(AtomicU64);

/// What one reader shares with the writer.
pub(crate) struct ReaderState {
    position: Position,
    alive: AtomicBool,
}

/// Wakes threads blocked in the sync flavour. The waiter count lets producers and consumers skip the
/// lock when nobody sleeps: a sleeper counts itself and then re-checks its condition, a waker changes
/// the state and then reads the count (both `SeqCst`), so one of them always sees the other.
#[derive(Default)]
pub(crate) struct Wakeup {
    lock: Mutex<()>,
    changed: Condvar,
    sleepers: AtomicUsize,
}

impl Wakeup {
    pub(crate) fn notify(&self) {
        if self.sleepers.load(SeqCst) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.changed.notify_all();
        }
    }

    /// Blocks until `ready()` holds.
    pub(crate) fn wait_until(&self, mut ready: impl FnMut() -> bool) {
        if ready() {
            return;
        }
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.sleepers.fetch_add(1, SeqCst);
        while !ready() {
            guard = self.changed.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
        self.sleepers.fetch_sub(1, SeqCst);
    }
}

/// The state the writer and readers share.
pub(crate) struct Ring<T> {
    memory: RingMemory,
    /// In items.
    capacity: usize,
    write: Position,
    closed: AtomicBool,
    /// Readers wait here for data; the writer for room.
    pub(crate) data: Wakeup,
    pub(crate) room: Wakeup,
    _items: PhantomData<T>,
}

impl<T: Item> Ring<T> {
    pub(crate) fn new(min_items: usize, options: &RingMemoryOptions) -> Result<Arc<Ring<T>>, RingError> {
        let size = std::mem::size_of::<T>();
        let memory = RingMemory::new(min_items, size, std::mem::align_of::<T>(), options)?;
        Ok(Arc::new(Ring {
            capacity: memory.capacity() / size,
            memory,
            write: Position(AtomicU64::new(0)),
            closed: AtomicBool::new(false),
            data: Wakeup::default(),
            room: Wakeup::default(),
            _items: PhantomData,
        }))
    }

    /// Pointer to the slot of `position`; `len` items from it are addressable (len <= capacity).
    fn slot(&self, position: u64) -> *mut T {
        let index = (position % self.capacity as u64) as usize;
        // SAFETY: `index < capacity`, so the pointer stays inside the first image; the memory is
        // aligned for `T` (mapped memory is page-aligned, mirror memory is allocated for it).
        unsafe { self.memory.base().as_ptr().cast::<T>().add(index) }
    }
}

/// The writer's side of the protocol.
pub(crate) struct WriterCore<T> {
    ring: Arc<Ring<T>>,
    readers: Vec<Arc<ReaderState>>,
    /// Items produced so far (the shared copy is `ring.write`).
    position: u64,
}

impl<T: Item> WriterCore<T> {
    pub(crate) fn new(ring: Arc<Ring<T>>) -> WriterCore<T> {
        WriterCore { ring, readers: Vec::new(), position: 0 }
    }

    pub(crate) fn ring(&self) -> &Arc<Ring<T>> {
        &self.ring
    }

    pub(crate) fn capacity(&self) -> usize {
        self.ring.capacity
    }

    pub(crate) fn backend(&self) -> RingBackend {
        self.ring.memory.backend()
    }

    /// A new reader, starting at the current write position.
    pub(crate) fn add_reader(&mut self) -> ReaderCore<T> {
        let state = Arc::new(ReaderState {
            position: Position(AtomicU64::new(self.position)),
            alive: AtomicBool::new(true),
        });
        self.readers.push(state.clone());
        ReaderCore { ring: self.ring.clone(), state, position: self.position }
    }

    /// Items the writer may write now: up to the slowest live reader, or everything when none.
    pub(crate) fn free(&mut self) -> usize {
        self.readers.retain(|r| r.alive.load(Acquire));
        let slowest = self.readers.iter().map(|r| r.position.0.load(Acquire)).min();
        match slowest {
            None => self.ring.capacity,
            Some(read) => self.ring.capacity - (self.position - read) as usize,
        }
    }

    /// The free slots, as one slice.
    pub(crate) fn slice(&mut self) -> &mut [T] {
        let free = self.free();
        // SAFETY: the `free` slots from our position are ours alone: no reader reads at or past the
        // write position, and the slowest reader has moved past them (or there is none). They are
        // contiguous in memory (the second image continues the first), initialised (zeroed, then
        // written as `T`), and `free <= capacity`, so no slot appears twice.
        unsafe { std::slice::from_raw_parts_mut(self.ring.slot(self.position), free) }
    }

    /// Publishes the first `n` items of the free slots.
    pub(crate) fn produce(&mut self, n: usize) -> Result<(), RingError> {
        let free = self.free();
        if n > free {
            return Err(RingError::ProduceTooMuch { requested: n, free });
        }
        let size = std::mem::size_of::<T>();
        let offset = (self.position % self.ring.capacity as u64) as usize * size;
        // SAFETY: the region is the writer's (see `slice`), `offset < capacity` bytes and
        // `n * size <= capacity` bytes.
        unsafe { self.ring.memory.publish(offset, n * size) };
        self.position += n as u64;
        // SeqCst (a Release store, and part of the sleeper handshake in `Wakeup`).
        self.ring.write.0.store(self.position, SeqCst);
        self.ring.data.notify();
        Ok(())
    }
}

impl<T> Drop for WriterCore<T> {
    fn drop(&mut self) {
        self.ring.closed.store(true, SeqCst);
        self.ring.data.notify();
    }
}

/// One reader's side of the protocol.
pub(crate) struct ReaderCore<T> {
    ring: Arc<Ring<T>>,
    state: Arc<ReaderState>,
    /// Items consumed so far (the shared copy is `state.position`).
    position: u64,
}

impl<T: Item> ReaderCore<T> {
    pub(crate) fn ring(&self) -> &Arc<Ring<T>> {
        &self.ring
    }

    /// Items published and not yet consumed by this reader.
    pub(crate) fn available(&self) -> usize {
        (self.ring.write.0.load(Acquire) - self.position) as usize
    }

    /// Whether the writer is gone and everything it wrote has been consumed.
    pub(crate) fn finished(&self) -> bool {
        // `closed` first: the writer stores its last position before it closes, so once closed is
        // seen, `available` is final.
        self.ring.closed.load(Acquire) && self.available() == 0
    }

    /// The published items this reader has not consumed, as one slice.
    pub(crate) fn slice(&self) -> &[T] {
        let available = self.available();
        // SAFETY: slots from our position up to the write position were published (Acquire load of
        // the write position pairs with the writer's Release store); the writer does not touch them
        // until we move past them; they are contiguous and at most `capacity` long.
        unsafe { std::slice::from_raw_parts(self.ring.slot(self.position), available) }
    }

    /// Marks the first `n` available items as read.
    pub(crate) fn consume(&mut self, n: usize) -> Result<(), RingError> {
        let available = self.available();
        if n > available {
            return Err(RingError::ConsumeTooMuch { requested: n, available });
        }
        self.position += n as u64;
        // SeqCst (a Release store, and part of the sleeper handshake in `Wakeup`).
        self.state.position.0.store(self.position, SeqCst);
        self.ring.room.notify();
        Ok(())
    }
}

impl<T> Drop for ReaderCore<T> {
    fn drop(&mut self) {
        // A reader that is gone must not hold the writer back.
        self.state.alive.store(false, SeqCst);
        self.ring.room.notify();
    }
}
