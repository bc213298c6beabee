//! Model-based tests of the virtual buffer against a `Vec<u8>`: random edits, reads, searches, lines,
//! undo/redo, save, and byte iterators alive across edits, whose positions are checked against the
//! model's own mapping. Runs with the default options and with tiny blocks and nodes, so that small
//! inputs cross every block, cache and tree boundary.
// The test aids (omnibuf::testing) come with the `testing` feature, which the suites turn on.
#![cfg(feature = "testing")]

use omnibuf::vbuf::{Bias, VirtualBuffer, VirtualBufferOptions};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Insert {
        at: u16,
        bytes: Vec<u8>,
    },
    Delete {
        at: u16,
        len: u16,
    },
    Replace {
        at: u16,
        len: u16,
        bytes: Vec<u8>,
    },
    Read {
        at: u16,
        len: u16,
    },
    Find {
        at: u16,
        pattern: Vec<u8>,
    },
    /// A find of a piece of the content itself (from `from`, `len` bytes): longer patterns that match.
    FindPiece {
        at: u16,
        from: u16,
        len: u8,
    },
    Lines {
        at: u16,
    },
    Undo,
    Redo,
    Save,
    NewIter {
        at: u16,
        after: bool,
    },
    Step {
        which: u8,
        forward: bool,
        n: u8,
    },
    DropIter {
        which: u8,
    },
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    // Few distinct bytes, so that patterns, LFs and CRLFs are common.
    proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'\n'), Just(b'\r')], 0..12)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<u16>(), bytes()).prop_map(|(at, bytes)| Op::Insert { at, bytes }),
        2 => (any::<u16>(), 0u16..10).prop_map(|(at, len)| Op::Delete { at, len }),
        2 => (any::<u16>(), 0u16..10, bytes()).prop_map(|(at, len, bytes)| Op::Replace { at, len, bytes }),
        2 => (any::<u16>(), 0u16..40).prop_map(|(at, len)| Op::Read { at, len }),
        1 => (any::<u16>(), proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'\n')], 1..4))
            .prop_map(|(at, pattern)| Op::Find { at, pattern }),
        1 => (any::<u16>(), any::<u16>(), 1u8..80).prop_map(|(at, from, len)| Op::FindPiece { at, from, len }),
        1 => any::<u16>().prop_map(|at| Op::Lines { at }),
        1 => Just(Op::Undo),
        1 => Just(Op::Redo),
        1 => Just(Op::Save),
        1 => (any::<u16>(), any::<bool>()).prop_map(|(at, after)| Op::NewIter { at, after }),
        3 => (any::<u8>(), any::<bool>(), 1u8..20).prop_map(|(which, forward, n)| Op::Step { which, forward, n }),
        1 => any::<u8>().prop_map(|which| Op::DropIter { which }),
    ]
}

/// A change as the model records it, for undo/redo.
#[derive(Debug, Clone)]
struct Change {
    at: usize,
    removed: Vec<u8>,
    inserted: Vec<u8>,
}

struct Model {
    bytes: Vec<u8>,
    undo: Vec<Change>,
    redo: Vec<Change>,
    /// The undo stack's depth at the content last saved (or opened), while undo or redo can reach it.
    saved: Option<usize>,
    /// The most changes the undo stack keeps (the oldest are forgotten).
    undo_limit: usize,
    /// Live iterators: the real one and where the model says it is.
    iters: Vec<(omnibuf::vbuf::ByteIterator, usize, Bias)>,
}

impl Model {
    /// Applies a new edit and records it: the redo stack goes, and the saved content with it if it
    /// was there; past the limit the oldest change goes, and the saved content with it if it was
    /// the one below that change.
    fn record(&mut self, c: Change) {
        self.apply(&c);
        if self.saved.is_some_and(|depth| depth > self.undo.len()) {
            self.saved = None;
        }
        self.redo.clear();
        self.undo.push(c);
        if self.undo.len() > self.undo_limit {
            self.undo.remove(0);
            self.saved = self.saved.and_then(|depth| depth.checked_sub(1));
        }
    }

    /// Applies a change to the bytes and maps every iterator as delete-then-insert.
    fn apply(&mut self, c: &Change) {
        self.bytes.splice(c.at..c.at + c.removed.len(), c.inserted.iter().copied());
        for (_, pos, bias) in &mut self.iters {
            let (at, del, ins) = (c.at, c.removed.len(), c.inserted.len());
            if del > 0 {
                *pos = if *pos >= at + del {
                    *pos - del
                } else if *pos > at {
                    at
                } else {
                    *pos
                };
            }
            if ins > 0 && (at < *pos || (at == *pos && *bias == Bias::After)) {
                *pos += ins;
            }
        }
    }
}

fn clamp(at: u16, len: usize) -> usize {
    at as usize % (len + 1)
}

/// `find` from `at` and `rfind` up to `at` of `pattern` against the model's bytes.
fn check_find(buf: &VirtualBuffer, bytes: &[u8], at: usize, pattern: &[u8]) -> Result<(), TestCaseError> {
    let first = bytes[at..].windows(pattern.len()).position(|w| w == pattern).map(|i| (at + i) as u64);
    prop_assert_eq!(buf.find(pattern, at as u64..).unwrap(), first);
    let last = bytes[..at].windows(pattern.len()).rposition(|w| w == pattern).map(|i| i as u64);
    prop_assert_eq!(buf.rfind(pattern, ..at as u64).unwrap(), last);
    Ok(())
}

fn line_model(bytes: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(bytes.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i + 1))
        .collect()
}

fn run(initial: Vec<u8>, ops: Vec<Op>, options: VirtualBufferOptions) -> Result<(), TestCaseError> {
    let buf = VirtualBuffer::from_bytes_with(initial.clone(), options).unwrap();
    let mut m = Model {
        bytes: initial,
        undo: Vec::new(),
        redo: Vec::new(),
        saved: Some(0),
        undo_limit: options.undo_limit,
        iters: Vec::new(),
    };
    for op in ops {
        let len = m.bytes.len();
        match op {
            Op::Insert { at, bytes } => {
                let at = clamp(at, len);
                buf.insert(at as u64, &bytes).unwrap();
                if !bytes.is_empty() {
                    m.record(Change { at, removed: vec![], inserted: bytes });
                }
            }
            Op::Delete { at, len: n } | Op::Replace { at, len: n, .. } => {
                let at = clamp(at, len);
                let end = (at + n as usize).min(len);
                let bytes = if let Op::Replace { bytes, .. } = &op { bytes.clone() } else { vec![] };
                buf.replace(at as u64..end as u64, &bytes).unwrap();
                if at != end || !bytes.is_empty() {
                    m.record(Change { at, removed: m.bytes[at..end].to_vec(), inserted: bytes });
                }
            }
            Op::Read { at, len: n } => {
                let at = clamp(at, len);
                let end = at + n as usize;
                if end > len {
                    prop_assert!(buf.read(at as u64..end as u64).is_err());
                } else {
                    prop_assert_eq!(&buf.read(at as u64..end as u64).unwrap()[..], &m.bytes[at..end]);
                    let mut dst = vec![0; end - at];
                    buf.read_into(at as u64, &mut dst).unwrap();
                    prop_assert_eq!(&dst[..], &m.bytes[at..end]);
                }
            }
            Op::FindPiece { at, from, len: n } => {
                let from = clamp(from, len);
                let pattern = m.bytes[from..(from + n as usize).min(len)].to_vec();
                if !pattern.is_empty() {
                    check_find(&buf, &m.bytes, clamp(at, len), &pattern)?;
                }
            }
            Op::Find { at, pattern } => check_find(&buf, &m.bytes, clamp(at, len), &pattern)?,
            Op::Lines { at } => {
                let starts = line_model(&m.bytes);
                prop_assert_eq!(buf.line_count().unwrap(), starts.len() as u64);
                let line = at as usize % starts.len();
                prop_assert_eq!(buf.line_to_offset(line as u64).unwrap(), starts[line] as u64);
                let off = clamp(at, len);
                let expected = starts.iter().filter(|&&s| s <= off).count() - 1;
                prop_assert_eq!(buf.offset_to_line(off as u64).unwrap(), expected as u64);
                // Walk a few lines both ways from `line`.
                let mut it = buf.lines(line as u64).unwrap();
                for k in line..(line + 3).min(starts.len()) {
                    let l = it.next().unwrap().unwrap();
                    let next = starts.get(k + 1).copied().unwrap_or(len);
                    let mut end = if k + 1 < starts.len() { next - 1 } else { len };
                    if k + 1 < starts.len() && end > starts[k] && m.bytes[end - 1] == b'\r' {
                        end -= 1;
                    }
                    prop_assert_eq!(
                        (l.number, l.start, l.end, l.next),
                        (k as u64, starts[k] as u64, end as u64, next as u64)
                    );
                }
                let back = it.prev().unwrap().unwrap();
                let again = it.next().unwrap().unwrap();
                prop_assert_eq!(back, again);
            }
            Op::Undo => {
                let real = buf.undo();
                prop_assert_eq!(real, !m.undo.is_empty());
                if let Some(c) = m.undo.pop() {
                    let inverse =
                        Change { at: c.at, removed: c.inserted.clone(), inserted: c.removed.clone() };
                    m.apply(&inverse);
                    m.redo.push(c);
                }
            }
            Op::Redo => {
                prop_assert_eq!(buf.redo(), !m.redo.is_empty());
                if let Some(c) = m.redo.pop() {
                    m.apply(&c);
                    m.undo.push(c);
                }
            }
            Op::Save => {
                buf.save().unwrap();
                m.saved = Some(m.undo.len());
            }
            Op::NewIter { at, after } => {
                let at = clamp(at, len);
                let mut it = buf.iter_at(at as u64).unwrap();
                let bias = if after { Bias::After } else { Bias::Before };
                it.set_bias(bias);
                m.iters.push((it, at, bias));
            }
            Op::Step { which, forward, n } => {
                if m.iters.is_empty() {
                    continue;
                }
                let i = which as usize % m.iters.len();
                let (it, pos, _) = &mut m.iters[i];
                prop_assert_eq!(it.position(), *pos as u64);
                for _ in 0..n {
                    if forward {
                        let expected = m.bytes.get(*pos).copied();
                        prop_assert_eq!(it.next(), expected);
                        if expected.is_some() {
                            *pos += 1;
                        }
                    } else {
                        let expected = pos.checked_sub(1).map(|p| m.bytes[p]);
                        prop_assert_eq!(it.prev(), expected);
                        if expected.is_some() {
                            *pos -= 1;
                        }
                    }
                }
            }
            Op::DropIter { which } => {
                if !m.iters.is_empty() {
                    let i = which as usize % m.iters.len();
                    m.iters.remove(i);
                }
            }
        }
        buf.check_invariants();
        prop_assert_eq!(buf.len(), m.bytes.len() as u64);
        prop_assert_eq!(buf.is_modified(), m.saved != Some(m.undo.len()));
        let stats = buf.stats();
        // The options' bounds on memory, each passed by at most the one block it leaves out.
        let block = options.block_size;
        prop_assert!(stats.cached_bytes <= options.cache_budget.saturating_add(block), "{stats:?}");
        prop_assert!(
            stats.unsaved_in_memory_bytes <= options.spill_threshold.saturating_add(block),
            "{stats:?}"
        );
        prop_assert_eq!(stats.live_iterators, m.iters.len());
        if m.iters.is_empty() {
            prop_assert_eq!(stats.edit_log_len, 0, "the log is pruned when no iterator is alive");
        }
    }
    prop_assert_eq!(&buf.read(..).unwrap()[..], &m.bytes[..]);
    let chunks: Vec<u8> = buf.chunks(..).unwrap().flat_map(|c| c.unwrap().to_vec()).collect();
    prop_assert_eq!(&chunks, &m.bytes);
    let mut back: Vec<u8> =
        buf.chunks(..).unwrap().rev().flat_map(|c| c.unwrap().to_vec().into_iter().rev()).collect();
    back.reverse();
    prop_assert_eq!(&back, &m.bytes);
    Ok(())
}

proptest! {
    #[test]
    fn matches_the_model_with_tiny_blocks(initial in bytes(), ops in proptest::collection::vec(op(), 1..80)) {
        run(initial, ops, VirtualBufferOptions::tiny())?;
    }

    #[test]
    fn matches_the_model_with_a_short_history(initial in bytes(), ops in proptest::collection::vec(op(), 1..80), undo_limit in 0..4usize) {
        run(initial, ops, VirtualBufferOptions { undo_limit, ..VirtualBufferOptions::tiny() })?;
    }

    #[test]
    fn matches_the_model_with_default_options(initial in bytes(), ops in proptest::collection::vec(op(), 1..80)) {
        run(initial, ops, VirtualBufferOptions::default())?;
    }
}

#[test]
fn very_long_lines_and_crlf_split_across_chunks() {
    // One 3 MiB line ending in CRLF, then a short one; blocks of 4 KiB, so the line spans hundreds of
    // chunks, and an edit puts the CR and the LF in different pieces.
    let mut bytes = vec![b'x'; 3 << 20];
    bytes.extend_from_slice(b"\r\nshort");
    let options = VirtualBufferOptions { block_size: 4096, ..VirtualBufferOptions::default() };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long-line");
    std::fs::write(&path, &bytes).unwrap();
    // Positional reads go through the 4 KiB block cache (a mapped file would give 4 MiB views).
    let buf = VirtualBuffer::open_with(&path, omnibuf::vbuf::FileBackend::Positional, options).unwrap();
    let cr = (3 << 20) as u64;
    buf.insert(cr + 1, b"").unwrap();
    buf.replace(cr + 1..cr + 2, b"\n").unwrap(); // the LF now lives in the add buffer
    assert_eq!(buf.line_count().unwrap(), 2);
    assert_eq!(buf.line_to_offset(1).unwrap(), cr + 2);
    assert_eq!(buf.offset_to_line(cr).unwrap(), 0);
    assert_eq!(buf.offset_to_line(cr + 2).unwrap(), 1);
    let mut lines = buf.lines(0).unwrap();
    let long = lines.next().unwrap().unwrap();
    assert_eq!(
        (long.start, long.end, long.next),
        (0, cr, cr + 2),
        "CRLF split across pieces is one terminator"
    );
    let short = lines.next().unwrap().unwrap();
    assert_eq!(buf.read(short.content()).unwrap(), b"short"[..]);
    assert!(lines.next().is_none());
    assert_eq!(lines.prev().unwrap().unwrap(), short);
    assert_eq!(lines.prev().unwrap().unwrap(), long);
    assert!(lines.prev().is_none());
}

/// A block size far above what is inserted costs only what is inserted: the add buffer's block grows
/// with its bytes (it used to take a whole block at the first insert: a panic for `usize::MAX`, an
/// abort of the process for 64 TiB). Edits, reads and undo still match the model.
#[test]
fn a_huge_block_size_costs_only_what_is_inserted() {
    for block_size in [usize::MAX, 1 << 46, (64 << 10) + 1] {
        let options = VirtualBufferOptions { block_size, ..VirtualBufferOptions::default() };
        let buf = VirtualBuffer::from_bytes_with(b"abc".to_vec(), options).unwrap();
        let mut model = b"abc".to_vec();
        buf.insert(0, b"x").unwrap();
        model.insert(0, b'x');
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        buf.insert(2, &big).unwrap();
        model.splice(2..2, big.iter().copied());
        for i in 0..1000u32 {
            buf.insert(u64::from(i * 7), b"y").unwrap();
            model.insert((i * 7) as usize, b'y');
        }
        assert_eq!(buf.read(..).unwrap(), model[..], "block size {block_size}");
        assert_eq!(buf.stats().inserted_bytes, 1 + 200_000 + 1000);
        buf.undo();
        model.remove(999 * 7);
        assert_eq!(buf.read(..).unwrap(), model[..]);
    }
}
