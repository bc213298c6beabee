//! What every flavour's `Writer` and `Reader` share; a flavour adds only how `slice()` waits.

/// `flavour!(Waking, module, "NOW")` defines `Circular`, `Writer<T, G>` and `Reader<T, G>` for the
/// flavour in `ring::module` whose cores wake `Waking`, with every method but the slices. `NOW` names
/// the method of both handles that returns a slice at once, without waiting (`slice` or `try_slice`),
/// for the examples.
///
/// `flavour!(@handles module, "(ARGS)", "(ARGS)", "NOW" { field: Type, ... })` defines only `Writer`
/// and `Reader` with the methods that do not depend on how they are made, for a flavour that builds
/// them itself (the generic flavour's handles also carry their notifiers, in the extra fields, on both
/// types); the first two strings are the arguments of `Circular::with_capacity::<u8>` and `add_reader`
/// after the capacity, for the examples.
macro_rules! flavour {
    ($waking:ident, $module:ident, $now:literal) => {
        $crate::ring::flavour::flavour!(@handles $module, "", "", $now {});

        /// Whom the cores of this flavour wake; a constant for `push` and `pop` (see
        /// `WriterCore::push`).
        const WAKING: Waking = Waking::$waking;

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
            /// A ring of the smallest capacity, the same on either backend: the fewest items that fill
            /// whole pages (64 KiB granules on Windows), as double mapping rounds them: the least
            /// common multiple of the page size and the item size. That is one page of `u8`s or
            /// `u32`s, but 375 pages of 3000-byte items (512 of them, with 4 KiB pages). Like
            /// `with_capacity(1)` on double-mapped memory, where that is what one item rounds up to. Fails as
            /// [`with_capacity`](Self::with_capacity) does.
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
            ///
            /// Fails with [`RingError::Memory`] when the memory cannot be had: `min_items` of 0, a
            /// zero-sized `T`, a size too large for this system, or a mapping the system refused
            /// (see [`RingMemoryError`](crate::ring::RingMemoryError)).
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
            /// use omnibuf::ring::{RingError, RingMemoryError};
            ///
            /// let writer = Circular::with_capacity::<u32>(100).unwrap();
            /// assert!(writer.capacity() >= 100);
            /// let err = Circular::with_capacity::<u32>(0).err().unwrap();
            /// assert!(matches!(err, RingError::Memory(RingMemoryError::ZeroCapacity)));
            /// ```
            pub fn with_capacity<T: Item>(min_items: usize) -> Result<Writer<T>, RingError> {
                Self::with_options(min_items, &RingOptions::default())
            }

            /// Like [`with_capacity`](Self::with_capacity), with a backend and mapping options. Fails as
            /// it does, and also when the options ask for double mapping that this system, or the
            /// alignment of `T`, does not allow.
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
            /// use omnibuf::ring::{RingBackend, RingOptions};
            ///
            /// let options = RingOptions::default().backend(RingBackend::MirrorCopy);
            /// let writer = Circular::with_options::<u16>(100, &options).unwrap();
            /// assert_eq!(writer.backend(), RingBackend::MirrorCopy);
            /// assert_eq!(writer.capacity(), 100); // the mirror is not rounded to pages
            /// ```
            pub fn with_options<T: Item>(
                min_items: usize,
                options: &RingOptions,
            ) -> Result<Writer<T>, RingError> {
                Self::build(min_items, options, Tagging::Off)
            }

            /// A ring whose writer can attach tags of type `G` to items
            /// ([`Writer::produce_with_tags`]) and whose readers receive them
            /// ([`Reader::slice_with_tags`]). Fails as [`with_options`](Self::with_options) does.
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::{", stringify!($module), "::Circular, RingOptions};")]
            ///
            /// let mut writer = Circular::with_tags::<u8, String>(64, &RingOptions::default()).unwrap();
            /// let mut reader = writer.add_reader();
            #[doc = concat!("writer.", $now, "()[..2].copy_from_slice(b\"hi\");")]
            /// writer.produce_with_tags(2, &[(1, "second byte".to_string())]);
            #[doc = concat!("assert_eq!(reader.", $now, "(), Some(&b\"hi\"[..]));")]
            /// ```
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
                Ok(Writer { core: WriterCore::new(ring, WAKING, tagging) })
            }
        }

        impl<T: Item, G> Writer<T, G> {
            /// A new reader, which sees what is produced from now on.
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
            ///
            /// let mut writer = Circular::with_capacity::<u8>(64).unwrap();
            /// writer.push_slice(b"before ");
            /// let mut reader = writer.add_reader();
            /// writer.push_slice(b"after");
            #[doc = concat!("assert_eq!(reader.", $now, "(), Some(&b\"after\"[..]));")]
            /// ```
            pub fn add_reader(&mut self) -> Reader<T, G> {
                Reader { core: self.core.add_reader() }
            }
        }
    };

    (@handles $module:ident, $new:literal, $reader:literal, $now:literal { $($field:ident: $type:ty),* }) => {
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

        /// The capacity and the memory under the ring.
        ///
        /// ```
        #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
        /// use omnibuf::ring::{RingBackend, RingOptions};
        ///
        /// let mirror = RingOptions::default().backend(RingBackend::MirrorCopy);
        #[doc = concat!("let writer = Circular::with_options::<u8>(100, &mirror", $new, ").unwrap();")]
        /// assert_eq!(format!("{writer:?}"), "Writer { capacity: 100, backend: MirrorCopy, .. }");
        /// ```
        impl<T: Item, G> std::fmt::Debug for Writer<T, G> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Writer")
                    .field("capacity", &self.capacity())
                    .field("backend", &self.backend())
                    .finish_non_exhaustive()
            }
        }

        impl<T: Item, G> Writer<T, G> {
            /// Publishes the first `n` items of `slice()` to the readers.
            ///
            /// # Panics
            /// When `n` is more than the free slots; [`try_produce`](Self::try_produce) returns an error.
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
            ///
            #[doc = concat!("let mut writer = Circular::with_capacity::<u8>(64", $new, ").unwrap();")]
            #[doc = concat!("let mut reader = writer.add_reader(", $reader, ");")]
            #[doc = concat!("writer.", $now, "()[..3].copy_from_slice(b\"abc\");")]
            /// writer.produce(2); // publishes "ab"; "c" is not published
            #[doc = concat!("assert_eq!(reader.", $now, "(), Some(&b\"ab\"[..]));")]
            /// ```
            #[track_caller]
            #[inline]
            pub fn produce(&mut self, n: usize) {
                if let Err(e) = self.core.produce(n) {
                    panic!("Writer::produce: {e}");
                }
            }

            /// Like [`produce`](Self::produce), but returns an error instead of panicking.
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::{", stringify!($module), "::Circular, RingError};")]
            ///
            #[doc = concat!("let mut writer = Circular::with_capacity::<u8>(64", $new, ").unwrap();")]
            #[doc = concat!("let _reader = writer.add_reader(", $reader, ");")]
            /// let cap = writer.capacity();
            /// assert!(writer.try_produce(cap + 1).is_err());
            /// writer.try_produce(cap).unwrap(); // now the reader is a whole ring behind
            /// assert!(matches!(writer.try_produce(1), Err(RingError::ProduceTooMuch { free: 0, .. })));
            /// ```
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

            /// [`push_slice`](Self::push_slice) from items in no Rust slice: `fill` writes the first
            /// `min(len, free)` free slots it is given, which are then published; returns how many.
            /// The wasm binding's `write()` copies a JS array straight into the ring through it (a
            /// copy of the whole array first would cost as much as the array, however little fits).
            #[allow(dead_code)] // only the wasm binding calls it, on one flavour
            pub(crate) fn push_with(&mut self, len: usize, fill: impl FnOnce(&mut [T])) -> usize {
                self.core.write_with(len, fill)
            }

            /// The error [`try_produce`](Self::try_produce) would give for `n`, without publishing
            /// anything: for a binding that must refuse `n` before it detaches the slices it
            /// handed out, so that a call refused changes nothing.
            #[allow(dead_code)] // only the addon calls it, on one flavour
            pub(crate) fn check_produce(&mut self, n: usize) -> Result<(), RingError> {
                self.core.check_produce(n)
            }

            /// The free slots now: what [`push_slice`](Self::push_slice) would take, without a
            /// slice made.
            #[allow(dead_code)] // only the wasm binding calls it, on one flavour
            pub(crate) fn free_slots(&mut self) -> usize {
                self.core.free()
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
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::{", stringify!($module), "::Circular, RingOptions};")]
            ///
            /// let options = RingOptions::default();
            #[doc = concat!("let writer = Circular::with_tags::<u8, &str>(64, &options", $new, ");")]
            /// let mut writer = writer.unwrap();
            #[doc = concat!("let mut reader = writer.add_reader(", $reader, ");")]
            #[doc = concat!("writer.", $now, "()[..5].copy_from_slice(b\"GET /\");")]
            /// writer.produce_with_tags(5, &[(0, "method"), (4, "path")]);
            #[doc = concat!("assert_eq!(reader.", $now, "(), Some(&b\"GET /\"[..])); // with two tags")]
            /// ```
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
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
            /// use omnibuf::ring::{RingError, RingOptions};
            ///
            /// let options = RingOptions::default();
            #[doc = concat!("let writer = Circular::with_tags::<u8, u32>(64, &options", $new, ");")]
            /// let mut writer = writer.unwrap();
            #[doc = concat!("let mut reader = writer.add_reader(", $reader, ");")]
            /// let err = writer.try_produce_with_tags(2, &[(2, 7)]).unwrap_err();
            /// assert!(matches!(err, RingError::TagOutsideProduced { offset: 2, produced: 2 }));
            #[doc = concat!("assert_eq!(reader.", $now, "(), Some(&[][..])); // nothing was produced")]
            /// ```
            pub fn try_produce_with_tags(&mut self, n: usize, tags: &[(usize, G)]) -> Result<(), RingError>
            where
                G: Clone,
            {
                self.core.produce_with_tags(n, tags)
            }

            /// The capacity in items, after rounding to whole items and pages.
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
            /// use omnibuf::ring::{RingBackend, RingOptions};
            ///
            /// let mirror = RingOptions::default().backend(RingBackend::MirrorCopy);
            #[doc = concat!("let writer = Circular::with_options::<u64>(1000, &mirror", $new, ").unwrap();")]
            /// assert_eq!(writer.capacity(), 1000); // the mirror holds what was asked for
            #[doc = concat!("let writer = Circular::with_capacity::<u64>(1000", $new, ").unwrap();")]
            /// assert!(writer.capacity() >= 1000); // double mapping rounds up to whole pages
            /// ```
            pub fn capacity(&self) -> usize {
                self.core.capacity()
            }

            /// The memory under the ring.
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
            /// use omnibuf::ring::{double_mapping_available, RingBackend};
            ///
            #[doc = concat!("let writer = Circular::with_capacity::<u8>(64", $new, ").unwrap();")]
            /// // The default takes double mapping wherever it works.
            /// assert_eq!(writer.backend() == RingBackend::DoubleMapped, double_mapping_available());
            /// ```
            pub fn backend(&self) -> RingBackend {
                self.core.backend()
            }

            /// Ends the stream with an error: the readers read what was published, and where they
            /// would then see the end, [`Reader::abort_reason`] gives `reason` (the byte rings' `io`
            /// traits fail with [`ConnectionAborted`](std::io::ErrorKind::ConnectionAborted)).
            /// Dropping a writer ends the stream normally, except while its thread panics: that
            /// aborts it with the reason "the writer's thread panicked". A writer already closed (the
            /// async flavour's `close()`) keeps its normal end.
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
            ///
            #[doc = concat!("let mut writer = Circular::with_capacity::<u8>(64", $new, ").unwrap();")]
            #[doc = concat!("let mut reader = writer.add_reader(", $reader, ");")]
            /// writer.push_slice(b"ab");
            /// writer.abort("the source failed");
            #[doc = concat!("assert_eq!(reader.", $now, "(), Some(&b\"ab\"[..])); // still read")]
            /// reader.consume(2);
            #[doc = concat!("assert_eq!(reader.", $now, "(), None);")]
            /// assert_eq!(reader.abort_reason(), Some("the source failed"));
            /// ```
            pub fn abort(mut self, reason: &str) {
                self.core.abort(reason);
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

        /// Why the writer aborted, if it has (see [`abort_reason`](Reader::abort_reason)).
        ///
        /// ```
        #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
        ///
        #[doc = concat!("let mut writer = Circular::with_capacity::<u8>(64", $new, ").unwrap();")]
        #[doc = concat!("let reader = writer.add_reader(", $reader, ");")]
        /// writer.abort("the source failed");
        /// assert_eq!(format!("{reader:?}"), r#"Reader { abort_reason: Some("the source failed"), .. }"#);
        /// ```
        impl<T: Item, G> std::fmt::Debug for Reader<T, G> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Reader").field("abort_reason", &self.abort_reason()).finish_non_exhaustive()
            }
        }

        impl<T: Item, G> Reader<T, G> {
            /// Marks the first `n` items of `slice()` as read (and drops the tags attached to them).
            ///
            /// # Panics
            /// When `n` is more than is available; [`try_consume`](Self::try_consume) returns an error.
            /// This method of the reader's own is what `reader.consume(n)` calls even where a
            /// `BufRead` trait is in scope (std's, `futures-io`'s or tokio's): a byte reader's trait
            /// `consume` takes at most what `fill_buf` showed instead of panicking, so code written
            /// for those traits calls it by name, `BufRead::consume(&mut reader, n)`.
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
            ///
            #[doc = concat!("let mut writer = Circular::with_capacity::<u8>(64", $new, ").unwrap();")]
            #[doc = concat!("let mut reader = writer.add_reader(", $reader, ");")]
            /// writer.push_slice(b"abc");
            /// reader.consume(2);
            #[doc = concat!("assert_eq!(reader.", $now, "(), Some(&b\"c\"[..]));")]
            /// ```
            #[track_caller]
            #[inline]
            pub fn consume(&mut self, n: usize) {
                if let Err(e) = self.core.consume(n) {
                    panic!("Reader::consume: {e}");
                }
            }

            /// Like [`consume`](Self::consume), but returns an error instead of panicking.
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::{", stringify!($module), "::Circular, RingError};")]
            ///
            #[doc = concat!("let mut writer = Circular::with_capacity::<u8>(64", $new, ").unwrap();")]
            #[doc = concat!("let mut reader = writer.add_reader(", $reader, ");")]
            /// writer.push_slice(b"ab");
            /// let err = reader.try_consume(3).unwrap_err();
            /// assert!(matches!(err, RingError::ConsumeTooMuch { requested: 3, available: 2 }));
            /// reader.try_consume(2).unwrap();
            /// ```
            pub fn try_consume(&mut self, n: usize) -> Result<(), RingError> {
                self.core.consume(n)
            }

            /// [`consume`](Self::consume) of `n` items, or of all that the last slice showed when
            /// that is fewer: the byte streams' `BufRead::consume`, which takes a caller's amount
            /// past what `fill_buf` gave as std's and tokio's `BufReader`s do (all of their buffer,
            /// never bytes past it), rather than panic. As theirs, the last slice may be one a
            /// `read` took and returned only part of.
            #[allow(dead_code)] // only byte readers of some flavours call it
            pub(crate) fn consume_at_most(&mut self, n: usize) {
                let shown = self.core.seen();
                // At most what was published when the slice was taken, which is there still.
                let _ = self.core.consume(n.min(shown));
            }

            /// Why the writer aborted ([`Writer::abort`], or a panic in its thread), once it has:
            /// `None` while it writes and after a normal end. It tells an aborted stream from a
            /// finished one where the slices show only the end (`None`); the reason is there as
            /// soon as the writer aborts, before the reader has read what was published.
            ///
            /// ```
            #[doc = concat!("use omnibuf::ring::", stringify!($module), "::Circular;")]
            ///
            #[doc = concat!("let mut writer = Circular::with_capacity::<u8>(64", $new, ").unwrap();")]
            #[doc = concat!("let reader = writer.add_reader(", $reader, ");")]
            /// drop(writer); // a normal end
            /// assert_eq!(reader.abort_reason(), None);
            /// ```
            pub fn abort_reason(&self) -> Option<&str> {
                self.core.abort_reason()
            }
        }
    };
}

pub(crate) use flavour;
