//! [`BlockStack`]: one thread's idle blocks of one class, moved in and out in place.
//!
//! A leaf of the pool's modules: the stack is generic over what it holds (the pool keeps its
//! `shared::Block`s in it), so it imports nothing of the pool, and the pool's types that hold
//! stacks can refer to blocks without a circle between files.
//!
//! The stack does no synchronisation of its own: whoever calls its `unsafe` methods must have it to
//! itself for the call (the thread slot's protocol, `thread_slot.rs`, says who does when: the owning
//! thread inside its step, or the one taker holding the slot). Its length is an atomic only so that
//! a snapshot may read it at any moment; the holder updates it with a plain load and store.
//!
//! Blocks are moved in and out *in place*: popped straight into the caller's slot and pushed from
//! where the caller holds them, never through an `Option` or a return value. The pool's fast path
//! would otherwise copy a block through several temporaries, and those copies (narrow stores read
//! back by wide loads, a store-to-load forwarding stall) cost more than the rest of the path.

use std::mem::{ManuallyDrop, MaybeUninit};
use std::ptr;

use crate::sync::{AtomicUsize, Ordering::Relaxed, UnsafeCell};

pub(crate) struct BlockStack<T> {
    /// Slots `0..len` hold blocks.
    len: AtomicUsize,
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

impl<T> BlockStack<T> {
    /// An empty stack of at most `capacity` blocks.
    pub(crate) fn new(capacity: usize) -> BlockStack<T> {
        BlockStack {
            len: AtomicUsize::new(0),
            slots: (0..capacity).map(|_| UnsafeCell::new(MaybeUninit::uninit())).collect(),
        }
    }

    /// Blocks in the stack (a momentary reading, from any thread).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// Moves the top block into `out`, if there is one: whether it did.
    ///
    /// # Safety
    /// The caller has the stack to itself for the call (see the module docs).
    #[inline(always)]
    pub(crate) unsafe fn pop_into(&self, out: &mut MaybeUninit<T>) -> bool {
        let n = self.len.load(Relaxed);
        if n == 0 {
            return false;
        }
        self.len.store(n - 1, Relaxed);
        // SAFETY: `len` never exceeds the slots (`push_from` checks), so `n - 1` is in bounds.
        let slot = unsafe { self.slots.get_unchecked(n - 1) };
        // SAFETY: slot `n - 1` is below `len`, so it holds a block, whose bits move to `out` (the
        // slot counts as empty from now on); the caller has the stack to itself.
        slot.with_mut(|slot| unsafe { ptr::copy_nonoverlapping((*slot).as_ptr(), out.as_mut_ptr(), 1) });
        true
    }

    /// Moves `*block` onto the stack if it has room (`true`); leaves it with the caller otherwise.
    ///
    /// # Safety
    /// The caller has the stack to itself for the call (see the module docs). On `true` the stack
    /// owns the block: the caller must neither use nor drop `*block` again.
    #[inline(always)]
    pub(crate) unsafe fn push_from(&self, block: &ManuallyDrop<T>) -> bool {
        let n = self.len.load(Relaxed);
        if n >= self.slots.len() {
            return false;
        }
        // SAFETY: slot `n` is at `len`, so it is empty; the caller has the stack to itself and gives
        // the block up on `true`.
        self.slots[n]
            .with_mut(|slot| unsafe { ptr::copy_nonoverlapping::<T>(&**block, (*slot).as_mut_ptr(), 1) });
        self.len.store(n + 1, Relaxed);
        true
    }

    /// Takes every block out, into `out`.
    ///
    /// # Safety
    /// The caller has the stack to itself for the call (see the module docs).
    pub(crate) unsafe fn drain_into(&self, out: &mut Vec<T>) {
        let mut block = MaybeUninit::uninit();
        // SAFETY: forwarded from the caller.
        while unsafe { self.pop_into(&mut block) } {
            // SAFETY: `pop_into` returned `true`, so it wrote a block to `block`; it is read once.
            out.push(unsafe { block.assume_init_read() });
        }
    }
}

impl<T> Drop for BlockStack<T> {
    fn drop(&mut self) {
        let mut blocks = Vec::new();
        // SAFETY: `&mut self`: no one else can reach the stack now.
        unsafe { self.drain_into(&mut blocks) };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// `push_from` with the block given back when refused.
    fn push<T>(stack: &BlockStack<T>, block: T) -> Result<(), T> {
        let block = ManuallyDrop::new(block);
        // SAFETY: this test has the stack to itself; on `true` the stack owns the block and `block`
        // is not used again; on `false` it is still the caller's, and is handed back.
        if unsafe { stack.push_from(&block) } {
            Ok(())
        } else {
            Err(ManuallyDrop::into_inner(block))
        }
    }

    fn pop<T>(stack: &BlockStack<T>) -> Option<T> {
        let mut out = MaybeUninit::uninit();
        // SAFETY: this test has the stack to itself; `true` means a block was written to `out`.
        unsafe { stack.pop_into(&mut out).then(|| out.assume_init()) }
    }

    #[test]
    fn pushes_and_pops_are_last_in_first_out_up_to_the_capacity() {
        let stack = BlockStack::new(2);
        assert!(pop(&stack).is_none());
        assert!(push(&stack, Box::new(0)).is_ok());
        assert!(push(&stack, Box::new(1)).is_ok());
        assert_eq!(*push(&stack, Box::new(2)).unwrap_err(), 2);
        assert_eq!(stack.len(), 2);
        assert_eq!(*pop(&stack).unwrap(), 1);
        assert_eq!(*pop(&stack).unwrap(), 0);
        assert!(pop(&stack).is_none());
    }

    #[test]
    fn draining_takes_every_block_and_dropping_drops_the_rest() {
        let token = Arc::new(());
        let stack = BlockStack::new(4);
        for _ in 0..3 {
            assert!(push(&stack, token.clone()).is_ok());
        }
        let mut out = Vec::new();
        // SAFETY: this test has the stack to itself.
        unsafe { stack.drain_into(&mut out) };
        assert_eq!((out.len(), stack.len()), (3, 0));
        drop(out);
        assert!(push(&stack, token.clone()).is_ok());
        drop(stack);
        assert_eq!(Arc::strong_count(&token), 1, "a block was leaked");
    }
}
