//! Errors of the ring.

use crate::platform::ring_memory::RingMemoryError;

/// What went wrong with a ring.
///
/// ```
/// use omnibuf::ring::{nonblocking::Circular, RingError};
///
/// let mut writer = Circular::with_capacity::<u8>(64).unwrap();
/// let free = writer.slice().len();
/// assert!(matches!(writer.try_produce(free + 1), Err(RingError::ProduceTooMuch { .. })));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum RingError {
    /// The memory could not be had (zero capacity, zero-sized items, too large, mapping refused).
    #[error(transparent)]
    Memory(#[from] RingMemoryError),
    /// `produce(n)` with more items than there are free slots (a writer's slice may show fewer).
    #[error("cannot produce {requested} items: only {free} slots are free")]
    ProduceTooMuch {
        /// Items to produce.
        requested: usize,
        /// Free slots.
        free: usize,
    },
    /// `consume(n)` with more items than the reader has available.
    #[error("cannot consume {requested} items: only {available} are available")]
    ConsumeTooMuch {
        /// Items to consume.
        requested: usize,
        /// Items available.
        available: usize,
    },
    /// `produce(n)` after the writer was closed (the async writer's `close()`, or an `AsyncWrite`
    /// shutdown): the readers were told the stream ended.
    #[error("cannot produce {requested} items: the writer was closed")]
    Closed {
        /// Items to produce.
        requested: usize,
    },
    /// `produce_with_tags(n, tags)` with a tag at an offset that is not among the `n` items.
    #[error("cannot attach a tag at offset {offset}: only {produced} items are produced")]
    TagOutsideProduced {
        /// The tag's offset from the first item produced.
        offset: usize,
        /// Items produced.
        produced: usize,
    },
}

/// Why the non-blocking [`Reader::pop`](super::nonblocking::Reader::pop) returned no item.
///
/// ```
/// use omnibuf::ring::{nonblocking::Circular, PopError};
///
/// let mut writer = Circular::with_capacity::<u8>(16).unwrap();
/// let mut reader = writer.add_reader();
/// assert_eq!(reader.pop(), Err(PopError::Empty)); // nothing yet: try again later
/// writer.push(1).unwrap();
/// drop(writer);
/// assert_eq!(reader.pop(), Ok(1)); // what is left...
/// assert_eq!(reader.pop(), Err(PopError::Finished)); // ...then the end
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PopError {
    /// Nothing is published that this reader has not consumed; the writer may still produce more.
    #[error("the ring has no item for this reader yet")]
    Empty,
    /// The writer is gone and this reader has consumed everything it wrote.
    #[error("the writer is gone and every item was consumed")]
    Finished,
}
