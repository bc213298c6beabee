//! The virtual buffer: editing files larger than memory.
//!
//! **Not built yet.** The design is in `DESIGN.md` ("Virtual buffer"); this module holds no code until it
//! is built, so nothing here can be mistaken for a working virtual buffer.
