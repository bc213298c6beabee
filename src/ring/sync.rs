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

impl<T: Item> Writer<T> {
    /// Free slots as one slice, waiting until there is at least one. It may be shorter than all that
    /// is free (see the module docs of [`ring`](crate::ring)).
    pub fn slice(&mut self) -> &mut [T] {
        let ring = self.core.ring().clone();
        ring.room.wait_until(|| self.core.free() > 0);
        self.core.slice()
    }
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
}
