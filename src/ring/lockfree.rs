//! The lock-free flavour: `slice()` spins until the writer has room or a reader has data, for threads
//! that own a core and cannot afford to sleep. No thread ever blocks: no lock is taken (except each
//! reader's tag inbox, on rings made `with_tags`), and the only system call is a yield of the core
//! (`sched_yield`) after the first 64 spins of a wait, for when the other side runs on the same core.
//!
//! ```
//! use omnibuf::ring::lockfree::Circular;
//!
//! let mut writer = Circular::with_capacity::<u64>(512).unwrap();
//! let mut reader = writer.add_reader();
//! let consumer = std::thread::spawn(move || {
//!     let mut sum = 0;
//!     while let Some(items) = reader.slice() {
//!         sum += items.iter().sum::<u64>();
//!         let n = items.len();
//!         reader.consume(n);
//!     }
//!     sum
//! });
//! for i in 0..10_000u64 {
//!     writer.slice()[0] = i;
//!     writer.produce(1);
//! }
//! drop(writer);
//! assert_eq!(consumer.join().unwrap(), 49_995_000);
//! ```

super::flavour::flavour!(Nobody, lockfree, "try_slice");

use super::PopError;

/// Spins a little, then lets the OS run someone else: the other side may be on this very core.
fn backoff(spins: &mut u32) {
    if *spins < 64 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
    *spins += 1;
}

impl<T: Item, G> Writer<T, G> {
    /// Free slots as one slice, spinning until there is at least one. It may be shorter than all that
    /// is free (see the module docs of [`ring`](crate::ring)).
    ///
    /// ```
    /// use omnibuf::ring::lockfree::Circular;
    ///
    /// let mut writer = Circular::with_capacity::<u8>(64).unwrap();
    /// let mut reader = writer.add_reader();
    /// writer.produce(writer.capacity()); // full
    /// let consumer = std::thread::spawn(move || {
    ///     reader.consume(10);
    ///     reader
    /// });
    /// assert_eq!(writer.slice().len(), 10); // spun until the reader made room
    /// consumer.join().unwrap();
    /// ```
    pub fn slice(&mut self) -> &mut [T] {
        let mut spins = 0;
        while self.core.free() == 0 {
            backoff(&mut spins);
        }
        self.core.slice()
    }

    /// Free slots as one slice, at once: empty when the slowest reader is a full ring behind.
    ///
    /// ```
    /// use omnibuf::ring::lockfree::Circular;
    ///
    /// let mut writer = Circular::new::<u64>().unwrap();
    /// let cap = writer.capacity();
    /// let _reader = writer.add_reader();
    /// writer.produce(cap);
    /// assert!(writer.try_slice().is_empty()); // full: `slice()` would spin
    /// ```
    #[inline]
    pub fn try_slice(&mut self) -> &mut [T] {
        self.core.slice()
    }

    /// Publishes one item, spinning while the slowest reader is a full ring behind (with no readers
    /// the writer overwrites). The single-item path, sharing `slice()`'s positions.
    ///
    /// ```
    /// use omnibuf::ring::lockfree::Circular;
    ///
    /// let mut writer = Circular::with_capacity::<u64>(64).unwrap();
    /// let mut reader = writer.add_reader();
    /// let consumer = std::thread::spawn(move || {
    ///     let mut sum = 0;
    ///     while let Some(x) = reader.pop() {
    ///         sum += x;
    ///     }
    ///     sum
    /// });
    /// for i in 0..10_000u64 {
    ///     writer.push(i);
    /// }
    /// drop(writer);
    /// assert_eq!(consumer.join().unwrap(), 49_995_000);
    /// ```
    #[inline]
    pub fn push(&mut self, item: T) {
        let mut item = item;
        let mut spins = 0;
        while let Err(back) = self.core.push(item, WAKING) {
            item = back;
            backoff(&mut spins);
        }
    }
}

impl<T: Item, G> Reader<T, G> {
    /// Takes the next item, spinning until there is one; `None` once the writer is gone and everything
    /// it wrote was consumed. Like `consume(1)`, it drops the tags attached to the item.
    ///
    /// ```
    /// use omnibuf::ring::lockfree::Circular;
    ///
    /// let mut writer = Circular::with_capacity::<u16>(64).unwrap();
    /// let mut reader = writer.add_reader();
    /// writer.push(7);
    /// drop(writer);
    /// assert_eq!(reader.pop(), Some(7));
    /// assert_eq!(reader.pop(), None);
    /// ```
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let mut spins = 0;
        loop {
            match self.core.pop(WAKING) {
                Ok(item) => return Some(item),
                Err(PopError::Finished) => return None,
                Err(PopError::Empty) => backoff(&mut spins),
            }
        }
    }

    /// Items not yet consumed, as one slice, spinning until there is at least one; `None` once the
    /// writer is gone and everything it wrote was consumed.
    ///
    /// ```
    /// use omnibuf::ring::lockfree::Circular;
    ///
    /// let mut writer = Circular::with_capacity::<u32>(64).unwrap();
    /// let mut reader = writer.add_reader();
    /// let producer = std::thread::spawn(move || writer.push_slice(&[1, 2, 3]));
    /// assert_eq!(reader.slice(), Some(&[1, 2, 3][..])); // spun until they came
    /// reader.consume(3);
    /// producer.join().unwrap(); // the writer is gone with its thread
    /// assert_eq!(reader.slice(), None);
    /// ```
    pub fn slice(&mut self) -> Option<&[T]> {
        self.spin_for_data();
        self.core.slice()
    }

    /// Items not yet consumed, as one slice, at once: empty when there are none yet, `None` once the
    /// writer is gone and everything it wrote was consumed.
    ///
    /// ```
    /// use omnibuf::ring::lockfree::Circular;
    ///
    /// let mut writer = Circular::new::<u64>().unwrap();
    /// let mut reader = writer.add_reader();
    /// assert_eq!(reader.try_slice(), Some(&[][..])); // nothing yet: `slice()` would spin
    /// drop(writer);
    /// assert_eq!(reader.try_slice(), None);
    /// ```
    #[inline]
    pub fn try_slice(&mut self) -> Option<&[T]> {
        self.core.slice()
    }

    /// Like [`slice`](Self::slice), with the tags attached to its items (see
    /// [`Writer::produce_with_tags`]). A tag comes again with every slice until its item is consumed.
    ///
    /// ```
    /// use omnibuf::ring::{lockfree::Circular, RingOptions};
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
        self.spin_for_data();
        self.core.slice_with_tags()
    }

    fn spin_for_data(&mut self) {
        let mut spins = 0;
        while self.core.available() == 0 && !self.core.finished() {
            backoff(&mut spins);
        }
    }
}
