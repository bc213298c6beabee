//! [`BlockStack`]: one thread's idle blocks of one class, which the pool can take away once.
//!
//! A leaf of the pool's modules: the stack is generic over what it holds (the pool keeps its
//! `shared::Block`s in it), so it imports nothing of the pool, and the pool's types that hold
//! stacks can refer to blocks without a circle between files.
//!
//! The owning thread pushes and pops with one compare-and-swap each, on a word no other thread writes
//! in normal use. Any thread may *seal* the stack, once: it takes every block in it and leaves the
//! stack refusing pushes and pops from then on. The pool seals every thread's stacks when it closes,
//! so that memory idle in a thread that outlives the pool is freed with it; a thread seals its own
//! stacks when it ends.
//!
//! # Protocol
//! `len` holds the number of blocks (slots `0..len` are filled) and the `SEALED` bit. Only the owner
//! changes the number; the sealer only sets the bit, with a read-modify-write that reads `len`.
//! - A pop lowers `len` from `n` to `n - 1` and only then reads slot `n - 1`; a push writes slot `n`
//!   and only then raises `len` to `n + 1` (release ordering, so that a sealer that reads the new
//!   `len` sees the block). Either compare-and-swap fails if the stack was sealed in between, and
//!   the push then leaves the block with its caller (the copy in the slot, which no one else read,
//!   is forgotten).
//! - The sealer reads only the slots below the `len` its `fetch_or` read: slots the owner filled
//!   before (and published), and will not touch again, since its next compare-and-swap fails.

use std::cell::UnsafeCell;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Set in `BlockStack::len` once the stack is sealed.
const SEALED: usize = 1 << (usize::BITS - 1);

pub(crate) struct BlockStack<T> {
    len: AtomicUsize,
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: a slot is accessed by one thread at a time, as the protocol in the module docs says: the
// owner for slots at and above `len`, and for the slot it has just popped; the sealer for those below
// the `len` it read when sealing, which the owner never touches again. `T: Send`, because a sealer
// on another thread takes the blocks it reads.
unsafe impl<T: Send> Sync for BlockStack<T> {}

impl<T> BlockStack<T> {
    /// An empty stack of at most `capacity` blocks.
    pub(crate) fn new(capacity: usize) -> BlockStack<T> {
        BlockStack {
            len: AtomicUsize::new(0),
            slots: (0..capacity).map(|_| UnsafeCell::new(MaybeUninit::uninit())).collect(),
        }
    }

    /// Moves the top block into `out`, if there is one and the stack is not sealed: whether it did.
    /// Only the owning thread may call it.
    ///
    /// The block is written to the caller's slot rather than returned: the pool's acquire would
    /// otherwise copy it through an `Option` or two, and those copies (narrow stores read back by
    /// wide loads) cost more than the rest of its fast path.
    #[inline]
    pub(crate) fn pop_into(&self, out: &mut MaybeUninit<T>) -> bool {
        let n = self.len.load(Ordering::Relaxed);
        if n == 0 || n & SEALED != 0 {
            return false;
        }
        // Failure means the stack was just sealed: the sealer has taken the blocks.
        if self.len.compare_exchange(n, n - 1, Ordering::Relaxed, Ordering::Relaxed).is_err() {
            return false;
        }
        // The slot's bits move to `out`; it counts as empty from now on.
        // SAFETY: slot `n - 1` was filled by this thread's push and no one else reads it: `len` is
        // now below it, so no sealer reads it from now on, and none did before (its `fetch_or`
        // would have made the exchange fail).
        unsafe { ptr::copy_nonoverlapping((*self.slots[n - 1].get()).as_ptr(), out.as_mut_ptr(), 1) };
        true
    }

    /// The top block, if there is one and the stack is not sealed. Only the owning thread may call
    /// it. (For the slow paths; the fast path pops in place.)
    pub(crate) fn pop(&self) -> Option<T> {
        let mut out = MaybeUninit::uninit();
        // SAFETY: `pop_into` returned `true`, so it wrote a block to `out`.
        self.pop_into(&mut out).then(|| unsafe { out.assume_init() })
    }

    /// Moves `*block` onto the stack if it has room and is not sealed (`true`); leaves it with the
    /// caller otherwise. Only the owning thread may call it. In place, for the reason `pop_into`
    /// gives.
    ///
    /// # Safety
    /// On `true` the stack owns the block: the caller must neither use nor drop `*block` again.
    #[inline]
    pub(crate) unsafe fn push_from(&self, block: &ManuallyDrop<T>) -> bool {
        let n = self.len.load(Ordering::Relaxed);
        if n >= self.slots.len() {
            return false; // full, or sealed (the bit makes `n` larger than any capacity)
        }
        let slot = self.slots[n].get();
        // SAFETY: slot `n` is at `len`, so it is empty and no one else reads it (a sealer reads
        // only slots below the `len` it sees, which is at most `n` until the exchange below). The
        // block's bits are copied; which copy owns the block is settled by the exchange.
        unsafe { ptr::copy_nonoverlapping::<T>(&**block, (*slot).as_mut_ptr(), 1) };
        // Release: a sealer whose `fetch_or` reads `n + 1` sees the block written. On failure the
        // stack was sealed with `len == n`: no one read the slot's copy, and the caller's is the block.
        self.len.compare_exchange(n, n + 1, Ordering::Release, Ordering::Relaxed).is_ok()
    }

    /// Seals the stack and takes every block in it; nothing if it was sealed already. Any thread.
    pub(crate) fn seal(&self) -> Vec<T> {
        // Acquire: pairs with the owner's release of each push, so the blocks it counted are seen.
        let n = self.len.fetch_or(SEALED, Ordering::Acquire);
        if n & SEALED != 0 {
            return Vec::new();
        }
        // SAFETY: slots `0..n` were filled and published by the owner's pushes; the owner will not
        // touch them again (its next exchange fails on the sealed bit), and no other sealer reads
        // them (a second `fetch_or` sees the bit and returns above).
        (0..n).map(|i| unsafe { (*self.slots[i].get()).assume_init_read() }).collect()
    }
}

impl<T> Drop for BlockStack<T> {
    fn drop(&mut self) {
        let n = *self.len.get_mut();
        if n & SEALED == 0 {
            for slot in &mut self.slots[..n] {
                // SAFETY: unsealed, so slots `0..n` hold blocks that no one took; `&mut self` means
                // no one else can access them now.
                unsafe { slot.get_mut().assume_init_drop() };
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// `push_from` with the block given back when refused.
    fn push<T>(stack: &BlockStack<T>, block: T) -> Result<(), T> {
        let block = ManuallyDrop::new(block);
        // SAFETY: on `true` the stack owns the block and `block` is not used again; on `false` it
        // is still the caller's, and is handed back.
        if unsafe { stack.push_from(&block) } {
            Ok(())
        } else {
            Err(ManuallyDrop::into_inner(block))
        }
    }

    /// `n` blocks that each hold a count on `token`, so that a block lost or kept shows in the count.
    fn blocks(token: &Arc<()>, n: usize) -> Vec<Arc<()>> {
        (0..n).map(|_| token.clone()).collect()
    }

    #[test]
    fn pushes_and_pops_are_last_in_first_out_up_to_the_capacity() {
        let stack = BlockStack::new(2);
        assert!(stack.pop().is_none());
        assert!(push(&stack, Box::new(0)).is_ok());
        assert!(push(&stack, Box::new(1)).is_ok());
        assert_eq!(*push(&stack, Box::new(2)).unwrap_err(), 2);
        assert_eq!(*stack.pop().unwrap(), 1);
        assert_eq!(*stack.pop().unwrap(), 0);
        assert!(stack.pop().is_none());
    }

    #[test]
    fn a_sealed_stack_gives_up_its_blocks_once_and_takes_no_more() {
        let token = Arc::new(());
        let mut blocks = blocks(&token, 3);
        let stack = BlockStack::new(4);
        assert!(push(&stack, blocks.remove(0)).is_ok());
        assert!(push(&stack, blocks.remove(0)).is_ok());
        assert_eq!(stack.seal().len(), 2);
        assert!(stack.seal().is_empty());
        assert!(stack.pop().is_none());
        assert!(push(&stack, blocks.remove(0)).is_err());
        drop(stack);
        assert_eq!(Arc::strong_count(&token), 1, "a block was kept");
    }

    #[test]
    fn dropping_an_unsealed_stack_drops_its_blocks() {
        let token = Arc::new(());
        let stack = BlockStack::new(4);
        for block in blocks(&token, 3) {
            assert!(push(&stack, block).is_ok());
        }
        drop(stack.pop());
        drop(stack);
        assert_eq!(Arc::strong_count(&token), 1, "a block was leaked");
    }

    #[test]
    fn sealing_from_another_thread_races_pushes_and_pops_without_losing_a_block() {
        let token = Arc::new(());
        let blocks = blocks(&token, 8);
        let stack = Arc::new(BlockStack::new(4));
        let owner = {
            let stack = stack.clone();
            std::thread::spawn(move || {
                let mut held = blocks;
                let mut freed = 0;
                for round in 0..40 {
                    if round % 3 == 2 {
                        held.extend(stack.pop());
                    } else if let Some(block) = held.pop() {
                        if let Err(block) = push(&stack, block) {
                            freed += 1;
                            drop(block);
                        }
                    }
                }
                (held.len(), freed)
            })
        };
        let sealed = stack.seal();
        let (held, freed) = owner.join().unwrap();
        assert_eq!(sealed.len() + held + freed, 8);
        drop(sealed);
        drop(stack);
        assert_eq!(Arc::strong_count(&token), 1, "a block was lost or kept");
    }
}
