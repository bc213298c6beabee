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

super::flavour::flavour!(Nobody);

impl<T: Item> Writer<T> {
    /// Free slots as one slice: empty only when the slowest reader is a full ring behind. It may be
    /// shorter than all that is free (see the module docs of [`ring`](crate::ring)).
    #[inline]
    pub fn slice(&mut self) -> &mut [T] {
        self.core.slice()
    }
}

impl<T: Item> Reader<T> {
    /// Items not yet consumed, as one slice (empty only when there are none); `None` once the writer
    /// is gone and everything it wrote was consumed. It may hold fewer than all that is published (see
    /// the module docs of [`ring`](crate::ring)).
    #[inline]
    pub fn slice(&mut self) -> Option<&[T]> {
        self.core.slice()
    }
}
