//! Turns for the saves of one browser document: a save that starts while another of the same buffer
//! runs waits for it to end, as the native buffer's saves wait on its save lock. The browser's saves
//! are futures on one thread, so this is a queue of wakers, not a lock between threads.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::task::{Poll, Waker};

/// Whose turn it is to save: at most one [`Turn`] of a `Turns` lives at a time.
#[derive(Debug, Default)]
pub(crate) struct Turns {
    taken: Cell<bool>,
    /// The wakers of the saves waiting, oldest first.
    waiting: RefCell<Vec<Waker>>,
}

/// A save's turn; the next save may start once it is dropped, however the save ended.
#[derive(Debug)]
pub(crate) struct Turn<'a>(&'a Turns);

impl Turns {
    /// Waits until no other save holds a turn, then takes it.
    pub(crate) async fn take(&self) -> Turn<'_> {
        poll_fn(|cx| {
            if self.taken.replace(true) {
                self.waiting.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(Turn(self))
            }
        })
        .await
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.taken.set(false);
        // Every waiter is woken, oldest first, and the first one polled takes the turn while the
        // others wait again: a waiter whose future was dropped meanwhile can swallow no wake-up.
        let waiting = std::mem::take(&mut *self.0.waiting.borrow_mut());
        waiting.into_iter().for_each(Waker::wake);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::Context;

    #[test]
    fn a_second_turn_waits_for_the_first_and_a_dropped_waiter_holds_nobody_up() {
        let turns = Turns::default();
        let mut cx = Context::from_waker(Waker::noop());
        let first = turns.take();
        let Poll::Ready(first) = pin!(first).poll(&mut cx) else { panic!("nobody holds a turn") };
        {
            let mut dropped = Box::pin(turns.take());
            assert!(dropped.as_mut().poll(&mut cx).is_pending());
        }
        let mut second = pin!(turns.take());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        drop(first);
        let Poll::Ready(second) = second.as_mut().poll(&mut cx) else { panic!("the first turn ended") };
        assert!(pin!(turns.take()).poll(&mut cx).is_pending());
        drop(second);
        assert!(pin!(turns.take()).poll(&mut cx).is_ready());
    }
}
