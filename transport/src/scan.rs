//! Finding every DL/T 645 meter on a shared bus by its address.
//!
//! A read-address request (0x13) to a wildcard pattern is answered by every meter the
//! pattern matches. DL/T 645 "缩位寻址" gives the low digits and sets the remaining
//! high bytes to `AA`, so the search fixes address bytes from the low end:
//!
//! - a clean reply: exactly one meter matches; it is found;
//! - garbled bytes (the replies of several meters collided on the wire): the pattern
//!   is split into 100 patterns, one per BCD value `00..=99` of its lowest wildcard
//!   byte, each searched in turn;
//! - silence: no meter matches.
//!
//! **Cost.** Every pattern costs one request, and every split costs 100; a silent
//! pattern costs a whole reply deadline. One meter on the line: 1 request. `n ≥ 2`
//! meters whose lowest address bytes all differ: 1 + 100 requests, of which `100 − n`
//! wait out their deadline (about a minute at 2400 bit/s with the default 500 ms
//! margin). Each further pair of meters that shares its lowest `k` bytes adds 100
//! requests per shared byte. The search needs exactly `1 + 100 × collisions`
//! requests; a pattern can collide at six depths (0..=5 bytes fixed) and at each
//! depth at most `⌊meters / 2⌋` patterns collide, so never more than
//! `1 + 600 × ⌊meters / 2⌋`.
//!
//! **Limits.** Meters whose address bytes are not BCD (or contain `AA`) are only found
//! when they are alone on the line. A collision whose OR happens to form a valid
//! frame is caught by the check that the reply's header and data carry the same
//! address ([`crate::client::classify`]) and match the pattern; a collision that
//! passes both would report one address for several meters. Meters sharing one address
//! send identical bytes and are found as one. [`AddressSearch`] is sans-IO:
//! feed it [`Outcome`]s from any transport; [`search`] drives it with a [`Client`].

use dlt645::{Address, message::Reply, message::Request};

use crate::{
    client::{Client, Probe},
    error::Error,
    link::Connector,
};

/// What one pattern's read-address request met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A clean reply carrying this address.
    Found(Address),
    /// Garbled bytes: several meters answered.
    Collision,
    /// No reply.
    Silence,
}

/// The state of a bus search: the patterns still to try, the addresses found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressSearch {
    /// Patterns to try; the next one is last.
    pending: Vec<Address>,
    found: Vec<Address>,
    unresolved: Vec<Address>,
    requests: u32,
}

impl Default for AddressSearch {
    fn default() -> Self {
        Self::new()
    }
}

/// BCD bytes `0x00..=0x99` in order.
fn bcd_bytes() -> impl DoubleEndedIterator<Item = u8> {
    (0u8..100).map(|v| ((v / 10) << 4) | (v % 10))
}

impl AddressSearch {
    /// A search of the whole bus, starting at `AAAAAAAAAAAA`.
    pub fn new() -> Self {
        AddressSearch {
            pending: vec![Address::WILDCARD],
            found: Vec::new(),
            unresolved: Vec::new(),
            requests: 0,
        }
    }

    /// The pattern to send a read-address request to next; `None` when the search is
    /// over.
    pub fn next_pattern(&self) -> Option<Address> {
        self.pending.last().copied()
    }

    /// Records what the request to [`next_pattern`](Self::next_pattern) met. A
    /// reply whose address the pattern does not match is treated as a collision.
    pub fn report(&mut self, outcome: Outcome) {
        let Some(pattern) = self.pending.pop() else {
            return;
        };
        self.requests = self.requests.saturating_add(1);
        match outcome {
            Outcome::Found(address) if pattern.matches(&address) && !address.has_wildcard() => {
                if !self.found.contains(&address) {
                    self.found.push(address);
                }
            }
            Outcome::Silence => {}
            Outcome::Found(_) | Outcome::Collision => self.split(pattern),
        }
    }

    /// Replaces `pattern` by its 100 refinements, or gives up on it when every byte
    /// is already fixed (a line that garbles every reply).
    fn split(&mut self, pattern: Address) {
        let wire = pattern.to_wire();
        let Some(free) = wire.iter().position(|b| *b == 0xAA) else {
            self.unresolved.push(pattern);
            return;
        };
        // Pushed high to low so that 00 is tried first.
        for byte in bcd_bytes().rev() {
            let mut refined = wire;
            if let Some(slot) = refined.get_mut(free) {
                *slot = byte;
            }
            self.pending.push(Address::from_wire(refined));
        }
    }

    /// Whether every pattern has been tried.
    pub fn is_done(&self) -> bool {
        self.pending.is_empty()
    }

    /// The addresses found so far, in the order found.
    pub fn found(&self) -> &[Address] {
        &self.found
    }

    /// Fully fixed addresses that still came back garbled: a line too noisy to
    /// search. (Meters sharing one address send identical replies, which do not
    /// garble: they are found as one.)
    pub fn unresolved(&self) -> &[Address] {
        &self.unresolved
    }

    /// Requests reported so far.
    pub fn requests(&self) -> u32 {
        self.requests
    }
}

/// What a finished [`search`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchReport {
    /// The meters' addresses in nameplate order (ascending as printed).
    pub found: Vec<Address>,
    /// Addresses that kept colliding (see [`AddressSearch::unresolved`]).
    pub unresolved: Vec<Address>,
    /// Requests sent.
    pub requests: u32,
}

/// Finds every meter on `client`'s line with [`AddressSearch`], one
/// [`Client::probe`] per pattern (no retries: a retried collision collides again,
/// and a meter whose one reply is lost is missed; run the search again on a noisy
/// line). The client's reply deadline applies to every pattern.
///
/// # Errors
///
/// Link errors (open, I/O, disconnect) end the search.
pub async fn search<C: Connector>(client: &mut Client<C>) -> Result<SearchReport, Error> {
    let mut state = AddressSearch::new();
    while let Some(pattern) = state.next_pattern() {
        let outcome = match client.probe(pattern, &Request::ReadAddress).await? {
            Probe::Reply(Reply::ReadAddress { address }) => Outcome::Found(address),
            Probe::Silent => Outcome::Silence,
            // Garbled bytes, or a reply that is no read-address answer.
            _ => Outcome::Collision,
        };
        state.report(outcome);
    }
    let mut found = state.found().to_vec();
    // Nameplate order: most significant byte first, as addresses are printed.
    found.sort_unstable_by_key(|a| {
        let mut wire = a.to_wire();
        wire.reverse();
        wire
    });
    Ok(SearchReport {
        found,
        unresolved: state.unresolved().to_vec(),
        requests: state.requests(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Address {
        text.parse().unwrap()
    }

    /// Answers a pattern the way a bus of `meters` does: one match = found, several =
    /// collision, none = silence.
    fn bus(meters: &[Address], pattern: Address) -> Outcome {
        let mut matching = meters.iter().filter(|m| pattern.matches(m));
        match (matching.next(), matching.next()) {
            (Some(one), None) => Outcome::Found(*one),
            (Some(_), Some(_)) => Outcome::Collision,
            (None, _) => Outcome::Silence,
        }
    }

    fn run(meters: &[Address]) -> AddressSearch {
        let mut search = AddressSearch::new();
        while let Some(pattern) = search.next_pattern() {
            search.report(bus(meters, pattern));
        }
        search
    }

    #[test]
    fn one_meter_costs_one_request() {
        let search = run(&[address("123456789012")]);
        assert_eq!(search.found(), [address("123456789012")]);
        assert_eq!(search.requests(), 1);
        assert!(search.is_done());
    }

    #[test]
    fn meters_differing_in_the_low_byte_cost_one_split() {
        // Low bytes 01, 02, 12 differ: AA…AA collides, then 100 patterns AA…AAxx.
        let meters = [
            address("000000000001"),
            address("000000000002"),
            address("123456789012"),
        ];
        let search = run(&meters);
        assert_eq!(search.requests(), 1 + 100);
        // 00 is tried first, so the found order is by low byte: 01, 02, 12.
        assert_eq!(search.found(), meters);
    }

    #[test]
    fn shared_low_bytes_split_deeper() {
        // Both have wire bytes 00 12 34 low first: AA…AA collides, then AA…AA00,
        // AA…AA1200 and AAAAAA341200 collide too; AAAAxx341200 tells 56 from 78.
        // Four collisions: 1 + 4 × 100 requests.
        let meters = [address("000056341200"), address("000078341200")];
        let search = run(&meters);
        assert_eq!(search.found(), meters);
        assert_eq!(search.requests(), 1 + 4 * 100);
    }

    #[test]
    fn a_pattern_that_always_collides_is_given_up_when_fully_fixed() {
        let always = address("000000000007");
        let mut search = AddressSearch::new();
        while let Some(pattern) = search.next_pattern() {
            let outcome = if pattern.matches(&always) {
                Outcome::Collision
            } else {
                Outcome::Silence
            };
            search.report(outcome);
        }
        assert!(search.found().is_empty());
        assert_eq!(search.unresolved(), [always]);
        // Six wildcard bytes fixed one after another, 100 patterns each.
        assert_eq!(search.requests(), 1 + 6 * 100);
    }

    #[test]
    fn a_reply_outside_the_pattern_counts_as_a_collision() {
        let mut search = AddressSearch::new();
        search.report(Outcome::Collision);
        // Pattern AAAAAAAAAA00 answered by ...01: impossible for a single meter.
        assert_eq!(search.next_pattern(), Some(address("AAAAAAAAAA00")));
        search.report(Outcome::Found(address("000000000001")));
        assert!(search.found().is_empty());
        assert_eq!(search.next_pattern(), Some(address("AAAAAAAA0000")));
    }

    proptest::proptest! {
        #[test]
        fn finds_every_meter(raw in proptest::collection::btree_set(0u64..1_000_000_000_000, 0..6)) {
            let meters: Vec<Address> = raw
                .iter()
                .map(|n| format!("{n:012}").parse().unwrap())
                .collect();
            let search = run(&meters);
            let mut found = search.found().to_vec();
            found.sort_unstable();
            let mut expected = meters.clone();
            expected.sort_unstable();
            proptest::prop_assert_eq!(found, expected);
            proptest::prop_assert!(search.unresolved().is_empty());
            // At most ⌊n/2⌋ collisions per depth, six depths, 100 requests each.
            let bound = 1 + 600 * (u32::try_from(meters.len()).unwrap() / 2);
            proptest::prop_assert!(search.requests() <= bound);
        }
    }
}
