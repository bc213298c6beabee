//! Fuzzes the virtual buffer with edit sequences decoded from the input, against a `Vec<u8>` model,
//! with tiny blocks and nodes so that short inputs cross every boundary; checks the tree's invariants,
//! reads, a live iterator, lines and undo after each step.
//!
//! `cargo +nightly fuzz run vbuf_edits` (from the repository root).
#![no_main]

use libfuzzer_sys::fuzz_target;
use omnibuf::vbuf::{VirtualBuffer, VirtualBufferOptions};

fuzz_target!(|data: &[u8]| {
    let buf = VirtualBuffer::from_bytes_with(b"a\r\nbc\nd".to_vec(), VirtualBufferOptions::tiny()).unwrap();
    let mut model = b"a\r\nbc\nd".to_vec();
    let mut undo: Vec<Vec<u8>> = Vec::new();
    let mut it = buf.iter_at(0).unwrap();
    for step in data.chunks(4) {
        let [op, a, b, c] = [step[0], *step.get(1).unwrap_or(&0), *step.get(2).unwrap_or(&0), *step.get(3).unwrap_or(&0)];
        let len = model.len();
        let at = a as usize % (len + 1);
        let end = (at + b as usize % 8).min(len);
        match op % 4 {
            0 | 1 => {
                let bytes: Vec<u8> = (0..c % 6).map(|k| b"\r\nxy"[(k as usize + op as usize) % 4]).collect();
                if at == end && bytes.is_empty() {
                    continue;
                }
                undo.push(model.clone());
                buf.replace(at as u64..end as u64, &bytes).unwrap();
                model.splice(at..end, bytes);
            }
            2 => {
                if buf.undo() {
                    model = undo.pop().unwrap();
                }
            }
            _ => {
                let _ = it.seek(at as u64);
                assert_eq!(it.next(), model.get(at).copied());
            }
        }
        buf.check_invariants();
        assert_eq!(&buf.read(..).unwrap()[..], &model[..]);
        let lfs = model.iter().filter(|&&b| b == b'\n').count() as u64;
        assert_eq!(buf.line_count().unwrap(), lfs + 1);
    }
});
