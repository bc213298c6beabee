//! The header file of an OPFS document: two fixed slots (A at 0, B at [`SLOT`]), each holding one
//! version record with a checksum. A save writes its record into the slot the current record is *not*
//! in, so a write torn by a crash damages only the slot being written: its checksum fails and the other
//! slot, the old version, is what the next open sees.

use sha2::{Digest, Sha256};

/// Bytes per slot; a record uses [`RECORD`] of them.
pub(crate) const SLOT: u64 = 64;
/// Bytes of the header file that hold the two slots.
pub(crate) const HEADER_LEN: usize = 2 * SLOT as usize;
/// Bytes of an encoded record: magic, generation, file id, length, checksum.
const RECORD: usize = 40;
/// Marks a record and its layout; a record of another layout is refused, not misread.
const MAGIC: [u8; 8] = *b"OMNIBUF1";

/// One committed version of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    /// Counts the versions: each import or save adds one; the valid record with the highest wins.
    pub generation: u64,
    /// The data file holding this version's bytes (see [`data_file_name`]).
    pub file_id: u64,
    /// The document's length in bytes.
    pub len: u64,
}

fn checksum(bytes: &[u8]) -> [u8; 8] {
    let digest = Sha256::digest(bytes);
    digest[..8].try_into().expect("a SHA-256 digest is 32 bytes")
}

impl Record {
    pub(crate) fn encode(&self) -> [u8; RECORD] {
        let mut out = [0u8; RECORD];
        out[..8].copy_from_slice(&MAGIC);
        out[8..16].copy_from_slice(&self.generation.to_le_bytes());
        out[16..24].copy_from_slice(&self.file_id.to_le_bytes());
        out[24..32].copy_from_slice(&self.len.to_le_bytes());
        let sum = checksum(&out[..32]);
        out[32..].copy_from_slice(&sum);
        out
    }

    /// The record in `slot`, or `None` if it is empty, torn or of another layout.
    pub(crate) fn decode(slot: &[u8]) -> Option<Record> {
        let slot = slot.get(..RECORD)?;
        if slot[..8] != MAGIC || slot[32..] != checksum(&slot[..32]) {
            return None;
        }
        let word = |at: usize| u64::from_le_bytes(slot[at..at + 8].try_into().expect("8 bytes"));
        let record = Record { generation: word(8), file_id: word(16), len: word(24) };
        (record.generation > 0).then_some(record)
    }

    /// Where this record is written: the slot of its generation's parity, which is never the slot of
    /// the record it replaces (one generation less).
    pub(crate) fn slot_offset(&self) -> u64 {
        (self.generation % 2) * SLOT
    }
}

/// The current record of a header file's bytes (shorter than [`HEADER_LEN`] when the file is new or
/// was cut short): the valid record with the highest generation.
pub(crate) fn current(header: &[u8]) -> Option<Record> {
    let slot = |i: usize| header.get(i * SLOT as usize..).and_then(Record::decode);
    match (slot(0), slot(1)) {
        (Some(a), Some(b)) => Some(if a.generation >= b.generation { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The name of the data file with id `id`.
pub(crate) fn data_file_name(id: u64) -> String {
    format!("d{id:016x}")
}

/// The id of a data file's name, `None` for any other name.
pub(crate) fn data_file_id(name: &str) -> Option<u64> {
    let hex = name.strip_prefix('d')?;
    (hex.len() == 16).then(|| u64::from_str_radix(hex, 16).ok()).flatten()
}
