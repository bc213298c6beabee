//! What every flavour's `Writer` and `Reader` share; a flavour adds only how `slice()` waits.

/// `flavour!(Waking, module)` defines `Circular`, `Writer<T, G>` and `Reader<T, G>` for the flavour
/// in `ring::module` whose cores wake `Waking`, with every method but the slices.
///
/// `flavour!(@handles module, "(ARGS)", "(ARGS)" { field: Type, ... })` defines only `Writer` and
/// `Reader` with the methods that do not depend on how they are made, for a flavour that builds them
/// itself (the generic flavour's handles also carry their notifiers, in the extra fields, on both
/// types); the two strings are the arguments of `Circular::with_capacity::<u8>` and `add_reader` after
/// the capacity, for the examples.
macro_rules! flavour {
    ($waking:ident, $module:ident) => {
        $crate::ring::flavour::flavour!(@handles $module, "", "" {});

        /// Builds the writer of a ring of this flavour.
        ///
        /// ```
        #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
        ///
        /// let writer = Circular::with_capacity::<u64>(1000).unwrap();
        /// assert!(writer.capacity() >= 1000); // rounded up to whole pages
        /// ```
        pub struct Circular;

        impl Circular {
            /// A ring of the smallest capacity: one page of items (the page size rounded up to whole
            /// items; 64 KiB on Windows), the same on either backend. Like `with_capacity(1)` on
            /// double-mapped memory, where that is what one item rounds up to.
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
            ///
            /// let writer = Circular::new::<u32>().unwrap();
            /// assert_eq!(writer.capacity() * 4 % 4096, 0); // whole pages of u32
            /// ```
            #[allow(clippy::new_ret_no_self)]
            pub fn new<T: Item>() -> Result<Writer<T>, RingError> {
                Self::with_capacity($crate::platform::ring_memory::minimum_items(std::mem::size_of::<T>()))
            }

            /// A ring of at least `min_items` items (rounded up, see [`Writer::capacity`]).
            pub fn with_capacity<T: Item>(min_items: usize) -> Result<Writer<T>, RingError> {
                Self::with_options(min_items, &RingOptions::default())
            }

            /// Like [`with_capacity`](Self::with_capacity), with a backend and mapping options.
            pub fn with_options<T: Item>(
                min_items: usize,
                options: &RingOptions,
            ) -> Result<Writer<T>, RingError> {
                Self::build(min_items, options, Tagging::Off)
            }

            /// A ring whose writer can attach tags of type `G` to items
            /// ([`Writer::produce_with_tags`]) and whose readers receive them
            /// ([`Reader::slice_with_tags`]).
            pub fn with_tags<T: Item, G: Clone>(
                min_items: usize,
                options: &RingOptions,
            ) -> Result<Writer<T, G>, RingError> {
                Self::build(min_items, options, Tagging::On)
            }

            fn build<T: Item, G>(
                min_items: usize,
                options: &RingOptions,
                tagging: Tagging,
            ) -> Result<Writer<T, G>, RingError> {
                let ring = Ring::new(min_items, options)?;
                Ok(Writer { core: WriterCore::new(ring, Waking::$waking, tagging) })
            }
        }

        impl<T: Item, G> Writer<T, G> {
            /// A new reader, which sees what is produced from now on.
            pub fn add_reader(&mut self) -> Reader<T, G> {
                Reader { core: self.core.add_reader() }
            }
        }
    };

    (@handles $module:ident, $new:literal, $reader:literal { $($field:ident: $type:ty),* }) => {
        #[allow(unused_imports)]
        use $crate::ring::core::{ReaderCore, Ring, Tagging, Waking, WriterCore};
        #[allow(unused_imports)]
        use $crate::ring::{Item, NoTags, RingBackend, RingError, RingOptions, Tags};

        /// The one writer of a ring. `G` is the type of the tags it can attach to items ([`NoTags`]
        /// unless the ring was made `with_tags`).
        ///
        /// ```
        #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
        ///
        #[doc = concat!("let mut writer = Circular::with_capacity::<u8>(64", $new, ").unwrap();")]
        #[doc = concat!("let mut reader = writer.add_reader(", $reader, ");")]
        /// assert_eq!(writer.push_slice(b"abc"), 3); // copied into the free slots and published
        /// reader.consume(2);
        /// assert!(reader.try_consume(2).is_err()); // one item is left, not two
        /// ```
        pub struct Writer<T: Item, G = NoTags> {
            core: WriterCore<T, G>,
            $($field: $type,)*
        }

        impl<T: Item, G> Writer<T, G> {
            /// Publishes the first `n` items of `slice()` to the readers.
            ///
            /// # Panics
            /// When `n` is more than the free slots; [`try_produce`](Self::try_produce) returns an error.
            #[track_caller]
            #[inline]
            pub fn produce(&mut self, n: usize) {
                if let Err(e) = self.core.produce(n) {
                    panic!("Writer::produce: {e}");
                }
            }

            /// Like [`produce`](Self::produce), but returns an error instead of panicking.
            pub fn try_produce(&mut self, n: usize) -> Result<(), RingError> {
                self.core.produce(n)
            }

            /// Copies as many of `items` as fit in the free slots now and publishes them; returns how
            /// many that was (0 when the slowest reader is a whole ring behind). Never waits, in any
            /// flavour. Unlike filling `slice()` and calling `produce`, it leaves the rest of the free
            /// slots as they were, so on mirror-copy memory nothing unwritten is copied back later.
            ///
            /// ```
            /// use omnibuf::ring::nonblocking::Circular;
            ///
            /// let mut writer = Circular::with_capacity::<u8>(16).unwrap();
            /// let mut reader = writer.add_reader();
            /// assert_eq!(writer.push_slice(b"hello"), 5);
            /// assert_eq!(reader.slice(), Some(&b"hello"[..]));
            /// ```
            pub fn push_slice(&mut self, items: &[T]) -> usize {
                self.core.write_from(items)
            }

            /// Publishes the first `n` items of `slice()` with `tags` attached: `(offset, tag)` pairs,
            /// each offset counted from the first of the `n` items (several tags may share an item).
            /// Every reader present gets its own copy of each tag with the item it belongs to (see
            /// [`Reader::slice_with_tags`]); with no readers the tags are not kept. A ring not made
            /// `with_tags` has no tag values, so only `&[]` can be passed to it.
            ///
            /// # Panics
            /// When `n` is more than the free slots or a tag's offset is `n` or more;
            /// [`try_produce_with_tags`](Self::try_produce_with_tags) returns an error.
            #[track_caller]
            pub fn produce_with_tags(&mut self, n: usize, tags: &[(usize, G)])
            where
                G: Clone,
            {
                if let Err(e) = self.core.produce_with_tags(n, tags) {
                    panic!("Writer::produce_with_tags: {e}");
                }
            }

            /// Like [`produce_with_tags`](Self::produce_with_tags), but returns an error instead of
            /// panicking; on an error nothing is produced and no tag is delivered.
            pub fn try_produce_with_tags(&mut self, n: usize, tags: &[(usize, G)]) -> Result<(), RingError>
            where
                G: Clone,
            {
                self.core.produce_with_tags(n, tags)
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

        /// One reader of a ring. `G` is the type of the tags that come with its items.
        ///
        /// ```
        #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
        ///
        #[doc = concat!("let mut writer = Circular::with_capacity::<u8>(64", $new, ").unwrap();")]
        #[doc = concat!("let mut reader = writer.add_reader(", $reader, ");")]
        /// assert_eq!(writer.push_slice(b"abc"), 3); // copied into the free slots and published
        /// reader.consume(2);
        /// assert!(reader.try_consume(2).is_err()); // one item is left, not two
        /// ```
        pub struct Reader<T: Item, G = NoTags> {
            core: ReaderCore<T, G>,
            $($field: $type,)*
        }

        impl<T: Item, G> Reader<T, G> {
            /// Marks the first `n` items of `slice()` as read (and drops the tags attached to them).
            ///
            /// # Panics
            /// When `n` is more than is available; [`try_consume`](Self::try_consume) returns an error.
            #[track_caller]
            #[inline]
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
    };
}

pub(crate) use flavour;
