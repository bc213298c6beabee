//! `std::io` for byte rings (see the module docs of [`sync`](super::sync) and [`ring`](super)).

use std::io;

use super::sync::{Reader, Writer};

impl io::Write for Writer<u8> {
    /// Copies as much of `buf` as fits now, waiting while the ring is full.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        Ok(self.write_from(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // every write is published at once
    }
}

impl io::Read for Reader<u8> {
    /// Copies what is available, waiting while there is nothing; `Ok(0)` at the end of the stream.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let Some(data) = self.slice() else { return end_of_stream(self.abort_reason()).map(|()| 0) };
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl io::BufRead for Reader<u8> {
    /// The ring's own memory; empty at the end of the stream.
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.slice().is_none() {
            end_of_stream(self.abort_reason())?;
        }
        Ok(self.try_slice().unwrap_or(&[]))
    }

    /// Past what the last `fill_buf` showed, all of that: see `consume_at_most`.
    fn consume(&mut self, amt: usize) {
        self.consume_at_most(amt)
    }
}

/// What a byte stream's read gives at the end: nothing, or the error of a writer that aborted
/// (`reason`, from the reader's `abort_reason()`).
pub(super) fn end_of_stream(reason: Option<&str>) -> io::Result<()> {
    match reason {
        None => Ok(()),
        Some(reason) => Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            format!("the ring's writer aborted: {reason}"),
        )),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::io::{Read, Write};

    use super::super::sync::Circular;

    #[test]
    fn bytes_stream_through_a_small_ring_in_order() {
        let mut writer = Circular::with_capacity::<u8>(1).unwrap();
        let mut reader = writer.add_reader();
        let data: Vec<u8> =
            (0..if cfg!(miri) { 500u32 } else { 1_000_000 }).map(|i| (i * 7 % 251) as u8).collect();
        let expected = data.clone();
        let consumer = std::thread::spawn(move || {
            let mut got = Vec::new();
            reader.read_to_end(&mut got).unwrap();
            got
        });
        writer.write_all(&data).unwrap();
        drop(writer);
        assert_eq!(consumer.join().unwrap(), expected);
    }
}
