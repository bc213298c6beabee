//! The omnibuf demo: `cargo run --release --example demo`. Grows with every building block.
fn main() {
    println!("omnibuf demo: buffers; pool, ring and virtual buffer come next");
}
