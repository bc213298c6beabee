//! The comparison benchmark: omnibuf and its peers side by side, in one run, as ratios.
//!
//! ```text
//! cargo bench --bench compare            # everything
//! cargo bench --bench compare -- pool    # groups whose name contains "pool"
//! cargo bench --bench compare -- ring u64  # in the ring group, the cases whose name contains "u64"
//! cargo bench --bench compare --features tokio -- tokio   # the ring through tokio's traits vs tokio::io::duplex
//! OMNIBUF_BENCH_VBUF_BIG=1 cargo bench --bench compare -- vbuf   # the virtual buffer on 4 GiB
//! OMNIBUF_BENCH_QUICK=1 cargo bench --bench compare   # a quick smoke run
//! ```
//!
//! Prints a Markdown table and writes it to `docs/bench.md`, with a chart in `docs/bench.svg` (a filtered
//! run writes `docs/bench-<filter>.md` and `.svg` instead).

mod buffers;
mod chart;
mod harness;
mod pool;
#[cfg(unix)]
mod ring;
#[cfg(feature = "tokio")]
mod tokio_io;
#[cfg(unix)]
mod vbuf;

fn main() {
    let mut h = harness::Harness::from_env();
    buffers::run(&mut h);
    pool::run(&mut h);
    #[cfg(unix)]
    ring::run(&mut h);
    #[cfg(unix)]
    vbuf::run(&mut h);
    #[cfg(feature = "tokio")]
    tokio_io::run(&mut h);
    h.finish();
}
