//! [`ThreadSlot`]: what one thread keeps of one pool that the pool must be able to reach, its
//! counters and its idle blocks, per class.
//!
//! The pool's registry of threads (`shared`) holds the slots, to sum the counters for a snapshot and
//! to seal the stacks when it closes; the thread's cache (`thread_cache`) fills and empties them.
//! Generic over the block type, like [`BlockStack`], so that this file depends on no other pool file
//! but `block_stack`, and `shared` can hold slots of its own blocks without a circle between files.
//!
//! The acquire and release counters have a single writer, the owning thread, which updates them with
//! a plain load and store instead of a read-modify-write; a snapshot reads them from any thread.

use std::mem::{ManuallyDrop, MaybeUninit};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use super::block_stack::BlockStack;

/// One thread's counts for one class: idle bytes cached, bytes acquired and bytes released (the last
/// two wrap; only differences of sums mean anything).
#[derive(Default)]
pub(crate) struct ClassCounts {
    pub(crate) cached: AtomicUsize,
    pub(crate) acquired: AtomicUsize,
    pub(crate) released: AtomicUsize,
}

/// What one thread keeps of one pool that the pool must be able to reach: its counts and its idle
/// blocks, for every class.
pub(crate) struct ThreadSlot<T> {
    pub(crate) classes: Box<[ClassCounts]>,
    stacks: Box<[BlockStack<T>]>,
}

impl<T> ThreadSlot<T> {
    /// A slot whose stack of each class holds at most `capacities[class]` blocks.
    pub(crate) fn new(capacities: &[usize]) -> ThreadSlot<T> {
        ThreadSlot {
            classes: capacities.iter().map(|_| ClassCounts::default()).collect(),
            stacks: capacities.iter().map(|&n| BlockStack::new(n)).collect(),
        }
    }

    /// Counts `size` bytes of `class` acquired. Owner only.
    #[inline]
    pub(crate) fn count_acquired(&self, class: usize, size: usize) {
        bump(&self.classes[class].acquired, size);
    }

    /// Counts `size` bytes of `class` released. Owner only.
    #[inline]
    pub(crate) fn count_released(&self, class: usize, size: usize) {
        bump(&self.classes[class].released, size);
    }

    /// Moves an idle block of `class` (whose blocks are `size` bytes) into `out`, if there is one:
    /// whether it did. Owner only.
    #[inline]
    pub(crate) fn pop_into(&self, class: usize, size: usize, out: &mut MaybeUninit<T>) -> bool {
        let popped = self.stacks[class].pop_into(out);
        if popped {
            bump(&self.classes[class].cached, size.wrapping_neg());
        }
        popped
    }

    /// Moves `*block` onto the stack of its class if that has room (`true`). Owner only.
    ///
    /// # Safety
    /// As [`BlockStack::push_from`]: on `true` the caller gives up `*block`.
    #[inline]
    pub(crate) unsafe fn push_from(&self, block: &ManuallyDrop<T>, class: usize, size: usize) -> bool {
        // SAFETY: forwarded from the caller.
        let kept = unsafe { self.stacks[class].push_from(block) };
        if kept {
            bump(&self.classes[class].cached, size);
        }
        kept
    }

    /// Takes every idle block out, with its class, for good: the slot keeps none from now on. Any
    /// thread; the `cached` counts are left to the owner (nobody reads them once the pool is closed).
    pub(crate) fn seal(&self) -> Vec<(usize, T)> {
        let stacks = self.stacks.iter().enumerate();
        stacks.flat_map(|(class, stack)| stack.seal().into_iter().map(move |b| (class, b))).collect()
    }

    /// Takes every idle block out, with its class, leaving the slot in use. Owner only.
    pub(crate) fn take_all(&self) -> Vec<(usize, T)> {
        let mut taken = Vec::new();
        for (class, stack) in self.stacks.iter().enumerate() {
            while let Some(block) = stack.pop() {
                taken.push((class, block));
            }
            self.classes[class].cached.store(0, Relaxed);
        }
        taken
    }
}

/// Adds to a counter that only the calling thread writes.
#[inline]
fn bump(counter: &AtomicUsize, delta: usize) {
    counter.store(counter.load(Relaxed).wrapping_add(delta), Relaxed);
}
