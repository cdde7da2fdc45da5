//! [`Spill`]: a list that keeps its first items in memory and writes the rest to an anonymous
//! temporary file, for results one per connection that a command must hold until it prints
//! them (the TCP conversations of `stats`): 10 million connections need no 10 million rows in
//! memory. The file is made by `tempfile::tempfile()`: created with an unpredictable name, opened
//! by this process only, already removed from the directory, gone when the list is dropped.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};

/// Items kept in memory before the list starts writing to its file.
pub const IN_MEMORY: usize = 65_536;

/// An append-only list of serialisable items, in memory up to a bound, then on disk as JSON
/// lines (see the module docs). Items come back in the order they were pushed.
pub struct Spill<T> {
    /// Items written to the file (all of them before `memory`).
    file: Option<BufWriter<File>>,
    on_disk: u64,
    memory: Vec<T>,
    cap: usize,
    /// The first error met writing; reading back then stops at what was written.
    error: Option<io::Error>,
    _items: PhantomData<T>,
}

impl<T> std::fmt::Debug for Spill<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spill")
            .field("on_disk", &self.on_disk)
            .field("in_memory", &self.memory.len())
            .finish()
    }
}

impl<T> Default for Spill<T> {
    fn default() -> Self {
        Spill::with_capacity(IN_MEMORY)
    }
}

impl<T> Spill<T> {
    /// A list holding at most `cap` items in memory at a time (at least 1).
    pub fn with_capacity(cap: usize) -> Self {
        Spill {
            file: None,
            on_disk: 0,
            memory: Vec::new(),
            cap: cap.max(1),
            error: None,
            _items: PhantomData,
        }
    }

    /// Number of items.
    pub fn len(&self) -> u64 {
        self.on_disk + self.memory.len() as u64
    }

    /// True when no item was pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: Serialize + DeserializeOwned> Spill<T> {
    /// Appends an item; when the memory part is full, it goes to the file first.
    pub fn push(&mut self, item: T) {
        if self.memory.len() >= self.cap
            && self.error.is_none()
            && let Err(e) = self.flush_memory()
        {
            self.error = Some(e);
        }
        self.memory.push(item);
    }

    fn flush_memory(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(BufWriter::new(tempfile::tempfile()?));
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        // Reading back moves the shared file position: writing goes on at the end.
        file.flush()?;
        file.get_mut().seek(SeekFrom::End(0))?;
        for item in self.memory.drain(..) {
            serde_json::to_writer(&mut *file, &item).map_err(io::Error::other)?;
            file.write_all(b"\n")?;
            self.on_disk += 1;
        }
        Ok(())
    }

    /// Sorts the items with `key`, when they are all in memory (a small list); a list that went
    /// to disk keeps the order it was pushed in (callers push in order).
    pub fn sort_in_memory_by_key<K: Ord>(&mut self, key: impl FnMut(&T) -> K) {
        if self.on_disk == 0 {
            self.memory.sort_by_key(key);
        }
    }

    /// Every item, in order: the file's, then the memory's (call [`Spill::flush`] after the
    /// last push).
    ///
    /// # Errors
    /// A write to the file failed earlier, or reading it back fails.
    pub fn for_each(&self, mut f: impl FnMut(&T) -> io::Result<()>) -> io::Result<()> {
        if let Some(e) = &self.error {
            return Err(io::Error::new(e.kind(), e.to_string()));
        }
        if let Some(file) = &self.file {
            let mut handle = file.get_ref().try_clone()?;
            // The writer may still hold bytes: nothing is read before them.
            let written = handle.seek(SeekFrom::End(0))?;
            handle.seek(SeekFrom::Start(0))?;
            let mut reader = BufReader::new(handle);
            let mut line = String::new();
            let mut read = 0u64;
            while read < self.on_disk {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "spill file ends after {read} of {} items ({written} bytes)",
                            self.on_disk
                        ),
                    ));
                }
                let item: T = serde_json::from_str(&line).map_err(io::Error::other)?;
                f(&item)?;
                read += 1;
            }
        }
        self.memory.iter().try_for_each(f)
    }

    /// Writes what the file's buffer still holds (call once every item was pushed).
    ///
    /// # Errors
    /// When writing fails.
    pub fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl<T: Serialize + DeserializeOwned> Serialize for Spill<T> {
    /// A JSON array of every item (read back from the file as it is written out).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = s.serialize_seq(usize::try_from(self.len()).ok())?;
        let mut failure: Option<S::Error> = None;
        let read = self.for_each(|item| match seq.serialize_element(item) {
            Ok(()) => Ok(()),
            Err(e) => {
                failure = Some(e);
                Err(io::Error::other("serialisation failed"))
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        read.map_err(S::Error::custom)?;
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_back_in_order_from_memory_and_disk() {
        let mut list: Spill<(u64, String)> = Spill::with_capacity(3);
        for i in 0..10u64 {
            list.push((i, format!("row {i}")));
        }
        list.flush().unwrap();
        assert_eq!(list.len(), 10);
        let mut back = Vec::new();
        list.for_each(|item| {
            back.push(item.clone());
            Ok(())
        })
        .unwrap();
        assert_eq!(
            back,
            (0..10u64)
                .map(|i| (i, format!("row {i}")))
                .collect::<Vec<_>>()
        );
        // Twice: reading back does not consume.
        let mut n = 0;
        list.for_each(|_| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 10);
        let json = serde_json::to_string(&list).unwrap();
        assert!(json.starts_with("[[0,\"row 0\"],[1,\"row 1\"]"), "{json}");
        assert!(json.ends_with("[9,\"row 9\"]]"), "{json}");
    }

    #[test]
    fn a_small_list_stays_in_memory_and_sorts() {
        let mut list: Spill<u64> = Spill::with_capacity(8);
        for i in [3, 1, 2] {
            list.push(i);
        }
        list.sort_in_memory_by_key(|i| *i);
        assert!(list.file.is_none());
        assert_eq!(serde_json::to_string(&list).unwrap(), "[1,2,3]");
    }
}
