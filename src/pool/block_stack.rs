//! [`BlockStack`]: one thread's idle blocks of one class.
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
//! The pool keeps blocks here in their idle form (`shared::IdleBlock`), a single word, so pushes and
//! pops move them by value: a wider block would be copied through temporaries, whose narrow stores
//! read back by wide loads stall the fast path (store-to-load forwarding).

use std::mem::MaybeUninit;

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

    /// Takes the top block, if there is one.
    ///
    /// # Safety
    /// The caller has the stack to itself for the call (see the module docs).
    #[inline(always)]
    pub(crate) unsafe fn pop(&self) -> Option<T> {
        let n = self.len.load(Relaxed);
        if n == 0 {
            return None;
        }
        self.len.store(n - 1, Relaxed);
        // SAFETY: `len` never exceeds the slots (`push` checks), so `n - 1` is in bounds.
        let slot = unsafe { self.slots.get_unchecked(n - 1) };
        // SAFETY: slot `n - 1` was below `len`, so it holds a block, which moves out (the slot counts
        // as empty from now on); the caller has the stack to itself.
        Some(slot.with_mut(|slot| unsafe { (*slot).assume_init_read() }))
    }

    /// Puts `block` on the stack if it has room; gives it back otherwise.
    ///
    /// # Safety
    /// The caller has the stack to itself for the call (see the module docs).
    #[inline(always)]
    pub(crate) unsafe fn push(&self, block: T) -> Result<(), T> {
        let n = self.len.load(Relaxed);
        if n >= self.slots.len() {
            return Err(block);
        }
        // SAFETY: slot `n` is at `len`, so it is empty; the caller has the stack to itself.
        self.slots[n].with_mut(|slot| unsafe { (*slot).write(block) });
        self.len.store(n + 1, Relaxed);
        Ok(())
    }

    /// Takes every block out, into `out`.
    ///
    /// # Safety
    /// The caller has the stack to itself for the call (see the module docs).
    pub(crate) unsafe fn drain_into(&self, out: &mut Vec<T>) {
        // SAFETY: forwarded from the caller.
        while let Some(block) = unsafe { self.pop() } {
            out.push(block);
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

    fn push<T>(stack: &BlockStack<T>, block: T) -> Result<(), T> {
        // SAFETY: this test has the stack to itself.
        unsafe { stack.push(block) }
    }

    fn pop<T>(stack: &BlockStack<T>) -> Option<T> {
        // SAFETY: this test has the stack to itself.
        unsafe { stack.pop() }
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
