//! Quiet hours: when broadcasts wait so that nobody is woken (a nightly window and, if chosen,
//! Sundays), in the recipient's local time where their number's country tells it.

use std::collections::HashMap;
use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::Invalid;

/// A time of day, written `21:00` (minutes after midnight inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, utoipa::ToSchema)]
#[schema(value_type = String, example = "21:00")]
pub struct ClockTime(u16);

impl ClockTime {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("clock-time-form");
        let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 || s.trim().len() != 5 {
            return Err(bad());
        }
        Ok(Self(h * 60 + m))
    }
    pub fn hm(h: u16, m: u16) -> Self {
        Self(h * 60 + m)
    }
    fn minutes(self) -> u16 {
        self.0
    }
}

impl std::fmt::Display for ClockTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(|_| serde::de::Error::custom(format!("{s:?} is not a time of day like 21:00")))
    }
}

/// A nightly window (`from` 21:00 `until` 08:00; `from` before `until` is a window within one day)
/// and, if `sundays`, all of Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub from: ClockTime,
    pub until: ClockTime,
    #[serde(default)]
    pub sundays: bool,
}

impl Default for QuietHours {
    fn default() -> Self {
        Self { from: ClockTime::hm(21, 0), until: ClockTime::hm(8, 0), sundays: false }
    }
}

impl QuietHours {
    fn in_window(&self, minute: u16) -> bool {
        let (from, until) = (self.from.minutes(), self.until.minutes());
        if from > until { minute >= from || minute < until } else { minute >= from && minute < until }
    }

    /// The first moment from `now` on (Unix seconds) at which a broadcast may reach someone in `tz`:
    /// `now` itself when it is not quiet there. The clocks changing is the zone database's business:
    /// "until 08:00" is 08:00 on the wall clock that morning.
    pub fn next_allowed(&self, tz: &TimeZone, now: i64) -> i64 {
        let Ok(mut t) = Timestamp::from_second(now) else { return now };
        // Sunday ends at midnight, which may be in the night window: a few steps settle it.
        for _ in 0..4 {
            let local = t.to_zoned(tz.clone());
            let dt = local.datetime();
            let minute = u16::try_from(i32::from(dt.hour()) * 60 + i32::from(dt.minute())).unwrap_or(0);
            let next: Option<Date> = if self.sundays && dt.weekday() == Weekday::Sunday {
                dt.date().tomorrow().ok()
            } else if self.in_window(minute) {
                if minute < self.until.minutes() { Some(dt.date()) } else { dt.date().tomorrow().ok() }
            } else {
                return t.as_second();
            };
            let until = if self.sundays && dt.weekday() == Weekday::Sunday { 0 } else { self.until.minutes() };
            let Some(at) = next
                .map(|d| d.at((until / 60) as i8, (until % 60) as i8, 0, 0))
                .and_then(|dt| tz.to_ambiguous_zoned(dt).compatible().ok())
            else {
                return t.as_second();
            };
            t = at.timestamp();
        }
        t.as_second()
    }

    /// [`Self::next_allowed`] for someone who may be in any of `zones` (a country with several): the
    /// first moment that is not quiet in any of them.
    pub fn next_allowed_in_all(&self, zones: &[&TimeZone], now: i64) -> i64 {
        let mut t = now;
        for _ in 0..4 {
            let later = zones.iter().map(|z| self.next_allowed(z, t)).max().unwrap_or(t);
            if later == t {
                break;
            }
            t = later;
        }
        t
    }
}

/// When the team answers messages: from–until on every day, or on weekdays only, in the
/// installation's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeHours {
    pub from: ClockTime,
    pub until: ClockTime,
    #[serde(default)]
    pub weekdays_only: bool,
}

impl OfficeHours {
    /// Whether `now` (Unix seconds) is within them in `tz`.
    pub fn open_at(&self, tz: &TimeZone, now: i64) -> bool {
        let Ok(t) = Timestamp::from_second(now) else { return true };
        let dt = t.to_zoned(tz.clone()).datetime();
        if self.weekdays_only && matches!(dt.weekday(), Weekday::Saturday | Weekday::Sunday) {
            return false;
        }
        let minute = u16::try_from(i32::from(dt.hour()) * 60 + i32::from(dt.minute())).unwrap_or(0);
        let (from, until) = (self.from.minutes(), self.until.minutes());
        if from <= until { minute >= from && minute < until } else { minute >= from || minute < until }
    }
}

/// How a channel's broadcasts treat the night.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum QuietRule {
    /// The installation's quiet hours (`[quiet_hours]` in the configuration).
    #[default]
    Installation,
    /// The channel's own.
    Own(QuietHours),
    /// Urgent status news (a cancelled match, a closed road): any hour.
    Urgent,
}

impl QuietRule {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Installation => "installation",
            Self::Own(_) => "own",
            Self::Urgent => "urgent",
        }
    }

    /// The hours that hold this channel's broadcasts, given the installation's (`None`: it has none).
    pub fn hours(&self, installation: Option<QuietHours>) -> Option<QuietHours> {
        match self {
            Self::Installation => installation,
            Self::Own(q) => Some(*q),
            Self::Urgent => None,
        }
    }
}

/// The time zones of the country a phone number belongs to, by its calling code (the longest that
/// matches). One zone for most countries; for a country that spans several, its easternmost and
/// westernmost populous zones, so that a message waits until it is not quiet in either (and so
/// nowhere between). `None`: a code not in the table; the installation's zone is used.
pub fn zones_of_number(e164: &str) -> Option<&'static [&'static str]> {
    let digits = e164.strip_prefix('+')?;
    (1..=3).rev().filter_map(|n| digits.get(..n)).find_map(|p| ZONES.iter().find(|(c, _)| *c == p).map(|(_, z)| *z))
}

/// A zone of [`zones_of_number`], read once from the built-in database.
pub fn zone(name: &str) -> Option<&'static TimeZone> {
    static ALL: LazyLock<HashMap<&'static str, TimeZone>> = LazyLock::new(|| {
        ZONES.iter().flat_map(|(_, z)| z.iter()).filter_map(|n| TimeZone::get(n).ok().map(|tz| (*n, tz))).collect()
    });
    ALL.get(name)
}

/// Calling code → zones. Countries where most of herold's users' members live or come from; a
/// code not here falls back to the installation's zone.
const ZONES: &[(&str, &[&str])] = &[
    ("1", &["America/New_York", "America/Los_Angeles"]),
    ("7", &["Europe/Moscow", "Asia/Vladivostok"]),
    ("20", &["Africa/Cairo"]),
    ("27", &["Africa/Johannesburg"]),
    ("30", &["Europe/Athens"]),
    ("31", &["Europe/Amsterdam"]),
    ("32", &["Europe/Brussels"]),
    ("33", &["Europe/Paris"]),
    ("34", &["Europe/Madrid", "Atlantic/Canary"]),
    ("36", &["Europe/Budapest"]),
    ("39", &["Europe/Rome"]),
    ("40", &["Europe/Bucharest"]),
    ("41", &["Europe/Zurich"]),
    ("43", &["Europe/Vienna"]),
    ("44", &["Europe/London"]),
    ("45", &["Europe/Copenhagen"]),
    ("46", &["Europe/Stockholm"]),
    ("47", &["Europe/Oslo"]),
    ("48", &["Europe/Warsaw"]),
    ("49", &["Europe/Berlin"]),
    ("52", &["America/Mexico_City", "America/Tijuana"]),
    ("55", &["America/Sao_Paulo", "America/Manaus"]),
    ("61", &["Australia/Sydney", "Australia/Perth"]),
    ("81", &["Asia/Tokyo"]),
    ("86", &["Asia/Shanghai"]),
    ("90", &["Europe/Istanbul"]),
    ("91", &["Asia/Kolkata"]),
    ("93", &["Asia/Kabul"]),
    ("98", &["Asia/Tehran"]),
    ("212", &["Africa/Casablanca"]),
    ("216", &["Africa/Tunis"]),
    ("234", &["Africa/Lagos"]),
    ("254", &["Africa/Nairobi"]),
    ("351", &["Europe/Lisbon", "Atlantic/Azores"]),
    ("352", &["Europe/Luxembourg"]),
    ("353", &["Europe/Dublin"]),
    ("354", &["Atlantic/Reykjavik"]),
    ("356", &["Europe/Malta"]),
    ("357", &["Asia/Nicosia"]),
    ("358", &["Europe/Helsinki"]),
    ("359", &["Europe/Sofia"]),
    ("370", &["Europe/Vilnius"]),
    ("371", &["Europe/Riga"]),
    ("372", &["Europe/Tallinn"]),
    ("380", &["Europe/Kyiv"]),
    ("381", &["Europe/Belgrade"]),
    ("385", &["Europe/Zagreb"]),
    ("386", &["Europe/Ljubljana"]),
    ("387", &["Europe/Sarajevo"]),
    ("420", &["Europe/Prague"]),
    ("421", &["Europe/Bratislava"]),
    ("423", &["Europe/Vaduz"]),
    ("963", &["Asia/Damascus"]),
    ("964", &["Asia/Baghdad"]),
    ("971", &["Asia/Dubai"]),
    ("972", &["Asia/Jerusalem"]),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_second()
    }
    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    #[test]
    fn a_message_at_ten_at_night_waits_until_eight_in_the_morning() {
        let q = QuietHours::default();
        // Friday 11 December 2026, 22:00 CET = 21:00 UTC → Saturday 08:00 CET = 07:00 UTC.
        assert_eq!(q.next_allowed(&berlin(), utc("2026-12-11T21:00:00Z")), utc("2026-12-12T07:00:00Z"));
        // 03:00 the same night → 08:00 that morning; 08:00 and 20:59 go at once.
        assert_eq!(q.next_allowed(&berlin(), utc("2026-12-12T02:00:00Z")), utc("2026-12-12T07:00:00Z"));
        assert_eq!(q.next_allowed(&berlin(), utc("2026-12-12T07:00:00Z")), utc("2026-12-12T07:00:00Z"));
        assert_eq!(q.next_allowed(&berlin(), utc("2026-12-12T19:59:00Z")), utc("2026-12-12T19:59:00Z"));
    }

    #[test]
    fn sundays_off_waits_until_monday_morning_and_summer_time_is_the_wall_clock() {
        let q = QuietHours { sundays: true, ..QuietHours::default() };
        // Saturday 28 March 2026, 22:00 CET; the clocks go forward that night; Sunday is quiet:
        // Monday 30 March 08:00 CEST = 06:00 UTC.
        assert_eq!(q.next_allowed(&berlin(), utc("2026-03-28T21:00:00Z")), utc("2026-03-30T06:00:00Z"));
        // Without Sundays: 08:00 CEST on Sunday.
        assert_eq!(
            QuietHours::default().next_allowed(&berlin(), utc("2026-03-28T21:00:00Z")),
            utc("2026-03-29T06:00:00Z")
        );
    }

    #[test]
    fn a_window_within_a_day_and_one_that_is_empty() {
        let lunch = QuietHours { from: ClockTime::hm(12, 0), until: ClockTime::hm(14, 0), sundays: false };
        assert_eq!(lunch.next_allowed(&berlin(), utc("2026-12-12T11:30:00Z")), utc("2026-12-12T13:00:00Z"));
        assert_eq!(lunch.next_allowed(&berlin(), utc("2026-12-12T14:00:00Z")), utc("2026-12-12T14:00:00Z"));
        let none = QuietHours { from: ClockTime::hm(8, 0), until: ClockTime::hm(8, 0), sundays: false };
        assert_eq!(none.next_allowed(&berlin(), utc("2026-12-12T02:00:00Z")), utc("2026-12-12T02:00:00Z"));
    }

    #[test]
    fn a_country_with_several_zones_waits_for_the_last_of_them() {
        let zones: Vec<&TimeZone> = zones_of_number("+12125550100").unwrap().iter().map(|n| zone(n).unwrap()).collect();
        // 13:00 UTC in December: 08:00 in New York, 05:00 in Los Angeles → 08:00 there = 16:00 UTC.
        let q = QuietHours::default();
        assert_eq!(q.next_allowed_in_all(&zones, utc("2026-12-14T13:00:00Z")), utc("2026-12-14T16:00:00Z"));
        // 03:00 UTC: 22:00 in New York, 19:00 in LA → New York's morning, when LA is awake too.
        assert_eq!(q.next_allowed_in_all(&zones, utc("2026-12-15T03:00:00Z")), utc("2026-12-15T16:00:00Z"));
    }

    #[test]
    fn numbers_find_their_country_by_the_longest_code() {
        assert_eq!(zones_of_number("+4915112345678"), Some(&["Europe/Berlin"][..]));
        assert_eq!(zones_of_number("+43664123456"), Some(&["Europe/Vienna"][..]));
        assert_eq!(zones_of_number("+352621123456"), Some(&["Europe/Luxembourg"][..]));
        assert_eq!(zones_of_number("+999123"), None);
        assert!(ZONES.iter().flat_map(|(_, z)| z.iter()).all(|n| zone(n).is_some()), "every zone is known");
    }

    #[test]
    fn office_hours_on_weekdays() {
        let o = OfficeHours { from: ClockTime::hm(9, 0), until: ClockTime::hm(17, 0), weekdays_only: true };
        // Friday 11 December 2026: 10:00 CET open, 17:00 closed; Saturday 10:00 closed.
        assert!(o.open_at(&berlin(), utc("2026-12-11T09:00:00Z")));
        assert!(!o.open_at(&berlin(), utc("2026-12-11T16:00:00Z")));
        assert!(!o.open_at(&berlin(), utc("2026-12-12T09:00:00Z")));
    }

    #[test]
    fn times_of_day_are_read_strictly() {
        assert_eq!(ClockTime::parse("21:00").unwrap().to_string(), "21:00");
        assert_eq!(ClockTime::parse("07:05").unwrap(), ClockTime::hm(7, 5));
        for bad in ["24:00", "7:00", "21-00", "21:60", ""] {
            assert!(ClockTime::parse(bad).is_err(), "{bad}");
        }
        let rule: QuietRule = serde_json::from_str(r#"{"mode":"own","from":"22:00","until":"07:00"}"#).unwrap();
        assert_eq!(rule.hours(None).unwrap().from, ClockTime::hm(22, 0));
        assert_eq!(serde_json::to_string(&QuietRule::Urgent).unwrap(), r#"{"mode":"urgent"}"#);
    }
}
