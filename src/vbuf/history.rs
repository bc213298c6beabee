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
#[derive(Debug)]
pub(crate) struct History {
    undo: VecDeque<Change>,
    redo: Vec<Change>,
    limit: usize,
}

impl History {
    pub(crate) fn new(limit: usize) -> History {
        History { undo: VecDeque::new(), redo: Vec::new(), limit }
    }

    /// Records a new edit; it clears the redo stack.
    pub(crate) fn record(&mut self, change: Change) {
        if self.limit == 0 {
            return;
        }
        self.redo.clear();
        if self.undo.len() == self.limit {
            self.undo.pop_front();
        }
        self.undo.push_back(change);
    }

    /// The change to apply to undo the last edit; it moves to the redo stack.
    pub(crate) fn undo(&mut self) -> Option<Change> {
        let change = self.undo.pop_back()?;
        let inverse = change.inverse();
        self.redo.push(change);
        Some(inverse)
    }

    /// The change to apply to redo the last undone edit; it moves back to the undo stack.
    pub(crate) fn redo(&mut self) -> Option<Change> {
        let change = self.redo.pop()?;
        self.undo.push_back(change.clone());
        Some(change)
    }

    /// The sources the pieces of every change on either stack read.
    pub(crate) fn sources(&self) -> impl Iterator<Item = SourceId> + '_ {
        self.undo
            .iter()
            .chain(&self.redo)
            .flat_map(|change| change.removed.iter().chain(&change.inserted))
            .map(|piece| piece.source)
    }

    pub(crate) fn undo_len(&self) -> usize {
        self.undo.len()
    }

    pub(crate) fn redo_len(&self) -> usize {
        self.redo.len()
    }
}
