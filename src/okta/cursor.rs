//! Where a catch-up run of the System Log starts reading and how far it may say it got, decided without I/O.
//!
//! The cursor is the `published` time (and `uuid`) of the last event fully handled, with every event published
//! before it handled too, or skipped for good. A run reads from a little before it (events reach the log late and
//! out of `published` order; a re-read event is recognised as sent), never further back than a sent message is
//! remembered, and moves the cursor only up to the first event it still owes a message.

use std::time::{Duration, SystemTime};

/// The last event a run fully handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub published: SystemTime,
    pub uuid: String,
}

/// Where one run starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// `since`: the start of the read.
    pub since: SystemTime,
    /// Log time given up on: the cursor lies further back than a sent message is remembered, so what lies before
    /// the window could be sent twice and is not read.
    pub skipped: Option<Duration>,
}

/// The read of a run: `lookback` before `now` the first time (no cursor yet); else `overlap` before the cursor,
/// but never earlier than `remembered` (how long a sent message is remembered) and never after `now`.
pub fn window(
    cursor: Option<&Cursor>,
    now: SystemTime,
    lookback: Duration,
    remembered: Duration,
    overlap: Duration,
) -> Window {
    let back = |d: Duration| now.checked_sub(d).unwrap_or(SystemTime::UNIX_EPOCH);
    let earliest = back(remembered);
    let Some(cursor) = cursor else {
        return Window {
            since: back(lookback.min(remembered)),
            skipped: None,
        };
    };
    let wanted = cursor
        .published
        .checked_sub(overlap)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    Window {
        since: wanted.clamp(earliest, now),
        skipped: earliest
            .duration_since(cursor.published)
            .ok()
            .filter(|d| !d.is_zero()),
    }
}

/// What one run has done, event by event, in whatever order the log gave them.
#[derive(Debug, Default)]
pub struct Progress {
    /// Events handled for good: nothing more is owed for them.
    done: Vec<(SystemTime, String)>,
    /// The earliest `published` among events still owed (a message to retry, or left for the hook).
    owed_from: Option<SystemTime>,
    /// An event still owed whose time is unknown: the cursor cannot be placed past it.
    owed_untimed: bool,
    /// How far the log was read to its end.
    read_to: Option<SystemTime>,
}

impl Progress {
    /// An event nothing more is owed for (sent, sent before, or asking for nothing).
    pub fn done(&mut self, published: Option<SystemTime>, uuid: &str) {
        if let Some(at) = published {
            self.done.push((at, uuid.to_owned()));
        }
    }

    /// The log was read to its end: every event published up to `at` was in it (a polling read returns an event
    /// that reaches the log later by the time it got there, so the next run still finds it).
    pub fn read_to(&mut self, at: SystemTime) {
        // Whole milliseconds, as Okta writes `published` and the cursor is kept: never a little further.
        let ms = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let whole = Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX));
        self.read_to = Some(SystemTime::UNIX_EPOCH + whole);
    }

    /// An event a later run must take again.
    pub fn owed(&mut self, published: Option<SystemTime>) {
        match published {
            Some(at) => self.owed_from = Some(self.owed_from.map_or(at, |o| o.min(at))),
            None => self.owed_untimed = true,
        }
    }

    /// The cursor after what was done: the latest event done that was published before every event still owed;
    /// never behind `from`, the cursor the run started with.
    /// The uuid is the last event done up to that time (empty when the run found none).
    pub fn cursor(&self, from: Option<&Cursor>) -> Option<Cursor> {
        if self.owed_untimed {
            return from.cloned();
        }
        let before_owed = |at: &SystemTime| self.owed_from.is_none_or(|owed| *at < owed);
        let last = self.done.iter().filter(|(at, _)| before_owed(at)).max();
        let mark = self.read_to.filter(before_owed);
        let reached = last.map(|(at, _)| *at).max(mark);
        match reached {
            Some(at) if from.is_none_or(|f| at > f.published) => Some(Cursor {
                published: at,
                uuid: last.map(|(_, uuid)| uuid.clone()).unwrap_or_default(),
            }),
            _ => from.cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: u64 = 1_800_000_000;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn cursor(secs: u64) -> Cursor {
        Cursor {
            published: at(secs),
            uuid: format!("e{secs}"),
        }
    }

    const HOUR: Duration = Duration::from_secs(3600);
    const DAY: Duration = Duration::from_secs(86400);
    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn the_first_run_looks_back_then_runs_resume_a_little_before_the_cursor() {
        let now = at(T0);
        let first = window(None, now, HOUR, DAY, MINUTE);
        assert_eq!(
            first,
            Window {
                since: at(T0 - 3600),
                skipped: None
            }
        );
        let next = window(Some(&cursor(T0 - 600)), now, HOUR, DAY, MINUTE);
        assert_eq!(
            next,
            Window {
                since: at(T0 - 660),
                skipped: None
            }
        );
        // Down for two days: only what is still remembered is read, and the gap is said.
        let old = window(Some(&cursor(T0 - 2 * 86400)), now, HOUR, DAY, MINUTE);
        assert_eq!(old.since, at(T0 - 86400));
        assert_eq!(old.skipped, Some(DAY));
        // A cursor from another clock's future never starts the read after now.
        assert_eq!(
            window(Some(&cursor(T0 + 600)), now, HOUR, DAY, MINUTE).since,
            now
        );
    }

    #[test]
    fn the_cursor_stops_before_the_first_event_still_owed() {
        let mut p = Progress::default();
        p.done(Some(at(T0 + 1)), "a");
        p.done(Some(at(T0 + 5)), "c");
        p.owed(Some(at(T0 + 3)));
        p.done(Some(at(T0 + 2)), "b");
        assert_eq!(p.cursor(None), Some(cursor_named(T0 + 2, "b")));
        // Never back: an older cursor stays.
        assert_eq!(p.cursor(Some(&cursor(T0 + 4))), Some(cursor(T0 + 4)));
        // Read to the end: the cursor moves to that time, short of what is owed.
        p.read_to(at(T0 + 9));
        assert_eq!(p.cursor(None), Some(cursor_named(T0 + 2, "b")));
        let mut clear = Progress::default();
        clear.done(Some(at(T0 + 1)), "a");
        clear.read_to(at(T0 + 9));
        assert_eq!(clear.cursor(None), Some(cursor_named(T0 + 9, "a")));
        p.owed(None);
        assert_eq!(p.cursor(Some(&cursor(T0))), Some(cursor(T0)));
        assert_eq!(Progress::default().cursor(None), None);
    }

    fn cursor_named(secs: u64, uuid: &str) -> Cursor {
        Cursor {
            published: at(secs),
            uuid: uuid.to_owned(),
        }
    }

    proptest! {
        /// Whatever the order events come in: the cursor never passes an owed event and never goes back.
        #[test]
        fn the_cursor_never_passes_an_owed_event(
            events in prop::collection::vec((0u64..50, any::<bool>()), 0..40),
            start in prop::option::of(0u64..50),
        ) {
            let mut p = Progress::default();
            p.read_to(at(T0 + 60));
            for (i, (secs, done)) in events.iter().enumerate() {
                match done {
                    true => p.done(Some(at(T0 + secs)), &format!("e{i}")),
                    false => p.owed(Some(at(T0 + secs))),
                }
            }
            let from = start.map(|s| cursor(T0 + s));
            let moved = p.cursor(from.as_ref());
            if let (Some(from), Some(moved)) = (&from, &moved) {
                prop_assert!(moved.published >= from.published);
            }
            if let Some(moved) = moved.filter(|m| from.as_ref().is_none_or(|f| m.published > f.published)) {
                for (secs, done) in &events {
                    prop_assert!(*done || at(T0 + secs) > moved.published);
                }
            }
        }
    }
}
