//! What every flavour's `Writer` and `Reader` share; a flavour adds only how `slice()` waits.

/// Defines `Circular`, `Writer<T>` and `Reader<T>` for a flavour whose cores wake `$waking`, with
/// every method but `slice()`.
macro_rules! flavour {
    ($waking:ident) => {
        use $crate::ring::core::{ReaderCore, Ring, Waking, WriterCore};
        use $crate::ring::{Item, RingBackend, RingError, RingOptions};

        /// Builds the writer of a ring of this flavour.
        pub struct Circular;

        impl Circular {
            /// A ring of at least `min_items` items (rounded up, see [`Writer::capacity`]).
            pub fn with_capacity<T: Item>(min_items: usize) -> Result<Writer<T>, RingError> {
                Self::with_options(min_items, &RingOptions::default())
            }

            /// Like [`with_capacity`](Self::with_capacity), with a backend and mapping options.
            pub fn with_options<T: Item>(
                min_items: usize,
                options: &RingOptions,
            ) -> Result<Writer<T>, RingError> {
                Ok(Writer { core: WriterCore::new(Ring::new(min_items, options)?, Waking::$waking) })
            }
        }

        /// The one writer of a ring.
        pub struct Writer<T: Item> {
            core: WriterCore<T>,
        }

        impl<T: Item> Writer<T> {
            /// A new reader, which sees what is produced from now on.
            pub fn add_reader(&mut self) -> Reader<T> {
                Reader { core: self.core.add_reader() }
            }

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

            /// The capacity in items, after rounding to whole items and pages.
            pub fn capacity(&self) -> usize {
                self.core.capacity()
            }

            /// The memory under the ring.
            pub fn backend(&self) -> RingBackend {
                self.core.backend()
            }
        }

        /// One reader of a ring.
        pub struct Reader<T: Item> {
            core: ReaderCore<T>,
        }

        impl<T: Item> Reader<T> {
            /// Marks the first `n` items of `slice()` as read.
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
