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

impl<T: Item, G> Writer<T, G> {
    /// Free slots as one slice: empty only when the slowest reader is a full ring behind. It may be
    /// shorter than all that is free (see the module docs of [`ring`](crate::ring)).
    #[inline]
    pub fn slice(&mut self) -> &mut [T] {
        self.core.slice()
    }
}

impl<T: Item, G> Reader<T, G> {
    /// Items not yet consumed, as one slice (empty only when there are none); `None` once the writer
    /// is gone and everything it wrote was consumed. It may hold fewer than all that is published (see
    /// the module docs of [`ring`](crate::ring)).
    #[inline]
    pub fn slice(&mut self) -> Option<&[T]> {
        self.core.slice()
    }

    /// Like [`slice`](Self::slice), with the tags attached to its items (see
    /// [`Writer::produce_with_tags`]). A tag comes again with every slice until its item is consumed.
    #[inline]
    pub fn slice_with_tags(&mut self) -> Option<(&[T], Tags<'_, G>)> {
        self.core.slice_with_tags()
    }
}
