//! The circular ring: one writer, any number of readers, every slice contiguous across the wrap.
//!
//! **Not built yet.** The design is in `DESIGN.md` ("Ring"); this module holds no code until it is
//! built, so nothing here can be mistaken for a working ring.
