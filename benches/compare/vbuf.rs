//! The virtual buffer vs ropey and vs the raw memory-mapped file (the roofline).
//!
//! Files are generated in the system temp directory: 1 GiB of text lines (4 GiB with
//! `OMNIBUF_BENCH_VBUF_BIG=1`, 32 MiB in quick mode), plus a 10 MiB one to show that opening is flat in
//! file size, and a 100 MiB one for random inserts. A second argument runs one part: `memory`,
//! `open`, `iteration`, `line count`, `inserts` or `save` (`cargo bench --bench compare -- vbuf save`).
//!
//! Opening, memory, inserts and save use `VirtualBuffer::open`, the default positional backend.
//! Iteration and line count are where the backends differ: their goals are the mapped backend's (an
//! explicit `unsafe` choice), measured against a raw mapping; the default backend's rows beside them
//! are shown for information.

use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use omnibuf::vbuf::FileBackend;
use omnibuf::vbuf::{VirtualBuffer, VirtualBufferOptions};

use crate::harness::{touch_memory, Goal, Harness, Timing};

pub fn run(h: &mut Harness) {
    if !h.wants("vbuf") {
        return;
    }
    eprintln!("vbuf:");
    let big = std::env::var("OMNIBUF_BENCH_VBUF_BIG").is_ok_and(|v| v != "0");
    let size: u64 = if h.quick() {
        32 << 20
    } else if big {
        4 << 30
    } else {
        1 << 30
    };
    let size_name = format!("{} MiB", size >> 20);
    let dir = tempfile::tempdir().expect("a temp dir for the benchmark files");
    let file = generate(dir.path(), "big.txt", size);
    let small = generate(dir.path(), "small.txt", 10 << 20);
    let medium = generate(dir.path(), "medium.txt", if h.quick() { 16 << 20 } else { 100 << 20 });

    if h.wants_case("memory") {
        memory_after_edits(h, &file, &size_name);
    }
    if h.wants_case("open") {
        open(h, &file, &small, &size_name);
    }
    if h.wants_case("iteration") {
        iteration(h, &file, size, &size_name);
    }
    if h.wants_case("line count") {
        line_count(h, &file, size, &size_name);
    }
    if h.wants_case("inserts") {
        random_inserts(h, &medium);
    }
    if h.wants_case("save") {
        save(h, dir.path(), &file, size, &size_name);
    }
}

/// Text lines of pseudo-random words, `size` bytes.
fn generate(dir: &Path, name: &str, size: u64) -> PathBuf {
    const WORDS: [&str; 16] = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo",
        "lima", "mike", "november", "oscar", "papa",
    ];
    let path = dir.join(name);
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).expect("create"));
    let (mut written, mut rng, mut line) = (0u64, 0x9E37_79B9_7F4A_7C15u64, 0u32);
    while written < size {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let word = WORDS[(rng % 16) as usize].as_bytes();
        let end_of_line = rng % 9 == 0;
        let piece: &[u8] = if end_of_line { b"\n" } else { b" " };
        let take = (size - written).min(word.len() as u64) as usize;
        out.write_all(&word[..take]).unwrap();
        written += take as u64;
        if written < size {
            out.write_all(piece).unwrap();
            written += 1;
        }
        line += u32::from(end_of_line);
    }
    out.flush().unwrap();
    black_box(line);
    path
}

/// The mapped backend: the benchmark's files are its own, in a temp directory nothing else writes.
fn open_mapped(path: &Path) -> VirtualBuffer {
    // SAFETY: nothing truncates or rewrites the benchmark's generated files while they are open.
    let backend = unsafe { FileBackend::mapped() };
    VirtualBuffer::open_with(path, backend, VirtualBufferOptions::default()).unwrap()
}

/// The default backend (positional reads), as `VirtualBuffer::open` gives it.
fn open_default(path: &Path) -> VirtualBuffer {
    VirtualBuffer::open(path).unwrap()
}

fn load_ropey(path: &Path) -> ropey::Rope {
    let reader = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    ropey::Rope::from_reader(reader).unwrap()
}

fn open(h: &mut Harness, file: &Path, small: &Path, size_name: &str) {
    let ours = h.time(&format!("omnibuf open {size_name}"), 0, || drop(black_box(open_default(file))));
    let ours_small = h.time("omnibuf open 10 MiB", 0, || drop(black_box(open_default(small))));
    let ropey = h.time_runs(&format!("ropey load {size_name}"), 0, 3, || {
        let start = Instant::now();
        let rope = load_ropey(file);
        let took = start.elapsed();
        drop(black_box(rope));
        took
    });
    h.compare("vbuf", &format!("open {size_name}"), &ours, "ropey load", &ropey, Goal::OursAtMost(1e6));
    h.compare(
        "vbuf",
        &format!("open {size_name} vs open 10 MiB (flatness)"),
        &ours,
        "omnibuf open 10 MiB",
        &ours_small,
        Goal::TimeRatioAtMost(2.0),
    );
}

/// Resident memory of this process, from `/proc/self/statm` (0 where it does not exist).
fn resident_bytes() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0.0);
    pages * 4096.0
}

/// 10,000 random small edits (inserts of 1–8 bytes and deletes of up to 8), positions from a seeded
/// generator so both contenders make the same edits.
fn random_edits(len: u64, count: usize) -> Vec<(u64, u64, Vec<u8>)> {
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut len = len;
    (0..count)
        .map(|_| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let at = rng % (len + 1);
            if rng % 3 == 0 {
                let del = ((rng >> 20) % 8).min(len - at);
                len -= del;
                (at, del, Vec::new())
            } else {
                let n = 1 + (rng >> 20) % 8;
                len += n;
                (at, 0, vec![b'x'; n as usize])
            }
        })
        .collect()
}

fn memory_after_edits(h: &mut Harness, file: &Path, size_name: &str) {
    // Ours first: the rope's gigabyte, once allocated, may stay in this process's heap.
    let edits = random_edits(std::fs::metadata(file).unwrap().len(), 10_000);
    let before = resident_bytes();
    let buf = open_default(file);
    for (at, del, bytes) in &edits {
        buf.replace(*at..at + del, bytes).unwrap();
    }
    let ours = Timing::bytes("omnibuf resident after 10,000 edits", resident_bytes() - before);
    drop(buf);
    let before = resident_bytes();
    let mut rope = load_ropey(file);
    for (at, del, bytes) in &edits {
        let (at, del) = (*at as usize, *del as usize);
        rope.remove(rope.byte_to_char(at)..rope.byte_to_char(at + del));
        rope.insert(rope.byte_to_char(at), std::str::from_utf8(bytes).unwrap());
    }
    let theirs = Timing::bytes("ropey resident after 10,000 edits", resident_bytes() - before);
    drop(black_box(rope));
    eprintln!(
        "  {:<52} {:.1} MiB vs {:.1} MiB",
        "resident after 10,000 edits",
        ours.median_ns / 1048576.0,
        theirs.median_ns / 1048576.0
    );
    let cache = VirtualBufferOptions::default().cache_budget as f64;
    h.compare(
        "vbuf",
        &format!("resident memory after 10,000 edits, {size_name}, 64 MiB cache"),
        &ours,
        "ropey",
        &theirs,
        Goal::OursAtMost(cache + (32 << 20) as f64),
    );
}

fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, &b| acc.wrapping_add(b as u64))
}

fn iteration(h: &mut Harness, file: &Path, size: u64, size_name: &str) {
    let map = {
        let f = std::fs::File::open(file).unwrap();
        // SAFETY: the benchmark's own file, which nothing writes while it is mapped.
        unsafe { memmap2::Mmap::map(&f).unwrap() }
    };
    let roof = h.time(&format!("raw scan of the mapped file, {size_name}"), size, || {
        black_box(checksum(&map));
    });
    let buf = open_mapped(file);
    let by_chunk = h.time(&format!("omnibuf chunks(..), {size_name}"), size, || {
        let sum = buf.chunks(..).unwrap().fold(0u64, |acc, c| acc.wrapping_add(checksum(&c.unwrap())));
        black_box(sum);
    });
    let by_byte = h.time(&format!("omnibuf ByteIterator, {size_name}"), size, || {
        // `next()` one byte at a time, as a user's loop calls it.
        let mut it = buf.iter_at(0).unwrap();
        let mut sum = 0u64;
        #[allow(clippy::while_let_on_iterator)] // the explicit next() loop is what is measured
        while let Some(b) = it.next() {
            sum = sum.wrapping_add(b as u64);
        }
        black_box(sum);
    });
    drop(buf);
    // The default backend after the mapped rows, and gone before the next: its cache and copies stay
    // out of their measurements.
    let positional = open_default(file);
    let by_chunk_positional = h.time(&format!("omnibuf chunks(..), positional, {size_name}"), size, || {
        let chunks = positional.chunks(..).unwrap();
        black_box(chunks.fold(0u64, |acc, c| acc.wrapping_add(checksum(&c.unwrap()))));
    });
    drop(positional);
    h.compare(
        "vbuf",
        &format!("chunk iteration, {size_name}"),
        &by_chunk,
        "raw mmap scan",
        &roof,
        Goal::TimeRatioAtMost(1.25),
    );
    h.compare(
        "vbuf",
        &format!("chunk iteration, {size_name}, positional (the default)"),
        &by_chunk_positional,
        "raw mmap scan",
        &roof,
        Goal::None,
    );
    h.compare(
        "vbuf",
        &format!("byte iteration, {size_name}"),
        &by_byte,
        "raw mmap scan",
        &roof,
        Goal::OursAtLeastGbps(1.0),
    );
}

fn line_count(h: &mut Harness, file: &Path, size: u64, size_name: &str) {
    let map_file = || {
        let f = std::fs::File::open(file).unwrap();
        // SAFETY: as above.
        unsafe { memmap2::Mmap::map(&f).unwrap() }
    };
    // Each of our runs opens the file afresh, so it maps it afresh: its count includes the scan that
    // builds the line index and the page faults of a new mapping (about as long as the scan here).
    // The roofline that does the same work maps afresh too; the one over a mapping faulted in
    // before its samples is shown beside it.
    let fresh = h.time(&format!("memchr count over a fresh mapping, {size_name}"), size, || {
        black_box(memchr::memchr_iter(b'\n', &map_file()).count());
    });
    let map = map_file();
    let faulted = h.time(&format!("memchr count over a faulted-in mapping, {size_name}"), size, || {
        black_box(memchr::memchr_iter(b'\n', &map).count());
    });
    let ours = h.time(&format!("omnibuf line_count (first query), {size_name}"), size, || {
        black_box(open_mapped(file).line_count().unwrap());
    });
    let positional =
        h.time(&format!("omnibuf line_count (first query), positional, {size_name}"), size, || {
            black_box(open_default(file).line_count().unwrap());
        });
    let case = format!("line count, {size_name}");
    h.compare("vbuf", &case, &ours, "memchr over a fresh mmap", &fresh, Goal::TimeRatioAtMost(1.25));
    h.compare("vbuf", &case, &ours, "memchr over a faulted-in mmap", &faulted, Goal::None);
    let case = format!("line count, {size_name}, positional (the default)");
    h.compare("vbuf", &case, &positional, "memchr over a fresh mmap", &fresh, Goal::None);
}

fn random_inserts(h: &mut Harness, file: &Path) {
    const N: usize = 10_000;
    let len = std::fs::metadata(file).unwrap().len();
    let inserts: Vec<(u64, Vec<u8>)> =
        random_edits(len, N).into_iter().map(|(at, _, _)| (at, b"abc".to_vec())).collect();
    let positions: Vec<u64> = {
        // Every insert adds 3 bytes; keep positions inside the growing buffer.
        inserts.iter().enumerate().map(|(i, (at, _))| at % (len + 3 * i as u64 + 1)).collect()
    };
    let ours = h.time_runs("omnibuf 10,000 random inserts, 100 MiB", 0, 7, || {
        let buf = open_default(file);
        let start = Instant::now();
        for &at in &positions {
            buf.insert(at, b"abc").unwrap();
        }
        start.elapsed()
    });
    let theirs = h.time_runs("ropey 10,000 random inserts, 100 MiB", 0, 7, || {
        let mut rope = load_ropey(file);
        let start = Instant::now();
        for &at in &positions {
            let c = rope.byte_to_char(at as usize);
            rope.insert(c, "abc");
        }
        let took = start.elapsed();
        drop(black_box(rope));
        took
    });
    h.compare(
        "vbuf",
        "random small inserts, 100 MiB",
        &ours.per_op(N as u64),
        "ropey",
        &theirs.per_op(N as u64),
        Goal::TimeRatioAtMost(1.0),
    );
}

fn save(h: &mut Harness, dir: &Path, file: &Path, size: u64, size_name: &str) {
    let work = dir.join("work.txt");
    let copy_target = dir.join("copy.txt");
    let edits = random_edits(size, 1000);
    // Room in fresh memory for the page cache of the file each side writes, and then some.
    let touch = || touch_memory(2 * size as usize);
    let ours = || {
        std::fs::copy(file, &work).unwrap();
        // Written back first, as the copy's source is: otherwise the kernel flushes the fresh copy
        // while the save runs, and the save pays for both.
        sync_file(&work);
        let buf = open_default(&work);
        for (at, del, bytes) in &edits {
            buf.replace(*at..at + del, bytes).unwrap();
        }
        touch();
        let start = Instant::now();
        buf.save().unwrap();
        start.elapsed()
    };
    let theirs = || {
        let _ = std::fs::remove_file(&copy_target);
        touch();
        let start = Instant::now();
        std::fs::copy(file, &copy_target).unwrap();
        let took = start.elapsed();
        took + sync_file(&copy_target)
    };
    let (ours, theirs) = h.time_runs_alternating(
        (&format!("omnibuf save after 1,000 edits, {size_name}"), ours),
        (&format!("std::fs::copy, {size_name}"), theirs),
        size,
        5,
    );
    h.compare(
        "vbuf",
        &format!("save after 1,000 edits, {size_name}"),
        &ours,
        "fs::copy + fsync",
        &theirs,
        Goal::TimeRatioAtMost(1.3),
    );
}

/// Our save fsyncs (it must, to be crash-safe); the copy is charged the same fsync to be comparable.
fn sync_file(path: &Path) -> Duration {
    let start = Instant::now();
    std::fs::File::open(path).unwrap().sync_all().unwrap();
    start.elapsed()
}
