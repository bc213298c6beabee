//! The edit log: how live iterators learn about edits made through other handles.
//!
//! Every edit gets the next version number and goes into the log in the same critical section that
//! changes the tree, so no one can see the new version without its edit (the flaw of the design's
//! first prototype). Each live iterator is registered at the version it last caught up to; the log
//! keeps only the edits some iterator still has to apply, and nothing at all when no iterator is alive.

use std::collections::{BTreeMap, VecDeque};

/// Which way a position moves when text is inserted exactly at it.
///
/// ```
/// use omnibuf::vbuf::{Bias, VirtualBuffer};
///
/// let buf = VirtualBuffer::from_bytes(b"ac".to_vec());
/// let mut before = buf.iter_at(1).unwrap();
/// let mut after = buf.iter_at(1).unwrap();
/// after.set_bias(Bias::After);
/// buf.insert(1, b"b").unwrap();
/// assert_eq!(before.next(), Some(b'b')); // stays before the insert and reads it
/// assert_eq!(after.next(), Some(b'c')); // moves past it
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Bias {
    /// Stay before the inserted bytes, so iterating forward reads them next (the default).
    #[default]
    Before,
    /// Move past the inserted bytes.
    After,
}

/// One change of the content, as positions see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edit {
    Insert { offset: u64, len: u64 },
    Delete { offset: u64, len: u64 },
}

impl Edit {
    /// Where `pos` ends up after this edit.
    ///
    /// A delete that covers the position moves it to the delete's start; an insert at the position
    /// moves it or not according to `bias`.
    pub(crate) fn map(self, pos: u64, bias: Bias) -> u64 {
        match self {
            Edit::Insert { offset, len } if offset < pos || (offset == pos && bias == Bias::After) => {
                pos + len
            }
            Edit::Insert { .. } => pos,
            Edit::Delete { offset, len } if pos >= offset + len => pos - len,
            Edit::Delete { offset, .. } if pos > offset => offset,
            Edit::Delete { .. } => pos,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct EditLog {
    /// `(version, edit)`: the edit that turned version `version - 1` into `version`.
    entries: VecDeque<(u64, Edit)>,
    /// Live iterators per version they last caught up to.
    readers: BTreeMap<u64, usize>,
    version: u64,
}

impl EditLog {
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// Records an edit and returns the new version.
    pub(crate) fn push(&mut self, edit: Edit) -> u64 {
        self.version += 1;
        if !self.readers.is_empty() {
            self.entries.push_back((self.version, edit));
        }
        self.version
    }

    /// Registers a new reader at the current version, which it returns.
    pub(crate) fn register(&mut self) -> u64 {
        *self.readers.entry(self.version).or_default() += 1;
        self.version
    }

    /// Unregisters a reader last at `version`.
    pub(crate) fn unregister(&mut self, version: u64) {
        if let Some(count) = self.readers.get_mut(&version) {
            *count -= 1;
            if *count == 0 {
                self.readers.remove(&version);
            }
        }
        self.prune();
    }

    /// Maps `pos` of a reader at `version` through every later edit, moves its registration to the
    /// current version, and returns the new position and version.
    pub(crate) fn catch_up(&mut self, version: u64, mut pos: u64, bias: Bias) -> (u64, u64) {
        if version == self.version {
            return (pos, version);
        }
        let first = self.entries.partition_point(|&(v, _)| v <= version);
        for &(_, edit) in self.entries.range(first..) {
            pos = edit.map(pos, bias);
        }
        self.unregister(version);
        (pos, self.register())
    }

    /// Drops the edits every live reader has applied (all of them when none is alive).
    fn prune(&mut self) {
        match self.readers.keys().next() {
            None => self.entries.clear(),
            Some(&oldest) => {
                while self.entries.front().is_some_and(|&(v, _)| v <= oldest) {
                    self.entries.pop_front();
                }
            }
        }
    }

    /// Edits kept for live readers.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Live readers.
    pub(crate) fn readers(&self) -> usize {
        self.readers.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_map_through_edits_as_documented() {
        let del = Edit::Delete { offset: 5, len: 3 };
        assert_eq!(del.map(5, Bias::Before), 5, "a delete starting at the position leaves it");
        assert_eq!(Edit::Delete { offset: 3, len: 7 }.map(5, Bias::Before), 3, "covered: clamp to start");
        assert_eq!(del.map(8, Bias::Before), 5);
        assert_eq!(del.map(9, Bias::Before), 6);
        assert_eq!(del.map(4, Bias::Before), 4);
        let ins = Edit::Insert { offset: 5, len: 2 };
        assert_eq!(ins.map(5, Bias::Before), 5);
        assert_eq!(ins.map(5, Bias::After), 7);
        assert_eq!(ins.map(4, Bias::After), 4);
        assert_eq!(ins.map(6, Bias::Before), 8);
    }

    #[test]
    fn the_log_keeps_only_what_live_readers_need() {
        let mut log = EditLog::default();
        log.push(Edit::Insert { offset: 0, len: 1 });
        assert_eq!(log.len(), 0, "no reader, nothing kept");
        let a = log.register();
        log.push(Edit::Insert { offset: 0, len: 1 });
        let b = log.register();
        log.push(Edit::Delete { offset: 0, len: 1 });
        assert_eq!(log.len(), 2);
        let (pos, a2) = log.catch_up(a, 1, Bias::Before);
        assert_eq!((pos, a2), (1, 3));
        assert_eq!(log.len(), 1, "only b still needs the delete");
        log.unregister(b);
        assert_eq!(log.len(), 0);
        log.unregister(a2);
        assert_eq!((log.len(), log.readers()), (0, 0));
    }
}
