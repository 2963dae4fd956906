//! The sliding window of one sub-alarm, as monasca-thresh keeps it: `periods` view slots of
//! `period` seconds ending at `view_end`, plus two future slots for data that arrives early.
//!
//! Evaluation follows monasca-thresh: functions whose state a single value can decide (`last`,
//! `max`/`count` above a threshold, `min` below one, and the mirror cases for OK) switch as soon
//! as the value arrives; the others decide once a period has ended and `delay` seconds have
//! passed for late data. One change from upstream: a non-deterministic sub-alarm becomes
//! UNDETERMINED after two whole windows without data (what upstream's comment intends; its code
//! counts evaluations per minute but evaluates once per period, so with `period=300` it waits
//! almost an hour).

use std::collections::VecDeque;

use alarm_expr::{Function, Operator, SubExpr};

use crate::AlarmState;

#[derive(Clone, Copy, Debug)]
struct Slot {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Default for Slot {
    fn default() -> Self {
        Self {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Slot {
    fn add(&mut self, v: f64) {
        self.count += 1;
        self.sum += v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    fn value(&self, f: Function) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        Some(match f {
            Function::Avg => self.sum / self.count as f64,
            Function::Min => self.min,
            Function::Max => self.max,
            Function::Sum => self.sum,
            Function::Count => self.count as f64,
            // `last` is kept outside the slots.
            Function::Last => self.max,
        })
    }
}

/// The outcome of one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub state: AlarmState,
    /// The values that decided it, as history records them.
    pub values: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct Window {
    function: Function,
    operator: Operator,
    threshold: f64,
    deterministic: bool,
    /// Seconds.
    period: i64,
    periods: usize,
    /// Exclusive end of the view, epoch seconds.
    view_end: i64,
    /// `periods` view slots then 2 future slots, oldest first.
    slots: VecDeque<Slot>,
    /// `last`: the newest (timestamp ms, value).
    last: Option<(i64, f64)>,
    empty_evaluations: u32,
    /// A value added since the last evaluation could decide the state at once.
    decisive: bool,
    /// A value was added since the last evaluation.
    fresh: bool,
}

const FUTURE_SLOTS: usize = 2;

impl Window {
    /// A window for `sub` created at `now` (epoch seconds): the view ends at the first minute
    /// boundary a period from now, as monasca-thresh starts it.
    pub fn new(sub: &SubExpr, now: i64) -> Self {
        let period = i64::from(sub.period.max(60));
        // The API refuses windows over two weeks; the cap keeps a bad row from exhausting memory.
        let periods = (sub.periods.max(1) as usize).min(20_160);
        Self {
            function: sub.function,
            operator: sub.operator,
            threshold: sub.threshold,
            deterministic: sub.deterministic,
            period,
            periods,
            view_end: (now + period).div_euclid(60) * 60,
            slots: VecDeque::from(vec![Slot::default(); periods + FUTURE_SLOTS]),
            last: None,
            empty_evaluations: 0,
            decisive: false,
            fresh: false,
        }
    }

    /// Frees the slots of a window no alarm uses any more; false if it was already released
    /// (a live window has at least three slots).
    pub fn release(&mut self) -> bool {
        let live = !self.slots.is_empty();
        self.slots = VecDeque::new();
        self.last = None;
        live
    }

    fn start(&self) -> i64 {
        self.view_end - self.periods as i64 * self.period
    }

    /// Whether a value added since the last evaluation could decide the state at once, so
    /// that the ingest path evaluates only those windows and leaves the rest to the clock.
    pub fn decisive(&self) -> bool {
        self.decisive
    }

    /// Whether an evaluation at `now` would give what the last one gave: no value added since
    /// and no view closed. The clock skips such windows: with tens of thousands of alarms,
    /// evaluating each every second was most of the engine's time between batches.
    pub fn settled(&self, now: i64, delay: i64) -> bool {
        !self.fresh && (self.function == Function::Last || !self.due(now, delay))
    }

    fn alarm_capable(&self) -> bool {
        matches!(
            (self.function, self.operator),
            (Function::Last, _)
                | (Function::Min, Operator::Lt | Operator::Lte)
                | (
                    Function::Max | Function::Count,
                    Operator::Gt | Operator::Gte
                )
        )
    }

    fn ok_capable(&self) -> bool {
        matches!(
            (self.function, self.operator),
            (Function::Last, _)
                | (Function::Min, Operator::Gt | Operator::Gte)
                | (
                    Function::Max | Function::Count,
                    Operator::Lt | Operator::Lte
                )
        )
    }

    /// Adds a measurement; false if it falls outside the window (too old or too far ahead).
    pub fn add(&mut self, ts_ms: i64, value: f64) -> bool {
        if self.function == Function::Last {
            if self.last.is_none_or(|(t, _)| ts_ms >= t) {
                self.last = Some((ts_ms, value));
                self.decisive = true;
                self.fresh = true;
                return true;
            }
            return false;
        }
        let t = ts_ms.div_euclid(1000);
        let start = self.start();
        let end = self.view_end + FUTURE_SLOTS as i64 * self.period;
        if t < start || t >= end {
            return false;
        }
        let idx = ((t - start) / self.period) as usize;
        self.fresh = true;
        let function = self.function;
        let slot_value = self.slots.get_mut(idx).and_then(|s| {
            s.add(value);
            s.value(function)
        });
        if let Some(v) = slot_value {
            let breaches = self.breaches(v);
            self.decisive |= (breaches && self.alarm_capable()) || (!breaches && self.ok_capable());
        }
        true
    }

    fn breaches(&self, v: f64) -> bool {
        self.operator.holds(v, self.threshold)
    }

    fn values(&self) -> impl Iterator<Item = Option<f64>> + '_ {
        self.slots.iter().map(|s| s.value(self.function))
    }

    /// ALARM from data alone: `periods` consecutive slots that all breach, for functions where
    /// more data could not undo it.
    fn immediate_alarm(&self) -> Option<Verdict> {
        let can = matches!(
            (self.function, self.operator),
            (Function::Last, _)
                | (Function::Min, Operator::Lt | Operator::Lte)
                | (
                    Function::Max | Function::Count,
                    Operator::Gt | Operator::Gte
                )
        );
        if !can {
            return None;
        }
        if self.function == Function::Last {
            let (_, v) = self.last?;
            return self.breaches(v).then(|| Verdict {
                state: AlarmState::Alarm,
                values: vec![v],
            });
        }
        let mut run: Vec<f64> = Vec::new();
        for v in self.values() {
            match v {
                Some(v) if self.breaches(v) => {
                    run.push(v);
                    if run.len() == self.periods {
                        return Some(Verdict {
                            state: AlarmState::Alarm,
                            values: run,
                        });
                    }
                }
                _ => run.clear(),
            }
        }
        None
    }

    /// OK from data alone: a value that does not breach, for functions where more data could
    /// not make it breach.
    fn immediate_ok(&self) -> Option<Verdict> {
        let can = matches!(
            (self.function, self.operator),
            (Function::Last, _)
                | (Function::Min, Operator::Gt | Operator::Gte)
                | (
                    Function::Max | Function::Count,
                    Operator::Lt | Operator::Lte
                )
        );
        if !can {
            return None;
        }
        if self.function == Function::Last {
            let (_, v) = self.last?;
            return (!self.breaches(v)).then(|| Verdict {
                state: AlarmState::Ok,
                values: vec![v],
            });
        }
        self.values()
            .flatten()
            .find(|v| !self.breaches(*v))
            .map(|v| Verdict {
                state: AlarmState::Ok,
                values: vec![v],
            })
    }

    /// Whether the view ending at `view_end` is complete at `now` (seconds), late data
    /// included.
    pub fn due(&self, now: i64, delay: i64) -> bool {
        now > self.view_end + delay
    }

    fn view_verdict(&mut self) -> Option<Verdict> {
        let mut values = Vec::new();
        let mut complete = true;
        for v in self.values().take(self.periods).collect::<Vec<_>>() {
            match v {
                Some(v) => {
                    values.push(v);
                    self.empty_evaluations = 0;
                    if !self.breaches(v) {
                        return Some(Verdict {
                            state: AlarmState::Ok,
                            values,
                        });
                    }
                }
                None => complete = false,
            }
        }
        if complete {
            return Some(Verdict {
                state: AlarmState::Alarm,
                values,
            });
        }
        self.empty_evaluations += 1;
        if self.deterministic {
            return Some(Verdict {
                state: AlarmState::Ok,
                values,
            });
        }
        let windows_without_data = self.empty_evaluations as usize / self.periods;
        (windows_without_data >= 2).then(|| Verdict {
            state: AlarmState::Undetermined,
            values: Vec::new(),
        })
    }

    /// Evaluates at `now` (epoch seconds): every view that has closed since the last call, in
    /// order (so a clock that jumps, or a stalled evaluator, skips none), then whatever the
    /// data decides at once. Returns the latest verdict; the caller compares it with the state.
    pub fn evaluate(&mut self, now: i64, delay: i64) -> Option<Verdict> {
        self.decisive = false;
        self.fresh = false;
        let mut verdict = None;
        if self.function != Function::Last {
            // Past this many steps every slot is empty and further views add nothing new.
            let max_steps = self.slots.len() + 2 * self.periods + 2;
            let mut steps = 0;
            while self.due(now, delay) && steps < max_steps {
                if let Some(v) = self.view_verdict() {
                    verdict = Some(v);
                }
                self.slide_one();
                steps += 1;
            }
            if self.due(now, delay) {
                let behind = (now - delay - self.view_end).div_euclid(self.period) + 1;
                self.view_end += behind * self.period;
                self.slots.iter_mut().for_each(|s| *s = Slot::default());
            }
        }
        self.immediate_alarm()
            .or_else(|| self.immediate_ok())
            .or(verdict)
    }

    fn slide_one(&mut self) {
        self.slots.pop_front();
        self.slots.push_back(Slot::default());
        self.view_end += self.period;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sub(text: &str) -> SubExpr {
        alarm_expr::parse(text).unwrap().sub_expressions()[0].clone()
    }

    const T: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z, a minute boundary

    #[test]
    fn average_over_a_period_decides_after_the_period_ends() {
        let mut w = Window::new(&sub("avg(cpu) > 10"), T);
        // View [T, T+60); values at T+5 and T+30 average 15.
        assert!(w.add((T + 5) * 1000, 12.0));
        assert!(w.add((T + 30) * 1000, 18.0));
        assert_eq!(
            w.evaluate(T + 40, 30),
            None,
            "not due before the period ends"
        );
        assert_eq!(w.evaluate(T + 89, 30), None, "late data still accepted");
        let v = w.evaluate(T + 91, 30).unwrap();
        assert_eq!(
            v,
            Verdict {
                state: AlarmState::Alarm,
                values: vec![15.0]
            }
        );
        // Next period: a low average is OK.
        assert!(w.add((T + 70) * 1000, 1.0));
        assert_eq!(w.evaluate(T + 151, 30).unwrap().state, AlarmState::Ok);
    }

    #[test]
    fn max_above_threshold_alarms_immediately_and_times_needs_every_period() {
        let mut w = Window::new(&sub("max(cpu) > 90"), T);
        assert!(w.add((T + 1) * 1000, 95.0));
        assert_eq!(w.evaluate(T + 2, 30).unwrap().state, AlarmState::Alarm);

        let mut w = Window::new(&sub("avg(cpu, 60) > 10 times 3"), T);
        // The view covers [T-120, T+60): fill all three periods.
        for (i, v) in [20.0, 30.0, 40.0].iter().enumerate() {
            assert!(w.add((T - 120 + 60 * i as i64) * 1000, *v));
        }
        assert_eq!(
            w.evaluate(T + 91, 30).unwrap().values,
            vec![20.0, 30.0, 40.0]
        );
        let mut w = Window::new(&sub("avg(cpu) > 10 times 3"), T);
        w.add((T - 120) * 1000, 20.0);
        w.add((T - 60) * 1000, 5.0);
        w.add(T * 1000, 40.0);
        let v = w.evaluate(T + 91, 30).unwrap();
        assert_eq!((v.state, v.values), (AlarmState::Ok, vec![20.0, 5.0]));
    }

    #[test]
    fn last_follows_the_newest_value() {
        let mut w = Window::new(&sub("last(up) < 1"), T);
        assert!(w.add(T * 1000, 0.0));
        assert_eq!(w.evaluate(T, 30).unwrap().state, AlarmState::Alarm);
        assert!(w.add((T + 1) * 1000, 1.0));
        assert!(!w.add((T - 1) * 1000, 0.0), "older than the newest value");
        assert_eq!(w.evaluate(T + 1, 30).unwrap().state, AlarmState::Ok);
        // No data for hours: last never goes UNDETERMINED.
        assert_eq!(w.evaluate(T + 36_000, 30).unwrap().state, AlarmState::Ok);
    }

    #[test]
    fn missing_data_goes_undetermined_or_ok_when_deterministic() {
        let mut w = Window::new(&sub("avg(cpu) > 10"), T);
        w.add((T + 1) * 1000, 20.0);
        assert_eq!(w.evaluate(T + 91, 30).unwrap().state, AlarmState::Alarm);
        assert_eq!(
            w.evaluate(T + 151, 30),
            None,
            "one empty window keeps the state"
        );
        assert_eq!(
            w.evaluate(T + 211, 30).unwrap().state,
            AlarmState::Undetermined
        );

        let mut w = Window::new(&sub("count(log.error, deterministic) > 0"), T);
        assert_eq!(w.evaluate(T + 91, 30).unwrap().state, AlarmState::Ok);
        w.add((T + 95) * 1000, 1.0);
        assert_eq!(w.evaluate(T + 96, 30).unwrap().state, AlarmState::Alarm);
    }

    #[test]
    fn only_values_that_can_decide_at_once_are_decisive() {
        let mut w = Window::new(&sub("max(cpu) > 90"), T);
        w.add(T * 1000, 50.0);
        assert!(!w.decisive(), "50 cannot make max > 90 fire");
        w.add((T + 1) * 1000, 95.0);
        assert!(w.decisive());
        w.evaluate(T + 2, 30);
        assert!(!w.decisive());
        let mut w = Window::new(&sub("avg(cpu) > 90"), T);
        w.add(T * 1000, 95.0);
        assert!(!w.decisive(), "an average decides when its period ends");
        let mut w = Window::new(&sub("max(cpu) < 10"), T);
        w.add(T * 1000, 50.0);
        assert!(w.decisive(), "a max above 10 settles OK");
    }

    #[test]
    fn a_settled_window_would_say_nothing_new() {
        let expressions = [
            "avg(cpu) > 10",
            "max(cpu) > 90",
            "min(cpu) < 10",
            "last(cpu) > 50",
            "count(cpu, deterministic) > 2",
            "sum(cpu) > 100 times 3",
        ];
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed >> 33
        };
        for e in expressions {
            let mut w = Window::new(&sub(e), T);
            // The verdict an evaluation last gave (what the sub-alarm holds).
            let mut current: Option<Verdict> = None;
            let mut skipped = 0;
            for step in 0..2_000 {
                let now = T + step * 7;
                if next() % 3 == 0 {
                    w.add((now - (next() % 90) as i64) * 1000, (next() % 100) as f64);
                }
                if w.settled(now, 30) {
                    skipped += 1;
                    let said = w.clone().evaluate(now, 30);
                    assert!(
                        said.is_none() || said == current,
                        "{e} at step {step}: {said:?} after {current:?}"
                    );
                }
                if next() % 2 == 0
                    && let Some(v) = w.evaluate(now, 30)
                {
                    current = Some(v);
                }
            }
            assert!(skipped > 100, "{e}: {skipped}");
        }
    }

    #[test]
    fn data_outside_the_window_is_refused() {
        let mut w = Window::new(&sub("avg(cpu) > 10"), T);
        assert!(!w.add((T - 61) * 1000, 1.0));
        assert!(!w.add((T + 180) * 1000, 1.0));
        assert!(w.add((T + 179) * 1000, 1.0));
    }
}
