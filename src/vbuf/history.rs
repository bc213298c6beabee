//! Undo and redo: each edit is recorded as the pieces it removed and the pieces it inserted, so undoing
//! it is one more splice and costs no copy of the bytes.

use std::collections::VecDeque;

use super::tree::{Piece, SourceId};

/// An applied edit: at `offset`, `removed` was replaced by `inserted`.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) offset: u64,
    pub(crate) removed: Vec<Piece>,
    pub(crate) inserted: Vec<Piece>,
}

impl Change {
    pub(crate) fn removed_len(&self) -> u64 {
        self.removed.iter().map(|p| p.len).sum()
    }

    pub(crate) fn inserted_len(&self) -> u64 {
        self.inserted.iter().map(|p| p.len).sum()
    }

    /// The change that undoes this one.
    pub(crate) fn inverse(&self) -> Change {
        Change { offset: self.offset, removed: self.inserted.clone(), inserted: self.removed.clone() }
    }
}

/// The undo and redo stacks, the undo stack bounded to `limit` changes (the oldest are forgotten).
///
/// Each content the history can reach has a [`ContentId`]: the id of the recorded edit that made it,
/// or, below the oldest edit still on the undo stack, the id of the last one forgotten (0 for the
/// content the buffer began with). Undoing and redoing move between these ids, so a content reached
/// again by undo or redo has its id again, and a new edit gets an id never given before.
#[derive(Debug)]
pub(crate) struct History {
    undo: VecDeque<(ContentId, Change)>,
    redo: Vec<(ContentId, Change)>,
    limit: usize,
    /// The id of the content below the undo stack.
    bottom: ContentId,
    /// The last id given to an edit.
    last_id: ContentId,
}

/// Identifies a content of the buffer among those its edit history reached: two contents with one id
/// are the same bytes (two with different ids may be the same too, e.g. an edit typed again).
pub(crate) type ContentId = u64;

impl History {
    pub(crate) fn new(limit: usize) -> History {
        History { undo: VecDeque::new(), redo: Vec::new(), limit, bottom: 0, last_id: 0 }
    }

    /// The id of the current content.
    pub(crate) fn content(&self) -> ContentId {
        self.undo.back().map_or(self.bottom, |&(id, _)| id)
    }

    /// Records a new edit; it clears the redo stack.
    pub(crate) fn record(&mut self, change: Change) {
        self.last_id += 1;
        let id = self.last_id;
        self.redo.clear();
        if self.limit == 0 {
            self.bottom = id;
            return;
        }
        if self.undo.len() == self.limit {
            if let Some((forgotten, _)) = self.undo.pop_front() {
                self.bottom = forgotten;
            }
        }
        self.undo.push_back((id, change));
    }

    /// The change to apply to undo the last edit; it moves to the redo stack.
    pub(crate) fn undo(&mut self) -> Option<Change> {
        let (id, change) = self.undo.pop_back()?;
        let inverse = change.inverse();
        self.redo.push((id, change));
        Some(inverse)
    }

    /// The change to apply to redo the last undone edit; it moves back to the undo stack.
    pub(crate) fn redo(&mut self) -> Option<Change> {
        let (id, change) = self.redo.pop()?;
        self.undo.push_back((id, change.clone()));
        Some(change)
    }

    /// The sources the pieces of every change on either stack read.
    pub(crate) fn sources(&self) -> impl Iterator<Item = SourceId> + '_ {
        self.undo
            .iter()
            .chain(&self.redo)
            .flat_map(|(_, change)| change.removed.iter().chain(&change.inserted))
            .map(|piece| piece.source)
    }

    pub(crate) fn undo_len(&self) -> usize {
        self.undo.len()
    }

    pub(crate) fn redo_len(&self) -> usize {
        self.redo.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> Change {
        Change { offset: 0, removed: Vec::new(), inserted: Vec::new() }
    }

    #[test]
    fn undo_and_redo_come_back_to_the_ids_they_left() {
        let mut history = History::new(10);
        history.record(change());
        let first = history.content();
        history.record(change());
        let second = history.content();
        assert!(0 != first && first != second);
        history.undo();
        assert_eq!(history.content(), first);
        history.undo();
        assert_eq!(history.content(), 0);
        history.redo();
        history.redo();
        assert_eq!(history.content(), second);
        history.undo();
        history.record(change()); // `second` cannot be reached any more
        assert!(![0, first, second].contains(&history.content()));
    }

    #[test]
    fn forgotten_edits_leave_their_ids_below_the_stack() {
        let mut history = History::new(2);
        for _ in 0..3 {
            history.record(change());
        }
        let last = history.content();
        while history.undo().is_some() {}
        assert_eq!(history.content(), 1, "the content the first (forgotten) edit made");
        while history.redo().is_some() {}
        assert_eq!(history.content(), last);

        let mut none = History::new(0);
        none.record(change());
        let one = none.content();
        none.record(change());
        assert!(0 != one && one != none.content(), "each edit is a new content without a history");
        assert!(none.undo().is_none());
    }
}
