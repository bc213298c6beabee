//! tokio's `AsyncWrite`, `AsyncRead` and `AsyncBufRead` for async byte rings (feature `tokio`).
//!
//! The same behaviour as the `futures-io` implementations beside them: a write copies what fits and
//! waits only while the ring is full; a read copies what is published and waits only while there is
//! nothing; `poll_fill_buf` hands out the ring's own memory, so `AsyncBufReadExt` users read without a
//! copy. The stream ends for the readers when the writer is shut down (`AsyncWriteExt::shutdown`,
//! which closes it: see [`Writer::close`]) or dropped; a write after the shutdown fails with
//! `BrokenPipe`.
//!
//! Each read, write or `poll_fill_buf` that is ready takes one unit of the task's budget
//! (`tokio::task::coop`), as tokio's own I/O types do: once the budget is spent it returns `Pending`
//! and the task yields, so a loop over a ring that is always ready (a writer without readers, a reader
//! at the end) still lets the other tasks of its thread run, and a `timeout` around it fires. Outside
//! a tokio runtime there is no budget and nothing changes.
//!
//! Unlike a pipe (`tokio::io::duplex`), the writer does not fail when its readers are gone: the ring
//! broadcasts to whoever reads now, and the writer may add a reader at any time
//! ([`Writer::add_reader`], which starts at the writer's position). With no readers a write never
//! waits and its bytes are not kept, so a producer that must stop when its consumer goes away needs
//! its own signal for it (a channel, or a cancellation token).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use omnibuf::ring::asynchronous::Circular;
//! use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
//!
//! let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
//! let reader = writer.add_reader();
//! let consumer = tokio::spawn(async move {
//!     let mut lines = reader.lines();
//!     let mut seen = Vec::new();
//!     while let Some(line) = lines.next_line().await.unwrap() {
//!         seen.push(line);
//!     }
//!     seen
//! });
//! writer.write_all(b"one\ntwo\n").await.unwrap();
//! writer.shutdown().await.unwrap(); // end of stream (as dropping the writer would be)
//! assert_eq!(consumer.await.unwrap(), ["one", "two"]);
//! # }
//! ```

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::coop;

use super::{Reader, Writer};

/// `poll` under the task's budget: `Pending` (the task woken to run again later) when the budget is
/// spent, else `poll`'s result, which takes a unit of the budget when it is ready.
fn budgeted<T>(cx: &mut Context<'_>, poll: impl FnOnce(&mut Context<'_>) -> Poll<T>) -> Poll<T> {
    let budget = ready!(coop::poll_proceed(cx));
    let result = poll(cx);
    if result.is_ready() {
        budget.made_progress();
    }
    result
}

impl AsyncWrite for Writer<u8> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        budgeted(cx, |cx| this.poll_write_bytes(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // every write is published at once
    }

    /// Closes the writer ([`Writer::close`]): the readers read what was written, then the end.
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().close();
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Reader<u8> {
    /// Reads nothing into `buf` at the end of the stream.
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let data = ready!(budgeted(cx, |cx| this.poll_bytes(cx)))?;
        let n = data.len().min(buf.remaining());
        buf.put_slice(&data[..n]);
        this.consume(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for Reader<u8> {
    /// The ring's own memory; empty at the end of the stream.
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        budgeted(cx, |cx| this.poll_bytes(cx))
    }

    /// Past what the last `fill_buf` showed, all of that: see `consume_at_most`.
    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().consume_at_most(amt);
    }
}
