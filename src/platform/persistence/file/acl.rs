//! Copying a file's POSIX access ACL to the file a save writes in its place (Linux). An ACL is an
//! extended attribute (`system.posix_acl_access`) that a new inode does not inherit from the file it
//! replaces (it may inherit its directory's default ACL instead); without it the copied mode would
//! mean something else: its group bits are the ACL's mask, not the owning group's rights.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

const ACCESS_ACL: &std::ffi::CStr = c"system.posix_acl_access";

/// The tag of the owning group's entry in the attribute's binary form (`ACL_GROUP_OBJ`).
const GROUP_OBJ: u16 = 0x04;

/// Gives `file` the access ACL `original` (one [`access_acl`] read), or none (dropping one `file`
/// took from its directory's default ACL). Where the owning group was not kept, the group entry
/// grants nothing: its rights were the old group's, not the new one's; the entries of named users
/// and groups stay, and so keep out whom they kept out. Fails if `file` cannot take the ACL.
pub(super) fn copy_access_acl(original: Option<&[u8]>, file: &File, group_kept: bool) -> io::Result<()> {
    let Some(original) = original else {
        return remove_access_acl(file);
    };
    let mut acl = original.to_vec();
    if !group_kept {
        // A 4-byte version, then entries of a 2-byte tag, 2-byte permissions and 4-byte id.
        if acl.len() < 4 || (acl.len() - 4) % 8 != 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "an access ACL of an unknown form"));
        }
        for entry in acl[4..].chunks_exact_mut(8) {
            if u16::from_le_bytes([entry[0], entry[1]]) == GROUP_OBJ {
                entry[2..4].copy_from_slice(&0u16.to_le_bytes());
            }
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

/// The access ACL of the file at `path` in its binary form, `None` if it has none.
pub(super) fn access_acl(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let path = CString::new(path.as_os_str().as_bytes())?;
    let mut acl = vec![0u8; 256];
    loop {
        // SAFETY: `path` and the attribute name are NUL-terminated strings that outlive the call,
        // and `acl` is a writable buffer of `acl.len()` bytes.
        let n =
            unsafe { libc::getxattr(path.as_ptr(), ACCESS_ACL.as_ptr(), acl.as_mut_ptr().cast(), acl.len()) };
        if let Ok(n) = usize::try_from(n) {
            acl.truncate(n);
            return Ok(Some(acl));
        }
        let error = io::Error::last_os_error();
        match error.raw_os_error() {
            // No ACL (or none possible here): the mode says it all.
            Some(libc::ENODATA | libc::EOPNOTSUPP) => return Ok(None),
            // Grown since the size was asked: ask again, with room for it.
            Some(libc::ERANGE) => acl.resize(acl.len() * 2, 0),
            _ => return Err(error),
        }
    }
}

/// Removes `file`'s access ACL, if it has one.
fn remove_access_acl(file: &File) -> io::Result<()> {
    // SAFETY: the descriptor is `file`'s, open for the call; the name is NUL-terminated.
    if unsafe { libc::fremovexattr(file.as_raw_fd(), ACCESS_ACL.as_ptr()) } == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::ENODATA | libc::EOPNOTSUPP) => Ok(()),
        _ => Err(error),
    }
}
