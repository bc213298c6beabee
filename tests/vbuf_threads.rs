//! Several threads edit one virtual buffer while others iterate over it.
//!
//! Editors apply random edits to the buffer and to a `Vec<u8>` model under one lock, so both see the
//! same order; the final content must equal the model. Iterator threads step both ways without that
//! lock the whole time; every byte they read must come from the alphabet the editors write, and their
//! position must always lie inside the buffer. Once the editors stop, each iterator must read exactly
//! the model's bytes from its position to the end, and when the iterators drop the edit log must be
//! empty.
// The test aids (omnibuf::testing) come with the `testing` feature, which the suites turn on.
#![cfg(feature = "testing")]

use std::sync::{Arc, Mutex};
use std::thread;

use omnibuf::vbuf::{VirtualBuffer, VirtualBufferOptions};

/// A small xorshift generator, so the test needs no extra dependency and is reproducible per seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if n == 0 {
            0
        } else {
            self.0 % n
        }
    }
}

fn run(options: VirtualBufferOptions) {
    let initial: Vec<u8> = (0..2000).map(|i| b"abcd\n"[i % 5]).collect();
    let buf = VirtualBuffer::from_bytes_with(initial.clone(), options).unwrap();
    let model = Arc::new(Mutex::new(initial));
    let mut editors = Vec::new();
    for seed in 1..=2u64 {
        let (buf, model) = (buf.clone(), model.clone());
        editors.push(thread::spawn(move || {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            for _ in 0..3000 {
                let mut m = model.lock().unwrap();
                let len = m.len() as u64;
                let at = rng.below(len + 1);
                match rng.below(4) {
                    0 | 1 => {
                        let bytes: Vec<u8> = (0..rng.below(8)).map(|k| b"abcd\n"[k as usize % 5]).collect();
                        buf.insert(at, &bytes).unwrap();
                        m.splice(at as usize..at as usize, bytes);
                    }
                    2 => {
                        let end = (at + rng.below(10)).min(len);
                        buf.delete(at..end).unwrap();
                        m.drain(at as usize..end as usize);
                    }
                    _ => {
                        if buf.undo() {
                            // Undo order is the buffer's; replay the model from the buffer's content
                            // under the same lock.
                            *m = buf.read(..).unwrap().to_vec();
                        }
                    }
                }
            }
        }));
    }
    let mut iterators = Vec::new();
    for seed in 3..=4u64 {
        let (buf, model) = (buf.clone(), model.clone());
        iterators.push(thread::spawn(move || {
            let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
            let mut it = buf.iter_at(0).unwrap();
            let mut steps = 0u64;
            while steps < 200_000 {
                let forward = rng.below(3) != 0;
                for _ in 0..rng.below(64) {
                    let byte = if forward { it.next() } else { it.prev() };
                    if let Some(b) = byte {
                        assert!(b"abcd\n".contains(&b), "read a byte no editor wrote: {b}");
                    }
                    steps += 1;
                }
                let m = model.lock().unwrap(); // no edit can run while we hold it
                assert!(it.position() <= m.len() as u64, "position outside the buffer");
                drop(m);
                assert!(it.take_error().is_none());
            }
            it
        }));
    }
    for editor in editors {
        editor.join().unwrap();
    }
    // Join the iterators before taking the model's lock: a running iterator takes it after each run
    // of steps, so holding it while joining would wait forever.
    let iterators: Vec<_> = iterators.into_iter().map(|i| i.join().unwrap()).collect();
    let m = model.lock().unwrap();
    for mut it in iterators {
        // Editors are done: each iterator must read the model from its position on.
        let pos = it.position() as usize;
        let rest: Vec<u8> = it.by_ref().collect();
        assert_eq!(rest, m[pos..], "iterator at {pos} disagrees with the final content");
    }
    assert_eq!(buf.read(..).unwrap(), m[..]);
    buf.check_invariants();
    let stats = buf.stats();
    assert_eq!((stats.live_iterators, stats.edit_log_len), (0, 0), "{stats:?}");
}

#[test]
fn threads_edit_while_others_iterate() {
    run(VirtualBufferOptions::default());
}

#[test]
fn threads_edit_while_others_iterate_with_tiny_blocks() {
    run(VirtualBufferOptions {
        tree_fanout: 4,
        block_size: 16,
        cache_budget: 256,
        spill_threshold: 64,
        ..VirtualBufferOptions::tiny()
    });
}

/// A line iterator made while another thread edits starts at its line of the version it walks:
/// the line's offset and the content are never of two versions.
#[test]
fn a_line_iterator_made_during_edits_walks_one_version() {
    use std::sync::atomic::{AtomicBool, Ordering};

    let buf = VirtualBuffer::from_bytes(b"aaaa\nbbbb\ncccc".to_vec());
    let stop = Arc::new(AtomicBool::new(false));
    let editor = {
        let (buf, stop) = (buf.clone(), stop.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                buf.insert(0, b"\n").unwrap();
                buf.delete(0..1).unwrap();
            }
        })
    };
    for _ in 0..20_000 {
        let line = buf.lines(1).unwrap().next().unwrap().unwrap();
        // Line 1 is "bbbb" at 5..9, or, with the LF inserted at 0, "aaaa" at 1..5.
        let found = (line.number, line.start, line.end, line.next);
        assert!(found == (1, 5, 9, 10) || found == (1, 1, 5, 6), "a line of no version: {line:?}");
    }
    stop.store(true, Ordering::Relaxed);
    editor.join().unwrap();
}
