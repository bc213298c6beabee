//! The omnibuf demo: `cargo run --release --example demo`.
//!
//! Walks through what is built, printing what happens: zero-copy buffers and their kinds, tenants and
//! hashes; then a buffer pool under pressure, with producers that wait for budget, a tenant held to
//! its quota, and the pool's statistics; the ring on both backends; and the virtual buffer editing a
//! generated multi-GiB file (`OMNIBUF_DEMO_FILE_MIB` sets its size, default 2048).

use std::io::Write;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use omnibuf::ring::{double_mapping_available, sync::Circular, RingBackend, RingOptions};
use omnibuf::{BufferKind, BufferMut, BufferPool, PoolError, ZeroCopyBuffer};

fn main() {
    buffers();
    pool_under_pressure();
    ring();
    virtual_buffer();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn buffers() {
    println!("== zero-copy buffers ==");
    let mut frame = BufferMut::with_capacity(64, BufferKind::raw()).with_tenant("camera-7");
    frame.extend_from_slice(&[0xff, 0xd8, 0xff, 0xe0]);
    write!(frame, "JFIF payload").unwrap();
    let frozen = frame.freeze();
    println!("froze a builder without copying: {frozen:?}");

    // Format detection upgrades the kind; the original view keeps its own.
    let jpeg = frozen.retag(BufferKind::jpeg());
    println!(
        "retagged view: kind {} (original still {}), tenant {:?}",
        jpeg.kind(),
        frozen.kind(),
        jpeg.tenant_id()
    );

    let header = jpeg.slice(0..4);
    let body = jpeg.slice(4..);
    println!(
        "slices share one allocation: header {:?}, body {:?}, {} views alive",
        hex(&header),
        String::from_utf8_lossy(&body),
        frozen.sharers()
    );
    match jpeg.try_slice(2..100) {
        Ok(_) => unreachable!(),
        Err(e) => println!("a bad range is an error, not a crash: {e}"),
    }

    let custom = BufferKind::register("sensor-frame").unwrap();
    println!(
        "registered kind {custom} (id {}); registering again gives the same kind: {}",
        custom.id(),
        BufferKind::register("sensor-frame").unwrap() == custom
    );

    println!("sha256 of the body view: {}", hex(&body.sha256()));
    let same = ZeroCopyBuffer::copy_from_slice(b"JFIF payload", BufferKind::raw());
    println!("equal content hashes equal: {}\n", same.sha256() == body.sha256());
}

fn pool_under_pressure() {
    println!("== a buffer pool under pressure ==");
    let pool = BufferPool::builder()
        .classes([4096, 65536])
        .budget(256 << 10)
        .tenant_quota("batch", 64 << 10)
        .build()
        .unwrap();
    println!(
        "budget {} KiB, classes {:?}, tenant \"batch\" limited to 64 KiB",
        pool.budget() >> 10,
        pool.classes()
    );

    // A request no class can hold fails at once instead of waiting forever.
    if let Err(e) = pool.acquire(2 << 20) {
        println!("  asking for 2 MiB: {e}");
    }

    // Three producers fill 64 KiB buffers and hand them to a slow consumer. The budget holds four,
    // so the producers wait: backpressure, not unbounded memory.
    let (tx, rx) = mpsc::sync_channel::<ZeroCopyBuffer>(64);
    let start = Instant::now();
    let producers: Vec<_> = (0..3)
        .map(|p| {
            let (pool, tx) = (pool.clone(), tx.clone());
            thread::spawn(move || {
                for i in 0..6u8 {
                    let mut buf = pool.acquire(60_000).unwrap().with_kind(BufferKind::pcm16());
                    buf.resize(60_000, p * 16 + i);
                    tx.send(buf.freeze()).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let consumer = thread::spawn(move || {
        let mut seen = 0;
        for buf in rx {
            thread::sleep(Duration::from_millis(5)); // a slow sink
            assert!(buf.iter().all(|&b| b == buf[0]));
            seen += 1;
        }
        seen
    });
    let mut peak_waiting = 0;
    while !producers.iter().all(|p| p.is_finished()) {
        peak_waiting = peak_waiting.max(pool.snapshot().waiting);
        thread::sleep(Duration::from_millis(1));
    }
    producers.into_iter().for_each(|p| p.join().unwrap());
    let consumed = consumer.join().unwrap();
    println!(
        "  3 producers x 6 buffers of 64 KiB through a slow consumer: {consumed} delivered in {:?}, at most {peak_waiting} producers waiting at once",
        start.elapsed()
    );

    // try_acquire fails fast; a timed acquire gives up cleanly.
    let hold: Vec<_> = (0..4).map(|_| pool.acquire(65536).unwrap()).collect();
    match pool.try_acquire(1) {
        Err(PoolError::WouldBlock { class_size }) => {
            println!("  budget full: try_acquire of a {class_size}-byte buffer returns WouldBlock")
        }
        other => println!("  unexpected: {other:?}"),
    }
    if let Err(e) = pool.acquire_timeout(1, Duration::from_millis(20)) {
        println!("  {e}");
    }
    drop(hold);

    let batch = pool.tenant("batch");
    let held = batch.acquire(65536).unwrap();
    println!(
        "  tenant batch at its quota: try_acquire -> {:?}; other tenants go on: {}",
        batch.try_acquire(1).err(),
        pool.tenant("web").try_acquire(1).is_ok()
    );
    drop(held);

    let snap = pool.snapshot();
    println!(
        "  snapshot: in use {} B, high water {} KiB, idle {} KiB, cached in threads {} KiB",
        snap.in_use_bytes,
        snap.high_water_bytes >> 10,
        snap.idle_bytes >> 10,
        snap.cached_bytes >> 10
    );
    for c in &snap.classes {
        println!(
            "    {:?}: high water {} KiB, waits {}, timeouts {}, refusals {}",
            c.class,
            c.high_water_bytes >> 10,
            c.waits,
            c.timeouts,
            c.refusals
        );
    }
    for t in &snap.tenants {
        println!(
            "    tenant {:?}: quota {:?}, high water {} KiB, refusals {}",
            t.tenant,
            t.quota,
            t.high_water_bytes >> 10,
            t.refusals
        );
    }
    println!("  trim returned {} KiB of idle memory to the system", pool.trim() >> 10);
}

fn ring() {
    println!("\n== the circular ring ==");
    println!("double mapping available here: {}", double_mapping_available());
    let mut backends = vec![RingBackend::MirrorCopy];
    if double_mapping_available() {
        backends.push(RingBackend::DoubleMapped);
    }
    for backend in backends {
        let mut writer =
            Circular::with_options::<u32>(1000, &RingOptions::default().backend(backend)).unwrap();
        println!("  {backend}: asked for 1000 items, got {} (whole items and pages)", writer.capacity());
        // Two readers on other threads; the writer waits for the slower one.
        let readers: Vec<_> = (0..2)
            .map(|id| {
                let mut reader = writer.add_reader();
                thread::spawn(move || {
                    let (mut count, mut sum, mut widest) = (0u64, 0u64, 0usize);
                    while let Some(items) = reader.slice() {
                        widest = widest.max(items.len());
                        count += items.len() as u64;
                        sum += items.iter().map(|&x| x as u64).sum::<u64>();
                        let n = items.len();
                        reader.consume(n);
                        if id == 1 {
                            thread::sleep(Duration::from_micros(50)); // a slow reader
                        }
                    }
                    (count, sum, widest)
                })
            })
            .collect();
        let start = Instant::now();
        let total = 2_000_000u32;
        let mut next = 0u32;
        while next < total {
            let room = writer.slice();
            let n = room.len().min((total - next) as usize);
            for slot in &mut room[..n] {
                *slot = next;
                next += 1;
            }
            writer.produce(n);
        }
        drop(writer);
        let expected_sum = (total as u64 - 1) * total as u64 / 2;
        for (i, r) in readers.into_iter().enumerate() {
            let (count, sum, widest) = r.join().unwrap();
            println!(
                "    reader {i}: {count} items, checksum {}, widest slice {widest} items (one slice, across the wrap too)",
                if sum == expected_sum { "ok" } else { "WRONG" }
            );
        }
        println!("    {total} items through the ring in {:?}", start.elapsed());
    }
}

/// Resident memory of this process in MiB, and the part of it that is file pages (the mapped file,
/// which the kernel can drop at any time), where `/proc` tells it.
fn resident_mib() -> Option<(f64, f64)> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let mut fields = statm.split_whitespace().skip(1).map(|f| f.parse::<f64>().ok());
    let (resident, file) = (fields.next()??, fields.next()??);
    let mib = |pages: f64| pages * 4096.0 / (1 << 20) as f64;
    Some((mib(resident), mib(file)))
}

fn print_memory(when: &str) {
    if let Some((resident, file)) = resident_mib() {
        println!(
            "  resident memory {when}: {resident:.1} MiB, of which {file:.1} MiB are file pages (the program and the mapped file; \
             the kernel drops them under pressure) and {:.1} MiB its own memory",
            resident - file
        );
    }
}

fn virtual_buffer() {
    use omnibuf::vbuf::VirtualBuffer;

    println!("\n== the virtual buffer: editing a file larger than its cache ==");
    let mib: u64 = std::env::var("OMNIBUF_DEMO_FILE_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(2048);
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("big.log");
    let started = Instant::now();
    {
        let mut out = std::io::BufWriter::with_capacity(4 << 20, std::fs::File::create(&path).unwrap());
        let mut written = 0u64;
        let mut n = 0u64;
        while written < mib << 20 {
            let line = format!("{n:012} the quick brown fox jumps over the lazy dog\n");
            out.write_all(line.as_bytes()).unwrap();
            written += line.len() as u64;
            n += 1;
        }
        out.flush().unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "generated {:.2} GiB of log lines in {:.1?}",
        size as f64 / (1u64 << 30) as f64,
        started.elapsed()
    );
    print_memory("before opening");

    let t = Instant::now();
    let buf = VirtualBuffer::open(&path).unwrap();
    println!("opened it in {:?} (nothing is read up front)", t.elapsed());

    let t = Instant::now();
    buf.replace(0..12, b"FIRST-LINE:").unwrap();
    let middle = size / 2;
    buf.insert(middle, b"<<inserted in the middle>>").unwrap();
    buf.delete(size - 100..size - 50).unwrap();
    println!("three edits (start, middle, end) in {:?}", t.elapsed());
    println!("  line 0 now reads {:?}", String::from_utf8_lossy(&buf.read(0..30).unwrap()));

    let t = Instant::now();
    let mut it = buf.iter_at(middle).unwrap();
    let around: Vec<u8> = it.by_ref().take(26).collect();
    println!("  iterating from the middle: {:?} ({:?})", String::from_utf8_lossy(&around), t.elapsed());
    buf.insert(0, b"# header\n").unwrap(); // another edit: the live iterator follows it
    println!(
        "  after an insert at the start the iterator moved to {} and reads on: {:?}",
        it.position(),
        String::from_utf8_lossy(&it.by_ref().take(12).collect::<Vec<u8>>())
    );
    drop(it);

    let t = Instant::now();
    let mut last_report = 0u64;
    let lines = buf
        .line_count_with_progress(&mut |done, total| {
            if done - last_report >= total / 4 || done == total {
                println!("  counting lines: {:>3}%", done * 100 / total.max(1));
                last_report = done;
            }
            true
        })
        .unwrap();
    println!("{lines} lines, counted in {:.1?}", t.elapsed());
    let t = Instant::now();
    let target = lines / 2;
    let offset = buf.line_to_offset(target).unwrap();
    println!("line {target} starts at byte {offset} (found in {:?})", t.elapsed());

    let found = buf.find(b"<<inserted", ..).unwrap();
    println!("find(\"<<inserted\") -> {found:?}");
    print_memory("after edits, iteration and line count");

    let t = Instant::now();
    buf.save().unwrap();
    println!("saved atomically (temp file, fsync, rename, fsync of the directory) in {:.1?}", t.elapsed());
    let reopened = VirtualBuffer::open(&path).unwrap();
    println!(
        "reopened: {} bytes, starts with {:?}",
        reopened.len(),
        String::from_utf8_lossy(&reopened.read(0..20).unwrap())
    );
    let stats = buf.stats();
    println!(
        "stats: {} pieces, {} KiB cached, {} bytes inserted",
        stats.pieces,
        stats.cached_bytes >> 10,
        stats.inserted_bytes
    );
    print_memory("at the end");
}
