//! tokio's `AsyncWrite`, `AsyncRead` and `AsyncBufRead` for async byte rings (feature `tokio`): the
//! same behaviour as the `futures-io` implementations beside them, under the task's budget (see the
//! module docs of [`asynchronous`](super), which users read, and of [`ring`](crate::ring)).

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
            // Ready at once, data or not, and a unit of the budget all the same: a loop of them
            // yields as one of other reads does.
            return budgeted(cx, |_| Poll::Ready(Ok(())));
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
