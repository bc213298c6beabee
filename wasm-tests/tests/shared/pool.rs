//! The buffer pool on wasm32, where a page's main thread cannot block: fail-fast acquisition, reuse of
//! released memory, and the budget returning when the last frozen view drops.

use omnibuf::{BufferPool, PoolError};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn try_acquire_freeze_and_release() {
    let pool = BufferPool::builder().classes([4096]).budget(8192).build().unwrap();
    let mut a = pool.try_acquire(100).unwrap();
    a.extend_from_slice(b"pooled on wasm");
    let b = pool.try_acquire(4096).unwrap();
    assert!(matches!(pool.try_acquire(1), Err(PoolError::WouldBlock { .. })), "the budget is full");

    let frozen = a.freeze();
    let view = frozen.slice(0..6);
    drop(frozen);
    assert_eq!(view, *"pooled");
    assert_eq!(pool.snapshot().in_use_bytes, 8192, "a live view keeps its block out");
    drop((view, b));
    assert_eq!(pool.snapshot().in_use_bytes, 0);
    assert!(pool.try_acquire(4096).is_ok(), "released memory is available again");
}

#[wasm_bindgen_test]
fn acquire_async_waits_without_blocking_and_is_granted_on_release() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    let pool = BufferPool::builder().classes([4096]).budget(4096).build().unwrap();
    let held = pool.try_acquire(1).unwrap();
    let mut pending = Box::pin(pool.acquire_async(1));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(pending.as_mut().poll(&mut cx).is_pending(), "the budget is full: the future waits");
    assert_eq!(pool.snapshot().waiting, 1);
    drop(held);
    match pending.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(buf)) => assert_eq!(buf.capacity(), 4096),
        other => {
            panic!("expected a buffer once the budget freed up, got {:?}", other.map(|r| r.map(|b| b.len())))
        }
    }
    assert_eq!(pool.snapshot().waiting, 0);
}
