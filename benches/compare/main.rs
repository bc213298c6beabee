//! The side-by-side comparison benchmark: `cargo bench --bench compare`.
fn main() {}
