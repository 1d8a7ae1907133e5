//! Where the ledger keeps accounts, holds and operation records.
//!
//! One small map trait with three implementations: a fixed-capacity
//! `heapless` index map for firmware (no allocation; full is an error the
//! ledger reports before changing anything), a `BTreeMap` with `alloc`, and a
//! `HashMap` with `std`.

use crate::Id;

/// A map from [`Id`] to `V` the ledger can store its state in.
pub trait Table<V> {
    /// The value stored under `id`.
    fn get(&self, id: Id) -> Option<&V>;
    /// The value stored under `id`, mutably.
    fn get_mut(&mut self, id: Id) -> Option<&mut V>;
    /// Stores `value` under a new `id`; `false` when the table is full (the
    /// ledger checks [`Table::is_full`] first, so it never sees `false`).
    fn insert(&mut self, id: Id, value: V) -> bool;
    /// Whether one more insert would fail.
    fn is_full(&self) -> bool;
    /// Number of entries.
    fn len(&self) -> usize;
    /// Whether there are no entries.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Visits every entry, in no particular order.
    fn for_each(&self, f: impl FnMut(Id, &V));
    /// Visits every entry mutably, in no particular order.
    fn for_each_mut(&mut self, f: impl FnMut(Id, &mut V));
}

impl<V, const N: usize> Table<V> for heapless::index_map::FnvIndexMap<Id, V, N> {
    fn get(&self, id: Id) -> Option<&V> {
        heapless::index_map::IndexMap::get(self, &id)
    }
    fn get_mut(&mut self, id: Id) -> Option<&mut V> {
        heapless::index_map::IndexMap::get_mut(self, &id)
    }
    fn insert(&mut self, id: Id, value: V) -> bool {
        heapless::index_map::IndexMap::insert(self, id, value).is_ok()
    }
    fn is_full(&self) -> bool {
        heapless::index_map::IndexMap::len(self) >= N
    }
    fn len(&self) -> usize {
        heapless::index_map::IndexMap::len(self)
    }
    fn for_each(&self, mut f: impl FnMut(Id, &V)) {
        for (id, value) in self {
            f(*id, value);
        }
    }
    fn for_each_mut(&mut self, mut f: impl FnMut(Id, &mut V)) {
        for (id, value) in self.iter_mut() {
            f(*id, value);
        }
    }
}

#[cfg(feature = "alloc")]
impl<V> Table<V> for alloc::collections::BTreeMap<Id, V> {
    fn get(&self, id: Id) -> Option<&V> {
        alloc::collections::BTreeMap::get(self, &id)
    }
    fn get_mut(&mut self, id: Id) -> Option<&mut V> {
        alloc::collections::BTreeMap::get_mut(self, &id)
    }
    fn insert(&mut self, id: Id, value: V) -> bool {
        alloc::collections::BTreeMap::insert(self, id, value);
        true
    }
    fn is_full(&self) -> bool {
        false
    }
    fn len(&self) -> usize {
        alloc::collections::BTreeMap::len(self)
    }
    fn for_each(&self, mut f: impl FnMut(Id, &V)) {
        for (id, value) in self {
            f(*id, value);
        }
    }
    fn for_each_mut(&mut self, mut f: impl FnMut(Id, &mut V)) {
        for (id, value) in self.iter_mut() {
            f(*id, value);
        }
    }
}

#[cfg(feature = "std")]
impl<V, S: core::hash::BuildHasher> Table<V> for std::collections::HashMap<Id, V, S> {
    fn get(&self, id: Id) -> Option<&V> {
        std::collections::HashMap::get(self, &id)
    }
    fn get_mut(&mut self, id: Id) -> Option<&mut V> {
        std::collections::HashMap::get_mut(self, &id)
    }
    fn insert(&mut self, id: Id, value: V) -> bool {
        std::collections::HashMap::insert(self, id, value);
        true
    }
    fn is_full(&self) -> bool {
        false
    }
    fn len(&self) -> usize {
        std::collections::HashMap::len(self)
    }
    fn for_each(&self, mut f: impl FnMut(Id, &V)) {
        for (id, value) in self {
            f(*id, value);
        }
    }
    fn for_each_mut(&mut self, mut f: impl FnMut(Id, &mut V)) {
        for (id, value) in self.iter_mut() {
            f(*id, value);
        }
    }
}

/// A hasher for ids on the `std` store, built for locality: the bucket
/// (low bits) comes from the id's low half plus a mix of its high half, so
/// consecutive ids — a session's readings, a payment provider's counter —
/// land in neighbouring buckets and stay in cache; the 7-bit tag the table
/// compares first (top bits) comes from a full multiply-mix so probes stay
/// short.
///
/// Not resistant to deliberately colliding ids (HashDoS), and ids that are
/// all multiples of a large power of two share buckets; a ledger facing
/// such ids should use `std::hash::RandomState` instead, via
/// [`Ledger::with_tables`](crate::Ledger::with_tables).
#[cfg(feature = "std")]
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

#[cfg(feature = "std")]
impl core::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }
    #[allow(clippy::cast_possible_truncation)] // taking the halves is the point
    fn write_u128(&mut self, value: u128) {
        const TAG_BITS: u64 = 0xfe00_0000_0000_0000;
        let lo = value as u64;
        let hi = (value >> 64) as u64;
        let spread = u128::from(hi ^ 0x243f_6a88_85a3_08d3) * 0x9e37_79b9_7f4a_7c15;
        let spread = (spread as u64) ^ ((spread >> 64) as u64);
        let bucket = lo.wrapping_add(spread);
        let mixed = u128::from(bucket ^ 0x1319_8a2e_0370_7344) * 0x9e37_79b9_7f4a_7c15;
        let tag = ((mixed as u64) ^ ((mixed >> 64) as u64)) & TAG_BITS;
        self.0 ^= (bucket & !TAG_BITS) | tag;
    }
    fn write_u64(&mut self, value: u64) {
        self.write_u128(u128::from(value) ^ (u128::from(self.0) << 64));
    }
}
