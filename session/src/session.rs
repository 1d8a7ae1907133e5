//! The charging-session state machine.

use chrono::{DateTime, Utc};
use meterkit_ledger::{HoldState, Id, LedgerError, Op, Outcome, Scale, Timestamp};
use meterkit_tariff::{Bill, LivePricer, PeriodKind, PricingPolicy, Reading, Tariff};
use rust_decimal::Decimal;

use crate::ids::{Kind, derive};
use crate::{Error, LedgerPort};

/// Most meters (the first plus swaps) one session records in its receipt.
pub const MAX_METERS: usize = 4;

/// What a session needs to start, and to be recovered after a crash (persist it before
/// calling [`Session::start`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// The session id; every ledger operation id is derived from it.
    pub session: Id,
    /// The wallet the hold reserves from.
    pub wallet: Id,
    /// Session start (the tariff prices from here; time before the first reading has no
    /// energy).
    pub start: DateTime<Utc>,
    /// Most the hold reserves, ledger minor units (less when the wallet has less available).
    pub max_amount: u64,
    /// The hold expires at this instant (captures and settle after it take the late path).
    pub expires: DateTime<Utc>,
    /// [`Decision::LowBalance`] while what is left of the hold is at or below this, minor units.
    pub low_balance: u64,
    /// Pricing policy (rounding, attribution of energy in a reading gap, register modulus).
    pub policy: PricingPolicy,
}

impl SessionConfig {
    /// A configuration with the default pricing policy and no low-balance warning.
    pub fn new(
        session: Id,
        wallet: Id,
        start: DateTime<Utc>,
        max_amount: u64,
        expires: DateTime<Utc>,
    ) -> Self {
        Self {
            session,
            wallet,
            start,
            max_amount,
            expires,
            low_balance: 0,
            policy: PricingPolicy::default(),
        }
    }

    /// With a low-balance threshold (minor units left on the hold).
    #[must_use]
    pub fn with_low_balance(mut self, minor: u64) -> Self {
        self.low_balance = minor;
        self
    }

    /// With a pricing policy (e.g. `PricingPolicy::default().with_register_modulus_wh(..)`).
    #[must_use]
    pub fn with_policy(mut self, policy: PricingPolicy) -> Self {
        self.policy = policy;
        self
    }
}

/// Where the session stands after the last accepted reading; amounts in ledger minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Instant of the last accepted reading (the session start before any).
    pub at: DateTime<Utc>,
    /// Energy priced so far, Wh.
    pub energy_wh: u64,
    /// Cost so far: the bill total if the session stopped at the last reading.
    pub cost: u64,
    /// Reserved by the hold.
    pub held: u64,
    /// Captured from the hold so far (never above `held`).
    pub captured: u64,
    /// What is left of the hold.
    pub remaining: u64,
    /// Cost beyond the hold (settled from the wallet, its credit line, else debt).
    pub uncovered: u64,
    /// The wallet's posted balance after the last ledger operation (captures lower it).
    pub balance: i128,
}

/// Why the charge must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The cost reached the hold, which reserved the full amount asked for.
    HoldExhausted,
    /// The cost reached the hold, which the wallet's balance had limited below the amount
    /// asked for: the money ran out.
    BalanceExhausted,
    /// The hold's expiry passed; captures are refused.
    HoldExpired,
    /// The hold was resolved outside this session (voided, expired or settled).
    HoldClosed(HoldState),
    /// A register went down without a rollover or an announced meter swap; the reading was
    /// not priced. Cleared by [`Session::meter_swap`].
    MeterFault {
        /// 0 for the total register, 1.. for rate registers.
        register: u8,
        /// Last accepted value, Wh.
        previous_wh: u64,
        /// The rejected value, Wh.
        current_wh: u64,
    },
}

/// Why a reading was not priced (nothing changed; the session goes on).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// Earlier than the last accepted reading.
    OutOfOrder {
        /// The reading's instant.
        at: DateTime<Utc>,
        /// The last accepted reading's instant.
        previous: DateTime<Utc>,
    },
    /// Earlier than the session start.
    BeforeStart {
        /// The reading's instant.
        at: DateTime<Utc>,
    },
    /// Same instant as the last accepted reading, different registers.
    ConflictingDuplicate {
        /// The shared instant.
        at: DateTime<Utc>,
    },
    /// The tariff cannot price it (a missing rate register, no tariff version or day table).
    Unpriceable(meterkit_tariff::Error),
    /// The session is settled.
    Ended,
}

/// The session's answer to a reading.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Keep charging.
    Continue(Progress),
    /// Keep charging; what is left of the hold is at or below the low-balance threshold.
    LowBalance(Progress),
    /// Stop the charge now, then call [`Session::stop`]. Sticky: every later reading
    /// answers `Stop` too (until a meter swap clears a meter fault).
    Stop {
        /// Why.
        reason: StopReason,
        /// Where the session stands.
        progress: Progress,
    },
    /// The reading was not priced; nothing changed. A stop decided earlier still stands
    /// ([`Session::decision`] restates it).
    Rejected {
        /// Why.
        reason: Rejection,
        /// Where the session stands.
        progress: Progress,
    },
}

impl Decision {
    /// The progress every decision carries.
    pub fn progress(&self) -> &Progress {
        match self {
            Decision::Continue(p) | Decision::LowBalance(p) => p,
            Decision::Stop { progress, .. } | Decision::Rejected { progress, .. } => progress,
        }
    }
}

/// A meter's registers over its part of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MeterSpan {
    /// First reading's instant.
    pub first_at: DateTime<Utc>,
    /// Total register at the first reading, Wh.
    pub first_wh: u64,
    /// Last reading's instant.
    pub last_at: DateTime<Utc>,
    /// Total register at the last reading, Wh (below `first_wh` after a rollover).
    pub last_wh: u64,
}

/// How the hold was resolved, minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Settlement {
    /// Captured by the settle itself (the final delta).
    pub delta: u64,
    /// Released back to the wallet.
    pub released: u64,
    /// Overshoot beyond the hold paid from the wallet's balance above its floor.
    pub from_wallet: u64,
    /// Overshoot paid from the wallet's credit line.
    pub from_credit_line: u64,
    /// Overshoot recorded as debt.
    pub to_debt: u64,
    /// The hold had expired or was closed: the remainder was charged with a late `charge`.
    pub late: bool,
}

/// The ledger operation ids of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperationIds {
    /// The hold (captures and settle name it).
    pub hold: Id,
    /// Captures this session object applied (a recovered session counts from recovery).
    pub captures: u32,
    /// The most recent capture.
    pub last_capture: Option<Id>,
    /// The settle.
    pub settle: Id,
    /// The expiry and late charge, when the hold could not be settled.
    pub late: Option<(Id, Id)>,
}

/// The end of a session: the itemised bill and what the ledger did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// Session id.
    pub session: Id,
    /// Wallet charged.
    pub wallet: Id,
    /// The itemised bill (lines, per-period sums with [`Bill::by_period`], totals).
    pub bill: Bill,
    /// Register start and end values per meter (several after a swap).
    pub meters: heapless::Vec<MeterSpan, MAX_METERS>,
    /// Energy billed, Wh.
    pub energy_wh: u64,
    /// The bill total in ledger minor units: what the wallet paid in all.
    pub total: u64,
    /// Reserved by the hold.
    pub held: u64,
    /// Captured during the session, before the settle.
    pub captured_before_settle: u64,
    /// The settle (or late charge).
    pub settlement: Settlement,
    /// Wallet balance when the session started (for a recovered session: the balance at
    /// recovery plus what the hold had captured, exact unless the wallet saw other
    /// operations meanwhile).
    pub balance_before: i128,
    /// Wallet balance after the settle.
    pub balance_after: i128,
    /// Wallet debt when the session started.
    pub debt_before: i128,
    /// Wallet debt after the settle.
    pub debt_after: i128,
    /// The ledger operation ids.
    pub ops: OperationIds,
    /// The stop reason in force at the end, if any.
    pub stop_reason: Option<StopReason>,
}

/// A meter event, for [`Session::recover`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterEvent {
    /// A reading, as given to [`Session::on_reading`].
    Reading(Reading),
    /// A meter swap, as given to [`Session::meter_swap`].
    Swap {
        /// The old meter's last reading.
        old_final: Reading,
        /// The new meter's first reading.
        new_initial: Reading,
    },
}

/// A charging session: a hold on a wallet, readings priced live and captured cumulatively,
/// a settle and a receipt at the end. See the crate documentation for the protocol.
#[derive(Debug, Clone)]
pub struct Session<'t> {
    config: SessionConfig,
    pricer: LivePricer<'t>,
    scale: Scale,
    hold: Id,
    held: u64,
    hold_open: bool,
    captured: u64,
    cost: u64,
    energy_wh: u64,
    last: Option<Reading>,
    meters: heapless::Vec<MeterSpan, MAX_METERS>,
    stop: Option<StopReason>,
    captures: u32,
    last_capture: Option<Id>,
    balance_before: i128,
    balance: i128,
    debt_before: i128,
    broken: Option<meterkit_tariff::Error>,
    ended: bool,
}

fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp(at.timestamp_millis())
}

/// Millisecond instant as the capture id's reading key: the bit pattern, so instants before
/// 1970 stay distinct too.
fn reading_key(at: DateTime<Utc>) -> u64 {
    at.timestamp_millis().cast_unsigned()
}

impl<'t> Session<'t> {
    /// Starts a session: places the hold (`config.max_amount`, or less when the wallet has
    /// less available) and prepares live pricing from `config.start`.
    ///
    /// Idempotent: the hold's id is derived from the session id, so calling `start` again
    /// (a retry, or [`Session::recover`]) finds the same hold and its captures.
    ///
    /// # Errors
    /// [`Error::ScaleMismatch`] when the ledger keeps fewer decimals than the currency;
    /// [`Error::Ledger`] when the hold is refused (`InsufficientFunds`, `AccountNotFound`,
    /// `ExpiryNotAfterNow`, …); [`Error::Pricing`] when no tariff version covers the start;
    /// [`Error::Port`].
    pub fn start<P: LedgerPort>(
        ledger: &mut P,
        tariff: &'t Tariff,
        config: SessionConfig,
        now: DateTime<Utc>,
    ) -> Result<Self, Error<P::Error>> {
        let scale = ledger.scale();
        let currency = tariff.currency().scale();
        if currency > u32::from(scale.places()) {
            return Err(Error::ScaleMismatch {
                ledger: scale.places(),
                currency,
            });
        }
        let pricer =
            LivePricer::new(tariff, config.start, config.policy).map_err(Error::Pricing)?;
        let hold = derive(config.session, Kind::Hold, 0, 0);
        let op = Op::Hold {
            id: hold,
            account: config.wallet,
            amount: config.max_amount,
            expires: timestamp(config.expires),
        };
        let reply = ledger.apply(&op, timestamp(now)).map_err(Error::Port)?;
        let reserved = match reply.result {
            Ok(applied) => match applied.outcome {
                Outcome::Held { amount } => amount,
                _ => 0,
            },
            Err(error) => return Err(Error::Ledger { op: "hold", error }),
        };
        // The hold as the ledger knows it now: fresh, or (recovery) already captured from.
        let (reserved, captured, state) = ledger
            .hold(hold)
            .map_or((reserved, 0, HoldState::Open), |h| {
                (h.amount, h.captured, h.state)
            });
        let (balance, debt) = ledger
            .account(config.wallet)
            .map_or((0, 0), |a| (a.balance(), a.debt()));
        Ok(Session {
            config,
            pricer,
            scale,
            hold,
            held: reserved,
            hold_open: state == HoldState::Open,
            captured,
            cost: 0,
            energy_wh: 0,
            last: None,
            meters: heapless::Vec::new(),
            stop: (state != HoldState::Open).then_some(StopReason::HoldClosed(state)),
            captures: 0,
            last_capture: None,
            balance_before: balance.saturating_add(i128::from(captured)),
            balance,
            debt_before: debt,
            broken: None,
            ended: false,
        })
    }

    /// Rebuilds a session after a crash: [`start`](Self::start) (which finds the existing
    /// hold and what it captured), then every persisted meter event replayed in order.
    /// Replayed captures carry the ids and cumulative amounts of the first run, so the
    /// ledger answers them as repeats (or, for a capture the crash cut off, applies it
    /// once): nothing is deducted twice. Continue with the next reading, or [`stop`](Self::stop).
    ///
    /// # Errors
    /// As [`start`](Self::start), [`on_reading`](Self::on_reading) and
    /// [`meter_swap`](Self::meter_swap).
    pub fn recover<P, I>(
        ledger: &mut P,
        tariff: &'t Tariff,
        config: SessionConfig,
        events: I,
        now: DateTime<Utc>,
    ) -> Result<Self, Error<P::Error>>
    where
        P: LedgerPort,
        I: IntoIterator<Item = MeterEvent>,
    {
        let mut session = Self::start(ledger, tariff, config, now)?;
        for event in events {
            session.on_event(ledger, &event, now)?;
        }
        Ok(session)
    }

    /// Feeds a meter event: [`on_reading`](Self::on_reading) or
    /// [`meter_swap`](Self::meter_swap). [`recover`](Self::recover) is [`start`](Self::start)
    /// then this for each logged event; a caller that wants every replayed decision (to
    /// redraw a chart, say) can do the same itself.
    ///
    /// # Errors
    /// As [`on_reading`](Self::on_reading) and [`meter_swap`](Self::meter_swap).
    pub fn on_event<P: LedgerPort>(
        &mut self,
        ledger: &mut P,
        event: &MeterEvent,
        now: DateTime<Utc>,
    ) -> Result<Decision, Error<P::Error>> {
        match event {
            MeterEvent::Reading(reading) => self.on_reading(ledger, reading, now),
            MeterEvent::Swap {
                old_final,
                new_initial,
            } => self.meter_swap(ledger, old_final, new_initial, now),
        }
    }

    /// Prices a cumulative register reading and captures the cost so far.
    ///
    /// A reading equal to the last one is a no-op (it only retries a capture a ledger
    /// failure left pending). Earlier readings and unpriceable ones are
    /// [`Decision::Rejected`]; a register that went down is a
    /// [`StopReason::MeterFault`]. Otherwise the cost so far is captured cumulatively and the
    /// decision is `Stop` as soon as the cost reaches the hold.
    ///
    /// # Errors
    /// [`Error::Port`] (retry the same reading), [`Error::Ledger`] for a refusal that is not
    /// a stop condition, [`Error::Pricing`] / [`Error::Amount`] when pricing broke down.
    pub fn on_reading<P: LedgerPort>(
        &mut self,
        ledger: &mut P,
        reading: &Reading,
        now: DateTime<Utc>,
    ) -> Result<Decision, Error<P::Error>> {
        self.ingest(ledger, reading, false, now)
    }

    /// A meter swap (or reset): `old_final` is the old meter's last reading (priced like any
    /// reading), `new_initial` the new meter's first; later deltas count from it and the
    /// time between the two is priced with no energy. Clears a meter fault. Repeating the
    /// same swap is a no-op.
    ///
    /// # Errors
    /// As [`on_reading`](Self::on_reading), and [`Error::TooManyMeters`].
    pub fn meter_swap<P: LedgerPort>(
        &mut self,
        ledger: &mut P,
        old_final: &Reading,
        new_initial: &Reading,
        now: DateTime<Utc>,
    ) -> Result<Decision, Error<P::Error>> {
        if self.last.as_ref() != Some(new_initial) {
            let decision = self.ingest(ledger, old_final, false, now)?;
            // Not accepted (rejected, or a fault on the old meter itself): no swap.
            if self.last.as_ref() != Some(old_final) {
                return Ok(decision);
            }
        }
        self.ingest(ledger, new_initial, true, now)
    }

    fn ingest<P: LedgerPort>(
        &mut self,
        ledger: &mut P,
        reading: &Reading,
        rebase: bool,
        now: DateTime<Utc>,
    ) -> Result<Decision, Error<P::Error>> {
        if let Some(error) = &self.broken {
            return Err(Error::Pricing(error.clone()));
        }
        if self.ended {
            return Ok(self.rejected(Rejection::Ended));
        }
        if self.last.as_ref() == Some(reading) {
            self.capture(ledger, now)?;
            return Ok(self.decision());
        }
        if rebase && self.meters.is_full() {
            return Err(Error::TooManyMeters { max: MAX_METERS });
        }
        // A capture needs the gross cost only; the itemised figures wait for the receipt.
        let priced = if rebase {
            self.pricer.rebase(reading).map(|totals| totals.gross)
        } else {
            self.pricer.push_gross(reading)
        };
        let gross = match priced {
            Ok(gross) => gross,
            Err(error) => return self.refuse(error),
        };
        self.cost = self.minor(gross)?;
        self.energy_wh = self.pricer.energy_wh();
        self.last = Some(*reading);
        self.track_meter(reading, rebase);
        if rebase && matches!(self.stop, Some(StopReason::MeterFault { .. })) {
            self.stop = None;
        }
        self.capture(ledger, now)?;
        Ok(self.decision())
    }

    fn track_meter(&mut self, reading: &Reading, new_meter: bool) {
        let span = MeterSpan {
            first_at: reading.at,
            first_wh: reading.total_wh,
            last_at: reading.at,
            last_wh: reading.total_wh,
        };
        match self.meters.last_mut() {
            Some(current) if !new_meter => {
                current.last_at = reading.at;
                current.last_wh = reading.total_wh;
            }
            // Room for a new meter was checked before pricing.
            _ => {
                let _ = self.meters.push(span);
            }
        }
    }

    /// Maps a pricing error: bad readings are rejections, a register decrease is a meter
    /// fault, capacity and overflow break the session.
    fn refuse<E>(&mut self, error: meterkit_tariff::Error) -> Result<Decision, Error<E>> {
        use meterkit_tariff::Error as T;
        let reason = match error {
            T::OutOfOrder { at, previous } => Rejection::OutOfOrder { at, previous },
            T::BeforeStart { at, .. } => Rejection::BeforeStart { at },
            T::ConflictingDuplicate { at } => Rejection::ConflictingDuplicate { at },
            T::RegisterDecreased {
                register,
                previous_wh,
                current_wh,
                ..
            } => {
                self.stop = Some(StopReason::MeterFault {
                    register,
                    previous_wh,
                    current_wh,
                });
                return Ok(self.decision());
            }
            T::Capacity { .. } | T::Overflow { .. } => {
                self.broken = Some(error.clone());
                return Err(Error::Pricing(error));
            }
            other => Rejection::Unpriceable(other),
        };
        Ok(self.rejected(reason))
    }

    /// The one conversion from the tariff's amounts to ledger minor units. Exact: `gross`
    /// is already rounded to the currency's minor unit by the tariff's rounding policy
    /// (the same rounding the bill's total gets), and the ledger scale was checked at start
    /// to be at least as fine, so `Scale::from_decimal` never meets an extra digit.
    fn minor<E>(&self, amount: Decimal) -> Result<u64, Error<E>> {
        self.scale
            .from_decimal(amount)
            .map_err(|error| Error::Amount { amount, error })
    }

    /// Captures the cost so far, if it is above what the hold captured and the hold can
    /// still take it.
    fn capture<P: LedgerPort>(
        &mut self,
        ledger: &mut P,
        now: DateTime<Utc>,
    ) -> Result<(), Error<P::Error>> {
        if self.hold_open && self.cost > self.captured && self.captured < self.held {
            let at = self.last.map_or(self.config.start, |r| r.at);
            let id = derive(
                self.config.session,
                Kind::Capture,
                reading_key(at),
                self.cost,
            );
            let op = Op::Capture {
                id,
                hold: self.hold,
                cumulative: self.cost,
            };
            let reply = ledger.apply(&op, timestamp(now)).map_err(Error::Port)?;
            match reply.result {
                Ok(applied) => {
                    if let Outcome::Captured { captured, .. } = applied.outcome {
                        self.captured = self.captured.max(captured);
                    }
                    self.captures = self.captures.saturating_add(1);
                    self.last_capture = Some(id);
                    if let Some(wallet) = ledger.account(self.config.wallet) {
                        self.balance = wallet.balance();
                    }
                }
                Err(LedgerError::HoldExpired(_)) => {
                    self.hold_open = false;
                    self.stop = Some(StopReason::HoldExpired);
                }
                Err(LedgerError::HoldNotOpen(state)) => {
                    self.hold_open = false;
                    self.stop = Some(StopReason::HoldClosed(state));
                }
                Err(error) => {
                    return Err(Error::Ledger {
                        op: "capture",
                        error,
                    });
                }
            }
        }
        if self.cost >= self.held && self.stop.is_none() {
            self.stop = Some(if self.held < self.config.max_amount {
                StopReason::BalanceExhausted
            } else {
                StopReason::HoldExhausted
            });
        }
        Ok(())
    }

    /// Where the session stands.
    pub fn progress(&self) -> Progress {
        Progress {
            at: self.last.map_or(self.config.start, |r| r.at),
            energy_wh: self.energy_wh,
            cost: self.cost,
            held: self.held,
            captured: self.captured,
            remaining: self.held.saturating_sub(self.captured),
            uncovered: self.cost.saturating_sub(self.held),
            balance: self.balance,
        }
    }

    /// The decision for the current state (what the last reading was answered).
    pub fn decision(&self) -> Decision {
        let progress = self.progress();
        if let Some(reason) = self.stop {
            Decision::Stop { reason, progress }
        } else if progress.remaining <= self.config.low_balance {
            Decision::LowBalance(progress)
        } else {
            Decision::Continue(progress)
        }
    }

    fn rejected(&self, reason: Rejection) -> Decision {
        Decision::Rejected {
            reason,
            progress: self.progress(),
        }
    }

    /// The tariff period of the latest priced stretch (for a progress line).
    pub fn current_period(&self) -> Option<&'t PeriodKind> {
        self.pricer.current_period()
    }

    /// The configuration the session was started with.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The id of the session's hold in the ledger.
    pub fn hold_id(&self) -> Id {
        self.hold
    }

    /// Ends the session at `now`: prices the time since the last reading (no energy),
    /// settles the hold at the bill total — the final delta captured, the rest released, an
    /// overshoot beyond the hold paid from the wallet, its credit line, then debt, as the
    /// ledger rules — and returns the receipt.
    ///
    /// If the hold expired (or was closed elsewhere), the ledger's open holds are expired and
    /// what the bill adds to the captures is taken with a late `charge` (same overshoot
    /// rules), so delivered energy is never lost.
    ///
    /// Retrying after an error is safe with the same `now` (same ids, same amounts); a
    /// different `now` can change the bill and the ledger then refuses the reused settle id.
    ///
    /// # Errors
    /// [`Error::Pricing`] (e.g. `now` before the last reading), [`Error::Port`],
    /// [`Error::Ledger`], [`Error::Amount`], [`Error::Ended`] after a successful stop.
    pub fn stop<P: LedgerPort>(
        &mut self,
        ledger: &mut P,
        now: DateTime<Utc>,
    ) -> Result<Receipt, Error<P::Error>> {
        if let Some(error) = &self.broken {
            return Err(Error::Pricing(error.clone()));
        }
        if self.ended {
            return Err(Error::Ended);
        }
        let bill = self.pricer.clone().finish(now).map_err(Error::Pricing)?;
        let total = self.minor(bill.totals.gross)?;
        let settle = derive(self.config.session, Kind::Settle, 0, 0);
        let op = Op::Settle {
            id: settle,
            hold: self.hold,
            cumulative: total,
        };
        let reply = ledger.apply(&op, timestamp(now)).map_err(Error::Port)?;
        let mut late = None;
        let settlement = match reply.result {
            Ok(applied) => match applied.outcome {
                Outcome::Settled {
                    delta,
                    released,
                    from_wallet,
                    from_credit_line,
                    to_debt,
                } => Settlement {
                    delta,
                    released,
                    from_wallet,
                    from_credit_line,
                    to_debt,
                    late: false,
                },
                _ => Settlement::default(),
            },
            Err(LedgerError::HoldExpired(_) | LedgerError::HoldNotOpen(_)) => {
                let ids = (
                    derive(self.config.session, Kind::Expire, 0, 0),
                    derive(self.config.session, Kind::Charge, 0, 0),
                );
                late = Some(ids);
                // A closed hold captures nothing more: what it holds now is final.
                let captured = ledger.hold(self.hold).map_or(self.captured, |h| h.captured);
                self.charge_late(ledger, ids, total.saturating_sub(captured), now)?
            }
            Err(error) => {
                return Err(Error::Ledger {
                    op: "settle",
                    error,
                });
            }
        };
        // Read after the settle, so a retried (repeated) settle reports the same figure.
        let captured_before_settle = ledger
            .hold(self.hold)
            .map_or(self.captured, |h| h.captured)
            .saturating_sub(settlement.delta);
        self.ended = true;
        self.hold_open = false;
        let (balance_after, debt_after) = ledger
            .account(self.config.wallet)
            .map_or((0, 0), |a| (a.balance(), a.debt()));
        Ok(Receipt {
            session: self.config.session,
            wallet: self.config.wallet,
            energy_wh: bill.totals.energy_wh,
            bill,
            meters: self.meters.clone(),
            total,
            held: self.held,
            captured_before_settle,
            settlement,
            balance_before: self.balance_before,
            balance_after,
            debt_before: self.debt_before,
            debt_after,
            ops: OperationIds {
                hold: self.hold,
                captures: self.captures,
                last_capture: self.last_capture,
                settle,
                late,
            },
            stop_reason: self.stop,
        })
    }

    /// The late path: release expired holds, then charge what the bill adds to the captures.
    fn charge_late<P: LedgerPort>(
        &self,
        ledger: &mut P,
        (expire, charge): (Id, Id),
        amount: u64,
        now: DateTime<Utc>,
    ) -> Result<Settlement, Error<P::Error>> {
        let reply = ledger
            .apply(&Op::Expire { id: expire }, timestamp(now))
            .map_err(Error::Port)?;
        if let Err(error) = reply.result {
            return Err(Error::Ledger {
                op: "expire",
                error,
            });
        }
        let mut settlement = Settlement {
            late: true,
            ..Settlement::default()
        };
        if amount > 0 {
            let op = Op::Charge {
                id: charge,
                account: self.config.wallet,
                amount,
            };
            let reply = ledger.apply(&op, timestamp(now)).map_err(Error::Port)?;
            match reply.result {
                Ok(applied) => {
                    if let Outcome::Charged {
                        from_wallet,
                        from_credit_line,
                        to_debt,
                    } = applied.outcome
                    {
                        settlement.from_wallet = from_wallet;
                        settlement.from_credit_line = from_credit_line;
                        settlement.to_debt = to_debt;
                    }
                }
                Err(error) => {
                    return Err(Error::Ledger {
                        op: "charge",
                        error,
                    });
                }
            }
        }
        Ok(settlement)
    }
}
