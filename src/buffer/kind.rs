//! Content-kind tags and the registry that names them.
//!
//! A [`BufferKind`] is a 32-bit id, so kinds are `Copy` and compare in O(1). The names live in one
//! process-wide [`BufferKindRegistry`]: the built-in kinds have fixed ids, and every kind a user
//! registers gets the next free id. Registering a name twice returns the same kind.

use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, RwLock};

/// The built-in kinds, in id order. Their ids never change.
const BUILTIN: [&str; 14] = [
    "raw", "text", "json", "pcm16", "pcm_f32", "mulaw8", "alaw8", "opus", "jpeg", "png", "webp", "gif",
    "h264", "mp4",
];

/// Most kinds the registry will hold. Names are interned for the life of the process, so the bound
/// keeps a program that registers names in a loop from growing without limit.
pub const MAX_KINDS: usize = 65_536;

/// Longest accepted kind name, in bytes.
pub const MAX_KIND_NAME_LEN: usize = 64;

/// Why a kind name was refused by [`BufferKind::register`].
///
/// ```
/// use omnibuf::{BufferKind, KindError};
///
/// let err = BufferKind::register("two words").unwrap_err();
/// assert!(matches!(err, KindError::InvalidName { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KindError {
    /// The name is empty, longer than [`MAX_KIND_NAME_LEN`] bytes, or holds whitespace, control or
    /// invisible formatting characters.
    #[error(
        "invalid buffer kind name {name:?}: names are 1 to 64 bytes with no whitespace, control or invisible characters"
    )]
    InvalidName {
        /// The refused name; one longer than [`MAX_KIND_NAME_LEN`] bytes is cut to its first ones
        /// and ends in `…`, so that the error stays small whatever was passed.
        name: String,
    },
    /// [`MAX_KINDS`] kinds are registered already.
    #[error("the buffer kind registry is full ({MAX_KINDS} kinds)")]
    RegistryFull,
}

/// The content kind of a buffer: `raw` for untagged bytes, or a domain tag such as `pcm16` or `jpeg`.
///
/// Kinds are cheap to copy and compare. Built-in kinds have constructors; others come from
/// [`BufferKind::register`].
///
/// ```
/// use omnibuf::BufferKind;
///
/// let pcm24 = BufferKind::register("pcm24").unwrap();
/// assert_eq!(pcm24, BufferKind::register("pcm24").unwrap()); // same name, same kind
/// assert_eq!(pcm24.name(), "pcm24");
/// assert_ne!(pcm24, BufferKind::pcm16());
/// assert_eq!(BufferKind::lookup("jpeg"), Some(BufferKind::jpeg()));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BufferKind(u32);

macro_rules! builtin_kinds {
    ($($(#[$doc:meta])* $name:ident = $id:expr;)*) => {
        impl BufferKind {
            $(
                $(#[$doc])*
                ///
                #[doc = concat!(
                    "```\n",
                    "let kind = omnibuf::BufferKind::", stringify!($name), "();\n",
                    "assert_eq!(kind.name(), \"", stringify!($name), "\");\n",
                    "assert_eq!(kind.id(), ", stringify!($id), ");\n",
                    "assert!(kind.is_builtin());\n",
                    "```",
                )]
                pub const fn $name() -> BufferKind {
                    BufferKind($id)
                }
            )*
        }
    };
}

builtin_kinds! {
    /// Untagged bytes: the kind of a buffer whose content is not known.
    raw = 0;
    /// UTF-8 text.
    text = 1;
    /// A JSON document.
    json = 2;
    /// Signed 16-bit little-endian PCM audio.
    pcm16 = 3;
    /// 32-bit float PCM audio.
    pcm_f32 = 4;
    /// G.711 µ-law audio, 8 bits per sample.
    mulaw8 = 5;
    /// G.711 A-law audio, 8 bits per sample.
    alaw8 = 6;
    /// Opus audio packets.
    opus = 7;
    /// A JPEG image.
    jpeg = 8;
    /// A PNG image.
    png = 9;
    /// A WebP image.
    webp = 10;
    /// A GIF image.
    gif = 11;
    /// An H.264 elementary stream.
    h264 = 12;
    /// An MP4 container.
    mp4 = 13;
}

impl BufferKind {
    /// Registers `name` in the global registry, or returns the kind already registered under it.
    /// Fails as [`BufferKindRegistry::register`] does.
    ///
    /// ```
    /// use omnibuf::{BufferKind, KindError};
    ///
    /// let midi = BufferKind::register("midi").unwrap();
    /// assert_eq!(midi.name(), "midi");
    /// assert!(matches!(BufferKind::register("has space"), Err(KindError::InvalidName { .. })));
    /// ```
    pub fn register(name: &str) -> Result<BufferKind, KindError> {
        BufferKindRegistry::global().register(name)
    }

    /// The kind registered under `name`, if any.
    ///
    /// ```
    /// use omnibuf::BufferKind;
    ///
    /// assert_eq!(BufferKind::lookup("png"), Some(BufferKind::png()));
    /// assert_eq!(BufferKind::lookup("never-registered"), None);
    /// ```
    pub fn lookup(name: &str) -> Option<BufferKind> {
        BufferKindRegistry::global().lookup(name)
    }

    /// The kind's name.
    ///
    /// ```
    /// assert_eq!(omnibuf::BufferKind::mulaw8().name(), "mulaw8");
    /// ```
    pub fn name(self) -> &'static str {
        match BUILTIN.get(self.0 as usize) {
            Some(name) => name,
            None => BufferKindRegistry::global().name_of(self),
        }
    }

    /// The kind's numeric id: stable for built-in kinds, assigned in registration order for others.
    ///
    /// ```
    /// use omnibuf::BufferKind;
    ///
    /// assert_eq!(BufferKind::raw().id(), 0);
    /// let a = BufferKind::register("id-example-a").unwrap();
    /// let b = BufferKind::register("id-example-b").unwrap();
    /// assert!(b.id() > a.id() && a.id() >= 14); // after the built-in kinds
    /// ```
    pub fn id(self) -> u32 {
        self.0
    }

    /// Whether this is one of the kinds built into omnibuf.
    ///
    /// ```
    /// use omnibuf::BufferKind;
    ///
    /// assert!(BufferKind::json().is_builtin());
    /// assert!(!BufferKind::register("flac").unwrap().is_builtin());
    /// ```
    pub fn is_builtin(self) -> bool {
        (self.0 as usize) < BUILTIN.len()
    }
}

impl Default for BufferKind {
    /// [`BufferKind::raw`].
    fn default() -> Self {
        BufferKind::raw()
    }
}

impl fmt::Debug for BufferKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BufferKind({})", self.name())
    }
}

impl fmt::Display for BufferKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The process-wide table of kind names.
///
/// There is one registry, [`BufferKindRegistry::global`]; kinds are ids into it, so a second registry
/// would give ids that mean different things. Names are interned for the life of the process (at most
/// [`MAX_KINDS`] of them).
///
/// ```
/// use omnibuf::{BufferKind, BufferKindRegistry};
///
/// let registry = BufferKindRegistry::global();
/// let kind = registry.register("vorbis").unwrap();
/// assert_eq!(registry.lookup("vorbis"), Some(kind));
/// assert!(registry.kinds().contains(&BufferKind::raw()));
/// ```
pub struct BufferKindRegistry {
    table: RwLock<Table>,
}

struct Table {
    by_name: HashMap<&'static str, BufferKind>,
    names: Vec<&'static str>,
}

impl BufferKindRegistry {
    /// The registry every [`BufferKind`] refers to.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferKindRegistry};
    ///
    /// let kind = BufferKind::register("global-example").unwrap();
    /// assert_eq!(BufferKindRegistry::global().name_of(kind), "global-example");
    /// ```
    pub fn global() -> &'static BufferKindRegistry {
        static GLOBAL: OnceLock<BufferKindRegistry> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            let names: Vec<&'static str> = BUILTIN.to_vec();
            let by_name = names.iter().enumerate().map(|(id, name)| (*name, BufferKind(id as u32))).collect();
            BufferKindRegistry { table: RwLock::new(Table { by_name, names }) }
        })
    }

    /// Registers `name`, or returns the kind already registered under it. Fails with
    /// [`KindError::InvalidName`] for a name that is empty, longer than [`MAX_KIND_NAME_LEN`] bytes or
    /// holds whitespace, control or invisible formatting characters (such as U+200B ZERO WIDTH SPACE,
    /// by which two names that print alike would differ), and with [`KindError::RegistryFull`] once
    /// [`MAX_KINDS`] kinds are registered (a registered kind is never removed).
    ///
    /// ```
    /// use omnibuf::{BufferKindRegistry, KindError};
    ///
    /// let registry = BufferKindRegistry::global();
    /// let ogg = registry.register("ogg").unwrap();
    /// assert_eq!(registry.register("ogg"), Ok(ogg));
    /// assert!(matches!(registry.register(""), Err(KindError::InvalidName { .. })));
    /// ```
    pub fn register(&self, name: &str) -> Result<BufferKind, KindError> {
        validate_name(name)?;
        if let Some(kind) = self.lookup(name) {
            return Ok(kind);
        }
        let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
        // Another thread may have registered it between our read and write locks.
        if let Some(kind) = table.by_name.get(name) {
            return Ok(*kind);
        }
        if table.names.len() >= MAX_KINDS {
            return Err(KindError::RegistryFull);
        }
        let kind = BufferKind(table.names.len() as u32);
        let interned: &'static str = Box::leak(name.to_owned().into_boxed_str());
        table.names.push(interned);
        table.by_name.insert(interned, kind);
        Ok(kind)
    }

    /// The kind registered under `name`, if any.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferKindRegistry};
    ///
    /// let registry = BufferKindRegistry::global();
    /// assert_eq!(registry.lookup("text"), Some(BufferKind::text()));
    /// assert_eq!(registry.lookup("no-such-kind"), None);
    /// ```
    pub fn lookup(&self, name: &str) -> Option<BufferKind> {
        let table = self.table.read().unwrap_or_else(|e| e.into_inner());
        table.by_name.get(name).copied()
    }

    /// The name of `kind`.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferKindRegistry};
    ///
    /// let registry = BufferKindRegistry::global();
    /// assert_eq!(registry.name_of(BufferKind::webp()), "webp");
    /// ```
    pub fn name_of(&self, kind: BufferKind) -> &'static str {
        let table = self.table.read().unwrap_or_else(|e| e.into_inner());
        // Every BufferKind value was handed out by this registry, so its id is in range.
        table.names[kind.0 as usize]
    }

    /// How many kinds are registered, built-in ones included.
    ///
    /// ```
    /// use omnibuf::BufferKindRegistry;
    ///
    /// let registry = BufferKindRegistry::global();
    /// let before = registry.len();
    /// assert!(before >= 14); // the built-in kinds
    /// registry.register("len-example").unwrap();
    /// assert_eq!(registry.len(), before + 1);
    /// ```
    pub fn len(&self) -> usize {
        self.table.read().unwrap_or_else(|e| e.into_inner()).names.len()
    }

    /// Always `false`: the built-in kinds are always there.
    ///
    /// ```
    /// assert!(!omnibuf::BufferKindRegistry::global().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Every registered kind, in id order.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferKindRegistry};
    ///
    /// let registry = BufferKindRegistry::global();
    /// let kinds = registry.kinds();
    /// assert_eq!(kinds.len(), registry.len());
    /// assert_eq!(kinds[..2], [BufferKind::raw(), BufferKind::text()]);
    /// ```
    pub fn kinds(&self) -> Vec<BufferKind> {
        (0..self.len() as u32).map(BufferKind).collect()
    }
}

fn validate_name(name: &str) -> Result<(), KindError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_KIND_NAME_LEN
        && !name.chars().any(|c| c.is_whitespace() || c.is_control() || is_invisible_format(c));
    if ok {
        Ok(())
    } else {
        Err(KindError::InvalidName { name: shortened(name) })
    }
}

/// Whether `c` is one of Unicode's format characters (general category Cf), which print as nothing
/// or steer the text around them: zero-width spaces and joiners, bidirectional marks and
/// isolates, the byte order mark, tags. The list is Unicode 15's; `char` has no query for it.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{890}'..='\u{891}'
            | '\u{8E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// `name` cut to at most [`MAX_KIND_NAME_LEN`] bytes (at a character's start) plus `…`, if longer.
fn shortened(name: &str) -> String {
    if name.len() <= MAX_KIND_NAME_LEN {
        return name.to_owned();
    }
    let end = (0..=MAX_KIND_NAME_LEN).rev().find(|&i| name.is_char_boundary(i)).unwrap_or(0);
    format!("{}…", &name[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_have_their_names_and_are_found_by_name() {
        for (id, name) in BUILTIN.iter().enumerate() {
            let kind = BufferKind(id as u32);
            assert_eq!(kind.name(), *name);
            assert!(kind.is_builtin());
            assert_eq!(BufferKind::lookup(name), Some(kind));
        }
        assert_eq!(BufferKind::raw().name(), "raw");
        assert_eq!(BufferKind::jpeg().name(), "jpeg");
        assert_eq!(BufferKind::default(), BufferKind::raw());
    }

    #[test]
    fn registering_a_builtin_name_returns_the_builtin() {
        assert_eq!(BufferKind::register("pcm16"), Ok(BufferKind::pcm16()));
    }

    #[test]
    fn registration_is_idempotent_and_distinct() {
        let a = BufferKind::register("test-kind-a").unwrap();
        let b = BufferKind::register("test-kind-b").unwrap();
        assert_ne!(a, b);
        assert_eq!(BufferKind::register("test-kind-a").unwrap(), a);
        assert!(!a.is_builtin());
        assert_eq!(a.name(), "test-kind-a");
        assert_eq!(format!("{a:?}"), "BufferKind(test-kind-a)");
        assert_eq!(a.to_string(), "test-kind-a");
    }

    #[test]
    fn bad_names_are_refused() {
        let invisible =
            ["zero\u{200B}width", "\u{FEFF}bom", "soft\u{AD}hyphen", "rtl\u{202E}gpj", "tag\u{E0041}"];
        for bad in
            ["", " ", "a b", "tab\t", "nl\n", "nbsp\u{A0}", &"x".repeat(65)].into_iter().chain(invisible)
        {
            assert!(
                matches!(BufferKind::register(bad), Err(KindError::InvalidName { .. })),
                "{bad:?} should be refused"
            );
        }
        assert!(BufferKind::register(&"x".repeat(64)).is_ok());
        // Letters of every script, and characters that show (emoji with their joiner's neighbours).
        for good in ["pcm-ü", "音声", "данные", "a_b.c/d+e"] {
            assert!(BufferKind::register(good).is_ok(), "{good:?} should be taken");
        }
        // A long name is not repeated whole in the error (its message would be as long).
        let long = format!("é{}", "y".repeat(10 << 20));
        let Err(KindError::InvalidName { name }) = BufferKind::register(&long) else { panic!() };
        assert_eq!(name, format!("é{}…", "y".repeat(MAX_KIND_NAME_LEN - 2)));
        assert!(KindError::InvalidName { name }.to_string().len() < 200);
        let Err(KindError::InvalidName { name }) = BufferKind::register(&"é".repeat(40)) else { panic!() };
        assert_eq!(name, format!("{}…", "é".repeat(MAX_KIND_NAME_LEN / 2)));
    }

    #[test]
    fn concurrent_registration_of_one_name_gives_one_kind() {
        let kinds: Vec<BufferKind> = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..4).map(|_| s.spawn(|| BufferKind::register("test-kind-raced").unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(kinds.windows(2).all(|w| w[0] == w[1]));
    }
}
