//! The generic flavour: the ring never waits; it calls a [`Notifier`] of yours when a writer that
//! found no room may find some, or a reader that found no data may find some. How that wakes anyone —
//! a channel, an event loop, a condition variable, a task — is up to the notifier.
//!
//! `slice()` returns at once. When it comes back empty it also *arms* the caller's notifier: the next
//! change that may help (a reader consuming, for the writer; the writer producing or going away, for
//! a reader) calls it once, then it is disarmed until the next empty `slice()`. No change is missed:
//! a change that races with the arming is either seen by `slice()` or notified. A notification may be
//! spurious (for the writer, a reader that is not the slowest may have consumed): call `slice()` again,
//! which re-arms if there is still nothing.
//!
//! ```
//! use std::sync::mpsc;
//! use omnibuf::ring::generic::Circular;
//!
//! #[derive(Debug, PartialEq)]
//! enum Event { Room, Data }
//! let (events, inbox) = mpsc::channel();
//! let (room, data) = (events.clone(), events);
//! // A notifier ignores a closed channel: its receiver may be gone.
//! let mut writer = Circular::with_capacity::<u32>(1024, move || drop(room.send(Event::Room))).unwrap();
//! let mut reader = writer.add_reader(move || drop(data.send(Event::Data)));
//!
//! assert_eq!(reader.slice(), Some(&[][..])); // nothing yet: the reader's notifier is armed
//! writer.slice()[..3].copy_from_slice(&[1, 2, 3]);
//! writer.produce(3);
//! assert_eq!(inbox.try_recv(), Ok(Event::Data)); // called once, from `produce`
//! assert_eq!(reader.slice(), Some(&[1, 2, 3][..]));
//! reader.consume(3);
//! assert!(inbox.try_recv().is_err()); // the writer never found the ring full: not armed
//! ```

use std::sync::Arc;
use std::task::{Context, Wake, Waker};

use super::core::Pollers;

super::flavour::flavour!(@handles generic, ", || {}", "|| {}", "slice" { notifier: Waker });

/// What the ring calls when the writer may find room or a reader may find data. It is called from
/// whichever thread made the change (inside `produce`, `consume`, or a drop), with no lock of the ring
/// held, so it may call back into the ring; it should return quickly. One that panics (as its drop
/// that panics) is reported by the panic hook and goes no further: the other notifiers of the change
/// still run, and the call that made the change returns as usual. A handle's
/// notifier is not called after the handle is dropped, except by a notification already under way at
/// that moment: in another thread, or in this one when another notifier of the same wake-up dropped
/// the handle. A notifier must tolerate its receiver being gone (a closed channel).
///
/// Closures `Fn()` are notifiers:
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
/// use omnibuf::ring::generic::{Circular, Notifier};
///
/// let calls = Arc::new(AtomicUsize::new(0));
/// let counter = calls.clone();
/// let notifier = move || { counter.fetch_add(1, Ordering::Relaxed); };
/// notifier.notify();
/// assert_eq!(calls.load(Ordering::Relaxed), 1);
/// let mut writer = Circular::with_capacity::<u8>(16, notifier).unwrap();
/// # drop(writer.add_reader(|| {}));
/// ```
pub trait Notifier: Send + Sync + 'static {
    /// The other side changed the ring: `slice()` may now have something.
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
    /// use omnibuf::ring::generic::{Circular, Notifier};
    ///
    /// struct Count(Arc<AtomicUsize>);
    /// impl Notifier for Count {
    ///     fn notify(&self) { self.0.fetch_add(1, Ordering::Relaxed); }
    /// }
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let mut writer = Circular::with_capacity::<u8>(16, || {}).unwrap();
    /// let mut reader = writer.add_reader(Count(calls.clone()));
    /// assert_eq!(reader.slice(), Some(&[][..])); // nothing yet: armed
    /// writer.push_slice(b"!");
    /// assert_eq!(calls.load(Ordering::Relaxed), 1);
    /// ```
    fn notify(&self);
}

impl<F: Fn() + Send + Sync + 'static> Notifier for F {
    fn notify(&self) {
        self()
    }
}

/// A notifier as a [`Waker`], so that the ring's wake-up handshake (shared with the async flavour)
/// arms and calls it.
struct NotifierWaker<N>(N);

impl<N: Notifier> Wake for NotifierWaker<N> {
    fn wake(self: Arc<Self>) {
        self.0.notify();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.notify();
    }
}

fn waker(notifier: impl Notifier) -> Waker {
    Waker::from(Arc::new(NotifierWaker(notifier)))
}

/// Builds the writer of a ring of the generic flavour.
///
/// ```
/// use omnibuf::ring::generic::Circular;
///
/// // The notifier says when the writer may find room again (here: nobody listens).
/// let writer = Circular::with_capacity::<u64>(1000, || {}).unwrap();
/// assert!(writer.capacity() >= 1000); // rounded up to whole pages
/// ```
pub struct Circular;

impl Circular {
    /// A ring of the smallest capacity, the same on either backend: the fewest items that fill whole
    /// pages (64 KiB granules on Windows), as double mapping rounds them (see the other flavours'
    /// `new`); `notifier` as in
    /// [`with_capacity`](Self::with_capacity), which also says when it fails.
    ///
    /// ```
    /// use omnibuf::ring::generic::Circular;
    ///
    /// let writer = Circular::new::<u32>(|| {}).unwrap();
    /// assert_eq!(writer.capacity() * 4 % 4096, 0); // whole pages of u32
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new<T: Item>(notifier: impl Notifier) -> Result<Writer<T>, RingError> {
        Self::with_capacity(crate::platform::ring_memory::minimum_items(std::mem::size_of::<T>()), notifier)
    }

    /// A ring of at least `min_items` items (rounded up, see [`Writer::capacity`]); `notifier` is
    /// called when the writer, having found no room, may find some. Fails with
    /// [`RingError::Memory`] as the other flavours' constructors do (see
    /// [`sync::Circular::with_capacity`](crate::ring::sync::Circular::with_capacity)).
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use omnibuf::ring::generic::Circular;
    ///
    /// let (tx, room) = mpsc::channel();
    /// let mut writer = Circular::with_capacity::<u8>(64, move || drop(tx.send(()))).unwrap();
    /// let mut reader = writer.add_reader(|| {});
    /// writer.produce(writer.capacity());
    /// assert!(writer.slice().is_empty()); // full: the writer's notifier is armed
    /// reader.consume(1);
    /// assert_eq!(room.try_recv(), Ok(())); // called from `consume`
    /// assert_eq!(writer.slice().len(), 1);
    /// ```
    pub fn with_capacity<T: Item>(min_items: usize, notifier: impl Notifier) -> Result<Writer<T>, RingError> {
        Self::with_options(min_items, &RingOptions::default(), notifier)
    }

    /// Like [`with_capacity`](Self::with_capacity), with a backend and mapping options. Fails as
    /// it does, and also when the options ask for double mapping that this system, or the alignment
    /// of `T`, does not allow.
    ///
    /// ```
    /// use omnibuf::ring::{generic::Circular, RingBackend, RingOptions};
    ///
    /// let options = RingOptions::default().backend(RingBackend::MirrorCopy);
    /// let writer = Circular::with_options::<u16>(100, &options, || {}).unwrap();
    /// assert_eq!(writer.backend(), RingBackend::MirrorCopy);
    /// assert_eq!(writer.capacity(), 100); // the mirror is not rounded to pages
    /// ```
    pub fn with_options<T: Item>(
        min_items: usize,
        options: &RingOptions,
        notifier: impl Notifier,
    ) -> Result<Writer<T>, RingError> {
        Self::build(min_items, options, Tagging::Off, notifier)
    }

    /// A ring whose writer can attach tags of type `G` to items ([`Writer::produce_with_tags`]) and
    /// whose readers receive them ([`Reader::slice_with_tags`]). Fails as
    /// [`with_options`](Self::with_options) does.
    ///
    /// ```
    /// use omnibuf::ring::{generic::Circular, RingOptions};
    ///
    /// let mut writer = Circular::with_tags::<u8, String>(64, &RingOptions::default(), || {}).unwrap();
    /// let mut reader = writer.add_reader(|| {});
    /// writer.slice()[..2].copy_from_slice(b"hi");
    /// writer.produce_with_tags(2, &[(1, "second byte".to_string())]);
    /// let (items, tags) = reader.slice_with_tags().unwrap();
    /// assert_eq!(items, b"hi");
    /// assert_eq!(tags.get(0), Some((1, &"second byte".to_string())));
    /// ```
    pub fn with_tags<T: Item, G: Clone>(
        min_items: usize,
        options: &RingOptions,
        notifier: impl Notifier,
    ) -> Result<Writer<T, G>, RingError> {
        Self::build(min_items, options, Tagging::On, notifier)
    }

    fn build<T: Item, G>(
        min_items: usize,
        options: &RingOptions,
        tagging: Tagging,
        notifier: impl Notifier,
    ) -> Result<Writer<T, G>, RingError> {
        let ring = Ring::new(min_items, options)?;
        // Waiters: the cores run the wake-up handshake, whose only waiters here are notifiers.
        Ok(Writer { core: WriterCore::new(ring, Waking::Waiters, tagging), notifier: waker(notifier) })
    }
}

impl<T: Item, G> Writer<T, G> {
    /// A new reader, which sees what is produced from now on; `notifier` is called when the reader,
    /// having found no data, may find some (or the end).
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use omnibuf::ring::generic::Circular;
    ///
    /// let (tx, data) = mpsc::channel();
    /// let mut writer = Circular::with_capacity::<u8>(64, || {}).unwrap();
    /// let mut reader = writer.add_reader(move || drop(tx.send(())));
    /// assert_eq!(reader.slice(), Some(&[][..])); // nothing yet: the reader's notifier is armed
    /// writer.slice()[0] = b'x';
    /// writer.produce(1);
    /// assert_eq!(data.try_recv(), Ok(())); // called from `produce`
    /// assert_eq!(reader.slice(), Some(&b"x"[..]));
    /// ```
    pub fn add_reader(&mut self, notifier: impl Notifier) -> Reader<T, G> {
        Reader { core: self.core.add_reader(), notifier: waker(notifier) }
    }

    /// Free slots as one slice, at once: empty when the slowest reader is a full ring behind, and then
    /// the writer's notifier is armed. It may be shorter than all that is free (see the module docs of
    /// [`ring`](crate::ring)).
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use omnibuf::ring::generic::Circular;
    ///
    /// let (tx, room) = mpsc::channel();
    /// let mut writer = Circular::with_capacity::<u8>(64, move || drop(tx.send(()))).unwrap();
    /// let mut reader = writer.add_reader(|| {});
    /// let cap = writer.capacity();
    /// assert_eq!(writer.slice().len(), cap);
    /// writer.produce(cap);
    /// assert!(writer.slice().is_empty()); // full, and now armed
    /// reader.consume(cap);
    /// assert_eq!(room.try_recv(), Ok(()));
    /// assert_eq!(writer.slice().len(), cap);
    /// ```
    pub fn slice(&mut self) -> &mut [T] {
        if self.core.free() == 0 {
            // Pending means armed; ready means room came meanwhile.
            let _ = self
                .core
                .poll_room(&mut Context::from_waker(&self.notifier), Pollers::Each, |core| core.free() > 0);
        }
        self.core.slice()
    }
}

impl<T: Item, G> Reader<T, G> {
    /// Items not yet consumed, as one slice, at once: empty when there are none, and then the reader's
    /// notifier is armed; `None` once the writer is gone and everything it wrote was consumed. It may
    /// hold fewer than all that is published (see the module docs of [`ring`](crate::ring)).
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use omnibuf::ring::generic::Circular;
    ///
    /// let (tx, data) = mpsc::channel();
    /// let mut writer = Circular::with_capacity::<u8>(64, || {}).unwrap();
    /// let mut reader = writer.add_reader(move || drop(tx.send(())));
    /// assert_eq!(reader.slice(), Some(&[][..])); // nothing yet: armed
    /// drop(writer);
    /// assert_eq!(data.try_recv(), Ok(())); // the end is news too
    /// assert_eq!(reader.slice(), None);
    /// ```
    pub fn slice(&mut self) -> Option<&[T]> {
        self.arm_if_empty();
        self.core.slice()
    }

    /// Like [`slice`](Self::slice), with the tags attached to its items (see
    /// [`Writer::produce_with_tags`]). A tag comes again with every slice until its item is consumed.
    ///
    /// ```
    /// use omnibuf::ring::{generic::Circular, RingOptions};
    ///
    /// let mut writer = Circular::with_tags::<u8, &str>(64, &RingOptions::default(), || {}).unwrap();
    /// let mut reader = writer.add_reader(|| {});
    /// writer.slice()[..2].copy_from_slice(b"ab");
    /// writer.produce_with_tags(2, &[(1, "b")]);
    /// reader.consume(1);
    /// let (items, tags) = reader.slice_with_tags().unwrap();
    /// assert_eq!(items, b"b");
    /// assert_eq!(tags.get(0), Some((0, &"b"))); // offsets count from the slice's start
    /// ```
    pub fn slice_with_tags(&mut self) -> Option<(&[T], Tags<'_, G>)> {
        self.arm_if_empty();
        self.core.slice_with_tags()
    }

    fn arm_if_empty(&mut self) {
        if self.core.available() == 0 && !self.core.finished() {
            let _ = self.core.poll_data(&mut Context::from_waker(&self.notifier), Pollers::Each, |core| {
                core.available() > 0 || core.finished()
            });
        }
    }
}

// A dropped handle's notifier stays registered until the next change would call it: unregister it
// now, so that it is not called for a handle that no longer exists.
impl<T: Item, G> Drop for Writer<T, G> {
    fn drop(&mut self) {
        self.core.forget_room_waker(&self.notifier);
    }
}

impl<T: Item, G> Drop for Reader<T, G> {
    fn drop(&mut self) {
        self.core.forget_data_waker(&self.notifier);
    }
}
