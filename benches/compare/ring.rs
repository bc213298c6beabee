//! The ring vs vmcircbuffer (sync and lock-free), ringbuf and rtrb, and the memcpy roofline.
//!
//! Every contender moves the same bytes from a writer thread to a reader thread, at most one chunk per
//! operation: the writer copies a chunk in, the reader copies it out. Rings are built once per case,
//! so page faults of first use are not timed. The non-blocking contenders spin when full or empty.

use std::hint::{black_box, spin_loop};

use omnibuf::ring::{nonblocking, sync, RingBackend, RingOptions};

use crate::harness::{Goal, Harness};

const RINGS: [(usize, &str); 3] = [(64 << 10, "64 KiB"), (1 << 20, "1 MiB"), (64 << 20, "64 MiB")];
const CHUNKS: [(usize, &str); 3] = [(64, "64 B"), (4 << 10, "4 KiB"), (64 << 10, "64 KiB")];

pub fn run(h: &mut Harness) {
    if !h.wants("ring") {
        return;
    }
    eprintln!("ring:");
    let total: usize = if h.quick() { 8 << 20 } else { 64 << 20 };
    for (ring, ring_name) in RINGS {
        for (chunk, chunk_name) in CHUNKS {
            if chunk > ring {
                continue;
            }
            let case = format!("{chunk_name} chunks, {ring_name} ring");
            if !h.wants_case(&case) {
                continue;
            }
            let t = |name: &str| format!("{name}: {case}");
            // Steady state: every contender first moves twice its ring, so that no page is touched
            // for the first time while timed (rings differ in whether they fault memory in early).
            let warm = |mut f: Box<dyn FnMut()>| {
                for _ in 0..(2 * ring).div_ceil(total) {
                    f();
                }
                f
            };
            let bytes = total as u64;
            let ours_sync = h.time(&t("omnibuf sync"), bytes, warm(Box::new(ours_sync(ring, chunk, total))));
            let ours_nb = h.time(
                &t("omnibuf nonblocking"),
                bytes,
                warm(Box::new(ours_nonblocking(ring, chunk, total, None))),
            );
            let vmc_sync =
                h.time(&t("vmcircbuffer sync"), bytes, warm(Box::new(vmc_sync(ring, chunk, total))));
            let vmc_lf =
                h.time(&t("vmcircbuffer lockfree"), bytes, warm(Box::new(vmc_lockfree(ring, chunk, total))));
            let rb = h.time(&t("ringbuf"), bytes, warm(Box::new(ringbuf_run(ring, chunk, total))));
            let rt = h.time(&t("rtrb"), bytes, warm(Box::new(rtrb_run(ring, chunk, total))));
            let roof =
                h.time(&t("memcpy roofline (1 thread)"), bytes, warm(Box::new(roofline(ring, chunk, total))));
            let big = chunk >= 4 << 10;
            h.compare(
                "ring",
                &case,
                &ours_sync,
                "vmcircbuffer sync",
                &vmc_sync,
                Goal::TimeRatioAtMost(1.0 / 1.2),
            );
            h.compare(
                "ring",
                &case,
                &ours_nb,
                "vmcircbuffer lockfree",
                &vmc_lf,
                Goal::TimeRatioAtMost(1.0 / 1.2),
            );
            let peer_goal = if big { Goal::TimeRatioAtMost(1.0) } else { Goal::None };
            h.compare("ring", &case, &ours_nb, "ringbuf", &rb, peer_goal);
            h.compare("ring", &case, &ours_nb, "rtrb", &rt, peer_goal);
            let roof_goal = if chunk == 64 << 10 { Goal::TimeRatioAtMost(1.0 / 0.8) } else { Goal::None };
            h.compare("ring", &case, &ours_nb, "memcpy roofline", &roof, roof_goal);
            if chunk == 64 << 10 {
                // What the ring's own code costs per byte: the same copies through it on one thread,
                // so that neither the hand-over between cores nor the scheduler is in the figure.
                let one = h.time(
                    &t("omnibuf nonblocking, 1 thread"),
                    bytes,
                    warm(Box::new(ours_one_thread(ring, chunk, total))),
                );
                h.compare("ring", &format!("{case}, 1 thread"), &one, "memcpy roofline", &roof, Goal::None);
            }
        }
    }

    // The fallback's cost: the same work on mirror-copy memory (warmed up like the rest).
    for (chunk, chunk_name) in [(64usize, "64 B"), (4 << 10, "4 KiB")] {
        let case = format!("{chunk_name} chunks, 1 MiB ring");
        if !h.wants_case(&format!("backends, {case}")) {
            continue;
        }
        let mut timings = Vec::new();
        for backend in [RingBackend::DoubleMapped, RingBackend::MirrorCopy] {
            let mut run =
                ours_nonblocking(1 << 20, chunk, total, Some(RingOptions::default().backend(backend)));
            for _ in 0..(2usize << 20).div_ceil(total) {
                run();
            }
            timings.push(h.time(&format!("{backend}: {case}"), total as u64, run));
        }
        h.compare("ring backends", &case, &timings[1], "double-mapped (ours)", &timings[0], Goal::None);
    }

    let case = "one u64 at a time, 2 threads";
    if h.wants_case(case) {
        let items = if h.quick() { 200_000 } else { 2_000_000 };
        let o = h
            .time("omnibuf nonblocking: one u64 at a time (push/pop)", 0, ours_one_at_a_time(items))
            .per_op(items as u64);
        let s = h
            .time("omnibuf nonblocking: one u64 at a time (slices)", 0, ours_one_slice_at_a_time(items))
            .per_op(items as u64);
        let r = h.time("rtrb: one u64 at a time", 0, rtrb_one_at_a_time(items)).per_op(items as u64);
        h.compare("ring", case, &o, "rtrb", &r, Goal::TimeRatioAtMost(1.0));
        h.compare("ring", &format!("{case}, slice + produce(1)"), &s, "rtrb", &r, Goal::None);
    }
    // The instructions of the single-item path alone, without a second core (nor the scheduler, on a
    // busy machine): one thread pushes a burst, then pops it.
    let case = "one u64 at a time, 1 thread, bursts of 64";
    if h.wants_case(case) {
        let items = 64 * 1024;
        let o = h.time("omnibuf nonblocking: push/pop bursts", 0, ours_bursts(items)).per_op(items as u64);
        let r = h.time("rtrb: push/pop bursts", 0, rtrb_bursts(items)).per_op(items as u64);
        h.compare("ring", case, &o, "rtrb", &r, Goal::TimeRatioAtMost(1.0));
    }

    if !h.wants_case("1 MiB ring setup + teardown") {
        return;
    }
    let o = h.time("omnibuf: 1 MiB ring setup + teardown", 0, || {
        let mut w = sync::Circular::with_capacity::<u8>(1 << 20).unwrap();
        black_box(w.add_reader());
    });
    let v = h.time("vmcircbuffer: 1 MiB ring setup + teardown", 0, || {
        let w = vmcircbuffer::sync::Circular::with_capacity::<u8>(1 << 20).unwrap();
        black_box(w.add_reader());
    });
    h.compare("ring", "1 MiB ring setup + teardown", &o, "vmcircbuffer", &v, Goal::TimeRatioAtMost(1.0));
}

/// Runs `write` on this thread and `read` on another, once per call.
fn two_threads<W: FnMut() + Send, R: FnMut() + Send>(mut write: W, mut read: R) {
    std::thread::scope(|s| {
        s.spawn(&mut read);
        write();
    });
}

fn wait() {
    spin_loop();
}

fn ours_sync(ring: usize, chunk: usize, total: usize) -> impl FnMut() {
    let src = vec![7u8; chunk];
    let mut dst = vec![0u8; chunk];
    let mut w = sync::Circular::with_capacity::<u8>(ring).unwrap();
    let mut r = w.add_reader();
    move || {
        two_threads(
            || {
                let mut left = total;
                while left > 0 {
                    let room = w.slice();
                    let n = room.len().min(chunk).min(left);
                    room[..n].copy_from_slice(&src[..n]);
                    w.produce(n);
                    left -= n;
                }
            },
            || {
                let mut left = total;
                while left > 0 {
                    let data = r.slice().unwrap();
                    let n = data.len().min(chunk);
                    dst[..n].copy_from_slice(&data[..n]);
                    r.consume(n);
                    left -= n;
                }
                black_box(&dst);
            },
        )
    }
}

fn ours_nonblocking(ring: usize, chunk: usize, total: usize, options: Option<RingOptions>) -> impl FnMut() {
    let src = vec![7u8; chunk];
    let mut dst = vec![0u8; chunk];
    let mut w = nonblocking::Circular::with_options::<u8>(ring, &options.unwrap_or_default()).unwrap();
    let mut r = w.add_reader();
    move || {
        two_threads(
            || {
                let mut left = total;
                while left > 0 {
                    let room = w.slice();
                    let n = room.len().min(chunk).min(left);
                    if n == 0 {
                        wait();
                        continue;
                    }
                    room[..n].copy_from_slice(&src[..n]);
                    w.produce(n);
                    left -= n;
                }
            },
            || {
                let mut left = total;
                while left > 0 {
                    let data = r.slice().unwrap();
                    let n = data.len().min(chunk);
                    if n == 0 {
                        wait();
                        continue;
                    }
                    dst[..n].copy_from_slice(&data[..n]);
                    r.consume(n);
                    left -= n;
                }
                black_box(&dst);
            },
        )
    }
}

/// The writer's and the reader's copies through the ring, taking turns on one thread.
fn ours_one_thread(ring: usize, chunk: usize, total: usize) -> impl FnMut() {
    let src = vec![7u8; chunk];
    let mut dst = vec![0u8; chunk];
    let mut w = nonblocking::Circular::with_capacity::<u8>(ring).unwrap();
    let mut r = w.add_reader();
    move || {
        let mut left = total;
        while left > 0 {
            let room = w.slice();
            let n = room.len().min(chunk).min(left);
            room[..n].copy_from_slice(&src[..n]);
            w.produce(n);
            let data = r.slice().unwrap();
            let m = data.len().min(chunk);
            dst[..m].copy_from_slice(&data[..m]);
            r.consume(m);
            left -= n;
        }
        black_box(&dst);
    }
}

fn vmc_sync(ring: usize, chunk: usize, total: usize) -> impl FnMut() {
    let src = vec![7u8; chunk];
    let mut dst = vec![0u8; chunk];
    let mut w = vmcircbuffer::sync::Circular::with_capacity::<u8>(ring).unwrap();
    let mut r = w.add_reader();
    move || {
        two_threads(
            || {
                let mut left = total;
                while left > 0 {
                    let room = w.slice();
                    let n = room.len().min(chunk).min(left);
                    room[..n].copy_from_slice(&src[..n]);
                    w.produce(n);
                    left -= n;
                }
            },
            || {
                let mut left = total;
                while left > 0 {
                    let data = r.slice().unwrap();
                    let n = data.len().min(chunk);
                    dst[..n].copy_from_slice(&data[..n]);
                    r.consume(n);
                    left -= n;
                }
                black_box(&dst);
            },
        )
    }
}

fn vmc_lockfree(ring: usize, chunk: usize, total: usize) -> impl FnMut() {
    use vmcircbuffer::{lockfree::Circular, NoMetadata};
    let src = vec![7u8; chunk];
    let mut dst = vec![0u8; chunk];
    let mut w = Circular::with_capacity::<u8, NoMetadata>(ring, 1).unwrap();
    let mut r = w.add_reader().unwrap();
    move || {
        two_threads(
            || {
                let mut left = total;
                while left > 0 {
                    let room = w.slice();
                    let n = room.len().min(chunk).min(left);
                    if n == 0 {
                        wait();
                        continue;
                    }
                    room[..n].copy_from_slice(&src[..n]);
                    w.produce(n, &[]);
                    left -= n;
                }
            },
            || {
                let mut left = total;
                while left > 0 {
                    let data = r.slice();
                    let n = data.len().min(chunk);
                    if n == 0 {
                        wait();
                        continue;
                    }
                    dst[..n].copy_from_slice(&data[..n]);
                    r.consume(n);
                    left -= n;
                }
                black_box(&dst);
            },
        )
    }
}

fn ringbuf_run(ring: usize, chunk: usize, total: usize) -> impl FnMut() {
    use ringbuf::traits::{Consumer, Producer, Split};
    let src = vec![7u8; chunk];
    let mut dst = vec![0u8; chunk];
    let (mut p, mut c) = ringbuf::HeapRb::<u8>::new(ring).split();
    move || {
        two_threads(
            || {
                let mut left = total;
                while left > 0 {
                    let n = p.push_slice(&src[..chunk.min(left)]);
                    if n == 0 {
                        wait();
                    }
                    left -= n;
                }
            },
            || {
                let mut left = total;
                while left > 0 {
                    let n = c.pop_slice(&mut dst[..chunk.min(left)]);
                    if n == 0 {
                        wait();
                    }
                    left -= n;
                }
                black_box(&dst);
            },
        )
    }
}

fn rtrb_run(ring: usize, chunk: usize, total: usize) -> impl FnMut() {
    let src = vec![7u8; chunk];
    let mut dst = vec![0u8; chunk];
    let (mut p, mut c) = rtrb::RingBuffer::<u8>::new(ring);
    move || {
        two_threads(
            || {
                let mut left = total;
                while left > 0 {
                    let n = p.slots().min(chunk).min(left);
                    if n == 0 {
                        wait();
                        continue;
                    }
                    let mut wc = p.write_chunk(n).unwrap();
                    let (a, b) = wc.as_mut_slices();
                    let split = a.len();
                    a.copy_from_slice(&src[..split]);
                    b.copy_from_slice(&src[split..n]);
                    wc.commit_all();
                    left -= n;
                }
            },
            || {
                let mut left = total;
                while left > 0 {
                    let n = c.slots().min(chunk);
                    if n == 0 {
                        wait();
                        continue;
                    }
                    let rc = c.read_chunk(n).unwrap();
                    let (a, b) = rc.as_slices();
                    dst[..a.len()].copy_from_slice(a);
                    dst[a.len()..n].copy_from_slice(b);
                    rc.commit_all();
                    left -= n;
                }
                black_box(&dst);
            },
        )
    }
}

/// One thread copies each chunk into a ring-sized buffer and back out: the same bytes moved, no
/// synchronisation. What a ring could reach at best.
fn roofline(ring: usize, chunk: usize, total: usize) -> impl FnMut() {
    let src = vec![7u8; chunk];
    let mut dst = vec![0u8; chunk];
    let mut memory = vec![0u8; ring];
    move || {
        let (mut left, mut at) = (total, 0usize);
        while left > 0 {
            let n = chunk.min(left).min(ring - at);
            memory[at..at + n].copy_from_slice(&src[..n]);
            dst[..n].copy_from_slice(&memory[at..at + n]);
            at = (at + n) % ring;
            left -= n;
        }
        black_box((&memory, &dst));
    }
}

fn ours_one_at_a_time(items: usize) -> impl FnMut() {
    let mut w = nonblocking::Circular::with_capacity::<u64>(4096).unwrap();
    let mut r = w.add_reader();
    move || {
        two_threads(
            || {
                for i in 0..items as u64 {
                    while w.push(i).is_err() {
                        wait();
                    }
                }
            },
            || {
                let mut sum = 0u64;
                for _ in 0..items {
                    loop {
                        if let Ok(x) = r.pop() {
                            sum = sum.wrapping_add(x);
                            break;
                        }
                        wait();
                    }
                }
                black_box(sum);
            },
        )
    }
}

/// The same through the general path: a slice and `produce(1)` / `consume(1)` per item.
fn ours_one_slice_at_a_time(items: usize) -> impl FnMut() {
    let mut w = nonblocking::Circular::with_capacity::<u64>(4096).unwrap();
    let mut r = w.add_reader();
    move || {
        two_threads(
            || {
                for i in 0..items as u64 {
                    loop {
                        let room = w.slice();
                        if let Some(slot) = room.first_mut() {
                            *slot = i;
                            break;
                        }
                        wait();
                    }
                    w.produce(1);
                }
            },
            || {
                let mut sum = 0u64;
                for _ in 0..items {
                    loop {
                        if let Some(&x) = r.slice().unwrap().first() {
                            sum = sum.wrapping_add(x);
                            break;
                        }
                        wait();
                    }
                    r.consume(1);
                }
                black_box(sum);
            },
        )
    }
}

fn rtrb_one_at_a_time(items: usize) -> impl FnMut() {
    let (mut p, mut c) = rtrb::RingBuffer::<u64>::new(4096);
    move || {
        two_threads(
            || {
                for i in 0..items as u64 {
                    while p.push(i).is_err() {
                        wait();
                    }
                }
            },
            || {
                let mut sum = 0u64;
                for _ in 0..items {
                    loop {
                        if let Ok(x) = c.pop() {
                            sum = sum.wrapping_add(x);
                            break;
                        }
                        wait();
                    }
                }
                black_box(sum);
            },
        )
    }
}

fn ours_bursts(items: usize) -> impl FnMut() {
    let mut w = nonblocking::Circular::with_capacity::<u64>(4096).unwrap();
    let mut r = w.add_reader();
    move || {
        let mut sum = 0u64;
        for burst in 0..items as u64 / 64 {
            for i in 0..64 {
                w.push(black_box(burst + i)).unwrap();
            }
            for _ in 0..64 {
                sum = sum.wrapping_add(r.pop().unwrap());
            }
        }
        black_box(sum);
    }
}

fn rtrb_bursts(items: usize) -> impl FnMut() {
    let (mut p, mut c) = rtrb::RingBuffer::<u64>::new(4096);
    move || {
        let mut sum = 0u64;
        for burst in 0..items as u64 / 64 {
            for i in 0..64 {
                p.push(black_box(burst + i)).unwrap();
            }
            for _ in 0..64 {
                sum = sum.wrapping_add(c.pop().unwrap());
            }
        }
        black_box(sum);
    }
}
