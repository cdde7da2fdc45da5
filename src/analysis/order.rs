//! Putting per-stream results back in stream order with bounded memory.
//!
//! Connections end in any order (a long download outlives a hundred short requests), but
//! people read results by stream id. [`InOrder`] hands each result out as soon as every lower
//! id has been handed out, holding the ones that came early in a window of at most `cap`
//! entries. When the window is full the lowest waiting result goes out anyway and the ids
//! still missing below it come out when they arrive (out of order, each still naming its own
//! stream): memory never exceeds the window, whatever the capture.

use std::collections::BTreeMap;

/// A reordering window over results keyed by dense ids from 0 (see the module docs). An id may
/// come more than once (a connection given up as timed out keeps its stream id when it
/// resumes, as in Wireshark, and gets a second row): each result is handed out.
#[derive(Debug)]
pub struct InOrder<T> {
    /// The lowest id not handed out yet.
    next: u64,
    /// Results waiting for a lower id, by (id, arrival).
    waiting: BTreeMap<(u64, u64), Option<T>>,
    arrivals: u64,
    cap: usize,
    overflows: u64,
}

impl<T> InOrder<T> {
    /// A window holding at most `cap` early results (at least 1).
    pub fn new(cap: usize) -> Self {
        InOrder {
            next: 0,
            waiting: BTreeMap::new(),
            arrivals: 0,
            cap: cap.max(1),
            overflows: 0,
        }
    }

    /// Id `id` is done, with `item` (or nothing to hand out for it); hands out, in id order,
    /// everything that is now due.
    pub fn push(&mut self, id: u64, item: Option<T>, out: &mut (impl FnMut(T) + ?Sized)) {
        if id < self.next {
            // Its place is past (an id that came again, or one given up when the window
            // overflowed): out now.
            if let Some(t) = item {
                out(t);
            }
            return;
        }
        self.arrivals += 1;
        self.waiting.insert((id, self.arrivals), item);
        self.release(out);
        while self.waiting.len() > self.cap {
            self.overflows += 1;
            if let Some(((id, _), item)) = self.waiting.pop_first() {
                self.next = id.saturating_add(1);
                if let Some(t) = item {
                    out(t);
                }
            }
            self.release(out);
        }
    }

    fn release(&mut self, out: &mut (impl FnMut(T) + ?Sized)) {
        while let Some(entry) = self.waiting.first_entry() {
            let (id, _) = *entry.key();
            if id > self.next {
                break;
            }
            if let Some(t) = entry.remove() {
                out(t);
            }
            self.next = self.next.max(id.saturating_add(1));
        }
    }

    /// Hands out everything still waiting, in id order (at the end of the capture).
    pub fn flush(&mut self, out: &mut (impl FnMut(T) + ?Sized)) {
        while let Some(((id, _), item)) = self.waiting.pop_first() {
            self.next = self.next.max(id.saturating_add(1));
            if let Some(t) = item {
                out(t);
            }
        }
    }

    /// Times the window was full and let a result out before a lower id had come.
    pub fn overflows(&self) -> u64 {
        self.overflows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cap: usize, ids: &[u64]) -> (Vec<u64>, u64) {
        let mut order = InOrder::new(cap);
        let mut got = Vec::new();
        let mut out = |t: u64| got.push(t);
        for &id in ids {
            order.push(id, Some(id), &mut out);
        }
        order.flush(&mut out);
        let overflows = order.overflows();
        (got, overflows)
    }

    #[test]
    fn results_come_out_by_id_whatever_the_arrival_order() {
        assert_eq!(run(10, &[2, 0, 3, 1, 5, 4]), (vec![0, 1, 2, 3, 4, 5], 0));
    }

    #[test]
    fn a_full_window_lets_the_lowest_go_and_the_missing_come_late() {
        // Id 0 stays open while 1..=4 end; the window holds 2.
        assert_eq!(run(2, &[1, 2, 3, 4, 0]), (vec![1, 2, 3, 4, 0], 1));
    }

    #[test]
    fn an_id_that_comes_again_is_handed_out_each_time() {
        // Stream 1 timed out, resumed and ended again while stream 0 was still open.
        let mut order = InOrder::new(10);
        let mut got = Vec::new();
        let mut out = |t: &'static str| got.push(t);
        order.push(1, Some("1a"), &mut out);
        order.push(1, Some("1b"), &mut out);
        order.push(0, Some("0"), &mut out);
        order.push(1, Some("1c"), &mut out);
        order.flush(&mut out);
        assert_eq!(got, vec!["0", "1a", "1b", "1c"]);
    }

    #[test]
    fn ids_without_a_result_only_advance_the_order() {
        let mut order = InOrder::new(4);
        let mut got = Vec::new();
        let mut out = |t: &'static str| got.push(t);
        order.push(1, Some("one"), &mut out);
        order.push(0, None, &mut out);
        order.push(2, Some("two"), &mut out);
        assert_eq!(got, vec!["one", "two"]);
    }
}
