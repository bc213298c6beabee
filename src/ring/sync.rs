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
//!
//! A byte ring's writer is an [`io::Write`](std::io::Write), and a reader an
//! [`io::Read`](std::io::Read) and [`io::BufRead`](std::io::BufRead), whose buffer is the ring itself
//! (no copy). How a stream ends through them is in the module docs of [`ring`](super).
//!
//! ```
//! use std::io::{BufRead, Read, Write};
//! use omnibuf::ring::sync::Circular;
//!
//! let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
//! let mut reader = writer.add_reader();
//! writer.write_all(b"hello\nring\n").unwrap();
//! drop(writer); // end of stream
//! let mut first = String::new();
//! reader.read_line(&mut first).unwrap();
//! assert_eq!(first, "hello\n");
//! let mut rest = String::new();
//! reader.read_to_string(&mut rest).unwrap();
//! assert_eq!(rest, "ring\n");
//! ```

super::flavour::flavour!(Waiters, sync, "try_slice");

use super::PopError;

impl<T: Item, G> Writer<T, G> {
    /// Free slots as one slice, waiting until there is at least one. It may be shorter than all that
    /// is free (see the module docs of [`ring`](crate::ring)).
    ///
    /// ```
    /// use omnibuf::ring::sync::Circular;
    ///
    /// let mut writer = Circular::with_capacity::<u8>(64).unwrap();
    /// let mut reader = writer.add_reader();
    /// writer.produce(writer.capacity()); // full
    /// let consumer = std::thread::spawn(move || {
    ///     reader.consume(10);
    ///     reader
    /// });
    /// assert_eq!(writer.slice().len(), 10); // waited for the reader to make room
    /// consumer.join().unwrap();
    /// ```
    pub fn slice(&mut self) -> &mut [T] {
        self.wait_for_room();
        self.core.slice()
    }

    /// Free slots as one slice, at once: empty when the slowest reader is a full ring behind (as
    /// [`nonblocking::Writer::slice`](super::nonblocking::Writer::slice)). For a writer that has other
    /// work to do rather than wait.
    ///
    /// ```
    /// use omnibuf::ring::sync::Circular;
    ///
    /// let mut writer = Circular::new::<u8>().unwrap();
    /// let cap = writer.capacity();
    /// let _reader = writer.add_reader();
    /// assert_eq!(writer.try_slice().len(), cap);
    /// writer.produce(cap);
    /// assert!(writer.try_slice().is_empty()); // full: `slice()` would wait for the reader
    /// ```
    #[inline]
    pub fn try_slice(&mut self) -> &mut [T] {
        self.core.slice()
    }

    /// Copies as many of `items` as fit into the free slots and publishes them, waiting until there
    /// is room for one (the `io::Write` path).
    pub(crate) fn write_from(&mut self, items: &[T]) -> usize {
        self.wait_for_room();
        self.core.write_from(items)
    }

    fn wait_for_room(&mut self) {
        if self.core.free() == 0 {
            let ring = self.core.ring().clone();
            ring.room.wait_until(|| self.core.free() > 0);
        }
    }

    /// Publishes one item, waiting while the slowest reader is a full ring behind (with no readers
    /// the writer overwrites). The single-item path, sharing `slice()`'s positions.
    ///
    /// ```
    /// use omnibuf::ring::sync::Circular;
    ///
    /// let mut writer = Circular::with_capacity::<u32>(64).unwrap();
    /// let mut reader = writer.add_reader();
    /// let consumer = std::thread::spawn(move || {
    ///     let mut got = Vec::new();
    ///     while let Some(x) = reader.pop() {
    ///         got.push(x);
    ///     }
    ///     got
    /// });
    /// for i in 0..10_000u32 {
    ///     writer.push(i); // waits while the reader is a full ring behind
    /// }
    /// drop(writer);
    /// assert_eq!(consumer.join().unwrap(), (0..10_000).collect::<Vec<_>>());
    /// ```
    pub fn push(&mut self, item: T) {
        let mut item = item;
        while let Err(back) = self.core.push(item, WAKING) {
            item = back;
            // Waits as `slice` does (the condition only looks: pushing in it would notify the readers
            // while holding the room lock, and a reader's pop would do the reverse).
            let ring = self.core.ring().clone();
            ring.room.wait_until(|| self.core.free() > 0);
        }
    }
}

impl<T: Item, G> Reader<T, G> {
    /// Takes the next item, waiting until there is one; `None` once the writer is gone and everything
    /// it wrote was consumed. Like `consume(1)`, it drops the tags attached to the item.
    ///
    /// ```
    /// use omnibuf::ring::sync::Circular;
    ///
    /// let mut writer = Circular::with_capacity::<u64>(64).unwrap();
    /// let mut reader = writer.add_reader();
    /// let producer = std::thread::spawn(move || {
    ///     for i in 1..=3 {
    ///         writer.push(i);
    ///     }
    /// }); // the writer is dropped at the end of the thread
    /// assert_eq!(reader.pop(), Some(1)); // waits for it
    /// assert_eq!(reader.pop(), Some(2));
    /// assert_eq!(reader.pop(), Some(3));
    /// assert_eq!(reader.pop(), None);
    /// producer.join().unwrap();
    /// ```
    pub fn pop(&mut self) -> Option<T> {
        loop {
            match self.core.pop(WAKING) {
                Ok(item) => return Some(item),
                Err(PopError::Finished) => return None,
                Err(PopError::Empty) => self.wait_for_data(),
            }
        }
    }

    /// Items not yet consumed, as one slice, waiting until there is at least one; `None` once the
    /// writer is gone and everything it wrote was consumed. It may hold fewer than all that is
    /// published (see the module docs of [`ring`](crate::ring)).
    ///
    /// ```
    /// use omnibuf::ring::sync::Circular;
    ///
    /// let mut writer = Circular::with_capacity::<u32>(64).unwrap();
    /// let mut reader = writer.add_reader();
    /// let producer = std::thread::spawn(move || writer.push_slice(&[1, 2, 3]));
    /// assert_eq!(reader.slice(), Some(&[1, 2, 3][..])); // waited for them
    /// reader.consume(3);
    /// producer.join().unwrap(); // the writer is gone with its thread
    /// assert_eq!(reader.slice(), None);
    /// ```
    pub fn slice(&mut self) -> Option<&[T]> {
        self.wait_for_data();
        self.core.slice()
    }

    /// Items not yet consumed, as one slice, at once: empty when there are none yet, `None` once the
    /// writer is gone and everything it wrote was consumed (as
    /// [`nonblocking::Reader::slice`](super::nonblocking::Reader::slice)).
    ///
    /// ```
    /// use omnibuf::ring::sync::Circular;
    ///
    /// let mut writer = Circular::new::<u8>().unwrap();
    /// let mut reader = writer.add_reader();
    /// assert_eq!(reader.try_slice(), Some(&[][..])); // nothing yet: `slice()` would wait
    /// writer.slice()[0] = 7;
    /// writer.produce(1);
    /// drop(writer);
    /// assert_eq!(reader.try_slice(), Some(&[7][..]));
    /// reader.consume(1);
    /// assert_eq!(reader.try_slice(), None); // the end
    /// ```
    #[inline]
    pub fn try_slice(&mut self) -> Option<&[T]> {
        self.core.slice()
    }

    /// Like [`slice`](Self::slice), with the tags attached to its items (see
    /// [`Writer::produce_with_tags`]). A tag comes again with every slice until its item is consumed.
    ///
    /// ```
    /// use omnibuf::ring::{sync::Circular, RingOptions};
    ///
    /// let mut writer = Circular::with_tags::<u8, &str>(64, &RingOptions::default()).unwrap();
    /// let mut reader = writer.add_reader();
    /// writer.slice()[..2].copy_from_slice(b"ab");
    /// writer.produce_with_tags(2, &[(1, "b")]);
    /// reader.consume(1);
    /// let (items, tags) = reader.slice_with_tags().unwrap();
    /// assert_eq!(items, b"b");
    /// assert_eq!(tags.get(0), Some((0, &"b"))); // offsets count from the slice's start
    /// ```
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
