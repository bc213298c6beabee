//! The async flavour: `slice().await` waits for room or data without blocking a thread. The futures
//! work with any executor (no runtime is assumed). Byte rings are `futures-io` `AsyncWrite`,
//! `AsyncRead` and `AsyncBufRead`, and with the `tokio` feature tokio's traits of the same names.
//! Every reader is also a `futures` [`Stream`](futures_core::Stream) of owned copies of its slices.
//!
//! Only tokio's traits take from a tokio task's cooperative budget: each of their reads or writes that
//! is ready takes a unit, as tokio's own I/O types do, so the task yields once the budget is spent.
//! The futures, the `futures-io` traits and the `Stream` know no runtime: a loop over a ring that is
//! always ready (a writer without readers, a reader with bytes to spare) runs on without yielding
//! through them, as through any `futures-io` type that is always ready, and a `tokio::time::timeout`
//! around such a loop on a current-thread runtime never fires. Under tokio, use tokio's traits, or
//! yield in the loop. Outside a tokio runtime there is no budget, and tokio's traits never yield for it.
//!
//! ```
//! use omnibuf::ring::asynchronous::Circular;
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     struct Unpark(std::thread::Thread);
//! #     impl std::task::Wake for Unpark { fn wake(self: std::sync::Arc<Self>) { self.0.unpark() } }
//! #     let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
//! #     let mut f = std::pin::pin!(f);
//! #     loop {
//! #         if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut std::task::Context::from_waker(&waker)) { return v }
//! #         std::thread::park();
//! #     }
//! # }
//!
//! let mut writer = Circular::with_capacity::<u32>(1024).unwrap();
//! let mut reader = writer.add_reader();
//! let consumer = std::thread::spawn(move || block_on(async move {
//!     let mut sum = 0u64;
//!     while let Some(items) = reader.slice().await {
//!         sum += items.iter().map(|&x| x as u64).sum::<u64>();
//!         let n = items.len();
//!         reader.consume(n);
//!     }
//!     sum
//! }));
//! block_on(async {
//!     for i in 0..10_000u32 {
//!         writer.slice().await[0] = i;
//!         writer.produce(1);
//!     }
//! });
//! drop(writer);
//! assert_eq!(consumer.join().unwrap(), 49_995_000);
//! ```
//!
//! Through the byte traits a write copies what fits and waits only while the ring is full, a read
//! copies what is published and waits only while there is nothing, and `poll_fill_buf` hands out the
//! ring's own memory, so `AsyncBufRead` users read without a copy. Closing the writer (futures'
//! `AsyncWriteExt::close` or tokio's `shutdown`, both [`Writer::close`]) or dropping it ends the
//! stream for the readers; how a stream ends through the traits is in the module docs of
//! [`ring`](super).
#![cfg_attr(
    feature = "tokio",
    doc = r#"
With tokio:

```
# #[tokio::main(flavor = "current_thread")]
# async fn main() {
use omnibuf::ring::asynchronous::Circular;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
let reader = writer.add_reader();
let consumer = tokio::spawn(async move {
    let mut lines = reader.lines();
    let mut seen = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        seen.push(line);
    }
    seen
});
writer.write_all(b"one\ntwo\n").await.unwrap();
writer.shutdown().await.unwrap(); // the end of the stream, as dropping the writer would be
assert_eq!(consumer.await.unwrap(), ["one", "two"]);
# }
```
"#
)]

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[cfg(any(all(test, not(loom)), all(target_arch = "wasm32", target_feature = "atomics")))]
use super::core::Orphan;
use super::core::Pollers;

super::flavour::flavour!(Waiters, asynchronous, "try_slice");

impl<T: Item, G> Writer<T, G> {
    /// Free slots as one slice, once there is at least one. It may be shorter than all that is free
    /// (see the module docs of [`ring`](crate::ring)). Empty at once after [`close`](Self::close).
    ///
    /// ```
    /// use omnibuf::ring::asynchronous::Circular;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl std::task::Wake for Unpark { fn wake(self: std::sync::Arc<Self>) { self.0.unpark() } }
    /// #     let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         let cx = &mut std::task::Context::from_waker(&waker);
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v }
    /// #         std::thread::park();
    /// #     }
    /// # }
    ///
    /// let mut writer = Circular::with_capacity::<u8>(64).unwrap();
    /// let mut reader = writer.add_reader();
    /// writer.produce(writer.capacity()); // full
    /// let consumer = std::thread::spawn(move || {
    ///     reader.consume(10);
    ///     reader
    /// });
    /// block_on(async {
    ///     assert_eq!(writer.slice().await.len(), 10); // waited for the reader to make room
    /// });
    /// consumer.join().unwrap();
    /// ```
    pub async fn slice(&mut self) -> &mut [T] {
        poll_fn(|cx| self.poll_room(cx, Pollers::Each)).await;
        self.try_slice()
    }

    /// Ends the stream for the readers now, as dropping the writer would: they read what was
    /// produced and then see the end (`None`, or `Ok(0)` from `AsyncRead`). The writer stays, but
    /// takes nothing more: [`slice`](Self::slice) is empty, [`try_produce`](Self::try_produce) of
    /// one item or more is an error and an `AsyncWrite` write fails with `BrokenPipe`. Shutting an
    /// `AsyncWrite` down (`poll_close`, tokio's `poll_shutdown`) closes it. (This method of the
    /// writer's own is what `writer.close()` calls even where `futures::AsyncWriteExt` is in scope:
    /// its `close()` future is `AsyncWriteExt::close(&mut writer)`.)
    ///
    /// ```
    /// use omnibuf::ring::asynchronous::Circular;
    ///
    /// let mut writer = Circular::with_capacity::<u8>(16).unwrap();
    /// let mut reader = writer.add_reader();
    /// assert_eq!(writer.push_slice(b"last"), 4);
    /// writer.close();
    /// assert_eq!(reader.try_slice(), Some(&b"last"[..]));
    /// reader.consume(4);
    /// assert_eq!(reader.try_slice(), None); // the end, while the writer still exists
    /// assert!(writer.try_slice().is_empty());
    /// assert!(writer.try_produce(1).is_err());
    /// ```
    pub fn close(&mut self) {
        self.core.close();
    }

    /// Stops waking `waker` for room: for a task that gave up waiting (its `slice()` future was
    /// dropped while pending, or the wait was cancelled) so that the ring does not keep its waker,
    /// and whatever that holds, until the next change. A wake-up already under way may still reach
    /// it. The `AsyncWrite` traits need none of this: a write polled by another task replaces the
    /// waker of the one before (only the latest poll's task is woken, as tokio's I/O types do).
    ///
    /// ```
    /// use std::future::Future;
    /// use std::sync::Arc;
    /// use std::task::{Context, Wake, Waker};
    /// use omnibuf::ring::asynchronous::Circular;
    ///
    /// struct Nothing;
    /// impl Wake for Nothing { fn wake(self: Arc<Self>) {} }
    /// let task = Arc::new(Nothing);
    /// let waker = Waker::from(task.clone());
    ///
    /// let mut writer = Circular::with_capacity::<u8>(16).unwrap();
    /// let _reader = writer.add_reader();
    /// writer.produce(writer.capacity()); // full: a slice() waits
    /// let mut wait = Box::pin(writer.slice());
    /// assert!(wait.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    /// drop(wait);
    /// assert_eq!(Arc::strong_count(&task), 3); // ours, `waker`, and the ring's
    /// writer.forget_waker(&waker);
    /// assert_eq!(Arc::strong_count(&task), 2);
    /// ```
    pub fn forget_waker(&self, waker: &Waker) {
        self.core.forget_room_waker(waker);
    }

    /// What another thread can do for this writer should its thread stop for good without dropping
    /// it (a browser worker that was terminated).
    #[cfg(any(all(test, not(loom)), all(target_arch = "wasm32", target_feature = "atomics")))]
    pub(crate) fn orphan(&self) -> Orphan<T, G> {
        self.core.orphan()
    }

    /// Free slots as one slice, at once, without waiting: empty when the slowest reader is a full
    /// ring behind.
    ///
    /// ```
    /// use omnibuf::ring::asynchronous::Circular;
    ///
    /// let mut writer = Circular::new::<u8>().unwrap();
    /// let cap = writer.capacity();
    /// let _reader = writer.add_reader();
    /// writer.produce(cap);
    /// assert!(writer.try_slice().is_empty()); // full: `slice().await` would wait
    /// ```
    #[inline]
    pub fn try_slice(&mut self) -> &mut [T] {
        if self.core.is_closed() {
            return &mut [];
        }
        self.core.slice()
    }

    /// Ready once there is room, or at once after [`close`](Self::close) (which gives no room).
    /// `slice()` wakes every task that waits ([`Pollers::Each`]): the bindings poll one side for
    /// many pending operations, each with its own task.
    fn poll_room(&mut self, cx: &mut Context<'_>, pollers: Pollers) -> Poll<()> {
        self.core.poll_room(cx, pollers, |core| core.is_closed() || core.free() > 0)
    }
}

impl<T: Item, G> Reader<T, G> {
    /// Items not yet consumed, as one slice, once there is at least one: all that were published by
    /// then. `None` once the writer is gone and everything it wrote was consumed.
    ///
    /// ```
    /// use omnibuf::ring::asynchronous::Circular;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl std::task::Wake for Unpark { fn wake(self: std::sync::Arc<Self>) { self.0.unpark() } }
    /// #     let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         let cx = &mut std::task::Context::from_waker(&waker);
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v }
    /// #         std::thread::park();
    /// #     }
    /// # }
    ///
    /// let mut writer = Circular::with_capacity::<u32>(64).unwrap();
    /// let mut reader = writer.add_reader();
    /// let producer = std::thread::spawn(move || writer.push_slice(&[1, 2, 3]));
    /// block_on(async {
    ///     assert_eq!(reader.slice().await, Some(&[1, 2, 3][..])); // waited for them
    ///     reader.consume(3);
    ///     producer.join().unwrap(); // the writer is gone with its thread
    ///     assert_eq!(reader.slice().await, None);
    /// });
    /// ```
    pub async fn slice(&mut self) -> Option<&[T]> {
        poll_fn(|cx| self.poll_data(cx, Pollers::Each)).await;
        self.core.slice_latest()
    }

    /// Like [`slice`](Self::slice), with the tags attached to its items (see
    /// [`Writer::produce_with_tags`]). A tag comes again with every slice until its item is consumed.
    ///
    /// ```
    /// use omnibuf::ring::{asynchronous::Circular, RingOptions};
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl std::task::Wake for Unpark { fn wake(self: std::sync::Arc<Self>) { self.0.unpark() } }
    /// #     let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         let cx = &mut std::task::Context::from_waker(&waker);
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v }
    /// #         std::thread::park();
    /// #     }
    /// # }
    ///
    /// let mut writer = Circular::with_tags::<u8, &str>(64, &RingOptions::default()).unwrap();
    /// let mut reader = writer.add_reader();
    /// writer.try_slice()[..2].copy_from_slice(b"ab");
    /// writer.produce_with_tags(2, &[(1, "b")]);
    /// reader.consume(1);
    /// let (items, tags) = block_on(reader.slice_with_tags()).unwrap();
    /// assert_eq!(items, b"b");
    /// assert_eq!(tags.get(0), Some((0, &"b"))); // offsets count from the slice's start
    /// ```
    pub async fn slice_with_tags(&mut self) -> Option<(&[T], Tags<'_, G>)> {
        poll_fn(|cx| self.poll_data(cx, Pollers::Each)).await;
        self.core.slice_with_tags_latest()
    }

    /// Items not yet consumed, as one slice, at once, without waiting: all that were published, empty
    /// when there are none yet, `None` once the writer is gone and everything it wrote was consumed.
    ///
    /// ```
    /// use omnibuf::ring::asynchronous::Circular;
    ///
    /// let mut writer = Circular::new::<u8>().unwrap();
    /// let mut reader = writer.add_reader();
    /// assert_eq!(reader.try_slice(), Some(&[][..])); // nothing yet: `slice().await` would wait
    /// writer.try_slice()[..2].copy_from_slice(b"ab");
    /// writer.try_produce(2).unwrap();
    /// assert_eq!(reader.try_slice(), Some(&b"ab"[..]));
    /// writer.try_slice()[..1].copy_from_slice(b"c");
    /// writer.try_produce(1).unwrap();
    /// assert_eq!(reader.try_slice(), Some(&b"abc"[..])); // what was published since the last look too
    /// drop(writer);
    /// reader.try_consume(3).unwrap();
    /// assert_eq!(reader.try_slice(), None);
    /// ```
    #[inline]
    pub fn try_slice(&mut self) -> Option<&[T]> {
        self.core.slice_latest()
    }

    /// Ready once there is data or the end; `pollers` as for the writer's `poll_room`.
    fn poll_data(&mut self, cx: &mut Context<'_>, pollers: Pollers) -> Poll<()> {
        self.core.poll_data(cx, pollers, |core| core.available() > 0 || core.finished())
    }

    /// Stops waking `waker` for data: for a task that gave up waiting (its `slice()` future was
    /// dropped while pending, or the wait was cancelled) so that the ring does not keep its waker
    /// until the next change (see [`Writer::forget_waker`]). The `AsyncRead`/`AsyncBufRead` traits
    /// and the `Stream` need none of this: a poll by another task replaces the waker of the one
    /// before.
    ///
    /// ```
    /// use std::future::Future;
    /// use std::sync::Arc;
    /// use std::task::{Context, Wake, Waker};
    /// use omnibuf::ring::asynchronous::Circular;
    ///
    /// struct Nothing;
    /// impl Wake for Nothing { fn wake(self: Arc<Self>) {} }
    /// let task = Arc::new(Nothing);
    /// let waker = Waker::from(task.clone());
    ///
    /// let mut writer = Circular::with_capacity::<u8>(16).unwrap();
    /// let mut reader = writer.add_reader();
    /// assert!(Box::pin(reader.slice()).as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    /// reader.forget_waker(&waker);
    /// assert_eq!(Arc::strong_count(&task), 2); // ours and `waker`: the ring let go of its clone
    /// ```
    pub fn forget_waker(&self, waker: &Waker) {
        self.core.forget_data_waker(waker);
    }

    /// What another thread can do for this reader should its thread stop for good without dropping
    /// it (a browser worker that was terminated).
    #[cfg(any(all(test, not(loom)), all(target_arch = "wasm32", target_feature = "atomics")))]
    pub(crate) fn orphan(&self) -> Orphan<T, G> {
        self.core.orphan()
    }
}

/// A copy of each slice, consumed as it is handed out, so that items outlive the reader's borrow: a
/// `Stream` cannot lend its items, and a loop that can work on the slice in place should use
/// [`slice`](Reader::slice) instead, which copies nothing. A copy holds at most one slice, so at most
/// the ring's capacity. The stream ends (`None`) when the writer is gone or closed and everything was
/// read; an item type of `Vec<T>` has no room for an error, so after `None`,
/// [`abort_reason`](Reader::abort_reason) tells whether the writer aborted. Tags (if any) are dropped
/// with their items.
///
/// ```
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use futures_core::Stream;
/// use omnibuf::ring::asynchronous::Circular;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     struct Unpark(std::thread::Thread);
/// #     impl std::task::Wake for Unpark { fn wake(self: std::sync::Arc<Self>) { self.0.unpark() } }
/// #     let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
/// #     let mut f = std::pin::pin!(f);
/// #     loop {
/// #         let cx = &mut std::task::Context::from_waker(&waker);
/// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v }
/// #         std::thread::park();
/// #     }
/// # }
///
/// let mut writer = Circular::with_capacity::<u32>(64).unwrap();
/// let mut reader = writer.add_reader();
/// let producer = std::thread::spawn(move || writer.push_slice(&[1, 2, 3])); // then dropped
/// let mut sum = 0;
/// block_on(async {
///     // With `futures::StreamExt`: `while let Some(items) = reader.next().await`.
///     while let Some(items) = poll_fn(|cx| Pin::new(&mut reader).poll_next(cx)).await {
///         sum += items.iter().sum::<u32>(); // a Vec<u32> of its own
///     }
/// });
/// producer.join().unwrap();
/// assert_eq!(sum, 6);
/// ```
impl<T: Item, G: Unpin> futures_core::Stream for Reader<T, G> {
    type Item = Vec<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Vec<T>>> {
        let this = self.get_mut();
        if this.poll_data(cx, Pollers::Latest).is_pending() {
            return Poll::Pending;
        }
        let Some(items) = this.core.slice() else {
            return Poll::Ready(None);
        };
        let copy = items.to_vec();
        this.consume(copy.len());
        Poll::Ready(Some(copy))
    }

    /// `(0, Some(0))` once the stream is over (see [`FusedStream`](futures_core::FusedStream)), else
    /// nothing known: how many slices the bytes to come make depends on how they are produced.
    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.core.drained() {
            (0, Some(0))
        } else {
            (0, None)
        }
    }
}

/// The stream is over once the writer is gone and everything was read (so `futures::select!` stops
/// polling it then).
impl<T: Item, G: Unpin> futures_core::FusedStream for Reader<T, G> {
    fn is_terminated(&self) -> bool {
        self.core.drained()
    }
}

#[cfg(feature = "tokio")]
mod tokio_io;

impl Writer<u8> {
    /// Copies as much of `buf` as fits once there is room: the write of both `AsyncWrite` traits.
    fn poll_write_bytes(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.core.is_closed() {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, "the ring writer was closed")));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if self.poll_room(cx, Pollers::Latest).is_pending() {
            return Poll::Pending;
        }
        Poll::Ready(Ok(self.core.write_from(buf)))
    }
}

impl Reader<u8> {
    /// The published bytes once there are some, empty at the end of the stream (an error when the
    /// writer aborted): the buffer of both `AsyncBufRead` traits and the source of both `AsyncRead`
    /// traits.
    fn poll_bytes(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        if self.poll_data(cx, Pollers::Latest).is_pending() {
            return Poll::Pending;
        }
        if self.core.finished() {
            super::io::end_of_stream(self.abort_reason())?;
        }
        Poll::Ready(Ok(self.core.slice().unwrap_or(&[])))
    }
}

impl futures_io::AsyncWrite for Writer<u8> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_bytes(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // every write is published at once
    }

    /// Closes the writer ([`Writer::close`]): the readers read what was written, then the end.
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().close();
        Poll::Ready(Ok(()))
    }
}

impl futures_io::AsyncRead for Reader<u8> {
    /// `Ok(0)` at the end of the stream.
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let data = match this.poll_bytes(cx) {
            Poll::Ready(data) => data?,
            Poll::Pending => return Poll::Pending,
        };
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        this.consume(n);
        Poll::Ready(Ok(n))
    }
}

impl futures_io::AsyncBufRead for Reader<u8> {
    /// The ring's own memory, without a copy; empty at the end of the stream.
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_mut().poll_bytes(cx)
    }

    /// Past what the last `fill_buf` showed, all of that: see `consume_at_most`.
    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().consume_at_most(amt);
    }
}
