//! Prints the micro-benchmarks' results natively, as JSON (see the library's docs).
fn main() {
    println!("{}", omnibuf_bench_micro::run_json());
}
