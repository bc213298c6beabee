//! The piece tree: the buffer's content as a sequence of pieces, held in a persistent B+ tree.
//!
//! A piece names a run of bytes in a *source*: the add buffer (bytes that edits inserted) or one of the
//! persistence layers the buffer has read from. The content is the concatenation of the pieces, so an
//! edit never touches file bytes: it splits pieces and inserts new ones, in O(log pieces).
//!
//! Nodes are immutable once shared (`Arc`), so a snapshot is one `Arc` clone and an edit copies only the
//! path it changes. When no snapshot is alive, `Arc::make_mut` finds every node on the path unshared
//! and edits it in place, so the common case allocates nothing beyond the new piece.
//!
//! Invariants (checked by [`Tree::check_invariants`]):
//! - every leaf is at the same depth;
//! - every node but the root holds between `max / 2` and `max` entries, the root at most `max`;
//! - no piece is empty; a node's `len` is the sum of its entries' lengths.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Which source a piece's bytes come from: [`ADD_SOURCE`] or a persistence layer's index plus one.
pub(crate) type SourceId = u32;

/// The source id of the add buffer, where inserted bytes live.
pub(crate) const ADD_SOURCE: SourceId = 0;

/// A run of `len` bytes at `offset` in the source `source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    pub(crate) source: SourceId,
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

impl Piece {
    /// The bytes `from..to` of this piece (relative to its start).
    pub(crate) fn sub(self, from: u64, to: u64) -> Piece {
        debug_assert!(from <= to && to <= self.len);
        Piece { source: self.source, offset: self.offset + from, len: to - from }
    }

    /// Whether `next` continues this piece in the same source, so the two can be one piece.
    fn continues_into(self, next: Piece) -> bool {
        self.source == next.source && self.offset + self.len == next.offset
    }
}

/// Marks a node whose newline count has not been computed.
const UNKNOWN: u64 = u64::MAX;

/// A node of the tree. `newlines` is a slot the line index fills lazily (see `vbuf::lines`); the byte
/// logic here only resets it whenever the node changes.
#[derive(Debug)]
pub(crate) struct Node {
    len: u64,
    newlines: AtomicU64,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Leaf(Vec<Piece>),
    Internal(Vec<Arc<Node>>),
}

impl Clone for Node {
    /// Cloning happens only in `Arc::make_mut` right before a change, so the clone starts with its
    /// newline count unknown.
    fn clone(&self) -> Self {
        Node { len: self.len, newlines: AtomicU64::new(UNKNOWN), body: self.body.clone() }
    }
}

impl Node {
    fn leaf(pieces: Vec<Piece>) -> Node {
        let len = pieces.iter().map(|p| p.len).sum();
        Node { len, newlines: AtomicU64::new(UNKNOWN), body: Body::Leaf(pieces) }
    }

    fn internal(children: Vec<Arc<Node>>) -> Node {
        let len = children.iter().map(|c| c.len).sum();
        Node { len, newlines: AtomicU64::new(UNKNOWN), body: Body::Internal(children) }
    }

    /// Number of pieces (leaf) or children (internal).
    fn entries(&self) -> usize {
        match &self.body {
            Body::Leaf(p) => p.len(),
            Body::Internal(c) => c.len(),
        }
    }

    /// Bytes under this node.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The pieces of a leaf, `None` for an internal node.
    pub(crate) fn pieces(&self) -> Option<&[Piece]> {
        match &self.body {
            Body::Leaf(p) => Some(p),
            Body::Internal(_) => None,
        }
    }

    /// The children of an internal node (empty for a leaf).
    pub(crate) fn children(&self) -> &[Arc<Node>] {
        match &self.body {
            Body::Leaf(_) => &[],
            Body::Internal(c) => c,
        }
    }

    /// The cached newline count under this node, if the line index computed it.
    pub(crate) fn cached_newlines(&self) -> Option<u64> {
        let n = self.newlines.load(Ordering::Relaxed);
        (n != UNKNOWN).then_some(n)
    }

    /// Caches the newline count under this node. Racing callers store the same value.
    pub(crate) fn cache_newlines(&self, n: u64) {
        self.newlines.store(n, Ordering::Relaxed);
    }
}

/// The persistent B+ tree of pieces. Cloning is O(1) and gives an independent snapshot.
#[derive(Debug, Clone)]
pub(crate) struct Tree {
    root: Arc<Node>,
    /// Most entries per node; tests use tiny values so small inputs cross every node boundary.
    max: usize,
}

impl Tree {
    /// The smallest fan-out that keeps the B-tree invariants meaningful.
    pub(crate) const MIN_FANOUT: usize = 4;

    /// A tree holding `pieces` (empty pieces are dropped), with at most `max` entries per node.
    pub(crate) fn new(pieces: Vec<Piece>, max: usize) -> Tree {
        let max = max.max(Self::MIN_FANOUT);
        let mut tree = Tree { root: Arc::new(Node::leaf(Vec::new())), max };
        tree.splice(0, 0, &pieces);
        tree
    }

    /// Total bytes.
    pub(crate) fn len(&self) -> u64 {
        self.root.len
    }

    /// Most entries per node.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    pub(crate) fn root(&self) -> &Arc<Node> {
        &self.root
    }

    /// Replaces the bytes `start..end` by `pieces`. Panics if the range is not inside the tree: the
    /// caller checks ranges and reports bad ones as errors.
    pub(crate) fn splice(&mut self, start: u64, end: u64, pieces: &[Piece]) {
        assert!(start <= end && end <= self.len(), "splice {start}..{end} outside 0..{}", self.len());
        let pieces: Vec<Piece> = pieces.iter().copied().filter(|p| p.len > 0).collect();
        if start == end && pieces.is_empty() {
            return;
        }
        let root = std::mem::replace(&mut self.root, Arc::new(Node::leaf(Vec::new())));
        let nodes = splice_node(root, start, end, &pieces, self.max);
        self.root = build_root(nodes, self.max);
    }

    /// The piece holding byte `offset` and the offset where that piece starts, or `None` at or past the
    /// end.
    pub(crate) fn piece_at(&self, offset: u64) -> Option<(Piece, u64)> {
        if offset >= self.len() {
            return None;
        }
        let mut node = &self.root;
        let mut base = 0;
        loop {
            match &node.body {
                Body::Internal(children) => {
                    let mut child_start = base;
                    let mut chosen = children.last().expect("internal nodes are never empty");
                    for child in children {
                        if offset < child_start + child.len {
                            chosen = child;
                            break;
                        }
                        child_start += child.len;
                    }
                    node = chosen;
                    base = child_start;
                }
                Body::Leaf(pieces) => {
                    let mut piece_start = base;
                    for &piece in pieces {
                        if offset < piece_start + piece.len {
                            return Some((piece, piece_start));
                        }
                        piece_start += piece.len;
                    }
                    unreachable!("offset {offset} < len but no piece holds it");
                }
            }
        }
    }

    /// Calls `visit(piece, piece_start)` for every piece overlapping `start..end`, in order, each clipped
    /// to the range. Stops early when `visit` returns `false`.
    pub(crate) fn for_each_piece(&self, start: u64, end: u64, visit: &mut dyn FnMut(Piece, u64) -> bool) {
        if start < end {
            visit_node(&self.root, 0, start, end, visit);
        }
    }

    /// The pieces of `start..end`, clipped to the range.
    pub(crate) fn pieces_in(&self, start: u64, end: u64) -> Vec<Piece> {
        let mut out = Vec::new();
        self.for_each_piece(start, end, &mut |p, _| {
            out.push(p);
            true
        });
        out
    }

    /// Number of pieces (walks the whole tree; for statistics and tests).
    pub(crate) fn piece_count(&self) -> usize {
        fn count(node: &Node) -> usize {
            match &node.body {
                Body::Leaf(p) => p.len(),
                Body::Internal(c) => c.iter().map(|c| count(c)).sum(),
            }
        }
        count(&self.root)
    }

    /// Checks the structural invariants listed in the module docs; panics with a description on the
    /// first violation. For tests and debugging.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn check_invariants(&self) {
        fn check(node: &Node, is_root: bool, max: usize, depth: usize, leaf_depth: &mut Option<usize>) {
            let entries = node.entries();
            assert!(entries <= max, "node with {entries} entries > max {max}");
            if !is_root {
                assert!(entries >= max / 2, "non-root node with {entries} entries < min {}", max / 2);
            }
            match &node.body {
                Body::Leaf(pieces) => {
                    assert!(pieces.iter().all(|p| p.len > 0), "empty piece in a leaf");
                    assert_eq!(node.len, pieces.iter().map(|p| p.len).sum::<u64>(), "leaf len");
                    match leaf_depth {
                        Some(d) => assert_eq!(*d, depth, "leaves at different depths"),
                        None => *leaf_depth = Some(depth),
                    }
                }
                Body::Internal(children) => {
                    assert!(!children.is_empty(), "empty internal node");
                    assert!(!is_root || children.len() >= 2, "root with a single child");
                    assert_eq!(node.len, children.iter().map(|c| c.len).sum::<u64>(), "internal len");
                    for child in children {
                        check(child, false, max, depth + 1, leaf_depth);
                    }
                }
            }
        }
        check(&self.root, true, self.max, 0, &mut None);
    }
}

fn visit_node(
    node: &Node,
    base: u64,
    start: u64,
    end: u64,
    visit: &mut dyn FnMut(Piece, u64) -> bool,
) -> bool {
    match &node.body {
        Body::Leaf(pieces) => {
            let mut piece_start = base;
            for &piece in pieces {
                let piece_end = piece_start + piece.len;
                if piece_end > start && piece_start < end {
                    let from = start.saturating_sub(piece_start);
                    let to = piece.len - piece_end.saturating_sub(end);
                    if !visit(piece.sub(from, to), piece_start + from) {
                        return false;
                    }
                }
                if piece_end >= end {
                    break;
                }
                piece_start = piece_end;
            }
            true
        }
        Body::Internal(children) => {
            let mut child_start = base;
            for child in children {
                let child_end = child_start + child.len;
                if child_end > start
                    && child_start < end
                    && !visit_node(child, child_start, start, end, visit)
                {
                    return false;
                }
                if child_end >= end {
                    break;
                }
                child_start = child_end;
            }
            true
        }
    }
}

/// Replaces `start..end` (relative to `node`) by `pieces` and returns the nodes, all of `node`'s height,
/// that take its place: none if everything went, several if it overflowed. The returned nodes may be
/// underfull; the caller merges them with their siblings.
fn splice_node(mut node: Arc<Node>, start: u64, end: u64, pieces: &[Piece], max: usize) -> Vec<Arc<Node>> {
    let inner = Arc::make_mut(&mut node);
    match &mut inner.body {
        Body::Leaf(old) => {
            let spliced = splice_pieces(old, start, end, pieces);
            if spliced.is_empty() {
                return Vec::new();
            }
            if spliced.len() <= max {
                *inner = Node::leaf(spliced);
                return vec![node];
            }
            split_evenly(spliced, max).into_iter().map(|p| Arc::new(Node::leaf(p))).collect()
        }
        Body::Internal(children) => {
            let old = std::mem::take(children);
            let spliced = splice_children(old, start, end, pieces, max);
            if spliced.is_empty() {
                return Vec::new();
            }
            if spliced.len() <= max {
                *inner = Node::internal(spliced);
                return vec![node];
            }
            split_evenly(spliced, max).into_iter().map(|c| Arc::new(Node::internal(c))).collect()
        }
    }
}

/// The pieces of a leaf with `start..end` replaced by `pieces`. An insert right after a piece that it
/// continues in the same source (typing at the end of the previous insert) extends that piece.
fn splice_pieces(old: &[Piece], start: u64, end: u64, pieces: &[Piece]) -> Vec<Piece> {
    let mut out = Vec::with_capacity(old.len() + pieces.len() + 1);
    let mut inserted = false;
    let insert = |out: &mut Vec<Piece>| {
        for &p in pieces {
            match out.last_mut() {
                Some(last) if last.continues_into(p) => last.len += p.len,
                _ => out.push(p),
            }
        }
    };
    let mut piece_start = 0;
    for &piece in old {
        let piece_end = piece_start + piece.len;
        if piece_end <= start {
            out.push(piece);
        } else if piece_start >= end {
            if !inserted {
                insert(&mut out);
                inserted = true;
            }
            out.push(piece);
        } else {
            if piece_start < start {
                out.push(piece.sub(0, start - piece_start));
            }
            if !inserted {
                insert(&mut out);
                inserted = true;
            }
            if piece_end > end {
                out.push(piece.sub(end - piece_start, piece.len));
            }
        }
        piece_start = piece_end;
    }
    if !inserted {
        insert(&mut out);
    }
    out
}

/// The children of an internal node with `start..end` replaced by `pieces`, underfull children merged.
fn splice_children(
    old: Vec<Arc<Node>>,
    start: u64,
    end: u64,
    pieces: &[Piece],
    max: usize,
) -> Vec<Arc<Node>> {
    let mut out: Vec<Arc<Node>> = Vec::with_capacity(old.len() + 2);
    let mut pieces_placed = false;
    let mut child_start = 0;
    let last = old.len() - 1;
    for (i, child) in old.into_iter().enumerate() {
        let child_end = child_start + child.len;
        // The child that receives the new pieces: for a pure insert, the first child whose range
        // reaches `start` (so an insert at a boundary lands after the previous piece and can extend it);
        // for a replacement, the first child overlapping the removed range.
        let receives = !pieces_placed
            && if start == end {
                start <= child_end || i == last
            } else {
                child_end > start && child_start < end
            };
        let overlaps = child_end > start && child_start < end;
        if receives {
            pieces_placed = true;
            let from = start.saturating_sub(child_start).min(child.len);
            let to = end.saturating_sub(child_start).min(child.len);
            out.extend(splice_node(child, from, to, pieces, max));
        } else if overlaps {
            if start <= child_start && child_end <= end {
                // Wholly removed: dropped without descending.
            } else {
                let from = start.saturating_sub(child_start);
                let to = end.saturating_sub(child_start).min(child.len);
                out.extend(splice_node(child, from, to, &[], max));
            }
        } else {
            out.push(child);
        }
        child_start = child_end;
    }
    merge_underfull(&mut out, max);
    out
}

/// Merges every child with fewer than `max / 2` entries into a neighbour (splitting the result in two
/// if it overflows), until all are full enough or one child is left.
fn merge_underfull(children: &mut Vec<Arc<Node>>, max: usize) {
    let min = max / 2;
    let mut i = 0;
    while i < children.len() {
        if children.len() == 1 || children[i].entries() >= min {
            i += 1;
            continue;
        }
        let (lo, hi) = if i + 1 < children.len() { (i, i + 1) } else { (i - 1, i) };
        let right = children.remove(hi);
        let left = children.remove(lo);
        let merged = concat_nodes(left, right, max);
        for (k, node) in merged.into_iter().enumerate() {
            children.insert(lo + k, node);
        }
        i = lo;
    }
}

/// The entries of two sibling nodes as one node, or two balanced ones if they do not fit in one.
///
/// Underfull nodes exist only along the paths a splice walked: a node whose only child is underfull
/// is itself underfull, so its parent merges it here, and the merge repairs the child in turn.
fn concat_nodes(left: Arc<Node>, right: Arc<Node>, max: usize) -> Vec<Arc<Node>> {
    let take = |n: Arc<Node>| Arc::try_unwrap(n).unwrap_or_else(|shared| (*shared).clone()).body;
    match (take(left), take(right)) {
        (Body::Leaf(mut a), Body::Leaf(b)) => {
            a.extend(b);
            split_evenly(a, max).into_iter().map(|p| Arc::new(Node::leaf(p))).collect()
        }
        (Body::Internal(mut a), Body::Internal(b)) => {
            a.extend(b);
            // A node left with one underfull child could not merge that child with anything; now that
            // the child has siblings again, it can.
            merge_underfull(&mut a, max);
            split_evenly(a, max).into_iter().map(|c| Arc::new(Node::internal(c))).collect()
        }
        _ => unreachable!("siblings have the same height"),
    }
}

/// Splits `items` into the fewest groups of at most `max`, of nearly equal size (so each holds at
/// least `max / 2` when there is more than one).
fn split_evenly<T>(items: Vec<T>, max: usize) -> Vec<Vec<T>> {
    let groups = items.len().div_ceil(max).max(1);
    if groups == 1 {
        return vec![items];
    }
    let (base, extra) = (items.len() / groups, items.len() % groups);
    let mut out = Vec::with_capacity(groups);
    let mut iter = items.into_iter();
    for g in 0..groups {
        out.push(iter.by_ref().take(base + usize::from(g < extra)).collect());
    }
    out
}

/// The root over `nodes` (all of one height): parents are added until one node is left, and a root
/// with a single child is replaced by that child.
fn build_root(mut nodes: Vec<Arc<Node>>, max: usize) -> Arc<Node> {
    if nodes.is_empty() {
        return Arc::new(Node::leaf(Vec::new()));
    }
    while nodes.len() > 1 {
        nodes = split_evenly(nodes, max).into_iter().map(|c| Arc::new(Node::internal(c))).collect();
    }
    let mut root = nodes.pop().expect("one node left");
    while let Body::Internal(children) = &root.body {
        if children.len() != 1 {
            break;
        }
        root = children[0].clone();
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each byte of the model is `(source, offset)` of the piece byte it came from.
    fn expand(tree: &Tree) -> Vec<(SourceId, u64)> {
        let mut out = Vec::new();
        tree.for_each_piece(0, tree.len(), &mut |p, _| {
            out.extend((p.offset..p.offset + p.len).map(|o| (p.source, o)));
            true
        });
        out
    }

    #[test]
    fn inserts_split_pieces_and_typing_extends_the_last_piece() {
        let mut t = Tree::new(vec![Piece { source: 1, offset: 0, len: 10 }], 4);
        t.splice(4, 4, &[Piece { source: ADD_SOURCE, offset: 0, len: 1 }]);
        t.splice(5, 5, &[Piece { source: ADD_SOURCE, offset: 1, len: 1 }]);
        assert_eq!(t.piece_count(), 3, "the second keystroke extends the first insert");
        assert_eq!(t.len(), 12);
        assert_eq!(t.piece_at(5), Some((Piece { source: ADD_SOURCE, offset: 0, len: 2 }, 4)));
        assert_eq!(t.piece_at(6), Some((Piece { source: 1, offset: 4, len: 6 }, 6)));
        assert_eq!(t.piece_at(12), None);
        t.check_invariants();
    }

    #[test]
    fn snapshots_are_unaffected_by_later_edits() {
        let mut t = Tree::new((0..50).map(|i| Piece { source: 1, offset: i * 100, len: 7 }).collect(), 4);
        let snapshot = t.clone();
        let before = expand(&snapshot);
        t.splice(3, 300, &[Piece { source: ADD_SOURCE, offset: 0, len: 5 }]);
        t.check_invariants();
        assert_eq!(expand(&snapshot), before);
        assert_eq!(t.len(), 350 - 297 + 5);
    }

    proptest! {
        // No failure file: it needs the working directory, which Miri hides.
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn splices_match_a_vec_model(
            max in 4usize..9,
            ops in proptest::collection::vec((any::<u16>(), any::<u16>(), 0u64..40, 0usize..4), 1..120),
        ) {
            let mut tree = Tree::new(Vec::new(), max);
            let mut model: Vec<(SourceId, u64)> = Vec::new();
            let mut next_offset = 0u64;
            for (a, b, len, count) in ops {
                let n = model.len() as u64;
                let start = if n == 0 { 0 } else { a as u64 % (n + 1) };
                let end = start + if n == start { 0 } else { b as u64 % (n - start + 1) };
                let pieces: Vec<Piece> = (0..count).map(|k| {
                    let p = Piece { source: 1 + (k as u32 % 2), offset: next_offset, len };
                    next_offset += len + 1; // never contiguous, so the model needs no merging
                    p
                }).collect();
                tree.splice(start, end, &pieces);
                let inserted: Vec<(SourceId, u64)> =
                    pieces.iter().flat_map(|p| (p.offset..p.offset + p.len).map(move |o| (p.source, o))).collect();
                model.splice(start as usize..end as usize, inserted);
                tree.check_invariants();
                prop_assert_eq!(tree.len(), model.len() as u64);
                prop_assert_eq!(expand(&tree), model.clone());
            }
            for at in 0..model.len() as u64 {
                let (p, s) = tree.piece_at(at).unwrap();
                prop_assert_eq!((p.source, p.offset + (at - s)), model[at as usize]);
            }
        }
    }
}
