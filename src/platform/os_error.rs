//! A system's I/O errors: what was being done when one came (kept with the system's own error, whose
//! number it keeps), and the name Node gives it (`ENOENT`, `EMFILE`, ...), so that the bindings can
//! give their errors the `code` Node's `fs` gives the same failure.
//!
//! An error with a system's number is named by that number, as libuv names it (the libuv 1.x that
//! Node ships; on Unix through `libc`, on Windows by the part of libuv's table that files, mappings,
//! pipes and network shares can give), and one whose number is not named has no name (Node says
//! `UNKNOWN`). The number decides, not the error's [`ErrorKind`](std::io::ErrorKind): a kind
//! folds several numbers together (`EPERM` and `EACCES` are both `PermissionDenied`) and leaves many
//! uncategorized (`EMFILE`, `ENFILE`, `EIO`). An error made without a number (as in the browser) is
//! named by its kind.

use std::error::Error;
use std::io;

/// `error`, its message prefixed with what was being done (`"opening notes.txt: No such file or
/// directory"`), of the same kind. The system's error stays its [`source`](Error::source), so its
/// number is not lost to the new message.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn with_context(error: io::Error, doing: impl std::fmt::Display) -> io::Error {
    io::Error::new(error.kind(), InContext { doing: doing.to_string(), error })
}

/// A system's error and what was being done when it came.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug)]
struct InContext {
    doing: String,
    error: io::Error,
}

#[cfg(not(target_arch = "wasm32"))]
impl std::fmt::Display for InContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.doing, self.error)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Error for InContext {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.error)
    }
}

/// The name Node (libuv) gives `e`, or `None` for an error that is no system's (one of this crate's
/// own, such as a file changed underneath) or whose number this module does not name (Node's `fs`
/// says `UNKNOWN` for a number libuv does not name). Node's `fs` gives its errors the same `code`, so
/// a program tells failures apart by `error.code`, not by the system's words in the message. Of an
/// error put [in context](with_context), the system's own error is named.
#[cfg(any(feature = "binding", target_arch = "wasm32", test))]
pub(crate) fn node_code(e: &io::Error) -> Option<&'static str> {
    let innermost = std::iter::successors(Some(e as &(dyn Error + 'static)), |&e| e.source())
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .last()
        .unwrap_or(e);
    match innermost.raw_os_error() {
        // libuv names each number it knows and no other (`UNKNOWN`), whatever its kind.
        Some(number) => by_number(number),
        None => by_kind(innermost.kind()),
    }
}

/// The names of the numbers a file, a mapping or a lock can fail with (a dead network mount's
/// `ENOTCONN` too), as libuv names them (`EOPNOTSUPP` is `ENOTSUP` to it, `EWOULDBLOCK` is `EAGAIN`).
/// Each constant is written out with its path: a glob import would turn one a system lacks into a
/// pattern that matches every number.
#[cfg(all(unix, any(feature = "binding", test)))]
fn by_number(number: i32) -> Option<&'static str> {
    Some(match number {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::ETXTBSY => "ETXTBSY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EMLINK => "EMLINK",
        libc::EPIPE => "EPIPE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ELOOP => "ELOOP",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ECANCELED => "ECANCELED",
        libc::ENOTCONN => "ENOTCONN",
        libc::ESRCH => "ESRCH",
        libc::ERANGE => "ERANGE",
        libc::EILSEQ => "EILSEQ",
        #[cfg(any(target_os = "linux", target_os = "android"))]
        libc::ENODATA => "ENODATA",
        #[cfg(any(target_os = "linux", target_os = "android"))]
        libc::EREMOTEIO => "EREMOTEIO",
        n if n == libc::ENOTSUP || n == libc::EOPNOTSUPP => "ENOTSUP",
        _ => return None,
    })
}

/// The Windows codes that a file, a mapping, a pipe or a network share can fail with, as libuv 1.x
/// names them (Node's `uv_translate_sys_error`, its socket-only `WSA` codes left out). Its names are
/// not always what the standard library's kind would say: `ERROR_ACCESS_DENIED` is `EPERM`,
/// `ERROR_DIRECTORY` is `ENOENT`, and a number it does not name, such as `ERROR_BAD_NETPATH`, is
/// `UNKNOWN` to Node whatever its kind.
#[cfg(all(windows, any(feature = "binding", test)))]
fn by_number(number: i32) -> Option<&'static str> {
    use windows_sys::Win32::Foundation::*;
    Some(match u32::try_from(number).ok()? {
        ERROR_NOACCESS | ERROR_ELEVATION_REQUIRED | ERROR_CANT_ACCESS_FILE => "EACCES",
        ERROR_ACCESS_DENIED | ERROR_PRIVILEGE_NOT_HELD => "EPERM",
        ERROR_INVALID_FLAGS | ERROR_INVALID_HANDLE => "EBADF",
        ERROR_LOCK_VIOLATION | ERROR_PIPE_BUSY | ERROR_SHARING_VIOLATION => "EBUSY",
        ERROR_OPERATION_ABORTED => "ECANCELED",
        ERROR_NO_UNICODE_TRANSLATION => "ECHARSET",
        ERROR_NETNAME_DELETED => "ECONNRESET",
        ERROR_CONNECTION_ABORTED => "ECONNABORTED",
        ERROR_CONNECTION_REFUSED => "ECONNREFUSED",
        ERROR_HOST_UNREACHABLE => "EHOSTUNREACH",
        ERROR_NETWORK_UNREACHABLE => "ENETUNREACH",
        ERROR_ADDRESS_ALREADY_ASSOCIATED => "EADDRINUSE",
        ERROR_ALREADY_EXISTS | ERROR_FILE_EXISTS => "EEXIST",
        ERROR_BUFFER_OVERFLOW => "EFAULT",
        ERROR_INSUFFICIENT_BUFFER
        | ERROR_INVALID_DATA
        | ERROR_INVALID_PARAMETER
        | ERROR_SYMLINK_NOT_SUPPORTED => "EINVAL",
        ERROR_BEGINNING_OF_MEDIA
        | ERROR_BUS_RESET
        | ERROR_CRC
        | ERROR_DEVICE_DOOR_OPEN
        | ERROR_DEVICE_REQUIRES_CLEANING
        | ERROR_DISK_CORRUPT
        | ERROR_EOM_OVERFLOW
        | ERROR_FILEMARK_DETECTED
        | ERROR_GEN_FAILURE
        | ERROR_INVALID_BLOCK_LENGTH
        | ERROR_IO_DEVICE
        | ERROR_NO_DATA_DETECTED
        | ERROR_NO_SIGNAL_SENT
        | ERROR_OPEN_FAILED
        | ERROR_SETMARK_DETECTED
        | ERROR_SIGNAL_REFUSED => "EIO",
        ERROR_CANT_RESOLVE_FILENAME => "ELOOP",
        ERROR_TOO_MANY_OPEN_FILES => "EMFILE",
        ERROR_FILENAME_EXCED_RANGE => "ENAMETOOLONG",
        ERROR_BAD_PATHNAME
        | ERROR_DIRECTORY
        | ERROR_ENVVAR_NOT_FOUND
        | ERROR_FILE_NOT_FOUND
        | ERROR_INVALID_NAME
        | ERROR_INVALID_DRIVE
        | ERROR_INVALID_REPARSE_DATA
        | ERROR_MOD_NOT_FOUND
        | ERROR_PATH_NOT_FOUND => "ENOENT",
        ERROR_NOT_ENOUGH_MEMORY | ERROR_OUTOFMEMORY => "ENOMEM",
        ERROR_CANNOT_MAKE
        | ERROR_DISK_FULL
        | ERROR_EA_TABLE_FULL
        | ERROR_END_OF_MEDIA
        | ERROR_HANDLE_DISK_FULL => "ENOSPC",
        ERROR_NOT_CONNECTED => "ENOTCONN",
        ERROR_DIR_NOT_EMPTY => "ENOTEMPTY",
        ERROR_NOT_SUPPORTED => "ENOTSUP",
        ERROR_BROKEN_PIPE => "EOF",
        ERROR_BAD_PIPE | ERROR_NO_DATA | ERROR_PIPE_NOT_CONNECTED => "EPIPE",
        ERROR_WRITE_PROTECT => "EROFS",
        ERROR_SEM_TIMEOUT => "ETIMEDOUT",
        ERROR_NOT_SAME_DEVICE => "EXDEV",
        ERROR_INVALID_FUNCTION => "EISDIR",
        ERROR_META_EXPANSION_TOO_LONG => "E2BIG",
        ERROR_BAD_EXE_FORMAT => "EFTYPE",
        _ => return None,
    })
}

/// No system numbers to name (wasm32: an error there has none).
#[cfg(all(not(any(unix, windows)), any(feature = "binding", target_arch = "wasm32", test)))]
fn by_number(_number: i32) -> Option<&'static str> {
    None
}

/// By kind, for an error made without a system's number: the name of the number the standard
/// library would have given that kind.
#[cfg(any(feature = "binding", target_arch = "wasm32", test))]
fn by_kind(kind: io::ErrorKind) -> Option<&'static str> {
    use io::ErrorKind::*;
    Some(match kind {
        NotFound => "ENOENT",
        PermissionDenied => "EACCES",
        AlreadyExists => "EEXIST",
        IsADirectory => "EISDIR",
        NotADirectory => "ENOTDIR",
        DirectoryNotEmpty => "ENOTEMPTY",
        ReadOnlyFilesystem => "EROFS",
        StorageFull => "ENOSPC",
        FileTooLarge => "EFBIG",
        ResourceBusy => "EBUSY",
        ExecutableFileBusy => "ETXTBSY",
        CrossesDevices => "EXDEV",
        TooManyLinks => "EMLINK",
        Interrupted => "EINTR",
        OutOfMemory => "ENOMEM",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;
    use std::io::{Error, ErrorKind};

    #[test]
    fn an_error_without_a_number_is_named_by_its_kind() {
        assert_eq!(node_code(&Error::from(ErrorKind::StorageFull)), Some("ENOSPC"));
        assert_eq!(node_code(&Error::from(ErrorKind::PermissionDenied)), Some("EACCES"));
        // Kinds that are no system's failure, or that the standard library makes for its own checks
        // (a path with a NUL is `InvalidInput`, not the system's `EINVAL`), have none.
        assert_eq!(node_code(&Error::from(ErrorKind::InvalidInput)), None);
        assert_eq!(node_code(&Error::other("corrupt")), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_unix_number_is_named_as_node_names_it() {
        let name = |n| node_code(&Error::from_raw_os_error(n));
        // Numbers the standard library leaves uncategorized, or folds with others.
        assert_eq!(name(libc::EMFILE), Some("EMFILE"));
        assert_eq!(name(libc::ENFILE), Some("ENFILE"));
        assert_eq!(name(libc::EIO), Some("EIO"));
        assert_eq!(name(libc::EPERM), Some("EPERM"));
        assert_eq!(name(libc::EACCES), Some("EACCES"));
        assert_eq!(name(libc::EINVAL), Some("EINVAL"));
        assert_eq!(name(libc::EOPNOTSUPP), Some("ENOTSUP"));
        // A number libuv does not name has none (Node's fs says UNKNOWN).
        assert_eq!(name(libc::EDQUOT), None);
    }

    #[cfg(windows)]
    #[test]
    fn a_windows_number_is_named_as_libuv_names_it() {
        use windows_sys::Win32::Foundation::*;
        let name = |n: u32| node_code(&Error::from_raw_os_error(n as i32));
        assert_eq!(name(ERROR_FILE_NOT_FOUND), Some("ENOENT"));
        assert_eq!(name(ERROR_ACCESS_DENIED), Some("EPERM"));
        assert_eq!(name(ERROR_SHARING_VIOLATION), Some("EBUSY"));
        assert_eq!(name(ERROR_GEN_FAILURE), Some("EIO"));
        // libuv's name, not the one the kind (`NotADirectory`) would give.
        assert_eq!(name(ERROR_DIRECTORY), Some("ENOENT"));
        // Numbers libuv does not name have none, though the standard library gives them a kind.
        assert_eq!(name(ERROR_BAD_NETPATH), None);
        assert_eq!(name(ERROR_FILE_TOO_LARGE), None);
    }

    #[test]
    fn an_error_in_context_keeps_the_systems_number_and_name() {
        let missing = std::fs::File::open("/no/such/omnibuf/file").unwrap_err();
        let number = missing.raw_os_error();
        let opening = with_context(missing, "opening /no/such/omnibuf/file");
        assert!(opening.to_string().starts_with("opening /no/such/omnibuf/file: "), "{opening}");
        assert_eq!(opening.kind(), ErrorKind::NotFound);
        let source = opening.source().and_then(|e| e.downcast_ref::<Error>()).map(Error::raw_os_error);
        assert_eq!(source, Some(number));
        assert_eq!(node_code(&opening), Some("ENOENT"));
    }

    #[cfg(unix)]
    #[test]
    fn an_uncategorized_error_in_context_is_named_by_its_number() {
        // `EPERM` is `PermissionDenied`, as `EACCES` is: only the number tells them apart.
        let refused = with_context(Error::from_raw_os_error(libc::EPERM), "saving notes.txt");
        assert_eq!(node_code(&refused), Some("EPERM"));
        let too_many = with_context(Error::from_raw_os_error(libc::EMFILE), "opening notes.txt");
        assert_eq!(node_code(&too_many), Some("EMFILE"));
    }
}
