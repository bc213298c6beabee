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
//! position. When the writer is dropped, readers read what is left and then see the end. A writer that
//! aborts (or is dropped while its thread panics) records why before it closes, so that a reader that
//! sees the end can tell it from a finished stream.
//!
//! Each side remembers the other's position from its last look (as rtrb does): reading a cache line
//! the other core keeps writing is the main cost of a ring with small chunks. A reader looks again
//! when it has consumed all it saw; the writer when its view shows less than half the ring free. So a
//! slice may be shorter than what is free or published at this instant, never longer, and never empty
//! while there is anything.
//!
//! The single-item path (`push`/`pop`) shares these positions and views, but looks again only when its
//! view shows no room (writer) or nothing (reader): one item needs one slot, so the half-ring rule of
//! slices buys it nothing. Each side also keeps its slot index (position modulo capacity) next to its
//! position, so that no operation divides.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use crate::sync::{fence, Arc, AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, MutexGuard, Ordering::*};

use super::tags::{tags_can_exist, ReaderTags, TagInbox, Tags};
use super::{Item, PopError, RingError};
use crate::platform::copy::copy_in_pieces;
use crate::platform::ring_memory::{RingBackend, RingMemory, RingMemoryOptions};

/// A position on its own cache line, so that the writer's and readers' updates do not collide.
#[repr(align(128))]
struct Position(AtomicU64);

/// What one reader shares with the writer.
pub(crate) struct ReaderState<G> {
    position: Position,
    alive: AtomicBool,
    tags: TagInbox<G>,
}

/// Wakes threads blocked in the sync flavour and tasks waiting in the async one. The waiter count
/// lets producers and consumers skip the lock when nobody waits. The handshake is a fence on each
/// side: a waiter counts itself (or registers its waker), fences, then re-checks its condition; a waker
/// changes the state, fences, then reads the count. Of two `SeqCst` fences one comes first, so either
/// the waiter sees the new state or the waker sees the waiter. (Without the fences a waiter's plain
/// `Acquire` re-check can miss the change while the waker misses the waiter: Miri found exactly that
/// deadlock.)
pub(crate) struct Wakeup {
    /// Registered task wakers; the lock is also the condition variable's.
    tasks: Mutex<Tasks>,
    changed: Condvar,
    /// Sleeping threads plus registered wakers.
    waiters: AtomicUsize,
}

impl Default for Wakeup {
    fn default() -> Self {
        Wakeup { tasks: Mutex::new(Tasks::default()), changed: Condvar::new(), waiters: AtomicUsize::new(0) }
    }
}

/// What a [`Wakeup`]'s lock guards: the task wakers it holds, each with the side that registered it
/// ([`Registration::side`]), and how many threads sleep on its condition variable. An entry stays
/// where it was put until the next change takes them all, so that a side finds its latest where it
/// left it ([`Registration::at`]); a forgotten one leaves its place free for the next entry, so that
/// sides that wait and go while nothing changes leave no trail, and no entry ever moves.
#[derive(Default)]
struct Tasks {
    entries: Vec<Option<Entry>>,
    /// The places of the entries that are `None`.
    free: Vec<usize>,
    /// The place of each entry, by its side and its [`Entry::task`]: so that a task polling a side
    /// again finds its entry there, whichever tasks polled the side since, without searching a list
    /// that may hold the wakers of thousands of waits.
    places: HashMap<(usize, TaskId), usize>,
    /// How many times a change took the whole list: a side that registered before the last time
    /// has no entry left.
    changes: u64,
    /// How many threads sleep on [`Wakeup::changed`] (the blocking flavour's sides): a change with
    /// none skips notifying it, which is a system call even with nobody asleep where the condition
    /// variable is a futex (Linux). Task waiters (the async and generic flavours, the bindings' waits)
    /// never sleep on it.
    blocked_threads: usize,
}

/// One waiting task of a side.
struct Entry {
    side: usize,
    /// `waker`'s own [`TaskId`], kept with it so that the entry's key in [`Tasks::places`] is the one
    /// it was put under, whatever its waker's clones look like.
    task: TaskId,
    /// A clone of the waker the task polled with.
    waker: Waker,
}

impl Entry {
    fn new(side: usize, waker: &Waker) -> Entry {
        let waker = waker.clone();
        Entry { side, task: task_id(&waker), waker }
    }
}

/// What tells two wakers' tasks apart, as [`Waker::will_wake`] does: the data and vtable addresses.
type TaskId = (usize, usize);

/// The addresses of `waker` itself.
fn task_id(waker: &Waker) -> TaskId {
    (waker.data().addr(), std::ptr::from_ref(waker.vtable()).addr())
}

/// The [`TaskId`] under which the list holds `waker`'s task, if it does: that of a clone. A waker
/// made by `Waker::from` need not have its clones' vtable address (under Miri it does not), while
/// clones of one another do, and the list holds clones. A waker whose every clone has data of its
/// own (a bridge between executors may box each one) matches no entry: its task is put again, and
/// woken once per entry. It is never taken for another task's: an entry's clone is alive, so no
/// other waker has its addresses.
fn task_of(waker: &Waker) -> TaskId {
    task_id(&waker.clone())
}

impl Tasks {
    /// Whether `side` holds an entry for the task of `waker`.
    fn holds(&self, side: &Registration, waker: &Waker) -> bool {
        self.places.contains_key(&(side.side, task_of(waker)))
    }

    /// Replaces the waker of `side`'s latest entry, if the list still holds it, with `waker`;
    /// returns the one replaced.
    fn replace_latest(&mut self, side: &Registration, waker: &Waker) -> Option<Waker> {
        // The index may need room for the new key before the old one's is reused (see `put`).
        self.places.try_reserve(1).ok()?;
        match self.entries.get_mut(side.at) {
            Some(Some(latest)) if latest.side == side.side => {
                let replaced = std::mem::replace(latest, Entry::new(side.side, waker));
                self.places.remove(&(side.side, replaced.task));
                self.places.insert((side.side, latest.task), side.at);
                Some(replaced.waker)
            }
            _ => None,
        }
    }

    /// Puts `side`'s entry for the task of `waker` in a free place, or at the end; returns where, or
    /// `None`, having put nothing, when the list cannot grow. The list is changed under a lock that
    /// the threaded wasm build spins on, where an allocation that fails traps with the lock held and
    /// every thread that takes it next spins for good: so it grows only fallibly, and makes room in
    /// `free` for every entry, so that taking one out never allocates.
    fn put(&mut self, side: usize, waker: &Waker) -> Option<usize> {
        if self.free.is_empty() {
            self.entries.try_reserve(1).ok()?;
            self.free.try_reserve(self.entries.len() + 1 - self.free.len()).ok()?;
        }
        self.places.try_reserve(1).ok()?;
        let entry = Entry::new(side, waker);
        let key = (side, entry.task);
        let at = match self.free.pop() {
            Some(at) => {
                self.entries[at] = Some(entry);
                at
            }
            None => {
                self.entries.push(Some(entry));
                self.entries.len() - 1
            }
        };
        self.places.insert(key, at);
        Some(at)
    }

    /// Takes out the entry at `at` if `is_it` picks it, and frees its place (for which
    /// [`put`](Self::put) made room).
    fn take_if(&mut self, at: usize, is_it: impl Fn(&Entry) -> bool) -> Option<Entry> {
        let entry = self.entries.get_mut(at).filter(|entry| entry.as_ref().is_some_and(&is_it))?.take()?;
        self.places.remove(&(entry.side, entry.task));
        self.free.push(at);
        Some(entry)
    }

    /// Takes out every entry, for a change to wake.
    fn take_all(&mut self) -> Vec<Option<Entry>> {
        self.free.clear();
        self.places.clear();
        self.changes += 1;
        std::mem::take(&mut self.entries)
    }

    /// How many entries there are: the count [`Wakeup::waiters`] holds of them.
    fn len(&self) -> usize {
        self.entries.len() - self.free.len()
    }
}

/// Who polls a side, and so which tasks a change must wake.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Pollers {
    /// Every task that polled since the last change: one side may have many operations pending,
    /// each polled by its own task (the bindings' waits), and each must be woken.
    Each,
    /// Only the task of the latest poll: the side is polled through `&mut` by one caller at a time
    /// (the I/O traits, `Stream`), so a poll by another task means the earlier one gave up (a read
    /// that timed out, a task aborted), as tokio's own I/O types take it. Its waker is replaced, not
    /// kept until the next change: tasks that each wait once and give up would pile them up.
    Latest,
}

impl Wakeup {
    /// Locks the task list. In the threaded wasm build by spinning: there the lock is taken on a
    /// browser's main thread and in AudioWorklets, which may not wait on a futex (the browser traps
    /// `memory.atomic.wait32` there), and the list is held only for a push or a swap. Elsewhere (and
    /// under loom) the plain lock: how contention is waited out does not change the protocol.
    fn lock_tasks(&self) -> MutexGuard<'_, Tasks> {
        #[cfg(all(target_arch = "wasm32", target_feature = "atomics", not(loom)))]
        loop {
            match self.tasks.try_lock() {
                Ok(tasks) => return tasks,
                Err(std::sync::TryLockError::Poisoned(e)) => return e.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => std::hint::spin_loop(),
            }
        }
        #[cfg(not(all(target_arch = "wasm32", target_feature = "atomics", not(loom))))]
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Call after changing what waiters wait for.
    pub(crate) fn notify(&self) {
        fence(SeqCst);
        if self.waiters.load(Relaxed) > 0 {
            let woken = {
                let mut tasks = self.lock_tasks();
                if tasks.blocked_threads > 0 {
                    self.changed.notify_all();
                }
                self.waiters.fetch_sub(tasks.len(), Relaxed);
                tasks.take_all()
            };
            // Outside the lock: a waker may run user code (the generic flavour's notifiers) that
            // calls straight back into the ring.
            crate::sync::wake_all(woken.into_iter().flatten().map(|entry| (entry.waker, true)));
        }
    }

    /// Blocks the thread until `ready()` holds.
    pub(crate) fn wait_until(&self, mut ready: impl FnMut() -> bool) {
        if ready() {
            return;
        }
        let mut guard = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        guard.blocked_threads += 1;
        self.waiters.fetch_add(1, Relaxed);
        fence(SeqCst);
        while !ready() {
            guard = self.changed.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
        self.waiters.fetch_sub(1, Relaxed);
        guard.blocked_threads -= 1;
    }

    /// Unregisters `waker` for `side` (a waker that will never poll that side again, such as a
    /// cancelled operation's). The same task's registrations for other sides stay. A wake-up already
    /// under way may still reach it.
    pub(crate) fn forget(&self, side: &Registration, waker: &Waker) {
        let forgotten = {
            let mut tasks = self.lock_tasks();
            let at = tasks.places.get(&(side.side, task_of(waker))).copied();
            let entry = at.and_then(|at| tasks.take_if(at, |_| true));
            self.waiters.fetch_sub(usize::from(entry.is_some()), Relaxed);
            entry
        };
        // May run user code (a notifier's drop): not under the lock.
        crate::sync::wake_all(forgotten.into_iter().map(|entry| (entry.waker, false)));
    }

    /// Unregisters every waker of `side`, a side that is gone: nothing else would let go of them
    /// before the next change, and a side that waits and goes, again and again, while nothing
    /// changes would pile them up. Where `side` put one entry since the last change, only that place
    /// is looked at: thousands of waiting readers that go one after another do not each search the
    /// list.
    pub(crate) fn forget_side(&self, side: &Registration) {
        if self.waiters.load(Relaxed) > 0 {
            self.forget_where(Some(side), |entry| entry.side == side.side);
        }
    }

    /// [`forget_side`](Self::forget_side) for a side whose registration is not at hand (a reader
    /// ended from another thread): the whole list is searched.
    pub(crate) fn forget_side_anywhere(&self, side: usize) {
        if self.waiters.load(Relaxed) > 0 {
            self.forget_where(None, |entry| entry.side == side);
        }
    }

    /// Takes out the entries `is_it` picks: all of them, or, with the registration `only` of the
    /// side they are of, none if a change took the list since the side put one, or just the one at
    /// its place if it put a single one since.
    fn forget_where(&self, only: Option<&Registration>, is_it: impl Fn(&Entry) -> bool) {
        let mut forgotten = Vec::new();
        {
            let mut tasks = self.lock_tasks();
            match only {
                Some(side) if side.changes != tasks.changes => {}
                Some(side) if side.entries == 1 => {
                    if forgotten.try_reserve(1).is_ok() {
                        forgotten.extend(tasks.take_if(side.at, &is_it));
                    }
                }
                _ => {
                    for at in 0..tasks.entries.len() {
                        // An entry there is no room to carry out stays (see `Tasks::put`): the
                        // next change wakes it for nothing.
                        if forgotten.try_reserve(1).is_ok() {
                            forgotten.extend(tasks.take_if(at, &is_it));
                        }
                    }
                }
            }
            self.waiters.fetch_sub(forgotten.len(), Relaxed);
        }
        // May run user code (a notifier's drop): not under the lock.
        crate::sync::wake_all(forgotten.into_iter().map(|entry| (entry.waker, false)));
    }

    /// `Ready` when `ready()` holds; otherwise registers the task to be woken by the next change,
    /// for `side`, unless `side` registered it already since the last change. With
    /// [`Pollers::Latest`] it takes the place of `side`'s earlier registration, if any.
    pub(crate) fn poll_until(
        &self,
        cx: &mut Context<'_>,
        side: &mut Registration,
        pollers: Pollers,
        mut ready: impl FnMut() -> bool,
    ) -> Poll<()> {
        if ready() {
            return Poll::Ready(());
        }
        let (replaced, unregistered) = {
            let mut tasks = self.lock_tasks();
            if tasks.holds(side, cx.waker()) {
                (None, false)
            } else {
                let replaced = match pollers {
                    Pollers::Latest => tasks.replace_latest(side, cx.waker()),
                    Pollers::Each => None,
                };
                let mut unregistered = false;
                if replaced.is_none() {
                    match tasks.put(side.side, cx.waker()) {
                        Some(at) => {
                            if side.changes == tasks.changes {
                                side.entries += 1;
                            } else {
                                (side.changes, side.entries) = (tasks.changes, 1);
                            }
                            side.at = at;
                            self.waiters.fetch_add(1, Relaxed);
                        }
                        None => unregistered = true,
                    }
                }
                (replaced, unregistered)
            }
        };
        // May run user code (a notifier's drop, a waker's wake): not under the lock.
        drop(replaced);
        if unregistered {
            // No room to register the task, so no change would wake it: it is woken now and polls
            // again, busily, until memory lets it register or it is ready.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        fence(SeqCst);
        // A change that came before the registration is seen here; one after it wakes the task. (If
        // both happen, the task is woken once for nothing.)
        if ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Where one side (the writer, or one reader) stands in a [`Wakeup`]'s list of task wakers.
#[derive(Clone, Copy)]
pub(crate) struct Registration {
    /// Which side: its entries are its own, so that a side that stops waiting takes back only those
    /// (one task may wait on two readers of a ring, with one waker).
    side: usize,
    /// Where the side last put a waker: the entry [`Pollers::Latest`] replaces, and the one a side
    /// that goes takes back without searching the list, which may hold the wakers of thousands of
    /// readers. Once a change took the list, the place shows another side's entry or none.
    at: usize,
    /// [`Tasks::changes`] when the side last put an entry.
    changes: u64,
    /// How many entries the side put since then (some may have been forgotten since).
    entries: usize,
}

impl Registration {
    /// The writer: the one side that waits for room.
    const WRITER: Registration = Registration::new(0);

    /// A side that has put no entry yet (none since a change that never comes).
    const fn new(side: usize) -> Registration {
        Registration { side, at: usize::MAX, changes: u64::MAX, entries: 0 }
    }

    /// A reader, named by its shared state, which no other live reader has.
    fn reader<G>(state: &Arc<ReaderState<G>>) -> Registration {
        Registration::new(Arc::as_ptr(state).addr())
    }
}

/// The state the writer and readers share.
pub(crate) struct Ring<T> {
    memory: RingMemory,
    /// In items.
    capacity: usize,
    /// Whether the writer must mirror what it writes (mirror-copy memory), kept here so that a push
    /// need not look at the memory's kind.
    mirrored: bool,
    write: Position,
    closed: AtomicBool,
    /// Why the writer aborted, set (once) before `closed`: unset when the stream ended normally.
    abort_reason: OnceLock<Box<str>>,
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
            mirrored: memory.backend() == RingBackend::MirrorCopy,
            memory,
            write: Position(AtomicU64::new(0)),
            closed: AtomicBool::new(false),
            abort_reason: OnceLock::new(),
            data: Wakeup::default(),
            room: Wakeup::default(),
            _items: PhantomData,
        }))
    }

    /// Pointer to slot `index` (a position modulo the capacity, so `index < capacity`); `capacity`
    /// items from it are addressable (the second image continues the first).
    #[inline]
    fn slot(&self, index: usize) -> *mut T {
        debug_assert!(index < self.capacity);
        // SAFETY: `index < capacity`, so the pointer stays inside the first image; the memory is
        // aligned for `T` (mapped memory is page-aligned, mirror memory is allocated for it).
        unsafe { self.memory.base().as_ptr().cast::<T>().add(index) }
    }

    /// `index` moved on by `n <= capacity` slots, modulo the capacity.
    #[inline]
    fn advance(&self, index: usize, n: usize) -> usize {
        let next = index + n;
        if next < self.capacity {
            next
        } else {
            self.wrap(next)
        }
    }

    /// The rare case of [`advance`](Self::advance), out of line: a branch (predicted) rather than a
    /// conditional move keeps the wrap test off the chain from one operation's index to the next.
    #[cold]
    #[inline(never)]
    fn wrap(&self, index: usize) -> usize {
        index - self.capacity
    }
}

impl<T> Ring<T> {
    /// Ends the stream for the readers: once they have read what is published, they see the end.
    fn close(&self) {
        self.closed.store(true, Release);
        self.data.notify();
    }
}

/// The first slot and the capacity, copied from the shared [`Ring`] into each side's own struct for
/// `push` and `pop`: the compiler keeps the fields of a `&mut self` in registers across a burst of
/// items, but must load again what it reaches through the `Arc` after every write to ring memory (a
/// raw pointer that, for all it knows, may point anywhere).
#[derive(Clone, Copy)]
struct Slots<T> {
    first: NonNull<T>,
    capacity: usize,
}

// SAFETY: `Slots` is a copy of the ring's address and size, not a handle of its own: every access
// through it is made by a `WriterCore` or `ReaderCore` that holds the `Arc<Ring<T>>` keeping the
// memory alive, under the same index protocol as an access through the ring. `T: Item` is plain data.
unsafe impl<T: Item> Send for Slots<T> {}
// SAFETY: as for `Send`; a shared `Slots` only hands out addresses.
unsafe impl<T: Item> Sync for Slots<T> {}

impl<T: Item> Slots<T> {
    fn of(ring: &Ring<T>) -> Slots<T> {
        Slots { first: ring.memory.base().cast(), capacity: ring.capacity }
    }

    /// As [`Ring::slot`].
    #[inline]
    fn slot(self, index: usize) -> *mut T {
        debug_assert!(index < self.capacity);
        // SAFETY: `index < capacity`, so the pointer stays inside the first image; the memory is
        // aligned for `T` (see `Ring::slot`).
        unsafe { self.first.as_ptr().add(index) }
    }

    /// `index` moved on by one slot, modulo the capacity. Unlike [`Ring::advance`], with no call for
    /// the wrap: see [`WriterCore::push`].
    #[inline]
    fn next(self, index: usize) -> usize {
        let next = index + 1;
        if next < self.capacity {
            next
        } else {
            0
        }
    }
}

/// Whether the flavour has waiters on the ring (and must wake them).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waking {
    /// The blocking, async and generic flavours: wake the threads and tasks that wait after each
    /// change (the handshake in [`Wakeup`]).
    Waiters,
    /// Non-blocking and lock-free flavours: nobody sleeps.
    Nobody,
}

/// Whether readers keep tags (rings made `with_tags`); readers of other rings skip the tag code.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tagging {
    On,
    Off,
}

/// The least length of a writer's list of readers at which `add_reader` lets go of the gone ones.
const MIN_READERS_PRUNED: usize = 16;

/// The writer's side of the protocol.
pub(crate) struct WriterCore<T, G> {
    ring: Arc<Ring<T>>,
    readers: Vec<Arc<ReaderState<G>>>,
    /// `add_reader` lets go of the readers that are gone once `readers` is this long, so that a
    /// writer whose readers come and go keeps a list of about the live ones whatever it does.
    prune_readers_at: usize,
    /// Items produced so far (the shared copy is `ring.write`).
    position: u64,
    /// `position` modulo the capacity: the slot written next.
    index: usize,
    /// The slowest reader's position when last looked at (a lower bound of the true one: readers only
    /// move forward), or the writer's own when it last found no readers. Reading the readers' cache
    /// lines only when this says "full" keeps the writer from pulling lines the readers keep writing.
    /// Always `position - capacity <= slowest_seen <= position`, so `capacity - (position -
    /// slowest_seen)` slots are known free (a lower bound) without looking.
    slowest_seen: u64,
    /// Mirror-copy memory only (see [`MirrorView`]).
    mirror: MirrorView,
    waking: Waking,
    tagging: Tagging,
    /// For `push`: the ring's slots, and whether they are on mirror-copy memory (`ring.mirrored`,
    /// without the pointer chase).
    slots: Slots<T>,
    mirrored: bool,
    /// Closed before it dropped ([`close`](Self::close)): it publishes nothing more.
    closed: bool,
    /// Its place among the tasks waiting for room.
    room_wait: Registration,
}

/// Where the writer's unpublished slots were written, on mirror-copy memory.
///
/// A writer slice is `free` slots from the write slot in the first image, running on into the second
/// image when it crosses the end; the caller writes each slot through whichever image the slice
/// reaches it in. Publishing copies a slot from that image to the other one. After a `produce` that
/// ends past the end, the slots of the same slice still to be published lie in the second image,
/// although the write slot (`index`) is back at the start of the first: so the writer remembers where
/// its latest slice put the write slot (`view`: `index`, or `index + capacity`) and how far that
/// slice reached (`slice_end`). A new slice always starts in the first image; when the latest one left
/// unpublished slots in the second image, those are copied to the first before it is handed out, so
/// the writer sees its own writes again exactly as on double-mapped memory.
///
/// Slots past `slice_end` were in no slice since they were last published (a slice ends where the
/// slowest reader was a ring behind, which only moves forward), so both images agree on them.
struct MirrorView {
    /// Where the slot at the write position is in the contiguous view (`index` or `index +
    /// capacity`): `view + (slice_end - position) <= 2 * capacity` always.
    view: usize,
    /// The position just past the latest writer slice (at most `position` when nothing of it is
    /// left to publish).
    slice_end: u64,
}

impl<T: Item, G> WriterCore<T, G> {
    pub(crate) fn new(ring: Arc<Ring<T>>, waking: Waking, tagging: Tagging) -> WriterCore<T, G> {
        WriterCore {
            slots: Slots::of(&ring),
            mirrored: ring.mirrored,
            ring,
            readers: Vec::new(),
            prune_readers_at: MIN_READERS_PRUNED,
            position: 0,
            index: 0,
            slowest_seen: 0,
            mirror: MirrorView { view: 0, slice_end: 0 },
            waking,
            tagging,
            closed: false,
            room_wait: Registration::WRITER,
        }
    }

    /// Ends the stream for the readers now, as dropping the writer does: they read what is published
    /// and then see the end. The writer publishes nothing after (a produce is refused, a write copies
    /// nothing). Closing again does nothing.
    pub(crate) fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            self.ring.close();
        }
    }

    /// Closes the writer as [`close`](Self::close) does, recording `reason` first, so that readers
    /// that see the end know it is not the stream's real end. Does nothing once closed.
    pub(crate) fn abort(&mut self, reason: &str) {
        if !self.closed {
            // Set before `closed` is stored (Release), so a reader that sees the end sees the reason.
            let _ = self.ring.abort_reason.set(reason.into());
            self.close();
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    pub(crate) fn ring(&self) -> &Arc<Ring<T>> {
        &self.ring
    }

    /// What another thread can do for this writer should its thread stop for good (see [`Orphan`]).
    #[cfg(any(all(test, not(loom)), all(target_arch = "wasm32", target_feature = "atomics")))]
    pub(crate) fn orphan(&self) -> Orphan<T, G> {
        Orphan::Writer(self.ring.clone())
    }

    /// `Ready` when `ready(self)` holds; otherwise `cx`'s task is woken at the next change of room
    /// (with those of other tasks, as `pollers` says).
    pub(crate) fn poll_room(
        &mut self,
        cx: &mut Context<'_>,
        pollers: Pollers,
        mut ready: impl FnMut(&mut Self) -> bool,
    ) -> Poll<()> {
        let ring = self.ring.clone();
        let mut side = self.room_wait;
        let poll = ring.room.poll_until(cx, &mut side, pollers, || ready(self));
        self.room_wait = side;
        poll
    }

    /// Stops waking `waker` for room (see [`Wakeup::forget`]).
    pub(crate) fn forget_room_waker(&self, waker: &Waker) {
        self.ring.room.forget(&self.room_wait, waker);
    }

    pub(crate) fn capacity(&self) -> usize {
        self.ring.capacity
    }

    pub(crate) fn backend(&self) -> RingBackend {
        self.ring.memory.backend()
    }

    /// A new reader, starting at the current write position.
    pub(crate) fn add_reader(&mut self) -> ReaderCore<T, G> {
        let state = Arc::new(ReaderState {
            position: Position(AtomicU64::new(self.position)),
            alive: AtomicBool::new(true),
            tags: TagInbox::default(),
        });
        if self.readers.len() >= self.prune_readers_at {
            self.let_go_of_gone_readers();
            self.prune_readers_at = (2 * self.readers.len()).max(MIN_READERS_PRUNED);
        }
        if self.readers.is_empty() {
            // Until now nothing held the writer back; from now on this reader does.
            self.slowest_seen = self.position;
        }
        self.readers.push(state.clone());
        ReaderCore {
            ring: self.ring.clone(),
            data_wait: Registration::reader(&state),
            state,
            position: self.position,
            index: self.index,
            write_seen: self.position,
            waking: self.waking,
            tagging: self.tagging,
            tags: ReaderTags::default(),
            slots: self.slots,
        }
    }

    /// Items the writer may write now: up to the slowest live reader, or everything when none. Looks
    /// at the readers again only when the last look leaves less than half the ring: in steady
    /// streaming that is once per half ring produced, and the answer is never below half of the truth.
    #[inline]
    pub(crate) fn free(&mut self) -> usize {
        self.free_for(self.ring.capacity / 2)
    }

    /// [`free`](Self::free) for a write of `wanted` items: exact whenever it is less than `wanted`
    /// (the last look is trusted only when it leaves room for all of them), so that a write copies
    /// all that fits.
    #[inline]
    fn free_for(&mut self, wanted: usize) -> usize {
        if !self.readers.is_empty() {
            let free = self.known_free();
            if free > 0 && free >= wanted {
                return free;
            }
        }
        self.look_at_readers()
    }

    /// Free slots as far as the last look at the readers tells (a lower bound of the truth).
    #[inline]
    fn known_free(&self) -> usize {
        self.slots.capacity - (self.position - self.slowest_seen) as usize
    }

    /// Looks at the live readers' positions: the free slots now. One pass; the readers that are gone
    /// are let go only when there are some (a writer waiting on a full ring looks once per item).
    fn look_at_readers(&mut self) -> usize {
        if self.look_at_live_readers() {
            self.let_go_of_gone_readers();
        }
        self.known_free()
    }

    /// The part of [`look_at_readers`](Self::look_at_readers) that calls nothing, inlined in
    /// [`push`](Self::push): updates `slowest_seen` from the live readers and says whether some are
    /// gone (the caller lets go of them, out of line).
    #[inline]
    fn look_at_live_readers(&mut self) -> bool {
        // With no live readers everything is free; remembering our own position keeps `known_free`
        // exact.
        let mut slowest = self.position;
        let mut gone = false;
        for reader in &self.readers {
            // `alive` before `position`: a reader stores its last position before it says it is gone.
            if reader.alive.load(Acquire) {
                slowest = slowest.min(reader.position.0.load(Acquire));
            } else {
                gone = true;
            }
        }
        self.slowest_seen = slowest;
        gone
    }

    /// How many readers the writer still lists, gone ones included (for tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn readers_listed(&self) -> usize {
        self.readers.len()
    }

    /// How long the list of tasks waiting for data is, free places included (for tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn data_wait_list_len(&self) -> usize {
        self.ring.data.lock_tasks().entries.len()
    }

    #[cold]
    fn let_go_of_gone_readers(&mut self) {
        self.readers.retain(|r| r.alive.load(Acquire));
    }

    /// The free slots, as one slice (at least half of them: see [`free`](Self::free)).
    #[inline]
    pub(crate) fn slice(&mut self) -> &mut [T] {
        let free = self.free();
        self.room(free)
    }

    /// The first `free` free slots, as one slice; `free` is at most what the last look at the readers
    /// found.
    #[inline]
    fn room(&mut self, free: usize) -> &mut [T] {
        if self.ring.mirrored {
            self.mirror_slice(free);
        }
        // No reader reads at or past the write position, and the slowest reader has moved past these
        // slots (or there is none); the second image continues the first, so they are contiguous.
        // SAFETY: the `free` slots from our position are ours alone, initialised (zeroed, then written
        // as `T`), and `free <= capacity`, so no slot appears twice in the slice.
        unsafe { std::slice::from_raw_parts_mut(self.ring.slot(self.index), free) }
    }

    /// Copies as many of `items` as there are free slots now into them and publishes them: what
    /// `slice()`, a copy and `produce(n)` do, except that the rest of the slice is known to be
    /// unwritten, so a later slice need not copy it back on mirror-copy memory (see [`MirrorView`]).
    /// The byte streams (`io::Write`, `AsyncWrite`) write through it.
    pub(crate) fn write_from(&mut self, items: &[T]) -> usize {
        self.write_with(items.len(), |room| copy_in_pieces(room, &items[..room.len()]))
    }

    /// [`write_from`](Self::write_from) for items that are in no Rust slice (a JS array, for the wasm
    /// binding): `fill` gets the first `min(len, free)` free slots to write, which are then published.
    /// Returns how many that was.
    pub(crate) fn write_with(&mut self, len: usize, fill: impl FnOnce(&mut [T])) -> usize {
        if self.closed {
            return 0;
        }
        // Whatever an earlier slice left unpublished stays pending (this call writes only `n` slots).
        let pending_end = self.mirror.slice_end;
        let free = self.free_for(len);
        let room = self.room(free);
        let n = room.len().min(len);
        fill(&mut room[..n]);
        self.mirror.slice_end = pending_end.max(self.position + n as u64);
        self.publish(n);
        n
    }

    /// Mirror-copy memory: the slice about to be handed out (`free` slots from the write slot, in the
    /// first image) shows what the writer wrote through earlier ones (see [`MirrorView`]).
    #[inline]
    fn mirror_slice(&mut self, free: usize) {
        let size = std::mem::size_of::<T>();
        let MirrorView { view, slice_end } = self.mirror;
        if view != self.index {
            // The latest slice's unpublished rest is in the second image (`view >= capacity`).
            let rest = (slice_end - self.position) as usize;
            // SAFETY: those slots are the writer's (unpublished, up to where the slowest reader was a
            // ring behind); `view + rest <= 2 * capacity` (see `MirrorView`) and `rest <= capacity`.
            unsafe { self.ring.memory.publish(view * size, rest * size) };
            self.mirror.view = self.index;
        }
        self.mirror.slice_end = slice_end.max(self.position + free as u64);
    }

    /// Publishes `item` in the next slot, or gives it back when the slowest reader is a full ring
    /// behind. Looks at the readers only when the last look shows no room. `waking` is the flavour's,
    /// a constant where the flavour calls it.
    ///
    /// No path of `push` calls a function that is not inlined unless `waking` is
    /// [`Waking::Waiters`], and neither does [`ReaderCore::pop`] on a ring without tags. A call
    /// anywhere in a loop of pushes, even on a branch never taken, lets the compiler assume that it
    /// may change the writer, whose address has usually been handed out before (to `add_reader`, for
    /// one): it then reloads the position from memory on every item, and each push waits for the
    /// store of the one before. Hence a look at the readers here that does not let go of the gone
    /// ones, and a wrap in `Slots::next` that is not a call.
    #[inline]
    pub(crate) fn push(&mut self, item: T, waking: Waking) -> Result<(), T> {
        debug_assert!(waking == self.waking);
        if self.known_free() == 0 {
            if self.look_at_live_readers() {
                // Else a writer on a full ring would walk the gone ones again at every try.
                self.let_go_of_gone_readers();
            }
            if self.known_free() == 0 {
                return Err(item);
            }
        }
        let slots = self.slots;
        let (index, position) = (self.index, self.position + 1);
        let next = slots.next(index);
        let slot = slots.slot(index);
        // SAFETY: a free slot (`known_free() > 0`) is the writer's alone: no reader reads at or past
        // the write position, and the slowest one has moved past it (see `slice`). `slot` is inside
        // the first image and aligned for `T`.
        unsafe { slot.write(item) };
        if self.mirrored {
            self.mirror_pushed(slot, item, position, next);
        }
        self.ring.write.0.store(position, Release);
        // After the stores to shared memory, which the compiler cannot tell apart from the writer's
        // own fields: stored last, these are what the next push reads back without a reload.
        (self.position, self.index) = (position, next);
        if waking == Waking::Waiters {
            self.ring.data.notify();
        }
        Ok(())
    }

    /// What a push does besides the write on mirror-copy memory: the item's second image, and the
    /// writer's view of its latest slice (see [`MirrorView`]).
    #[inline]
    fn mirror_pushed(&mut self, slot: *mut T, item: T, position: u64, next: usize) {
        // SAFETY: the slot's image in the second half (`index + capacity < 2 * capacity`, inside the
        // mirror allocation), the writer's alone as the slot itself is (see `push`).
        unsafe { slot.add(self.slots.capacity).write(item) };
        // Both images hold the item; a slice's rest (if any) moves on by one.
        self.mirror.view = self.mirror.next_view(position, next, 1);
    }

    /// Publishes the first `n` items of the free slots.
    #[inline]
    pub(crate) fn produce(&mut self, n: usize) -> Result<(), RingError> {
        self.reserve(n)?;
        self.publish(n);
        Ok(())
    }

    /// Like [`produce`](Self::produce), attaching `tags` (offsets from the first item produced) to the
    /// items. Checks everything before it changes anything.
    pub(crate) fn produce_with_tags(&mut self, n: usize, tags: &[(usize, G)]) -> Result<(), RingError>
    where
        G: Clone,
    {
        if let Some(&(offset, _)) = tags.iter().find(|(offset, _)| *offset >= n) {
            return Err(RingError::TagOutsideProduced { offset, produced: n });
        }
        self.reserve(n)?;
        let refused = if tags.is_empty() {
            Vec::new()
        } else if tags.is_sorted_by_key(|(offset, _)| *offset) {
            self.deliver_tags(tags.iter())
        } else {
            let mut sorted: Vec<_> = tags.iter().collect();
            sorted.sort_by_key(|(offset, _)| *offset); // stable: equal offsets keep their order
            self.deliver_tags(sorted.into_iter())
        };
        self.publish(n);
        // Tags run user code when dropped: the copies of readers gone meanwhile go once the items
        // are published, so that a drop that panics leaves no reader a tag of items never published.
        drop(refused);
        Ok(())
    }

    /// Each live reader's copy of `tags` (ascending offsets from the write position), in its inbox
    /// before the items are published. With no readers they are not kept: nobody would read them.
    /// Returns the copies of the readers found gone, for the caller to drop once it has published.
    #[must_use]
    fn deliver_tags<'t>(&self, tags: impl Iterator<Item = &'t (usize, G)> + Clone) -> Vec<Vec<(u64, G)>>
    where
        G: Clone + 't,
    {
        let start = self.position;
        // Every copy is made before any is delivered: a `clone` that panics leaves no reader a tag
        // of items that were never published.
        let copies: Vec<Vec<(u64, G)>> = (self.readers.iter())
            .map(|_| tags.clone().map(|(offset, tag)| (start + *offset as u64, tag.clone())).collect())
            .collect();
        let mut refused = Vec::new();
        for (reader, copy) in self.readers.iter().zip(copies) {
            refused.extend(reader.tags.deliver(copy));
        }
        refused
    }

    /// Takes `n` of the free slots, or says why not.
    #[inline]
    /// Whether `n` items could be produced now: [`produce`](Self::produce)'s checks, publishing
    /// nothing.
    pub(crate) fn check_produce(&mut self, n: usize) -> Result<(), RingError> {
        self.reserve(n)
    }

    fn reserve(&mut self, n: usize) -> Result<(), RingError> {
        if n > self.known_free() || self.closed {
            if self.closed && n > 0 {
                return Err(RingError::Closed { requested: n });
            }
            // A fresh look, not `free()` (which may answer from the last one): `n` is refused only
            // when that many slots are not free now.
            let free = self.look_at_readers();
            if n > free {
                return Err(RingError::ProduceTooMuch { requested: n, free });
            }
        }
        // Publishing moves `position` on by `n`, which takes the slots out of `known_free`.
        Ok(())
    }

    /// Publishes `n` reserved slots to the readers.
    #[inline]
    fn publish(&mut self, n: usize) {
        if n == 0 {
            return; // nothing changes: nobody to wake
        }
        if self.ring.mirrored {
            self.mirror_publish(n);
        }
        self.advance(n);
    }

    /// Mirror-copy memory: copies the `n` slots from the write position from the image the latest
    /// slice put them in to the other (see [`MirrorView`]).
    #[inline]
    fn mirror_publish(&mut self, n: usize) {
        let size = std::mem::size_of::<T>();
        let MirrorView { view, slice_end } = self.mirror;
        // Slots past the latest slice were in none since they were last published: the images agree.
        let written = (slice_end.saturating_sub(self.position) as usize).min(n);
        // SAFETY: the `n` slots are the writer's (reserved: free); `view + written <= 2 * capacity`
        // (see `MirrorView`) and `written <= n <= capacity`.
        unsafe { self.ring.memory.publish(view * size, written * size) };
        let position = self.position + n as u64;
        self.mirror.view = self.mirror.next_view(position, self.ring.advance(self.index, n), n);
    }

    /// Moves the write position on by `n` written (and mirrored) slots and tells the readers.
    #[inline]
    fn advance(&mut self, n: usize) {
        self.position += n as u64;
        self.index = self.ring.advance(self.index, n);
        self.ring.write.0.store(self.position, Release);
        if self.waking == Waking::Waiters {
            self.ring.data.notify();
        }
    }
}

impl<T, G> Drop for WriterCore<T, G> {
    fn drop(&mut self) {
        if !self.closed && std::thread::panicking() {
            // A producer that panicked did not finish its stream.
            let _ = self.ring.abort_reason.set(WRITER_PANICKED.into());
        }
        self.ring.close();
        self.ring.room.forget_side(&self.room_wait);
    }
}

impl MirrorView {
    /// `view` after the writer moved on by `n` slots to `position` (slot `index`): still in the latest
    /// slice's image while some of it is left, in the first image after that.
    #[inline]
    fn next_view(&self, position: u64, index: usize, n: usize) -> usize {
        if position < self.slice_end {
            self.view + n
        } else {
            index
        }
    }
}

/// The abort reason of a writer dropped while its thread panicked.
pub(crate) const WRITER_PANICKED: &str = "the writer's thread panicked";

/// One reader's side of the protocol.
pub(crate) struct ReaderCore<T, G> {
    ring: Arc<Ring<T>>,
    state: Arc<ReaderState<G>>,
    /// Items consumed so far (the shared copy is `state.position`).
    position: u64,
    /// `position` modulo the capacity: the slot read next.
    index: usize,
    /// The write position when last looked at (a lower bound: the writer only moves forward).
    write_seen: u64,
    waking: Waking,
    tagging: Tagging,
    /// The tags of the items from `position` on that this reader has collected.
    tags: ReaderTags<G>,
    /// For `pop`: the ring's slots.
    slots: Slots<T>,
    /// Its place among the tasks waiting for data.
    data_wait: Registration,
}

impl<T: Item, G> ReaderCore<T, G> {
    pub(crate) fn ring(&self) -> &Arc<Ring<T>> {
        &self.ring
    }

    /// What another thread can do for this reader should its thread stop for good (see [`Orphan`]).
    #[cfg(any(all(test, not(loom)), all(target_arch = "wasm32", target_feature = "atomics")))]
    pub(crate) fn orphan(&self) -> Orphan<T, G> {
        Orphan::Reader(self.ring.clone(), self.state.clone())
    }

    /// `Ready` when `ready(self)` holds; otherwise `cx`'s task is woken at the next change of data
    /// (with those of other tasks, as `pollers` says).
    pub(crate) fn poll_data(
        &mut self,
        cx: &mut Context<'_>,
        pollers: Pollers,
        mut ready: impl FnMut(&mut Self) -> bool,
    ) -> Poll<()> {
        let ring = self.ring.clone();
        let mut side = self.data_wait;
        let poll = ring.data.poll_until(cx, &mut side, pollers, || ready(self));
        self.data_wait = side;
        poll
    }

    /// Stops waking `waker` for this reader's data (see [`Wakeup::forget`]).
    pub(crate) fn forget_data_waker(&self, waker: &Waker) {
        self.ring.data.forget(&self.data_wait, waker);
    }

    /// Items published and not yet consumed by this reader. Looks at the writer's position only when
    /// the last look shows nothing left.
    #[inline]
    pub(crate) fn available(&mut self) -> usize {
        if self.write_seen == self.position {
            self.write_seen = self.ring.write.0.load(Acquire);
        }
        (self.write_seen - self.position) as usize
    }

    /// The items the last look at the writer's position showed, not yet consumed: what the last
    /// slice held (more may be published since, unseen).
    #[inline]
    pub(crate) fn seen(&self) -> usize {
        (self.write_seen - self.position) as usize
    }

    /// Why the writer aborted, once it has; `None` while it writes and after a normal end.
    pub(crate) fn abort_reason(&self) -> Option<&str> {
        self.ring.abort_reason.get().map(|reason| &**reason)
    }

    /// Whether the writer is gone and everything it wrote has been consumed.
    pub(crate) fn finished(&mut self) -> bool {
        self.available() == 0 && self.closed_and_drained()
    }

    /// Whether the writer is gone and everything it wrote has been consumed, as
    /// [`finished`](Self::finished) tells, without remembering what it saw.
    pub(crate) fn drained(&self) -> bool {
        // `closed` first: the writer stores its last position before it closes.
        self.ring.closed.load(Acquire) && self.ring.write.0.load(Acquire) == self.position
    }

    /// Called when nothing is available: whether that is because the writer is gone. It stores its
    /// last position before it closes, so once `closed` is seen, one more look at the position is
    /// final.
    #[cold]
    fn closed_and_drained(&mut self) -> bool {
        if !self.ring.closed.load(Acquire) {
            return false;
        }
        self.write_seen = self.ring.write.0.load(Acquire);
        self.write_seen == self.position
    }

    /// The published items this reader has not consumed, as one slice; `None` once the writer is gone
    /// and everything has been consumed.
    #[inline]
    pub(crate) fn slice(&mut self) -> Option<&[T]> {
        let available = self.visible()?;
        Some(self.items(available))
    }

    /// [`slice`](Self::slice) after a fresh look at the writer's position: every item published so
    /// far, where `slice` may stop at what the last look saw (a look costs a load of the cache line
    /// the writer stores to, which a hot loop saves).
    #[inline]
    pub(crate) fn slice_latest(&mut self) -> Option<&[T]> {
        self.look_at_writer();
        self.slice()
    }

    /// [`slice_with_tags`](Self::slice_with_tags) after a fresh look at the writer's position, as
    /// [`slice_latest`](Self::slice_latest).
    pub(crate) fn slice_with_tags_latest(&mut self) -> Option<(&[T], Tags<'_, G>)> {
        self.look_at_writer();
        self.slice_with_tags()
    }

    fn look_at_writer(&mut self) {
        self.write_seen = self.ring.write.0.load(Acquire);
    }

    /// Like [`slice`](Self::slice), with the tags attached to the slice's items.
    pub(crate) fn slice_with_tags(&mut self) -> Option<(&[T], Tags<'_, G>)> {
        let available = self.visible()?;
        let end = self.position + available as u64;
        let tags = self.tags.view(&self.state.tags, self.position, end);
        // SAFETY: as in `items` (not called, because `tags` borrows `self.tags` mutably).
        let items = unsafe { std::slice::from_raw_parts(self.ring.slot(self.index), available) };
        Some((items, tags))
    }

    /// How many items the next slice shows; `None` at the end.
    #[inline]
    fn visible(&mut self) -> Option<usize> {
        let available = self.available();
        if available == 0 {
            if self.closed_and_drained() {
                return None;
            }
            return Some(self.available());
        }
        Some(available)
    }

    /// The `available` items from our position.
    #[inline]
    fn items(&self, available: usize) -> &[T] {
        // SAFETY: slots from our position up to the write position were published (Acquire load of
        // the write position pairs with the writer's Release store); the writer does not touch them
        // until we move past them; they are contiguous and at most `capacity` long.
        unsafe { std::slice::from_raw_parts(self.ring.slot(self.index), available) }
    }

    /// Takes the next item, if one is published; `Finished` once the writer is gone and everything
    /// was consumed. Looks at the writer's position only when the last look shows nothing left.
    #[inline]
    pub(crate) fn pop(&mut self, waking: Waking) -> Result<T, PopError> {
        debug_assert!(waking == self.waking);
        if self.write_seen == self.position {
            self.write_seen = self.ring.write.0.load(Acquire);
            if self.write_seen == self.position {
                return Err(if self.closed_and_drained() { PopError::Finished } else { PopError::Empty });
            }
        }
        let slots = self.slots;
        let (index, position) = (self.index, self.position + 1);
        // SAFETY: `position - 1 < write_seen`: the slot was published (our Acquire load pairs with the
        // writer's Release store) and stays untouched until we move past it; it lies in the first
        // image, aligned for `T`, and `T: Item` is plain data.
        let item = unsafe { slots.slot(index).read() };
        self.state.position.0.store(position, Release);
        // After the store to shared memory, as in `WriterCore::push`.
        (self.position, self.index) = (position, slots.next(index));
        self.after_consuming(position, waking);
        Ok(item)
    }

    /// What a reader that moved on to `position` does besides telling the writer: wake a sleeping
    /// writer, let go of the tags it passed. Calls nothing on a ring of a flavour without waiters
    /// whose tags cannot exist (see [`WriterCore::push`]).
    #[inline]
    fn after_consuming(&mut self, position: u64, waking: Waking) {
        if waking == Waking::Waiters {
            self.ring.room.notify();
        }
        if tags_can_exist::<G>() && self.tagging == Tagging::On {
            self.tags.consume_to(&self.state.tags, position);
        }
    }

    /// Marks the first `n` available items as read.
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) -> Result<(), RingError> {
        if n > self.available() {
            // A fresh look, not the last one (which `available` may answer from): `n` is refused only
            // when that many items are not published now.
            self.write_seen = self.ring.write.0.load(Acquire);
            let available = (self.write_seen - self.position) as usize;
            if n > available {
                return Err(RingError::ConsumeTooMuch { requested: n, available });
            }
        }
        if n == 0 {
            return Ok(()); // nothing changes: nobody to wake
        }
        self.advance(n);
        Ok(())
    }

    /// Moves this reader on by `n <= available` items and tells the writer.
    #[inline]
    fn advance(&mut self, n: usize) {
        self.position += n as u64;
        self.index = self.ring.advance(self.index, n);
        self.state.position.0.store(self.position, Release);
        self.after_consuming(self.position, self.waking);
    }
}

impl<T, G> Drop for ReaderCore<T, G> {
    fn drop(&mut self) {
        ReaderState::leave(&self.state, &self.ring, Some(&self.data_wait));
    }
}

impl<G> ReaderState<G> {
    /// Says the reader is gone: it must not hold the writer back, nor keep its tasks' wakers or tags
    /// alive (its own queue drops with it). `wait`: its registration for data, where it is at hand.
    fn leave<T>(state: &Arc<Self>, ring: &Ring<T>, wait: Option<&Registration>) {
        state.alive.store(false, Release);
        ring.room.notify();
        match wait {
            Some(wait) => ring.data.forget_side(wait),
            None => ring.data.forget_side_anywhere(Registration::reader(state).side),
        }
        state.tags.close();
    }
}

/// What another thread can still do for a side that will never be dropped, because the thread that
/// holds it stopped for good (a browser worker that was terminated: its objects are never freed):
/// [`end`](Self::end) does for the other sides what dropping it would have done. Nothing may use the
/// side after: its thread is gone.
#[cfg(any(all(test, not(loom)), all(target_arch = "wasm32", target_feature = "atomics")))]
pub(crate) enum Orphan<T, G> {
    Writer(Arc<Ring<T>>),
    Reader(Arc<Ring<T>>, Arc<ReaderState<G>>),
}

#[cfg(any(all(test, not(loom)), all(target_arch = "wasm32", target_feature = "atomics")))]
impl<T, G> Orphan<T, G> {
    /// A writer's stream aborts with `reason`, unless it had ended (the readers read what it
    /// published, then see the end and why); a reader stops holding the writer back. The stores of
    /// the side's thread must be visible here: its end is (a browser releases a terminated worker's
    /// locks only after it stopped it, and the lock's grant orders that before this).
    pub(crate) fn end(&self, reason: &str) {
        match self {
            Orphan::Writer(ring) => {
                if !ring.closed.load(Acquire) {
                    let _ = ring.abort_reason.set(reason.into());
                    ring.close();
                }
            }
            Orphan::Reader(ring, state) => ReaderState::leave(state, ring, None),
        }
    }
}
