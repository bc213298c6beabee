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

super::flavour::flavour!(Sleepers);

impl<T: Item, G> Writer<T, G> {
    /// Free slots as one slice, waiting until there is at least one. It may be shorter than all that
    /// is free (see the module docs of [`ring`](crate::ring)).
    pub fn slice(&mut self) -> &mut [T] {
        if self.core.free() == 0 {
            let ring = self.core.ring().clone();
            ring.room.wait_until(|| self.core.free() > 0);
        }
        self.core.slice()
    }
}

impl<T: Item, G> Reader<T, G> {
    /// Items not yet consumed, as one slice, waiting until there is at least one; `None` once the
    /// writer is gone and everything it wrote was consumed. It may hold fewer than all that is
    /// published (see the module docs of [`ring`](crate::ring)).
    pub fn slice(&mut self) -> Option<&[T]> {
        self.wait_for_data();
        self.core.slice()
    }

    /// Like [`slice`](Self::slice), with the tags attached to its items (see
    /// [`Writer::produce_with_tags`]). A tag comes again with every slice until its item is consumed.
    pub fn slice_with_tags(&mut self) -> Option<(&[T], Tags<'_, G>)> {
        self.wait_for_data();
        self.core.slice_with_tags()
    }

    fn wait_for_data(&mut self) {
        if self.core.available() == 0 {
            let ring = self.core.ring().clone();
            ring.data.wait_until(|| self.core.available() > 0 || self.core.finished());
        }
    }
}
