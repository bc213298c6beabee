//! A small timing harness for side-by-side comparisons.
//!
//! Why not criterion: the point of this benchmark is one table that puts our time next to each peer's,
//! as a ratio, with the goal the issue set beside it. Each measurement is the median of many samples,
//! each sample long enough (milliseconds) that timer resolution does not matter. Medians and ratios
//! are what we report; single absolute times on a shared machine are noise.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// One measured case: the median time of one call of the timed closure.
#[derive(Debug, Clone)]
pub struct Timing {
    /// What was timed.
    pub name: String,
    /// Median nanoseconds per call.
    pub median_ns: f64,
    /// Bytes one call moves, for throughput figures; 0 when throughput means nothing.
    pub bytes_per_call: u64,
}

impl Timing {
    /// Throughput in GB/s (10^9 bytes per second), when the case moves bytes.
    pub fn gbps(&self) -> Option<f64> {
        (self.bytes_per_call > 0 && self.bytes_per_call != u64::MAX)
            .then(|| self.bytes_per_call as f64 / self.median_ns)
    }

    /// The same timing per operation, when one call did `ops` operations.
    pub fn per_op(mut self, ops: u64) -> Timing {
        self.median_ns /= ops as f64;
        self.bytes_per_call /= ops;
        self
    }

    /// A memory figure in the timing's place: `median_ns` holds bytes, shown as MiB.
    pub fn bytes(name: &str, bytes: f64) -> Timing {
        Timing { name: name.to_owned(), median_ns: bytes, bytes_per_call: u64::MAX }
    }

    fn describe(&self) -> String {
        if self.bytes_per_call == u64::MAX {
            return format!("{:.1} MiB", self.median_ns / (1 << 20) as f64);
        }
        match self.gbps() {
            Some(g) => format!("{} ({:.2} GB/s)", fmt_ns(self.median_ns), g),
            None => fmt_ns(self.median_ns),
        }
    }
}

/// What the issue asks of a comparison.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// Our time divided by the peer's time must be at most this (0.5 = "at most half the peer's time",
    /// 1/1.2 = "at least 1.2x the peer's throughput").
    TimeRatioAtMost(f64),
    /// Our own figure must be at most this many nanoseconds (or bytes, for memory rows); the peer
    /// is shown for scale.
    OursAtMost(f64),
    /// Our throughput must be at least this many GB/s.
    OursAtLeastGbps(f64),
    /// Shown for information; no goal.
    None,
}

struct Row {
    group: String,
    case: String,
    ours: Timing,
    peer: String,
    theirs: Timing,
    goal: Goal,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.ours.median_ns / self.theirs.median_ns
    }

    fn met(&self) -> Option<bool> {
        match self.goal {
            Goal::TimeRatioAtMost(bound) => Some(self.ratio() <= bound),
            Goal::OursAtMost(bound) => Some(self.ours.median_ns <= bound),
            Goal::OursAtLeastGbps(bound) => Some(self.ours.gbps().is_some_and(|g| g >= bound)),
            Goal::None => None,
        }
    }
}

/// Runs timings, collects comparisons, prints the table and writes the chart.
pub struct Harness {
    filter: Option<String>,
    /// The second free argument: only cases whose name contains it (in groups that check it).
    case_filter: Option<String>,
    quick: bool,
    rows: Vec<Row>,
}

impl Harness {
    /// Reads the group filter (first free command-line argument), the case filter (second) and quick
    /// mode (`OMNIBUF_BENCH_QUICK=1`).
    pub fn from_env() -> Harness {
        let mut free = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
        let (filter, case_filter) = (free.next(), free.next());
        let quick = std::env::var("OMNIBUF_BENCH_QUICK").is_ok_and(|v| v != "0");
        Harness { filter, case_filter, quick, rows: Vec::new() }
    }

    /// Whether quick mode is on: fewer, shorter samples and smaller inputs, for smoke runs.
    pub fn quick(&self) -> bool {
        self.quick
    }

    /// Whether the group named `group` was asked for.
    pub fn wants(&self, group: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| group.contains(f))
    }

    /// Whether the case named `case` was asked for (every case unless a case filter is given).
    pub fn wants_case(&self, case: &str) -> bool {
        self.case_filter.as_deref().is_none_or(|f| case.contains(f))
    }

    /// Times `f` and returns the median time of one call.
    ///
    /// The closure is first run until about a millisecond has passed, to warm caches and to learn how
    /// many calls fill one sample; then samples are taken and the median kept.
    pub fn time(&mut self, name: &str, bytes_per_call: u64, mut f: impl FnMut()) -> Timing {
        let (target, samples) =
            if self.quick { (Duration::from_millis(2), 7) } else { (Duration::from_millis(20), 21) };
        let mut calls_per_sample = 1u64;
        loop {
            let start = Instant::now();
            for _ in 0..calls_per_sample {
                f();
            }
            let took = start.elapsed();
            if took >= target / 4 || calls_per_sample >= 1 << 40 {
                let scale = target.as_secs_f64() / took.as_secs_f64().max(1e-9);
                calls_per_sample = ((calls_per_sample as f64 * scale) as u64).max(1);
                break;
            }
            calls_per_sample *= 2;
        }
        let mut per_call: Vec<f64> = (0..samples)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..calls_per_sample {
                    f();
                }
                start.elapsed().as_nanos() as f64 / calls_per_sample as f64
            })
            .collect();
        per_call.sort_by(f64::total_cmp);
        let timing =
            Timing { name: name.to_owned(), median_ns: per_call[per_call.len() / 2], bytes_per_call };
        eprintln!("  {:<52} {}", timing.name, timing.describe());
        timing
    }

    /// The median of `runs` one-shot measurements, for work too slow or too stateful to repeat in a
    /// loop (opening a 1 GiB file into a rope, saving a file): `run` prepares what it needs and returns
    /// the time of the part it measured.
    pub fn time_runs(
        &mut self,
        name: &str,
        bytes_per_run: u64,
        runs: usize,
        mut run: impl FnMut() -> Duration,
    ) -> Timing {
        let times: Vec<Duration> = (0..self.runs(runs)).map(|_| run()).collect();
        median_of(name, bytes_per_run, times)
    }

    /// [`Harness::time_runs`] for our side and the peer's at once, their runs alternating, so that a
    /// machine whose speed drifts over the minute this takes (page cache, write-back, a neighbour)
    /// affects both alike. Returns our timing and theirs.
    pub fn time_runs_alternating(
        &mut self,
        (our_name, mut ours): (&str, impl FnMut() -> Duration),
        (their_name, mut theirs): (&str, impl FnMut() -> Duration),
        bytes_per_run: u64,
        runs: usize,
    ) -> (Timing, Timing) {
        let (mut our_times, mut their_times) = (Vec::new(), Vec::new());
        for _ in 0..self.runs(runs) {
            our_times.push(ours());
            their_times.push(theirs());
        }
        (median_of(our_name, bytes_per_run, our_times), median_of(their_name, bytes_per_run, their_times))
    }

    fn runs(&self, runs: usize) -> usize {
        if self.quick {
            runs.clamp(1, 3)
        } else {
            runs.max(1)
        }
    }

    /// Records a comparison of `ours` against the peer's `theirs`.
    pub fn compare(
        &mut self,
        group: &str,
        case: &str,
        ours: &Timing,
        peer: &str,
        theirs: &Timing,
        goal: Goal,
    ) {
        self.rows.push(Row {
            group: group.to_owned(),
            case: case.to_owned(),
            ours: ours.clone(),
            peer: peer.to_owned(),
            theirs: theirs.clone(),
            goal,
        });
    }

    /// The table of every comparison, as Markdown.
    pub fn table(&self) -> String {
        let mut out = String::new();
        out.push_str("| group | case | omnibuf | peer | peer's | ratio (our time / peer's) | goal | met |\n");
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for row in &self.rows {
            let goal = match row.goal {
                Goal::TimeRatioAtMost(b) => format!("≤ {b:.2}"),
                Goal::OursAtMost(b) if row.ours.bytes_per_call == u64::MAX => {
                    format!("ours ≤ {:.0} MiB", b / (1 << 20) as f64)
                }
                Goal::OursAtMost(b) => format!("ours ≤ {}", fmt_ns(b)),
                Goal::OursAtLeastGbps(b) => format!("ours ≥ {b:.1} GB/s"),
                Goal::None => "—".to_owned(),
            };
            let met = match row.met() {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.2} | {} | {} |",
                row.group,
                row.case,
                row.ours.describe(),
                row.peer,
                row.theirs.describe(),
                row.ratio(),
                goal,
                met
            );
        }
        out
    }

    /// Prints the table and writes `docs/bench.md` and `docs/bench.svg`.
    pub fn finish(self) {
        if self.rows.is_empty() {
            println!("no comparison matched the filter");
            return;
        }
        let table = self.table();
        println!("\n{table}");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        let header = format!(
            "Measured by `cargo bench --bench compare`{} on {} ({} cores). Ratio = our median time / the peer's median time: below 1 we are faster.\n\n",
            if self.quick { " in quick mode" } else { "" },
            std::env::consts::ARCH,
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        );
        // A filtered run writes beside the full results rather than over them.
        let stem = match (&self.filter, &self.case_filter) {
            (Some(f), None) => format!("bench-{}", f.replace(|c: char| !c.is_ascii_alphanumeric(), "_")),
            (Some(f), Some(c)) => {
                format!("bench-{f}-{c}").replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
            }
            (None, _) => "bench".to_owned(),
        };
        let (md, svg) = (format!("{stem}.md"), format!("{stem}.svg"));
        let results = std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(dir.join(&md), header + &table))
            .and_then(|_| std::fs::write(dir.join(&svg), crate::chart::svg(&self.chart_rows())));
        match results {
            Ok(()) => println!("wrote docs/{md} and docs/{svg}"),
            Err(e) => eprintln!("could not write the results: {e}"),
        }
    }

    fn chart_rows(&self) -> Vec<crate::chart::Bar> {
        self.rows
            .iter()
            .map(|row| crate::chart::Bar {
                label: format!("{} · {} vs {}", row.group, row.case, row.peer),
                speedup: 1.0 / row.ratio(),
                goal: match row.goal {
                    Goal::TimeRatioAtMost(b) => Some(1.0 / b),
                    Goal::OursAtMost(_) | Goal::OursAtLeastGbps(_) | Goal::None => None,
                },
            })
            .collect()
    }
}

/// The median of one-shot `times`, printed as it is recorded.
fn median_of(name: &str, bytes_per_run: u64, mut times: Vec<Duration>) -> Timing {
    times.sort();
    let timing = Timing {
        name: name.to_owned(),
        median_ns: times[times.len() / 2].as_nanos() as f64,
        bytes_per_call: bytes_per_run,
    };
    eprintln!("  {:<52} {}", timing.name, timing.describe());
    timing
}

/// Touches `bytes` of new memory and frees it again, so that what the run measured next allocates
/// (page cache for a file it writes, say) comes from memory the machine holds at that moment.
///
/// This matters in a virtual machine whose balloon driver reports free memory to the host, as the
/// ones the README's figures come from do: memory left free for about two seconds goes back to the
/// host, and the first touch of each of its pages afterwards costs a fault in the host. Touching
/// 4 GiB a page at a time took 14.3 s the first time and 3.8 s right after (measured there). A run writing a 1 GiB
/// file into such memory pays seconds that a run writing into page cache freed a moment earlier does
/// not, which measures the host rather than the code. Called right before each side's timed part,
/// it gives both freshly freed memory, as a machine without a balloon always has. About 0.5 s per
/// GiB when the memory is already held.
pub fn touch_memory(bytes: usize) {
    drop(std::hint::black_box(vec![1u8; bytes]));
}

fn fmt_ns(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.1} ns"),
        n if n < 1e6 => format!("{:.2} µs", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.2} s", n / 1e9),
    }
}
