//! The installation's time zone: every time a person types or reads is local, with daylight saving
//! handled by the IANA database (jiff, with its database built in so a machine without one works).

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{Disambiguation, TimeZone};

use super::Invalid;

/// An IANA time zone (`Europe/Berlin`) and its name.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Default for Zone {
    fn default() -> Self {
        Self::parse(DEFAULT).expect("the default zone is in the database")
    }
}

/// The zone of an installation that names none.
pub const DEFAULT: &str = "Europe/Berlin";

impl Zone {
    pub fn parse(name: &str) -> Result<Self, Invalid> {
        let tz = TimeZone::get(name.trim()).map_err(|_| Invalid::new("time-zone-unknown"))?;
        Ok(Self { name: name.trim().to_string(), tz })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's rules, for computing with local times (quiet hours).
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    fn local(&self, ts: i64) -> Option<jiff::Zoned> {
        Timestamp::from_second(ts).ok().map(|t| t.to_zoned(self.tz.clone()))
    }

    fn format(&self, ts: i64, fmt: &str) -> String {
        self.local(ts).map(|z| z.strftime(fmt).to_string()).unwrap_or_else(|| ts.to_string())
    }

    /// Date, time and the zone's abbreviation as people read it there: `2026-12-24 18:00 CET`.
    pub fn when(&self, ts: i64) -> String {
        self.format(ts, "%Y-%m-%d %H:%M %Z")
    }

    /// The day, `2026-12-24`.
    pub fn day(&self, ts: i64) -> String {
        self.format(ts, "%Y-%m-%d")
    }

    /// The time of day, `18:00`.
    pub fn time_of_day(&self, ts: i64) -> String {
        self.format(ts, "%H:%M")
    }

    /// A form field's value (`datetime-local`): `2026-12-24T18:00`.
    pub fn input_value(&self, ts: i64) -> String {
        self.format(ts, "%Y-%m-%dT%H:%M")
    }

    /// The local day `ts` falls on, as a number (`20261224`), and when the next day begins there.
    pub fn day_period(&self, ts: i64) -> (i64, i64) {
        self.period(ts, jiff::Unit::Day)
    }

    /// The local calendar month `ts` falls in (`202612`), and when the next month begins there.
    pub fn month_period(&self, ts: i64) -> (i64, i64) {
        self.period(ts, jiff::Unit::Month)
    }

    fn period(&self, ts: i64, unit: jiff::Unit) -> (i64, i64) {
        let Some(z) = self.local(ts) else { return (0, ts + 86_400) };
        let start = match unit {
            jiff::Unit::Month => z.first_of_month().and_then(|d| d.start_of_day()),
            _ => z.start_of_day(),
        };
        let step = match unit {
            jiff::Unit::Month => jiff::Span::new().months(1),
            _ => jiff::Span::new().days(1),
        };
        let next = start.and_then(|s| s.checked_add(step)).map(|n| n.timestamp().as_second());
        let key = match unit {
            jiff::Unit::Month => i64::from(z.year()) * 100 + i64::from(z.month()),
            _ => i64::from(z.year()) * 10_000 + i64::from(z.month()) * 100 + i64::from(z.day()),
        };
        (key, next.unwrap_or(ts + 86_400))
    }

    /// What a person typed as local time (`2026-12-24T18:00`) as a Unix time. A time the clocks skip
    /// (02:30 when summer time begins) is the same wall time after the jump (03:30); a time that comes
    /// twice (02:30 when it ends) is the first, in summer time — what a wall clock shows first.
    pub fn from_input(&self, input: &str) -> Option<i64> {
        let dt: DateTime = input.trim().parse().ok()?;
        let zoned = self.tz.to_ambiguous_zoned(dt).disambiguate(Disambiguation::Compatible).ok()?;
        Some(zoned.timestamp().as_second())
    }
}

#[cfg(test)]
mod period_tests {
    use super::*;

    #[test]
    fn days_and_months_end_at_local_midnight_across_daylight_saving() {
        let z = Zone::parse("Europe/Berlin").unwrap();
        // 2026-03-28 23:30 CET: the next day (summer time starts that night) begins 30 min later.
        let t = z.from_input("2026-03-28T23:30").unwrap();
        assert_eq!(z.day_period(t), (20260328, t + 1800));
        let (day, next) = z.day_period(t + 1800);
        assert_eq!(day, 20260329);
        assert_eq!(next - (t + 1800), 23 * 3600, "a 23-hour day");
        assert_eq!(z.month_period(t), (202603, z.from_input("2026-04-01T00:00").unwrap()));
        let dec = z.from_input("2026-12-31T12:00").unwrap();
        assert_eq!(z.month_period(dec), (202612, z.from_input("2027-01-01T00:00").unwrap()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_second()
    }

    #[test]
    fn six_in_the_evening_in_berlin_is_five_utc_in_winter_and_four_in_summer() {
        let z = Zone::default();
        assert_eq!(z.from_input("2026-12-24T18:00"), Some(utc("2026-12-24T17:00:00Z")));
        assert_eq!(z.from_input("2026-07-04T18:00"), Some(utc("2026-07-04T16:00:00Z")));
        assert_eq!(z.when(utc("2026-12-24T17:00:00Z")), "2026-12-24 18:00 CET");
        assert_eq!(z.when(utc("2026-07-04T16:00:00Z")), "2026-07-04 18:00 CEST");
        assert_eq!(z.input_value(utc("2026-07-04T16:00:00Z")), "2026-07-04T18:00");
    }

    #[test]
    fn the_nights_the_clocks_change() {
        let z = Zone::default();
        // 29 March 2026: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist and is read as 03:30.
        let skipped = z.from_input("2026-03-29T02:30").unwrap();
        assert_eq!(skipped, utc("2026-03-29T01:30:00Z"));
        assert_eq!(z.when(skipped), "2026-03-29 03:30 CEST");
        // 25 October 2026: 03:00 CEST goes back to 02:00 CET; 02:30 comes twice, the first is meant.
        let twice = z.from_input("2026-10-25T02:30").unwrap();
        assert_eq!(twice, utc("2026-10-25T00:30:00Z"));
        assert_eq!(z.when(twice), "2026-10-25 02:30 CEST");
    }

    #[test]
    fn unknown_zones_and_bad_input_are_refused() {
        assert!(Zone::parse("Europe/Atlantis").is_err());
        assert_eq!(Zone::parse("America/New_York").unwrap().when(utc("2026-12-24T17:00:00Z")), "2026-12-24 12:00 EST");
        assert_eq!(Zone::default().from_input("24.12.2026 18:00"), None);
    }
}
