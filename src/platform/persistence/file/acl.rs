//! Copying a file's POSIX access ACL to the file a save writes in its place (Linux). An ACL is an
//! extended attribute (`system.posix_acl_access`) that a new inode does not inherit; without it the
//! copied mode would mean something else: its group bits are the ACL's mask, not the owning group's
//! rights.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

const ACCESS_ACL: &std::ffi::CStr = c"system.posix_acl_access";

/// Gives `file` the access ACL of the file at `original`, if it has one. Fails if `file` cannot take
/// it (a file system without ACLs cannot have given `original` one either).
pub(super) fn copy_access_acl(original: &Path, file: &File) -> io::Result<()> {
    let path = CString::new(original.as_os_str().as_bytes())?;
    let mut acl = vec![0u8; 256];
    loop {
        // SAFETY: `path` and the attribute name are NUL-terminated strings that outlive the call,
        // and `acl` is a writable buffer of `acl.len()` bytes.
        let n =
            unsafe { libc::getxattr(path.as_ptr(), ACCESS_ACL.as_ptr(), acl.as_mut_ptr().cast(), acl.len()) };
        if let Ok(n) = usize::try_from(n) {
            acl.truncate(n);
            break;
        }
        let error = io::Error::last_os_error();
        match error.raw_os_error() {
            // No ACL (or none possible here): the mode says it all.
            Some(libc::ENODATA | libc::EOPNOTSUPP) => return Ok(()),
            // Grown since the size was asked: ask again, with room for it.
            Some(libc::ERANGE) => acl.resize(acl.len() * 2, 0),
            _ => return Err(error),
        }
    }
    // SAFETY: the descriptor is `file`'s, open for the call; the name is NUL-terminated and `acl`
    // holds `acl.len()` readable bytes.
    let set =
        unsafe { libc::fsetxattr(file.as_raw_fd(), ACCESS_ACL.as_ptr(), acl.as_ptr().cast(), acl.len(), 0) };
    if set == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
