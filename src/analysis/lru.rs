//! `Lru`: a hash map that remembers the order in which its entries were last touched, for the
//! bounded flow tables of the analyses (UDP conversations, the ICMP linker's recent flows).
//!
//! Entries live in a slab linked into one list, least recently touched first, so finding,
//! touching, inserting, and removing the oldest entry are O(1); nothing is allocated once the
//! slab and the map have grown to the table's cap (freed slots are reused). The caller decides
//! the policy (a cap, an idle timeout) by looking at [`Lru::oldest`] and calling
//! [`Lru::pop_oldest`].

use std::hash::Hash;

use foldhash::HashMap;

/// No slot.
const NIL: u32 = u32::MAX;

struct Node<K, V> {
    key: K,
    value: V,
    prev: u32,
    next: u32,
}

/// A map whose entries are kept in least-recently-touched order.
pub struct Lru<K, V> {
    map: HashMap<K, u32>,
    slots: Vec<Option<Node<K, V>>>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
}

impl<K, V> Default for Lru<K, V> {
    fn default() -> Self {
        Lru {
            map: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Lru::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn node(&self, id: u32) -> Option<&Node<K, V>> {
        self.slots.get(id as usize).and_then(Option::as_ref)
    }

    fn node_mut(&mut self, id: u32) -> Option<&mut Node<K, V>> {
        self.slots.get_mut(id as usize).and_then(Option::as_mut)
    }

    /// The value of `key`, without touching it.
    pub fn get(&self, key: &K) -> Option<&V> {
        let id = *self.map.get(key)?;
        self.node(id).map(|n| &n.value)
    }

    /// The value of `key`, without touching it.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let id = *self.map.get(key)?;
        self.node_mut(id).map(|n| &mut n.value)
    }

    /// The value of `key`, made the most recently touched entry.
    pub fn touch(&mut self, key: &K) -> Option<&mut V> {
        let id = *self.map.get(key)?;
        self.unlink(id);
        self.link_last(id);
        self.node_mut(id).map(|n| &mut n.value)
    }

    /// Inserts `key` as the most recently touched entry (replacing its value if it was there).
    pub fn insert(&mut self, key: K, value: V) {
        if let Some(&id) = self.map.get(&key) {
            self.unlink(id);
            self.link_last(id);
            if let Some(n) = self.node_mut(id) {
                n.value = value;
            }
            return;
        }
        let node = Node {
            key: key.clone(),
            value,
            prev: NIL,
            next: NIL,
        };
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(slot) = self.slots.get_mut(id as usize) {
                    *slot = Some(node);
                }
                id
            }
            None => {
                self.slots.push(Some(node));
                // Tables cap their entries far below u32::MAX.
                u32::try_from(self.slots.len() - 1).unwrap_or(NIL)
            }
        };
        self.map.insert(key, id);
        self.link_last(id);
    }

    /// The least recently touched entry.
    pub fn oldest(&self) -> Option<(&K, &V)> {
        self.node(self.head).map(|n| (&n.key, &n.value))
    }

    /// Removes and returns the least recently touched entry.
    pub fn pop_oldest(&mut self) -> Option<(K, V)> {
        let id = self.head;
        self.take(id)
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let id = *self.map.get(key)?;
        self.take(id).map(|(_, v)| v)
    }

    fn take(&mut self, id: u32) -> Option<(K, V)> {
        self.node(id)?;
        self.unlink(id);
        let node = self.slots.get_mut(id as usize)?.take()?;
        self.map.remove(&node.key);
        self.free.push(id);
        Some((node.key, node.value))
    }

    fn unlink(&mut self, id: u32) {
        let Some(n) = self.node(id) else {
            return;
        };
        let (prev, next) = (n.prev, n.next);
        match self.node_mut(prev) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.node_mut(next) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
        if let Some(n) = self.node_mut(id) {
            n.prev = NIL;
            n.next = NIL;
        }
    }

    fn link_last(&mut self, id: u32) {
        let tail = self.tail;
        if let Some(n) = self.node_mut(id) {
            n.prev = tail;
            n.next = NIL;
        }
        match self.node_mut(tail) {
            Some(t) => t.next = id,
            None => self.head = id,
        }
        self.tail = id;
    }

    /// The entries, least recently touched first.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        let mut at = self.head;
        std::iter::from_fn(move || {
            let n = self.node(at)?;
            at = n.next;
            Some((&n.key, &n.value))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn oldest_first_and_touch_moves_to_the_end() {
        let mut l = Lru::new();
        l.insert("a", 1);
        l.insert("b", 2);
        l.insert("c", 3);
        assert_eq!(l.oldest(), Some((&"a", &1)));
        *l.touch(&"a").unwrap() += 10;
        assert_eq!(
            l.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            ["b", "c", "a"]
        );
        assert_eq!(l.pop_oldest(), Some(("b", 2)));
        assert_eq!(l.remove(&"c"), Some(3));
        assert_eq!(l.get(&"a"), Some(&11));
        assert_eq!(l.len(), 1);
        // Freed slots are reused.
        l.insert("d", 4);
        l.insert("e", 5);
        assert_eq!(l.slots.len(), 3);
        assert_eq!(
            l.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            ["a", "d", "e"]
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u32),
        Touch(u8),
        Pop,
        Remove(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..16, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            (0u8..16).prop_map(Op::Touch),
            Just(Op::Pop),
            (0u8..16).prop_map(Op::Remove),
        ]
    }

    proptest! {
        /// Agrees with a naive model: a vector in touch order.
        #[test]
        fn agrees_with_a_vector_model(ops in proptest::collection::vec(op(), 0..200)) {
            let mut l = Lru::new();
            let mut model: Vec<(u8, u32)> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        l.insert(k, v);
                        model.retain(|(mk, _)| *mk != k);
                        model.push((k, v));
                    }
                    Op::Touch(k) => {
                        let got = l.touch(&k).map(|v| *v);
                        let pos = model.iter().position(|(mk, _)| *mk == k);
                        let want = pos.map(|p| model.remove(p));
                        if let Some(e) = want {
                            model.push(e);
                        }
                        prop_assert_eq!(got, want.map(|(_, v)| v));
                    }
                    Op::Pop => {
                        let want = (!model.is_empty()).then(|| model.remove(0));
                        prop_assert_eq!(l.pop_oldest(), want);
                    }
                    Op::Remove(k) => {
                        let pos = model.iter().position(|(mk, _)| *mk == k);
                        let want = pos.map(|p| model.remove(p).1);
                        prop_assert_eq!(l.remove(&k), want);
                    }
                }
                let got: Vec<(u8, u32)> = l.iter().map(|(k, v)| (*k, *v)).collect();
                prop_assert_eq!(&got, &model);
                prop_assert_eq!(l.len(), model.len());
                prop_assert!(l.slots.len() <= 16);
            }
        }
    }
}
