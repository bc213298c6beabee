//! The circular ring: one writer, any number of readers, every slice contiguous, also across the wrap.
//!
//! The writer fills `writer.slice()` and calls `produce(n)`; each reader reads `reader.slice()` and
//! calls `consume(n)`. The writer waits for the slowest reader (with no readers it overwrites). Every
//! slice is one contiguous `&[T]`, because the memory under the ring is visible twice in a row: mapped
//! twice where the OS allows ([`RingBackend::DoubleMapped`]), or mirrored by the writer otherwise
//! ([`RingBackend::MirrorCopy`], always the case on wasm). A probe picks (see
//! [`double_mapping_available`]); [`RingOptions`] can ask for either.
//!
//! Both backends behave the same for every sequence of calls. On mirror-copy memory the writer copies
//! each slot it publishes to the other image; when it takes a new slice after publishing part of a
//! slice across the end, it also copies the unpublished rest of that slice back to the start (it may
//! hold items written but not produced yet): at most once per lap, and never for the byte streams'
//! writes, which take only the slots they fill.
//!
//! Flavours over one index protocol: [`sync`] (blocking), [`asynchronous`] (futures, any executor),
//! [`lockfree`] (spinning), [`nonblocking`] (returns at once) and [`generic`] (returns at once and
//! calls a [`Notifier`](generic::Notifier) of yours when waiting would have ended).
//!
//! Rings made `Circular::with_tags` carry per-item tags: the writer attaches values of a type of yours
//! to items (`produce_with_tags`), every reader gets them with those items (`slice_with_tags`, as
//! [`Tags`]), and each reader's copy is dropped once it has consumed past its item.
//!
//! Each side remembers the other's position from its last look and looks again only when that view
//! is used up: a slice may be shorter than what is free or published at this instant (call `slice()`
//! again after `produce`/`consume`), never longer, and never empty while there is anything. A write
//! that copies (`push_slice`, `io::Write`, `AsyncWrite`) looks again when the view has less room than
//! it brings, so it copies all that fits.
//!
//! For one item at a time the [`nonblocking`], [`sync`] and [`lockfree`] writers have `push(item)` and
//! their readers `pop()`: the same positions as the slices, looked at again only when the view shows no
//! room or nothing, so they mix freely with `slice`/`produce`/`consume`.
//!
//! Dropping the writer ends the stream: readers read what it published and then see the end. A writer
//! that fails says so instead with `abort(reason)` (a writer dropped while its thread panics does it
//! for itself): readers still read what was published, and then their `abort_reason()` gives the
//! reason.
//!
//! Byte rings speak `std::io`: the blocking writer is an `io::Write`, a blocking reader an `io::Read`
//! and `io::BufRead` (see [`sync`]).
//!
//! Async byte rings speak `futures-io` (`AsyncWrite`, `AsyncRead`, `AsyncBufRead`), and tokio's traits
//! of the same names with the `tokio` feature. Byte rings with tags (`with_tags`) do not: a byte
//! stream has nowhere to hand a tag on. A writer dropped ends the stream normally, a writer task
//! cancelled (tokio's `JoinHandle::abort`) too, since that drops its writer: a producer that may
//! stop half-way calls `abort` where it gives up, and a panic in its thread aborts for it.
//!
//! Through any of these io traits (`std::io`, `futures-io`, tokio's), a reader's read after an
//! `abort` fails with [`ConnectionAborted`](std::io::ErrorKind::ConnectionAborted) where it would
//! have seen the end, so `io::copy` and `read_to_end` report a stream cut short instead of taking it
//! for a whole one; a write after an async writer's `close` (futures' `AsyncWriteExt::close`, tokio's
//! `shutdown`) fails with [`BrokenPipe`](std::io::ErrorKind::BrokenPipe).
//!
//! Unlike a pipe (`std::io::pipe`, `tokio::io::duplex`), a writer does not fail once its readers are
//! gone: the ring broadcasts to whoever reads now, and a reader may be added at any time
//! (`add_reader`, which starts at the writer's position). With no readers a write never waits and its
//! bytes are not kept, so a producer that must stop when its consumer goes away needs a signal of its
//! own (a channel, a cancellation token).

pub mod asynchronous;
mod core;
mod error;
mod flavour;
pub mod generic;
mod io;
mod item;
pub mod lockfree;
pub mod nonblocking;
pub mod sync;
mod tags;

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub(crate) use self::core::Orphan;

#[cfg(all(test, not(loom)))]
mod backend_tests;
#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(not(target_arch = "wasm32"))]
pub use crate::platform::native::MapOptions;
pub use crate::platform::ring_memory::{
    double_mapping_available, RingBackend, RingMemoryError, RingMemoryOptions as RingOptions,
};
pub use error::{PopError, RingError};
pub use item::Item;
pub use tags::{NoTags, Tags, TagsIter};
