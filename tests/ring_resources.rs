//! Rings made while the process is short of something double mapping needs and the mirror does not:
//! the default choice makes a mirror, an explicit double-mapped ring says what ran short, and once
//! the process has it again, double mapping is back (a self-test that ran short is not remembered
//! as "unavailable" for the process's life).
//!
//! One test, which runs itself twice more in child processes (the choice is remembered per process):
//! - with its file descriptors used up;
//! - under a file-size limit (`ulimit -f`) smaller than the ring, which a ring's memory object counts
//!   against, with SIGXFSZ at its default: a size past the limit must be refused before it is asked
//!   for, or the signal ends the process.
#![cfg(target_os = "linux")]

use std::process::Command;

use omnibuf::ring::{
    double_mapping_available, sync::Circular, RingBackend, RingError, RingMemoryError, RingOptions,
};

const PART: &str = "OMNIBUF_TEST_RING_RESOURCES_PART";
const TEST: &str = "rings_made_short_of_resources_fall_back_and_recover";
const BIG: usize = 8 << 20;

fn double_mapped(items: usize) -> Result<RingBackend, RingError> {
    Circular::with_options::<u8>(items, &RingOptions::default().backend(RingBackend::DoubleMapped))
        .map(|w| w.backend())
}

fn default_backend(items: usize) -> RingBackend {
    Circular::with_capacity::<u8>(items).expect("a ring of the default backend").backend()
}

#[test]
fn rings_made_short_of_resources_fall_back_and_recover() {
    match std::env::var(PART).as_deref() {
        Ok("fds") => return without_file_descriptors(),
        Ok("fsize") => return under_a_file_size_limit(),
        _ => {}
    }
    if !double_mapping_available() {
        eprintln!("double mapping is not available here: nothing to fall back from");
        return;
    }
    for (part, shell) in [
        ("fds", r#"ulimit -n 64 && exec "$0" "$@""#),
        // 1024 blocks: 512 KiB or 1 MiB, as the shell counts them; SIGXFSZ left at its default.
        ("fsize", r#"ulimit -f 1024 && exec "$0" "$@""#),
    ] {
        let output = Command::new("/bin/sh")
            .args(["-c", shell])
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture"])
            .env(PART, part)
            .output()
            .expect("run the test's part in a child");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "{part}: {:?}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn without_file_descriptors() {
    let mut held = Vec::new();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(file) => held.push(file),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
            Err(e) => panic!("opening /dev/null: {e}"),
        }
    }
    assert_eq!(default_backend(4096), RingBackend::MirrorCopy);
    let err = double_mapped(4096).unwrap_err();
    assert!(matches!(err, RingError::Memory(RingMemoryError::Map(_))), "{err:?}");
    assert!(err.to_string().contains("Too many open files"), "{err}");
    assert!(!double_mapping_available());

    drop(held);
    assert!(double_mapping_available(), "the self-test that ran short was remembered");
    assert_eq!(default_backend(4096), RingBackend::DoubleMapped);
    assert_eq!(double_mapped(4096).unwrap(), RingBackend::DoubleMapped);
}

fn under_a_file_size_limit() {
    assert_eq!(default_backend(4096), RingBackend::DoubleMapped);
    assert_eq!(default_backend(BIG), RingBackend::MirrorCopy);
    let err = double_mapped(BIG).unwrap_err();
    assert!(
        matches!(&err, RingError::Memory(RingMemoryError::Map(e)) if e.kind() == std::io::ErrorKind::FileTooLarge),
        "{err:?}"
    );
    assert!(double_mapping_available());
}
