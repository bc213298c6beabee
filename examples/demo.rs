//! The omnibuf demo: `cargo run --release --example demo`.
//!
//! Walks through what is built, printing what happens: zero-copy buffers and their kinds, tenants and
//! hashes; then a buffer pool under pressure, with producers that wait for budget, a tenant held to
//! its quota, and the pool's statistics. It grows with every building block.

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
