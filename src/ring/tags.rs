//! Per-item tags: values the writer attaches to item positions, which every reader receives with the
//! items they belong to.
//!
//! Each reader has its own copy of every tag (tags are `Clone`; wrap large ones in an `Arc`). The
//! writer delivers the copies to a small per-reader inbox before it publishes the items, so a reader
//! that sees an item also finds its tags. A reader moves the inbox into a queue of its own and drops
//! each tag once it has consumed past it; a dropped reader drops its tags at once. A ring without tags
//! never touches any of this: its tag type is [`NoTags`], of which no value exists.

use std::collections::VecDeque;
use std::fmt;

use crate::sync::{AtomicBool, Mutex, Ordering::*};

/// The tag type of a ring without tags. It has no values, so no tag can ever be attached.
///
/// ```
/// use omnibuf::ring::{nonblocking::{Circular, Writer}, NoTags};
///
/// // Rings made without tags have `NoTags` as their tag type.
/// let writer: Writer<u8, NoTags> = Circular::with_capacity(64).unwrap();
/// assert!(writer.capacity() >= 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoTags {}

/// Whether a tag of type `G` can exist at all: not for [`NoTags`] (nor any other type without
/// values), whose `Option` is always `None` and so takes no room. A constant, so that a reader of a
/// ring whose tags cannot exist has no tag code on its paths, not even a branch never taken. Should
/// the layout rule ever change, this says `true`, and the tag code runs and finds no tags.
pub(crate) const fn tags_can_exist<G>() -> bool {
    std::mem::size_of::<Option<G>>() != 0
}

/// The tags attached to the items of a reader's slice, in item order, each with its item's offset in
/// that slice.
///
/// ```
/// use omnibuf::ring::{nonblocking::Circular, RingOptions};
///
/// let mut writer = Circular::with_tags::<f32, &str>(64, &RingOptions::default()).unwrap();
/// let mut reader = writer.add_reader();
/// writer.slice()[..4].copy_from_slice(&[0.0, 0.5, 1.0, 0.5]);
/// writer.produce_with_tags(4, &[(0, "burst start"), (2, "peak")]);
/// let (items, tags) = reader.slice_with_tags().unwrap();
/// assert_eq!(items.len(), 4);
/// let found: Vec<(usize, &str)> = tags.iter().map(|(offset, tag)| (offset, *tag)).collect();
/// assert_eq!(found, [(0, "burst start"), (2, "peak")]);
/// ```
pub struct Tags<'a, G> {
    /// The position of the slice's first item.
    start: u64,
    /// The reader's queue of tags at absolute item positions, ascending, from the slice's start on.
    /// Left as it lies, never made contiguous: with many tags pending that would move them all.
    queue: &'a VecDeque<(u64, G)>,
    /// How many of the queue's first tags fall inside the slice.
    len: usize,
}

impl<'a, G> Tags<'a, G> {
    /// How many tags fall inside the slice.
    ///
    /// ```
    /// use omnibuf::ring::{nonblocking::Circular, RingOptions};
    ///
    /// let mut writer = Circular::with_tags::<u8, u32>(64, &RingOptions::default()).unwrap();
    /// let mut reader = writer.add_reader();
    /// writer.produce_with_tags(3, &[(0, 10), (0, 11), (2, 12)]); // two tags on the first item
    /// assert_eq!(reader.slice_with_tags().unwrap().1.len(), 3);
    /// reader.consume(1);
    /// assert_eq!(reader.slice_with_tags().unwrap().1.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no tag falls inside the slice.
    ///
    /// ```
    /// use omnibuf::ring::{nonblocking::Circular, RingOptions};
    ///
    /// let mut writer = Circular::with_tags::<u8, u32>(64, &RingOptions::default()).unwrap();
    /// let mut reader = writer.add_reader();
    /// writer.produce_with_tags(2, &[]);
    /// assert!(reader.slice_with_tags().unwrap().1.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `i`-th tag with its item's offset in the slice.
    ///
    /// ```
    /// use omnibuf::ring::{nonblocking::Circular, RingOptions};
    ///
    /// let mut writer = Circular::with_tags::<u8, char>(64, &RingOptions::default()).unwrap();
    /// let mut reader = writer.add_reader();
    /// writer.produce_with_tags(4, &[(1, 'a'), (3, 'b')]);
    /// let (_, tags) = reader.slice_with_tags().unwrap();
    /// assert_eq!(tags.get(1), Some((3, &'b')));
    /// assert_eq!(tags.get(2), None);
    /// ```
    pub fn get(&self, i: usize) -> Option<(usize, &'a G)> {
        if i >= self.len {
            return None;
        }
        self.queue.get(i).map(|(position, tag)| ((position - self.start) as usize, tag))
    }

    /// The tags with their items' offsets in the slice, in item order.
    ///
    /// ```
    /// use omnibuf::ring::{nonblocking::Circular, RingOptions};
    ///
    /// let mut writer = Circular::with_tags::<u8, u8>(64, &RingOptions::default()).unwrap();
    /// let mut reader = writer.add_reader();
    /// writer.produce_with_tags(4, &[(0, 1), (2, 2), (3, 3)]);
    /// reader.consume(2);
    /// let (_, tags) = reader.slice_with_tags().unwrap();
    /// assert_eq!(tags.iter().collect::<Vec<_>>(), [(0, &2), (1, &3)]);
    /// ```
    pub fn iter(&self) -> TagsIter<'a, G> {
        TagsIter { start: self.start, tags: self.queue.range(..self.len) }
    }
}

impl<'a, G> Clone for Tags<'a, G> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<'a, G> Copy for Tags<'a, G> {}

impl<G: fmt::Debug> fmt::Debug for Tags<'_, G> {
    /// The first 16 `(offset, tag)` pairs, then how many more there are: a slice may carry a tag on
    /// every item, and printing it should stay short.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 16;
        let mut list = f.debug_list();
        list.entries(self.iter().take(SHOWN));
        if self.len() > SHOWN {
            list.entry(&format_args!("...{} more", self.len() - SHOWN));
        }
        list.finish()
    }
}

impl<'a, G> IntoIterator for Tags<'a, G> {
    type Item = (usize, &'a G);
    type IntoIter = TagsIter<'a, G>;

    fn into_iter(self) -> TagsIter<'a, G> {
        self.iter()
    }
}

/// Iterator over [`Tags`]: `(offset in the slice, tag)` pairs.
///
/// ```
/// use omnibuf::ring::{nonblocking::Circular, RingOptions};
///
/// let mut writer = Circular::with_tags::<u8, &str>(64, &RingOptions::default()).unwrap();
/// let mut reader = writer.add_reader();
/// writer.slice()[..3].copy_from_slice(b"abc");
/// writer.produce_with_tags(3, &[(1, "b starts here")]);
/// let (items, tags) = reader.slice_with_tags().unwrap();
/// assert_eq!(items, b"abc");
/// assert_eq!(tags.iter().collect::<Vec<_>>(), [(1, &"b starts here")]);
/// ```
pub struct TagsIter<'a, G> {
    start: u64,
    tags: std::collections::vec_deque::Iter<'a, (u64, G)>,
}

impl<'a, G> Iterator for TagsIter<'a, G> {
    type Item = (usize, &'a G);

    fn next(&mut self) -> Option<Self::Item> {
        self.tags.next().map(|(position, tag)| ((position - self.start) as usize, tag))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.tags.size_hint()
    }
}

impl<G> DoubleEndedIterator for TagsIter<'_, G> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.tags.next_back().map(|(position, tag)| ((position - self.start) as usize, tag))
    }
}

impl<G> ExactSizeIterator for TagsIter<'_, G> {}

impl<G> std::iter::FusedIterator for TagsIter<'_, G> {}

/// What the writer shares with one reader about tags.
pub(crate) struct TagInbox<G> {
    queue: Mutex<InboxQueue<G>>,
    /// Whether `queue` holds tags: lets the reader skip the lock when it does not. Set by the writer
    /// before it publishes the tagged items (so a reader that sees the items sees the flag), cleared by
    /// the reader; both under the lock.
    pending: AtomicBool,
}

struct InboxQueue<G> {
    tags: Vec<(u64, G)>,
    /// Set when the reader is dropped: the writer delivers nothing more.
    reader_gone: bool,
}

impl<G> Default for TagInbox<G> {
    fn default() -> Self {
        TagInbox {
            queue: Mutex::new(InboxQueue { tags: Vec::new(), reader_gone: false }),
            pending: AtomicBool::new(false),
        }
    }
}

impl<G> TagInbox<G> {
    /// The writer's side: hands the reader `tags` (absolute positions, ascending, after all delivered
    /// before). Call before publishing the items they belong to. Gives `tags` back if the reader is
    /// gone: tags run user code when dropped, which must run neither under the lock nor before the
    /// items are published.
    #[must_use]
    pub(crate) fn deliver(&self, tags: Vec<(u64, G)>) -> Option<Vec<(u64, G)>> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.reader_gone {
            return Some(tags);
        }
        queue.tags.extend(tags);
        self.pending.store(true, Relaxed);
        None
    }

    /// The reader's side: moves what was delivered to the end of `into`. Every tag delivered before
    /// the writer published the items this reader has seen is there afterwards: the reader's `Acquire`
    /// load of the write position ordered the delivery (and the flag) before this call.
    pub(crate) fn collect(&self, into: &mut VecDeque<(u64, G)>) {
        if !self.pending.load(Relaxed) {
            return;
        }
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        into.extend(queue.tags.drain(..));
        self.pending.store(false, Relaxed);
    }

    /// The reader is gone: drops what waits for it and refuses what comes later.
    pub(crate) fn close(&self) {
        let dropped = {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.reader_gone = true;
            std::mem::take(&mut queue.tags)
        };
        // Tags run user code when dropped: not under the lock.
        drop(dropped);
    }
}

/// One reader's tags, from its position on: what it collected from its inbox and has not consumed
/// past yet.
pub(crate) struct ReaderTags<G> {
    queue: VecDeque<(u64, G)>,
}

impl<G> Default for ReaderTags<G> {
    fn default() -> Self {
        ReaderTags { queue: VecDeque::new() }
    }
}

impl<G> ReaderTags<G> {
    /// The tags of the items `[start, end)`, after collecting what the inbox holds.
    pub(crate) fn view(&mut self, inbox: &TagInbox<G>, start: u64, end: u64) -> Tags<'_, G> {
        inbox.collect(&mut self.queue);
        // Everything before `start` was dropped by `consume_to`.
        debug_assert!(self.queue.front().is_none_or(|(p, _)| *p >= start));
        let len = self.queue.partition_point(|(position, _)| *position < end);
        Tags { start, queue: &self.queue, len }
    }

    /// The reader moved to `position`: drops the tags before it. They leave the queue together, so a
    /// tag whose drop panics leaves none of them behind.
    #[inline]
    pub(crate) fn consume_to(&mut self, inbox: &TagInbox<G>, position: u64) {
        inbox.collect(&mut self.queue);
        let consumed = self.queue.partition_point(|(p, _)| *p < position);
        if consumed > 0 {
            self.queue.drain(..consumed);
        }
    }
}
