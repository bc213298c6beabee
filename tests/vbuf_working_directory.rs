//! A buffer opened or saved under a relative path keeps saving to that file when the process changes
//! its working directory. The working directory is the process's: this test has a binary of its own,
//! so that no other test sees it change.

use omnibuf::vbuf::{FileBackend, VirtualBuffer};

#[test]
fn relative_paths_name_the_file_of_the_time_they_were_given() {
    let root = tempfile::tempdir().unwrap();
    for name in ["one", "two"] {
        std::fs::create_dir(root.path().join(name)).unwrap();
        std::fs::write(root.path().join(name).join("notes.txt"), format!("{name}'s notes\n")).unwrap();
    }
    std::env::set_current_dir(root.path().join("one")).unwrap();
    let buf = VirtualBuffer::open("notes.txt").unwrap();
    buf.insert(0, b"edited: ").unwrap();
    std::env::set_current_dir(root.path().join("two")).unwrap();
    buf.save().unwrap();
    let read = |path: &str| std::fs::read_to_string(root.path().join(path)).unwrap();
    assert_eq!(read("one/notes.txt"), "edited: one's notes\n");
    assert_eq!(read("two/notes.txt"), "two's notes\n", "the other directory's file is untouched");

    // saveAs: the same, for the file it names, and later saves go there.
    buf.save_as("copy.txt", FileBackend::Positional).unwrap();
    std::env::set_current_dir(root.path().join("one")).unwrap();
    buf.insert(0, b"again ").unwrap();
    buf.save().unwrap();
    assert_eq!(read("two/copy.txt"), "again edited: one's notes\n");
    assert!(!root.path().join("one/copy.txt").exists());
    std::env::set_current_dir(root.path()).unwrap();
}
