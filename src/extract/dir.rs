//! Files inside one extraction directory, opened once, with a bounded number of open files.
//!
//! In: [`SafeName`]s, a [`Coding`] per file, and wire bytes per [`FileId`]. Out: one
//! [`Extracted`] per file. Every file-system call is relative to the directory's descriptor and
//! names a single component, so no path ever leaves the directory; creation uses
//! `O_CREAT|O_EXCL|O_NOFOLLOW`, which neither follows a symlink nor opens an existing file.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

#[cfg(any(target_os = "linux", target_os = "android"))]
use rustix::fs::RenameFlags;
use rustix::fs::{AtFlags, CWD, Mode, OFlags, Stat};
use rustix::io::Errno;
use serde::Serialize;

use super::name::SafeName;
use super::{Coding, Error, Limits, Meter, Pipeline, Stop, Summary};

/// Highest `-N` suffix tried before [`Error::NoFreeName`].
pub const MAX_SUFFIX: u32 = 9_999;

/// Longest extension (from the last `.`) kept after a `-N` suffix: `a.txt` → `a-1.txt`.
const MAX_SUFFIX_EXTENSION: usize = 16;

/// Suffix of a file being written.
const PART: &str = ".part";

/// How a [`Dir`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Most files open at once (default 64, at least 1). A sink beyond it is closed and
    /// reopened when next written to.
    pub max_open: usize,
    /// Write buffer per open file, in bytes (default 16 KiB); it is freed when the file is
    /// closed to stay under `max_open`, so buffers take at most `max_open × buffer_bytes`.
    pub buffer_bytes: usize,
    /// Output limits for compressed codings.
    pub limits: Limits,
    /// `fsync` each complete file before giving it its final name (default false: the rename
    /// protects against a crash of pcaplab, not against a power cut).
    pub sync: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_open: 64,
            buffer_bytes: 16 * 1024,
            limits: Limits::default(),
            sync: false,
        }
    }
}

/// Names one file being written in a [`Dir`]. Ids are not reused: a finished id stays unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId {
    index: usize,
    generation: u64,
}

impl std::fmt::Display for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}.{}", self.index, self.generation)
    }
}

/// A file written by extraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extracted {
    /// The name from the wire, the name the policy made of it, and what was changed.
    pub name: SafeName,
    /// The file's name inside the directory: the policy's name, a `-N` variant of it when that
    /// was taken (`clash`), and ending in `.part` when the file is not complete.
    pub file_name: String,
    /// The directory as given to [`Dir::open`] joined with `file_name` (for messages).
    pub path: PathBuf,
    /// True when a file (or symlink) of the wanted name existed, so a `-N` variant was used.
    pub clash: bool,
    /// True when the caller said the data was complete and nothing stopped the sink: the file
    /// has its final name. False: the data stays in the `.part` file named by `file_name`.
    pub complete: bool,
    /// Sizes and hashes of the wire bytes and of the bytes in the file; why it stopped.
    pub summary: Summary,
}

/// Same device and inode: the same file, as long as a descriptor keeps the inode alive.
fn same_inode(a: &Stat, b: &Stat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

/// The same file, unchanged since `before` was taken from our own descriptor: an inode number
/// can be reused once the file is gone, so size and change time (which no one can set back)
/// must match as well.
fn unchanged(before: &Stat, now: &Stat) -> bool {
    same_inode(before, now)
        && before.st_size == now.st_size
        && before.st_ctime == now.st_ctime
        && before.st_ctime_nsec == now.st_ctime_nsec
}

/// One file being written.
#[derive(Debug)]
struct Slot {
    generation: u64,
    name: SafeName,
    /// Which `-N` variant's `.part` this holds (0 = the name itself).
    suffix: u32,
    part: String,
    file: Option<File>,
    /// `fstat` of our descriptor taken when the pool closed it (None while open, or when that
    /// `fstat` failed, which makes the file unusable).
    closed: Option<Stat>,
    out: Output,
    pipeline: Pipeline,
    tick: u64,
}

/// The write side of a slot: buffer, bytes on disk, hash of what the file holds.
#[derive(Debug, Default)]
struct Output {
    buf: Vec<u8>,
    on_disk: u64,
    written: Meter,
    failed: bool,
}

impl Output {
    /// Buffers `chunk`, writing to `file` when the buffer would overflow.
    fn write(&mut self, file: Option<&mut File>, cap: usize, chunk: &[u8]) -> io::Result<()> {
        let Some(file) = file else {
            return Err(io::Error::other("the file is not open"));
        };
        if self.buf.len().saturating_add(chunk.len()) > cap {
            self.flush(file)?;
        }
        if chunk.len() >= cap {
            self.write_through(file, chunk)
        } else {
            if self.buf.capacity() == 0 {
                self.buf.reserve_exact(cap);
            }
            self.buf.extend_from_slice(chunk);
            Ok(())
        }
    }

    fn flush(&mut self, file: &mut File) -> io::Result<()> {
        let buf = std::mem::take(&mut self.buf);
        let result = self.write_through(file, &buf);
        self.buf = buf;
        self.buf.clear();
        result
    }

    /// Writes `data`, hashing exactly the bytes the file accepted.
    fn write_through(&mut self, file: &mut File, data: &[u8]) -> io::Result<()> {
        let mut rest = data;
        while !rest.is_empty() {
            match file.write(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    let (done, tail) = rest.split_at_checked(n).unwrap_or((rest, &[]));
                    self.written.update(done);
                    self.on_disk = self.on_disk.saturating_add(done.len() as u64);
                    rest = tail;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// An extraction directory: creates, writes and names files inside it safely.
///
/// The directory is opened once by [`Dir::open`]; the path given is resolved by the operating
/// system as usual (it is the user's choice), but nothing inside it is ever reached by a path:
/// every call is relative to the directory's descriptor and names one component that never
/// follows a symlink. Not thread-safe by design (`&mut self`); use one per thread.
///
/// Lifecycle of a file: [`Dir::create`] makes `<name>.part` (or `<name>-N.part` when the name or
/// its `.part` is taken), [`Dir::write`] appends, [`Dir::finish`] renames it to `<name>` (or the
/// next free `-N`) when complete or leaves the `.part` when not, [`Dir::discard`] removes it.
/// A `Dir` dropped with files still open leaves their `.part` files, as a crash would.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
    options: Options,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    next_generation: u64,
    open: Vec<usize>,
    tick: u64,
    scratch: Vec<u8>,
    peak_open: usize,
}

fn io_err(e: Errno) -> io::Error {
    io::Error::from(e)
}

/// The `n`th name variant: `n = 0` is `name`, then `stem-n.ext` (`ext` kept when short).
fn variant(name: &str, n: u32) -> String {
    if n == 0 {
        return name.to_string();
    }
    match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= MAX_SUFFIX_EXTENSION => {
            let (stem, ext) = name.split_at_checked(i).unwrap_or((name, ""));
            format!("{stem}-{n}{ext}")
        }
        _ => format!("{name}-{n}"),
    }
}

impl Dir {
    /// A directory already opened as `fd` (shown as `path`), with no file open yet.
    fn with_fd(fd: OwnedFd, path: PathBuf, options: Options) -> Dir {
        Dir {
            fd,
            path,
            options: Options {
                max_open: options.max_open.max(1),
                ..options
            },
            slots: Vec::new(),
            free: Vec::new(),
            next_generation: 0,
            open: Vec::new(),
            tick: 0,
            scratch: Vec::new(),
            peak_open: 0,
        }
    }

    /// Opens `path` (which must exist and be a directory) as the extraction directory.
    ///
    /// # Errors
    /// [`Error::OpenDir`] when it cannot be opened as a directory.
    pub fn open(path: &Path, options: Options) -> Result<Dir, Error> {
        let fd = rustix::fs::openat(
            CWD,
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::OpenDir {
            path: path.to_path_buf(),
            source: io_err(e),
        })?;
        Ok(Dir::with_fd(fd, path.to_path_buf(), options))
    }

    /// The directory as given to [`Dir::open`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Files open right now (never more than [`Options::max_open`]).
    pub fn open_files(&self) -> usize {
        self.open.len()
    }

    /// The most files that were open at once.
    pub fn peak_open_files(&self) -> usize {
        self.peak_open
    }

    /// Files created and neither finished nor discarded.
    pub fn active(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Creates `<name>.part` for a new file, decoded with `coding`.
    ///
    /// When `<name>` or `<name>.part` already exists (a file, a directory, a symlink, anything),
    /// `<stem>-1<ext>`, `-2`, … are tried in turn; the result reports the clash.
    ///
    /// # Errors
    /// [`Error::Create`] when the directory refuses a file (permissions, disk full…),
    /// [`Error::NoFreeName`] when all [`MAX_SUFFIX`] variants exist.
    pub fn create(&mut self, name: &SafeName, coding: Coding) -> Result<FileId, Error> {
        while self.open.len() >= self.options.max_open {
            self.evict_lru();
        }
        for n in 0..=MAX_SUFFIX {
            let wanted = variant(name.as_str(), n);
            match rustix::fs::statat(&self.fd, wanted.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(_) => continue,
                Err(Errno::NOENT) => {}
                Err(e) => {
                    return Err(Error::Create {
                        path: self.path.join(&wanted),
                        source: io_err(e),
                    });
                }
            }
            let part = format!("{wanted}{PART}");
            let flags = OFlags::WRONLY
                | OFlags::CREATE
                | OFlags::EXCL
                | OFlags::NOFOLLOW
                | OFlags::CLOEXEC
                | OFlags::NOCTTY;
            let fd = match self.open_at(&part, flags) {
                Ok(fd) => fd,
                Err(Errno::EXIST) => continue,
                Err(e) => {
                    return Err(Error::Create {
                        path: self.path.join(&part),
                        source: io_err(e),
                    });
                }
            };
            let generation = self.next_generation;
            self.next_generation = self.next_generation.wrapping_add(1);
            self.tick = self.tick.wrapping_add(1);
            let slot = Slot {
                generation,
                name: name.clone(),
                suffix: n,
                part,
                file: Some(File::from(fd)),
                closed: None,
                out: Output::default(),
                pipeline: Pipeline::new(coding, self.options.limits),
                tick: self.tick,
            };
            let index = match self.free.pop() {
                Some(i) => {
                    if let Some(s) = self.slots.get_mut(i) {
                        *s = Some(slot);
                    }
                    i
                }
                None => {
                    self.slots.push(Some(slot));
                    self.slots.len() - 1
                }
            };
            self.open.push(index);
            self.peak_open = self.peak_open.max(self.open.len());
            return Ok(FileId { index, generation });
        }
        Err(Error::NoFreeName {
            path: self.path.join(name.as_str()),
            tries: MAX_SUFFIX,
        })
    }

    /// Creates a new directory `<name>` inside this one (or `<stem>-1`, `-2`, … when an entry
    /// of that name exists: an existing directory or symlink is never reused) and opens it as a
    /// [`Dir`] with the same options, without following a symlink.
    ///
    /// # Errors
    /// [`Error::Create`] when the directory cannot be made or opened, [`Error::NoFreeName`]
    /// when all [`MAX_SUFFIX`] variants exist.
    pub fn create_dir(&mut self, name: &SafeName) -> Result<Dir, Error> {
        for n in 0..=MAX_SUFFIX {
            let wanted = variant(name.as_str(), n);
            match rustix::fs::mkdirat(&self.fd, wanted.as_str(), Mode::from_raw_mode(0o755)) {
                Ok(()) => {}
                Err(Errno::EXIST) => continue,
                Err(e) => {
                    return Err(Error::Create {
                        path: self.path.join(&wanted),
                        source: io_err(e),
                    });
                }
            }
            let fd = rustix::fs::openat(
                &self.fd,
                wanted.as_str(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| Error::Create {
                path: self.path.join(&wanted),
                source: io_err(e),
            })?;
            return Ok(Dir::with_fd(fd, self.path.join(&wanted), self.options));
        }
        Err(Error::NoFreeName {
            path: self.path.join(name.as_str()),
            tries: MAX_SUFFIX,
        })
    }

    /// Appends wire bytes to a file (decoded with its coding).
    ///
    /// After a limit or corrupt data stops the file, later bytes are only counted in the wire
    /// fingerprint; [`Dir::finish`] reports the stop.
    ///
    /// # Errors
    /// [`Error::UnknownFile`] for an id that is not open. [`Error::Write`],
    /// [`Error::Reopen`] or [`Error::Replaced`] the first time writing this file fails: the
    /// file is then stopped (later writes are only counted) and the failure is also in its
    /// summary. A failure met while flushing this file to make room for another one is only
    /// in the summary.
    pub fn write(&mut self, id: FileId, bytes: &[u8]) -> Result<(), Error> {
        let index = self.index(id)?;
        if self.slot(index)?.pipeline.is_stopped() {
            let Dir { slots, scratch, .. } = self;
            if let Some(Some(slot)) = slots.get_mut(index) {
                let _ = slot
                    .pipeline
                    .push::<io::Error>(bytes, scratch, &mut |_| Ok(()));
            }
            return Ok(());
        }
        if let Err(e) = self.ensure_open(index) {
            let slot = self.slot(index)?;
            slot.pipeline.stop_with(Stop::Write {
                at_bytes: slot.out.on_disk,
                reason: e.to_string(),
            });
            slot.out.failed = true;
            let _ = slot
                .pipeline
                .push::<io::Error>(bytes, &mut Vec::new(), &mut |_| Ok(()));
            return Err(e);
        }
        let cap = self.options.buffer_bytes.max(1);
        let Dir {
            slots,
            scratch,
            path,
            ..
        } = self;
        let Some(Some(slot)) = slots.get_mut(index) else {
            return Err(Error::UnknownFile { id });
        };
        let Slot {
            pipeline,
            out,
            file,
            part,
            ..
        } = slot;
        let result = pipeline.push(bytes, scratch, &mut |chunk| {
            out.write(file.as_mut(), cap, chunk)
        });
        if let Err(source) = result {
            pipeline.stop_with(Stop::Write {
                at_bytes: out.on_disk,
                reason: source.to_string(),
            });
            out.failed = true;
            return Err(Error::Write {
                path: path.join(part.as_str()),
                source,
            });
        }
        Ok(())
    }

    /// Ends a file: flushes the decoder and the buffer, then, when `complete` is true and
    /// nothing stopped the file, renames `<name>.part` to `<name>` without replacing anything
    /// (the next free `-N` variant if `<name>` appeared meanwhile). Otherwise the data stays in
    /// the `.part` file and the result says `complete: false`.
    ///
    /// # Errors
    /// [`Error::UnknownFile`] for an id that is not open; [`Error::Replaced`] when the `.part`
    /// name no longer leads to the file written (nothing is renamed); [`Error::Rename`] or
    /// [`Error::NoFreeName`] when the final name cannot be given (the `.part` stays). The id
    /// is closed in every case.
    pub fn finish(&mut self, id: FileId, complete: bool) -> Result<Extracted, Error> {
        let index = self.index(id)?;
        if !self.slot(index)?.pipeline.is_stopped() {
            match self.ensure_open(index) {
                Ok(()) => {
                    let cap = self.options.buffer_bytes.max(1);
                    let Dir { slots, scratch, .. } = self;
                    if let Some(Some(slot)) = slots.get_mut(index) {
                        let Slot {
                            pipeline,
                            out,
                            file,
                            ..
                        } = slot;
                        if let Err(e) = pipeline
                            .finish(scratch, &mut |chunk| out.write(file.as_mut(), cap, chunk))
                        {
                            pipeline.stop_with(Stop::Write {
                                at_bytes: out.on_disk,
                                reason: e.to_string(),
                            });
                            out.failed = true;
                        }
                    }
                }
                Err(e) => {
                    let slot = self.slot(index)?;
                    slot.pipeline.stop_with(Stop::Write {
                        at_bytes: slot.out.on_disk,
                        reason: e.to_string(),
                    });
                    slot.out.failed = true;
                }
            }
        }
        let sync = self.options.sync;
        let mut slot = self.take(index)?;
        if let Some(file) = slot.file.as_mut() {
            let flushed = if slot.out.failed {
                Ok(())
            } else {
                slot.out
                    .flush(file)
                    .and_then(|()| if sync { file.sync_all() } else { Ok(()) })
            };
            if let Err(e) = flushed {
                slot.pipeline.stop_with(Stop::Write {
                    at_bytes: slot.out.on_disk,
                    reason: e.to_string(),
                });
            }
        }
        // The name must still lead to the file written, or the rename would publish someone
        // else's file under our name.
        let part_path = self.path.join(&slot.part);
        if !self.still_ours(&slot) {
            return Err(Error::Replaced { path: part_path });
        }
        drop(slot.file.take());
        let clash_at_create = slot.suffix > 0;
        let summary = slot.pipeline.summary(slot.out.written.finish());
        if !complete || summary.stop.is_some() {
            return Ok(Extracted {
                name: slot.name,
                path: part_path,
                file_name: slot.part,
                clash: clash_at_create,
                complete: false,
                summary,
            });
        }
        for n in slot.suffix..=MAX_SUFFIX {
            let target = variant(slot.name.as_str(), n);
            match self.rename_no_replace(&slot.part, &target) {
                Ok(()) => {
                    return Ok(Extracted {
                        name: slot.name,
                        path: self.path.join(&target),
                        file_name: target,
                        clash: n > 0,
                        complete: true,
                        summary,
                    });
                }
                Err(Errno::EXIST) => continue,
                Err(e) => {
                    return Err(Error::Rename {
                        from: part_path,
                        to: self.path.join(&target),
                        source: io_err(e),
                    });
                }
            }
        }
        Err(Error::NoFreeName {
            path: self.path.join(slot.name.as_str()),
            tries: MAX_SUFFIX,
        })
    }

    /// Drops a file: closes it and removes its `.part` (only if the name still leads to it).
    ///
    /// # Errors
    /// [`Error::UnknownFile`], [`Error::Replaced`] (nothing removed), [`Error::Remove`].
    pub fn discard(&mut self, id: FileId) -> Result<(), Error> {
        let index = self.index(id)?;
        let mut slot = self.take(index)?;
        let path = self.path.join(&slot.part);
        if !self.still_ours(&slot) {
            return Err(Error::Replaced { path });
        }
        drop(slot.file.take());
        rustix::fs::unlinkat(&self.fd, slot.part.as_str(), AtFlags::empty()).map_err(|e| {
            Error::Remove {
                path,
                source: io_err(e),
            }
        })
    }

    /// True when the slot's `.part` name still leads to the file it wrote: while the file is
    /// open our descriptor pins its inode, so the same inode is proof; once closed, see
    /// [`unchanged`].
    fn still_ours(&self, slot: &Slot) -> bool {
        let Ok(now) = rustix::fs::statat(&self.fd, slot.part.as_str(), AtFlags::SYMLINK_NOFOLLOW)
        else {
            return false;
        };
        match (&slot.file, &slot.closed) {
            (Some(file), _) => rustix::fs::fstat(file).is_ok_and(|mine| {
                same_inode(&mine, &now)
                    && u64::try_from(now.st_size).is_ok_and(|s| s == slot.out.on_disk)
            }),
            (None, Some(before)) => unchanged(before, &now),
            (None, None) => false,
        }
    }

    /// `renameat2(RENAME_NOREPLACE)`; where the file system does not support it, `linkat`
    /// (which never replaces either) and `unlinkat` of the old name.
    fn rename_no_replace(&self, from: &str, to: &str) -> Result<(), Errno> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        match rustix::fs::renameat_with(&self.fd, from, &self.fd, to, RenameFlags::NOREPLACE) {
            Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {}
            other => return other,
        }
        self.link_then_unlink(from, to)
    }

    /// The no-replace rename for file systems without `RENAME_NOREPLACE`: `linkat` fails with
    /// `EEXIST` rather than replace, and does not follow a symlink at `from`.
    fn link_then_unlink(&self, from: &str, to: &str) -> Result<(), Errno> {
        rustix::fs::linkat(&self.fd, from, &self.fd, to, AtFlags::empty())?;
        rustix::fs::unlinkat(&self.fd, from, AtFlags::empty())
    }

    /// `openat` relative to the directory; when the process is out of descriptors, closes the
    /// least recently used file of this `Dir` and tries again.
    fn open_at(&mut self, name: &str, flags: OFlags) -> Result<OwnedFd, Errno> {
        loop {
            match rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(0o644)) {
                Err(Errno::MFILE | Errno::NFILE) if !self.open.is_empty() => self.evict_lru(),
                other => return other,
            }
        }
    }

    fn index(&self, id: FileId) -> Result<usize, Error> {
        match self.slots.get(id.index) {
            Some(Some(s)) if s.generation == id.generation => Ok(id.index),
            _ => Err(Error::UnknownFile { id }),
        }
    }

    fn slot(&mut self, index: usize) -> Result<&mut Slot, Error> {
        match self.slots.get_mut(index) {
            Some(Some(s)) => Ok(s),
            _ => Err(Error::UnknownFile {
                id: FileId {
                    index,
                    generation: 0,
                },
            }),
        }
    }

    /// Removes a slot from the table (its file stays open in the returned slot).
    fn take(&mut self, index: usize) -> Result<Slot, Error> {
        let slot = self
            .slots
            .get_mut(index)
            .and_then(Option::take)
            .ok_or(Error::UnknownFile {
                id: FileId {
                    index,
                    generation: 0,
                },
            })?;
        self.open.retain(|&i| i != index);
        self.free.push(index);
        Ok(slot)
    }

    /// Opens a slot's file again if the pool closed it, checking it is still the same file.
    fn ensure_open(&mut self, index: usize) -> Result<(), Error> {
        self.tick = self.tick.wrapping_add(1);
        let tick = self.tick;
        let slot = self.slot(index)?;
        slot.tick = tick;
        if slot.file.is_some() {
            return Ok(());
        }
        let (failed, part) = (slot.out.failed, slot.part.clone());
        if failed {
            return Err(Error::Replaced {
                path: self.path.join(&part),
            });
        }
        while self.open.len() >= self.options.max_open {
            self.evict_lru();
        }
        let path = self.path.join(&part);
        let flags =
            OFlags::WRONLY | OFlags::APPEND | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY;
        let fd = match self.open_at(&part, flags) {
            Ok(fd) => fd,
            // ELOOP: a symlink now stands where the file was.
            Err(Errno::LOOP) => return Err(Error::Replaced { path }),
            Err(e) => {
                return Err(Error::Reopen {
                    path,
                    source: io_err(e),
                });
            }
        };
        let st = rustix::fs::fstat(&fd).map_err(|e| Error::Reopen {
            path: path.clone(),
            source: io_err(e),
        })?;
        let slot = self.slot(index)?;
        if !slot
            .closed
            .as_ref()
            .is_some_and(|before| unchanged(before, &st))
        {
            return Err(Error::Replaced { path });
        }
        slot.closed = None;
        slot.file = Some(File::from(fd));
        self.open.push(index);
        self.peak_open = self.peak_open.max(self.open.len());
        Ok(())
    }

    /// Closes the least recently used open file, writing its buffer first. A write failure
    /// stops that file (its summary says why).
    fn evict_lru(&mut self) {
        let Some((pos, &victim)) = self.open.iter().enumerate().min_by_key(|(_, i)| {
            self.slots
                .get(**i)
                .and_then(Option::as_ref)
                .map_or(0, |s| s.tick)
        }) else {
            return;
        };
        self.open.swap_remove(pos);
        let Some(Some(slot)) = self.slots.get_mut(victim) else {
            return;
        };
        if let Some(mut file) = slot.file.take()
            && !slot.out.failed
        {
            let flushed = slot
                .out
                .flush(&mut file)
                .and_then(|()| rustix::fs::fstat(&file).map_err(io_err));
            match flushed {
                Ok(st) => slot.closed = Some(st),
                Err(e) => {
                    slot.pipeline.stop_with(Stop::Write {
                        at_bytes: slot.out.on_disk,
                        reason: format!("{}: {e}", self.path.join(&slot.part).display()),
                    });
                    slot.out.failed = true;
                }
            }
        }
        // The buffer's memory goes with the descriptor.
        slot.out.buf = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Fingerprint;

    #[test]
    fn variants_keep_a_short_extension() {
        assert_eq!(variant("a.txt", 0), "a.txt");
        assert_eq!(variant("a.txt", 1), "a-1.txt");
        assert_eq!(variant("archive.tar.gz", 2), "archive.tar-2.gz");
        assert_eq!(variant("noext", 3), "noext-3");
        assert_eq!(variant("_.hidden", 1), "_-1.hidden");
        assert_eq!(
            variant("x.averyveryverylongextension", 1),
            "x.averyveryverylongextension-1"
        );
    }

    #[test]
    fn part_file_until_finish_then_final_name() {
        let tmp = tempfile::tempdir().unwrap();
        let mut dir = Dir::open(tmp.path(), Options::default()).unwrap();
        let id = dir
            .create(&SafeName::new(b"f.txt"), Coding::Identity)
            .unwrap();
        dir.write(id, b"hello").unwrap();
        assert!(tmp.path().join("f.txt.part").exists());
        assert!(!tmp.path().join("f.txt").exists());
        let x = dir.finish(id, true).unwrap();
        assert_eq!(
            (x.file_name.as_str(), x.complete, x.clash),
            ("f.txt", true, false)
        );
        assert_eq!(std::fs::read(tmp.path().join("f.txt")).unwrap(), b"hello");
        assert!(!tmp.path().join("f.txt.part").exists());
        assert_eq!(x.summary.written, Fingerprint::of(b"hello"));
        assert_eq!(x.summary.wire, Fingerprint::of(b"hello"));
        // The id is closed now.
        assert!(matches!(
            dir.write(id, b"x"),
            Err(Error::UnknownFile { .. })
        ));
        assert!(matches!(
            dir.finish(id, true),
            Err(Error::UnknownFile { .. })
        ));
    }

    #[test]
    fn incomplete_keeps_the_part_and_discard_removes_it() {
        let tmp = tempfile::tempdir().unwrap();
        let mut dir = Dir::open(tmp.path(), Options::default()).unwrap();
        let a = dir.create(&SafeName::new(b"a"), Coding::Identity).unwrap();
        dir.write(a, b"half").unwrap();
        let x = dir.finish(a, false).unwrap();
        assert_eq!((x.file_name.as_str(), x.complete), ("a.part", false));
        assert_eq!(std::fs::read(tmp.path().join("a.part")).unwrap(), b"half");
        assert!(!tmp.path().join("a").exists());
        let b = dir.create(&SafeName::new(b"b"), Coding::Identity).unwrap();
        dir.write(b, b"gone").unwrap();
        dir.discard(b).unwrap();
        assert!(!tmp.path().join("b.part").exists());
        assert_eq!(dir.active(), 0);
    }

    #[test]
    fn same_name_twice_in_one_run_gets_a_variant() {
        let tmp = tempfile::tempdir().unwrap();
        let mut dir = Dir::open(tmp.path(), Options::default()).unwrap();
        let n = SafeName::new(b"x.bin");
        let a = dir.create(&n, Coding::Identity).unwrap();
        let b = dir.create(&n, Coding::Identity).unwrap();
        dir.write(a, b"A").unwrap();
        dir.write(b, b"B").unwrap();
        let xb = dir.finish(b, true).unwrap();
        let xa = dir.finish(a, true).unwrap();
        assert_eq!((xa.file_name.as_str(), xa.clash), ("x.bin", false));
        assert_eq!((xb.file_name.as_str(), xb.clash), ("x-1.bin", true));
        assert_eq!(std::fs::read(tmp.path().join("x.bin")).unwrap(), b"A");
        assert_eq!(std::fs::read(tmp.path().join("x-1.bin")).unwrap(), b"B");
    }

    #[test]
    fn eviction_writes_the_buffer_and_reopens_the_same_file() {
        let tmp = tempfile::tempdir().unwrap();
        let options = Options {
            max_open: 2,
            buffer_bytes: 4,
            ..Options::default()
        };
        let mut dir = Dir::open(tmp.path(), options).unwrap();
        let ids: Vec<FileId> = (0..5)
            .map(|i| {
                dir.create(&SafeName::new(format!("f{i}").as_bytes()), Coding::Identity)
                    .unwrap()
            })
            .collect();
        for round in 0..10u8 {
            for (i, id) in ids.iter().enumerate() {
                dir.write(*id, &[b'a' + i as u8, b'0' + round]).unwrap();
                assert!(dir.open_files() <= 2);
            }
        }
        assert_eq!(dir.peak_open_files(), 2);
        for (i, id) in ids.iter().enumerate() {
            let x = dir.finish(*id, true).unwrap();
            let expected: Vec<u8> = (0..10u8).flat_map(|r| [b'a' + i as u8, b'0' + r]).collect();
            assert_eq!(
                std::fs::read(tmp.path().join(&x.file_name)).unwrap(),
                expected
            );
            assert_eq!(x.summary.written, Fingerprint::of(&expected));
        }
    }

    #[test]
    fn a_part_file_swapped_while_closed_is_detected() {
        let tmp = tempfile::tempdir().unwrap();
        let options = Options {
            max_open: 1,
            ..Options::default()
        };
        let mut dir = Dir::open(tmp.path(), options).unwrap();
        let a = dir.create(&SafeName::new(b"a"), Coding::Identity).unwrap();
        dir.write(a, b"mine").unwrap();
        let b = dir.create(&SafeName::new(b"b"), Coding::Identity).unwrap(); // closes a
        dir.write(b, b"other").unwrap();
        // Someone replaces a.part with their own file.
        std::fs::remove_file(tmp.path().join("a.part")).unwrap();
        std::fs::write(tmp.path().join("a.part"), b"theirs").unwrap();
        assert!(matches!(dir.write(a, b"more"), Err(Error::Replaced { .. })));
        assert_eq!(std::fs::read(tmp.path().join("a.part")).unwrap(), b"theirs");
        // Finishing it refuses to rename their file into place.
        assert!(matches!(dir.finish(a, true), Err(Error::Replaced { .. })));
        assert!(!tmp.path().join("a").exists());
        let xb = dir.finish(b, true).unwrap();
        assert!(xb.complete);
    }

    #[test]
    fn the_link_fallback_never_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Dir::open(tmp.path(), Options::default()).unwrap();
        std::fs::write(tmp.path().join("p.part"), b"new").unwrap();
        std::fs::write(tmp.path().join("p"), b"old").unwrap();
        assert_eq!(dir.link_then_unlink("p.part", "p"), Err(Errno::EXIST));
        assert_eq!(std::fs::read(tmp.path().join("p")).unwrap(), b"old");
        dir.link_then_unlink("p.part", "p-1").unwrap();
        assert_eq!(std::fs::read(tmp.path().join("p-1")).unwrap(), b"new");
        assert!(!tmp.path().join("p.part").exists());
    }

    #[test]
    fn a_part_file_grown_while_closed_is_detected() {
        let tmp = tempfile::tempdir().unwrap();
        let options = Options {
            max_open: 1,
            buffer_bytes: 1,
            ..Options::default()
        };
        let mut dir = Dir::open(tmp.path(), options).unwrap();
        let a = dir.create(&SafeName::new(b"a"), Coding::Identity).unwrap();
        dir.write(a, b"mine").unwrap();
        let _b = dir.create(&SafeName::new(b"b"), Coding::Identity).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(tmp.path().join("a.part"))
            .unwrap();
        f.write_all(b"+injected").unwrap();
        assert!(matches!(dir.write(a, b"more"), Err(Error::Replaced { .. })));
        assert!(matches!(dir.finish(a, true), Err(Error::Replaced { .. })));
        // Nothing renamed, nothing more written.
        assert!(!tmp.path().join("a").exists());
        assert_eq!(
            std::fs::read(tmp.path().join("a.part")).unwrap(),
            b"mine+injected"
        );
    }
}
