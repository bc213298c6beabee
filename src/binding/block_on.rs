//! A blocking wait for the bindings' `sliceSync()`: the one way both adapters (the addon in a worker
//! thread, the threaded wasm build in a dedicated worker) run a ring's future to its end on the
//! calling thread.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::platform::time::Instant;

/// Runs `future` on this thread until it is ready, parking the thread in between, or until `deadline`
/// passes (`None` then; no deadline: wait as long as it takes). Whoever makes the future ready wakes
/// it from any thread, which unparks this one. Only for threads that may block (never a browser's
/// main thread or an event loop).
///
/// ```
/// use omnibuf::binding::block_on;
///
/// assert_eq!(block_on(async { 7 }, None), Some(7));
/// ```
pub fn block_on<F: Future>(future: F, deadline: Option<Instant>) -> Option<F::Output> {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        match deadline {
            None => std::thread::park(),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return None;
                }
                std::thread::park_timeout(deadline - now);
            }
        }
    }
}
