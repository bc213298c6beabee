//! The virtual buffer: editing files larger than memory.

mod tree;
