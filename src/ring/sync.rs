//! The blocking flavour: the writer's `slice()` waits for room, a reader's `slice()` waits for data.
//!
//! ```
//! use omnibuf::ring::sync::Circular;
//!
//! let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
//! let mut reader = writer.add_reader();
//! let consumer = std::thread::spawn(move || {
//!     let mut sum = 0u64;
//!     while let Some(items) = reader.slice() {
//!         sum += items.iter().map(|&b| b as u64).sum::<u64>();
//!         let n = items.len();
//!         reader.consume(n);
//!     }
//!     sum
//! });
//! for _ in 0..100 {
//!     let room = writer.slice(); // waits while the reader is a full ring behind
//!     let n = room.len().min(1000);
//!     room[..n].fill(1);
//!     writer.produce(n);
//! }
//! drop(writer); // the reader drains what is left, then sees the end
//! assert!(consumer.join().unwrap() >= 100);
//! ```

use super::core::{ReaderCore, Ring, Waking, WriterCore};
use super::{Item, RingBackend, RingError, RingOptions};

/// Builds the writer of a blocking ring.
pub struct Circular;

impl Circular {
    /// A ring of at least `min_items` items (rounded up, see [`Writer::capacity`]).
    pub fn with_capacity<T: Item>(min_items: usize) -> Result<Writer<T>, RingError> {
        Self::with_options(min_items, &RingOptions::default())
    }

    /// Like [`with_capacity`](Self::with_capacity), with a backend and mapping options.
    pub fn with_options<T: Item>(min_items: usize, options: &RingOptions) -> Result<Writer<T>, RingError> {
        Ok(Writer { core: WriterCore::new(Ring::new(min_items, options)?, Waking::Sleepers) })
    }
}

/// The one writer of a blocking ring.
pub struct Writer<T: Item> {
    core: WriterCore<T>,
}

impl<T: Item> Writer<T> {
    /// A new reader, which sees what is produced from now on.
    pub fn add_reader(&mut self) -> Reader<T> {
        Reader { core: self.core.add_reader() }
    }

    /// Free slots as one slice, waiting until there is at least one. It may be shorter than all that
    /// is free (see the module docs of [`ring`](crate::ring)).
    pub fn slice(&mut self) -> &mut [T] {
        let ring = self.core.ring().clone();
        ring.room.wait_until(|| self.core.free() > 0);
        self.core.slice()
    }

    /// Publishes the first `n` items of [`slice`](Self::slice) to the readers.
    ///
    /// # Panics
    /// When `n` is more than the free slots; [`try_produce`](Self::try_produce) returns an error.
    #[track_caller]
    pub fn produce(&mut self, n: usize) {
        if let Err(e) = self.core.produce(n) {
            panic!("Writer::produce: {e}");
        }
    }

    /// Like [`produce`](Self::produce), but returns an error instead of panicking.
    pub fn try_produce(&mut self, n: usize) -> Result<(), RingError> {
        self.core.produce(n)
    }

    /// The capacity in items, after rounding to whole items and pages.
    pub fn capacity(&self) -> usize {
        self.core.capacity()
    }

    /// The memory under the ring.
    pub fn backend(&self) -> RingBackend {
        self.core.backend()
    }
}

/// One reader of a blocking ring.
pub struct Reader<T: Item> {
    core: ReaderCore<T>,
}

impl<T: Item> Reader<T> {
    /// Items not yet consumed, as one slice, waiting until there is at least one; `None` once the
    /// writer is gone and everything it wrote was consumed. It may hold fewer than all that is
    /// published (see the module docs of [`ring`](crate::ring)).
    pub fn slice(&mut self) -> Option<&[T]> {
        let ring = self.core.ring().clone();
        ring.data.wait_until(|| self.core.available() > 0 || self.core.finished());
        self.core.slice()
    }

    /// Marks the first `n` items of [`slice`](Self::slice) as read.
    ///
    /// # Panics
    /// When `n` is more than is available; [`try_consume`](Self::try_consume) returns an error.
    #[track_caller]
    pub fn consume(&mut self, n: usize) {
        if let Err(e) = self.core.consume(n) {
            panic!("Reader::consume: {e}");
        }
    }

    /// Like [`consume`](Self::consume), but returns an error instead of panicking.
    pub fn try_consume(&mut self, n: usize) -> Result<(), RingError> {
        self.core.consume(n)
    }
}
