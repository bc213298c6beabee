//! Zero-copy buffers vs the `bytes` crate.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use omnibuf::{BufferKind, BufferMut, ZeroCopyBuffer};

use crate::harness::{Goal, Harness};

pub fn run(h: &mut Harness) {
    if !h.wants("buffers") {
        return;
    }
    eprintln!("buffers:");
    let ours = ZeroCopyBuffer::from_bytes(vec![7u8; 4096], BufferKind::raw());
    let theirs = Bytes::from(vec![7u8; 4096]);

    let o = h.time("ZeroCopyBuffer clone + drop", 0, || drop(black_box(black_box(&ours).clone())));
    let t = h.time("Bytes clone + drop", 0, || drop(black_box(black_box(&theirs).clone())));
    h.compare("buffers", "clone + drop", &o, "bytes::Bytes", &t, Goal::TimeRatioAtMost(1.1));

    let o = h.time("ZeroCopyBuffer slice + drop", 0, || {
        drop(black_box(black_box(&ours).slice(black_box(8)..black_box(1000))))
    });
    let t = h.time("Bytes slice + drop", 0, || {
        drop(black_box(black_box(&theirs).slice(black_box(8)..black_box(1000))))
    });
    h.compare("buffers", "slice + drop", &o, "bytes::Bytes", &t, Goal::TimeRatioAtMost(1.1));

    // A builder that starts small and grows: 32 appends of 64 bytes, then freeze and drop.
    let chunk = [3u8; 64];
    let o = h.time("BufferMut 32 x 64 B append + freeze", 2048, || {
        let mut b = BufferMut::with_capacity(64, BufferKind::raw());
        for _ in 0..32 {
            b.extend_from_slice(black_box(&chunk));
        }
        drop(black_box(b.freeze()));
    });
    let t = h.time("BytesMut 32 x 64 B append + freeze", 2048, || {
        let mut b = BytesMut::with_capacity(64);
        for _ in 0..32 {
            b.extend_from_slice(black_box(&chunk));
        }
        drop(black_box(b.freeze()));
    });
    h.compare("buffers", "append + freeze", &o, "bytes::BytesMut", &t, Goal::TimeRatioAtMost(1.0));
}
