//! The non-blocking flavour: `slice()` returns at once, possibly empty.
//!
//! ```
//! use omnibuf::ring::nonblocking::Circular;
//!
//! let mut writer = Circular::with_capacity::<u32>(1024).unwrap();
//! let mut reader = writer.add_reader();
//! let room = writer.slice();
//! room[..3].copy_from_slice(&[1, 2, 3]);
//! writer.produce(3);
//! assert_eq!(reader.slice(), Some(&[1, 2, 3][..]));
//! reader.consume(2);
//! drop(writer);
//! assert_eq!(reader.slice(), Some(&[3][..])); // what is left...
//! reader.consume(1);
//! assert_eq!(reader.slice(), None); // ...then the end
//! ```

super::flavour::flavour!(Nobody, nonblocking, "slice");

use super::PopError;

impl<T: Item, G> Writer<T, G> {
    /// Free slots as one slice: empty only when the slowest reader is a full ring behind. It may be
    /// shorter than all that is free (see the module docs of [`ring`](crate::ring)).
    ///
    /// ```
    /// use omnibuf::ring::nonblocking::Circular;
    ///
    /// let mut writer = Circular::with_capacity::<u8>(16).unwrap();
    /// let mut reader = writer.add_reader();
    /// let cap = writer.capacity();
    /// let room = writer.slice();
    /// assert_eq!(room.len(), cap); // all free
    /// room[..2].copy_from_slice(b"ok");
    /// writer.produce(2);
    /// assert_eq!(reader.slice(), Some(&b"ok"[..]));
    /// writer.produce(cap - 2);
    /// assert!(writer.slice().is_empty()); // the reader is a whole ring behind
    /// ```
    #[inline]
    pub fn slice(&mut self) -> &mut [T] {
        self.core.slice()
    }

    /// Publishes one item, or gives it back when the slowest reader is a full ring behind (with no
    /// readers there is always room: the writer overwrites, as with [`slice`](Self::slice)). The
    /// single-item path: cheaper than `slice()` + `produce(1)`, and it shares their positions, so the
    /// two can be mixed freely.
    ///
    /// ```
    /// use omnibuf::ring::nonblocking::Circular;
    ///
    /// let mut writer = Circular::with_capacity::<u64>(1).unwrap();
    /// let cap = writer.capacity(); // rounded up to whole pages
    /// let mut reader = writer.add_reader();
    /// for i in 0..cap as u64 {
    ///     writer.push(i).unwrap();
    /// }
    /// assert_eq!(writer.push(99), Err(99)); // full: the reader is a ring behind
    /// assert_eq!(reader.pop(), Ok(0));
    /// assert_eq!(writer.push(99), Ok(()));
    /// ```
    #[inline]
    pub fn push(&mut self, item: T) -> Result<(), T> {
        self.core.push(item, WAKING)
    }
}

impl<T: Item, G> Reader<T, G> {
    /// Items not yet consumed, as one slice (empty only when there are none); `None` once the writer
    /// is gone and everything it wrote was consumed. It may hold fewer than all that is published (see
    /// the module docs of [`ring`](crate::ring)).
    ///
    /// ```
    /// use omnibuf::ring::nonblocking::Circular;
    ///
    /// let mut writer = Circular::with_capacity::<u32>(64).unwrap();
    /// let mut reader = writer.add_reader();
    /// assert_eq!(reader.slice(), Some(&[][..])); // nothing yet
    /// writer.push(5).unwrap();
    /// assert_eq!(reader.slice(), Some(&[5][..]));
    /// reader.consume(1);
    /// drop(writer);
    /// assert_eq!(reader.slice(), None); // the end
    /// ```
    #[inline]
    pub fn slice(&mut self) -> Option<&[T]> {
        self.core.slice()
    }

    /// Like [`slice`](Self::slice), with the tags attached to its items (see
    /// [`Writer::produce_with_tags`]). A tag comes again with every slice until its item is consumed.
    ///
    /// ```
    /// use omnibuf::ring::{nonblocking::Circular, RingOptions};
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
    #[inline]
    pub fn slice_with_tags(&mut self) -> Option<(&[T], Tags<'_, G>)> {
        self.core.slice_with_tags()
    }

    /// Takes the next item: [`PopError::Empty`] when there is none yet, [`PopError::Finished`] once
    /// the writer is gone and everything it wrote was consumed. Like `consume(1)`, it drops the tags
    /// attached to the item. The single-item path: cheaper than `slice()` + `consume(1)`, and it
    /// shares their position, so the two can be mixed freely.
    ///
    /// ```
    /// use omnibuf::ring::{nonblocking::Circular, PopError};
    ///
    /// let mut writer = Circular::with_capacity::<u32>(1024).unwrap();
    /// let mut reader = writer.add_reader();
    /// writer.slice()[..2].copy_from_slice(&[1, 2]);
    /// writer.produce(2);
    /// writer.push(3).unwrap();
    /// assert_eq!(reader.pop(), Ok(1));
    /// assert_eq!(reader.slice(), Some(&[2, 3][..]));
    /// reader.consume(1);
    /// assert_eq!(reader.pop(), Ok(3));
    /// assert_eq!(reader.pop(), Err(PopError::Empty));
    /// ```
    #[inline]
    pub fn pop(&mut self) -> Result<T, PopError> {
        self.core.pop(WAKING)
    }
}
