//! [`ThreadSlot`]: what one thread keeps of one pool — a lease on the budget and a few idle blocks
//! per class — and the [`Registry`] through which the pool reaches every thread's slot.
//!
//! Generic over the block type, like [`BlockStack`], so that `shared` can hold slots of its own
//! blocks without a circle between files.
//!
//! The owning thread uses its slot on every acquire and release, with plain loads and stores and no
//! atomic read-modify-write. Other threads reach into it only rarely: a request about to wait takes
//! every lease back, closing the pool takes every idle block, a thread's end retires its slot, a
//! snapshot reads the leases.
//!
//! # Protocol
//! A slot has two flags: `busy`, which only the owner writes, and `taken`, which only *takers* write
//! (under the registry's lock, so one at a time).
//! - The owner's *step*: store `busy = true`, pass a light barrier, load `taken`. If it is set, the
//!   owner clears `busy` and does without its slot (the shared path); otherwise it reads and writes
//!   the slot's lease and blocks, then stores `busy = false` (release).
//! - A taker: stores `taken`, passes a heavy barrier, waits until it loads `busy == false`
//!   (acquire), and then has the slot's lease and blocks to itself until it clears `taken` (release),
//!   or for good if it sealed the slot.
//!
//! The light and heavy barriers (`platform::barrier`) order memory like two sequentially consistent
//! fences, so of an owner's step and a taker's store of `taken`, at least one sees the other: either
//! the owner sees `taken` and stays out, or the taker sees `busy` and waits for the step to end.
//! Either way they never touch the lease or the blocks at once (loom: `loom_tests.rs`, whose
//! `UnsafeCell` reports any access the protocol would let overlap). What a taker wrote is visible to
//! the owner's next step through `taken` (release, then acquire), and what an owner wrote is visible
//! to a taker through `busy`.
//!
//! An owner's step never takes a lock, never waits and never drops a block (which could free the
//! pool), so a taker's wait for it is short even while the taker holds locks.
//!
//! The lease is an atomic only so that a snapshot may read it at any moment; its writers (the
//! owner, or a taker while it holds the slot) update it with a load and a store.
//!
//! A slot's stacks drop what they still hold when the slot goes, but the pool's idle blocks have no
//! destructor (`shared::IdleBlock`): the pool empties every slot before it goes. Closing the pool
//! empties them all, a thread's end retires its own, and a slot is dropped without either only when
//! its pool is gone, which no slot holding one of its blocks allows (each holds a reference).

use std::sync::Arc;

use super::block_stack::BlockStack;
use super::budget::{Budget, LeaseHolders, Request};
use crate::sync::Ordering::{Acquire, Relaxed, Release};
use crate::sync::{
    heavy_barrier, light_barrier, light_barrier_is_fence, yield_now, AtomicBool, AtomicUsize, Mutex,
    MutexGuard,
};

/// `ThreadSlot::taken`: a taker holds the slot.
const TAKEN: usize = 1;
/// `ThreadSlot::taken`: the slot is sealed: it keeps nothing, for good.
const SEALED: usize = 2;

/// What the acquire side of the fast path found.
pub(crate) enum Reserved<B> {
    /// Nothing reserved: the caller reserves elsewhere, waits or refuses.
    No,
    /// Reserved; the block is still to be found.
    Bytes,
    /// Reserved, with a cached block.
    BytesAndBlock(B),
}

/// One class in one thread's slot. Aligned so that no other allocation shares its cache line: its
/// owner writes it on every acquire and release.
#[repr(align(64))]
struct ClassSlot<B> {
    /// Budget bytes of this class reserved and held for this thread's next acquires.
    lease: AtomicUsize,
    /// Most bytes the lease may hold.
    lease_cap: usize,
    /// Idle blocks: the owner's inside a step, or the taker's while it holds the slot.
    stack: BlockStack<B>,
}

/// What one thread keeps of one pool: see the module docs. Alone on its cache lines (the owner
/// writes `busy` on every step), so that two threads' slots never share one.
#[repr(align(128))]
pub(crate) struct ThreadSlot<B> {
    busy: AtomicBool,
    /// Whether the light barrier is a real fence: read once, so that a step reads no global state.
    fence: bool,
    taken: AtomicUsize,
    classes: Box<[ClassSlot<B>]>,
}

// SAFETY: the stacks are accessed only by the owner inside a step or by the one taker holding the
// slot, never both at once (the protocol in the module docs); blocks are `Send`, so moving them
// between those threads is fine.
unsafe impl<B: Send> Sync for ThreadSlot<B> {}

impl<B> ThreadSlot<B> {
    /// An empty slot keeping at most `blocks[class]` idle blocks and `lease_cap[class]` leased bytes
    /// per class.
    fn new(blocks: &[usize], lease_cap: &[usize]) -> ThreadSlot<B> {
        ThreadSlot {
            busy: AtomicBool::new(false),
            fence: light_barrier_is_fence(),
            taken: AtomicUsize::new(0),
            classes: blocks
                .iter()
                .zip(lease_cap)
                .map(|(&blocks, &lease_cap)| ClassSlot {
                    lease: AtomicUsize::new(0),
                    lease_cap,
                    stack: BlockStack::new(blocks),
                })
                .collect(),
        }
    }

    /// Starts an owner's step; `false` when a taker holds the slot (then the step must not happen).
    #[inline(always)]
    fn enter(&self) -> bool {
        self.busy.store(true, Relaxed);
        light_barrier(self.fence);
        if self.taken.load(Acquire) == 0 {
            return true;
        }
        self.busy.store(false, Release);
        false
    }

    #[inline(always)]
    fn leave(&self) {
        self.busy.store(false, Release);
    }

    /// How many classes the slot keeps (those of its registry).
    pub(crate) fn class_count(&self) -> usize {
        self.classes.len()
    }

    /// The slot's part for `class`, without a bounds check (one compare and branch fewer on each
    /// side of the fast path).
    ///
    /// # Safety
    /// `class` is below the number of classes the registry was made with.
    #[inline(always)]
    unsafe fn class_unchecked(&self, class: usize) -> &ClassSlot<B> {
        debug_assert!(class < self.class_count());
        // SAFETY: every slot has one entry per class of its registry, and the caller's `class` is
        // one of those.
        unsafe { self.classes.get_unchecked(class) }
    }

    /// The acquire side of the fast path, for requests without a tenant: takes `size` bytes of
    /// `class` from the lease and an idle block if there is one.
    /// `Reserved::No` when the lease does not hold the bytes or the slot is taken. Owner only.
    ///
    /// # Safety
    /// `class` is below the number of classes the registry was made with.
    #[inline(always)]
    pub(crate) unsafe fn take_leased(&self, class: usize, size: usize) -> Reserved<B> {
        if !self.enter() {
            return Reserved::No;
        }
        // SAFETY: forwarded from the caller.
        let c = unsafe { self.class_unchecked(class) };
        let lease = c.lease.load(Relaxed);
        if lease < size {
            self.leave();
            return Reserved::No;
        }
        c.lease.store(lease - size, Relaxed);
        // SAFETY: inside the owner's step, so the stack is this thread's alone (module docs).
        let popped = unsafe { c.stack.pop() };
        self.leave();
        match popped {
            Some(block) => Reserved::BytesAndBlock(block),
            None => Reserved::Bytes,
        }
    }

    /// An idle block of `class`, for a request reserved elsewhere. Owner only.
    #[inline]
    pub(crate) fn pop(&self, class: usize) -> Option<B> {
        if !self.enter() {
            return None;
        }
        // SAFETY: inside the owner's step, so the stack is this thread's alone (module docs).
        let popped = unsafe { self.classes[class].stack.pop() };
        self.leave();
        popped
    }

    /// The release side of the fast path: keeps the bytes of `req` in the lease
    /// when `budget` allows and the lease has room (or else gives them back to `budget`), and moves
    /// `block` onto the stack of its class when that has room, or else gives it back. Owner only.
    ///
    /// # Safety
    /// `req.class` is below the number of classes the registry was made with. Once the block is
    /// kept, the caller may not use `budget` (nor anything else of the block's pool) again: another
    /// thread may take the block and free the pool with it.
    #[inline(always)]
    pub(crate) unsafe fn put(&self, req: &Request, budget: &Budget, block: B) -> Result<(), B> {
        // SAFETY: forwarded from the caller.
        let c = unsafe { self.class_unchecked(req.class) };
        if self.enter() {
            let lease = c.lease.load(Relaxed);
            // `may_lease` reads the budget's waiters flag inside the step: see "No lost wake-up" in
            // `budget.rs`.
            if lease + req.size <= c.lease_cap && budget.may_lease(req) {
                c.lease.store(lease + req.size, Relaxed);
                // SAFETY: inside the owner's step, so the stack is this thread's alone.
                let kept = unsafe { c.stack.push(block) };
                self.leave();
                return kept;
            }
            self.leave();
        }
        // Outside any step: giving bytes back may serve waiters, which takes locks and leases.
        budget.release(req);
        if !self.enter() {
            return Err(block);
        }
        // SAFETY: as above.
        let kept = unsafe { c.stack.push(block) };
        self.leave();
        kept
    }
}

/// Every thread slot of one pool.
pub(crate) struct Registry<B> {
    inner: Mutex<Inner<B>>,
    blocks: Box<[usize]>,
    lease_cap: Box<[usize]>,
}

struct Inner<B> {
    live: Vec<std::sync::Weak<ThreadSlot<B>>>,
    sealed: bool,
}

/// What a taker found in the slots it emptied.
pub(crate) struct TakenOut<B> {
    /// Idle blocks, with their class.
    pub(crate) blocks: Vec<(usize, B)>,
    /// Leased bytes per class.
    pub(crate) leased: Vec<usize>,
}

impl<B: Send> Registry<B> {
    /// A registry of slots keeping at most `blocks[class]` idle blocks and `lease_cap[class]` leased
    /// bytes per class.
    pub(crate) fn new(blocks: Vec<usize>, lease_cap: Vec<usize>) -> Registry<B> {
        Registry {
            inner: Mutex::new(Inner { live: Vec::new(), sealed: false }),
            blocks: blocks.into_boxed_slice(),
            lease_cap: lease_cap.into_boxed_slice(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<B>> {
        // Nothing under this lock can panic halfway through an update that matters.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a thread that starts using the pool: sealed from the start if the registry is.
    pub(crate) fn register(&self) -> Arc<ThreadSlot<B>> {
        let slot = Arc::new(ThreadSlot::new(&self.blocks, &self.lease_cap));
        let mut inner = self.lock();
        if inner.sealed {
            slot.taken.store(TAKEN | SEALED, Release);
        }
        inner.live.retain(|w| w.strong_count() > 0);
        inner.live.push(Arc::downgrade(&slot));
        slot
    }

    /// Takes `slots`: waits for their owners' steps, lets `take` empty what it wants, then gives them
    /// back, unless `seal`, which keeps them taken for good. With the registry's lock held, so that
    /// takers come one at a time.
    fn take_slots(
        _inner: &MutexGuard<'_, Inner<B>>,
        slots: &[Arc<ThreadSlot<B>>],
        seal: bool,
        mut take: impl FnMut(&ThreadSlot<B>),
    ) {
        for slot in slots {
            let flags = slot.taken.load(Relaxed) | TAKEN | if seal { SEALED } else { 0 };
            slot.taken.store(flags, Relaxed);
        }
        // One heavy barrier for all: see the module docs.
        heavy_barrier();
        for slot in slots {
            while slot.busy.load(Acquire) {
                yield_now();
            }
            take(slot);
            if slot.taken.load(Relaxed) & SEALED == 0 {
                slot.taken.store(0, Release);
            }
        }
    }

    fn live(inner: &Inner<B>) -> Vec<Arc<ThreadSlot<B>>> {
        inner.live.iter().filter_map(std::sync::Weak::upgrade).collect()
    }

    /// Seals every slot, now and to come, and takes everything they hold (the pool is closing).
    pub(crate) fn seal_all(&self) -> TakenOut<B> {
        let mut out = TakenOut { blocks: Vec::new(), leased: vec![0; self.blocks.len()] };
        let slots = {
            let mut inner = self.lock();
            inner.sealed = true;
            let slots = Self::live(&inner);
            Self::take_slots(&inner, &slots, true, |slot| slot.empty_into(&mut out));
            slots
        };
        drop(slots); // outside the lock: a slot whose thread has ended is freed here
        out
    }

    /// A thread is done with the pool: seals its slot and returns what it held. Called by the owner.
    pub(crate) fn retire(&self, slot: &Arc<ThreadSlot<B>>) -> TakenOut<B> {
        let mut out = TakenOut { blocks: Vec::new(), leased: vec![0; self.blocks.len()] };
        let mut inner = self.lock();
        Self::take_slots(&inner, std::slice::from_ref(slot), true, |slot| slot.empty_into(&mut out));
        inner.live.retain(|w| !std::ptr::eq(w.as_ptr(), Arc::as_ptr(slot)));
        out
    }

    /// Takes every idle block out of `slot`, leaving it in use. Called by the owner.
    pub(crate) fn take_blocks(&self, slot: &Arc<ThreadSlot<B>>) -> Vec<(usize, B)> {
        let mut blocks = Vec::new();
        let inner = self.lock();
        Self::take_slots(&inner, std::slice::from_ref(slot), false, |slot| {
            let mut taken = Vec::new();
            for (class, c) in slot.classes.iter().enumerate() {
                // SAFETY: the caller holds the slot (`take_slots`), so the stack is its alone.
                unsafe { c.stack.drain_into(&mut taken) };
                blocks.extend(taken.drain(..).map(|block| (class, block)));
            }
        });
        blocks
    }

    /// Per class: bytes in leases, and idle blocks in thread slots (momentary readings).
    pub(crate) fn leased_and_cached(&self) -> (Vec<usize>, Vec<usize>) {
        let inner = self.lock();
        let mut leased = vec![0; self.blocks.len()];
        let mut cached = vec![0; self.blocks.len()];
        for slot in inner.live.iter().filter_map(std::sync::Weak::upgrade) {
            for (class, c) in slot.classes.iter().enumerate() {
                leased[class] += c.lease.load(Relaxed);
                cached[class] += c.stack.len();
            }
        }
        (leased, cached)
    }
}

impl<B> ThreadSlot<B> {
    /// Takes the lease and the blocks out. Only by the taker holding the slot.
    fn empty_into(&self, out: &mut TakenOut<B>) {
        let mut taken = Vec::new();
        for (class, c) in self.classes.iter().enumerate() {
            out.leased[class] += c.lease.load(Relaxed);
            c.lease.store(0, Relaxed);
            // SAFETY: only called by the taker holding the slot (`take_slots`): the stack is its alone.
            unsafe { c.stack.drain_into(&mut taken) };
            out.blocks.extend(taken.drain(..).map(|block| (class, block)));
        }
    }
}

impl<B: Send> LeaseHolders for Registry<B> {
    fn take_all(&self, give: &mut dyn FnMut(usize, usize)) {
        let slots = {
            let inner = self.lock();
            let slots = Self::live(&inner);
            Self::take_slots(&inner, &slots, false, |slot| {
                for (class, c) in slot.classes.iter().enumerate() {
                    let bytes = c.lease.load(Relaxed);
                    if bytes > 0 {
                        c.lease.store(0, Relaxed);
                        give(class, bytes);
                    }
                }
            });
            slots
        };
        drop(slots); // outside the lock, as in `seal_all`
    }

    #[cfg(loom)]
    fn leased(&self) -> usize {
        let inner = self.lock();
        let slots = inner.live.iter().filter_map(std::sync::Weak::upgrade);
        slots.map(|s| s.classes.iter().map(|c| c.lease.load(Relaxed)).sum::<usize>()).sum()
    }
}
