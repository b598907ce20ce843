//! PingSource schedules: `robfig/cron/v3` (v3.0.1) as Knative Eventing
//! configures it in `pkg/apis/sources/v1/ping_validation.go` and
//! `pkg/adapter/mtping/runner.go`: `SecondOptional | Minute | Hour | Dom |
//! Month | Dow | Descriptor`, so five fields (`min hour dom month dow`, fired
//! at second 0) or six with seconds first; `@every` is refused.
//!
//! The rules follow robfig's `parser.go` (`getRange`, named months and
//! weekdays, `N/step` meaning `N-max/step`, the star bit a step above one
//! clears) and `spec.go` (`dayMatches`: when day-of-month and day-of-week are
//! both restricted, either may match). Times are UTC seconds since the Unix
//! epoch; time zones other than UTC are not modelled.

use thiserror::Error;

/// Why a schedule does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid schedule {schedule:?}: {rule}")]
pub struct CronError {
    /// The schedule as written.
    pub schedule: String,
    /// What is wrong.
    pub rule: String,
}

/// Set when a field was written `*` or `?` (robfig's `starBit`).
const STAR: u64 = 1 << 63;

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
}

const SECONDS: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

/// A parsed schedule: one bit set per allowed value of each field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronSchedule {
    second: u64,
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
}

fn bits(start: u32, end: u32, step: u32) -> u64 {
    (start..=end)
        .step_by(step as usize)
        .fold(0, |b, i| b | 1 << i)
}

fn all(b: &Bounds) -> u64 {
    bits(b.min, b.max, 1) | STAR
}

impl CronSchedule {
    /// Parses a PingSource `schedule`.
    pub fn parse(schedule: &str) -> Result<CronSchedule, CronError> {
        let err = |rule: String| CronError {
            schedule: schedule.to_string(),
            rule,
        };
        let s = schedule.trim();
        if s.contains("@every") {
            return Err(err("@every is not allowed in a PingSource schedule".into()));
        }
        if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
            return Err(err(
                "a time zone prefix is not modelled: schedules run in UTC".into(),
            ));
        }
        if s.starts_with('@') {
            let (sec, min, hour) = (1 << 0, 1 << 0, 1 << 0);
            let d = |dom, month, dow| CronSchedule {
                second: sec,
                minute: min,
                hour,
                dom,
                month,
                dow,
            };
            return match s {
                "@yearly" | "@annually" => Ok(d(1 << 1, 1 << 1, all(&DOW))),
                "@monthly" => Ok(d(1 << 1, all(&MONTHS), all(&DOW))),
                "@weekly" => Ok(d(all(&DOM), all(&MONTHS), 1 << 0)),
                "@daily" | "@midnight" => Ok(d(all(&DOM), all(&MONTHS), all(&DOW))),
                "@hourly" => Ok(CronSchedule {
                    hour: all(&HOURS),
                    ..d(all(&DOM), all(&MONTHS), all(&DOW))
                }),
                _ => Err(err(format!("unrecognized descriptor: {s}"))),
            };
        }
        let mut fields: Vec<&str> = s.split_whitespace().collect();
        match fields.len() {
            5 => fields.insert(0, "0"),
            6 => {}
            n => return Err(err(format!("expected 5 to 6 fields, found {n}"))),
        }
        let f = |i: usize, b: &Bounds| field(fields[i], b).map_err(err);
        Ok(CronSchedule {
            second: f(0, &SECONDS)?,
            minute: f(1, &MINUTES)?,
            hour: f(2, &HOURS)?,
            dom: f(3, &DOM)?,
            month: f(4, &MONTHS)?,
            dow: f(5, &DOW)?,
        })
    }

    /// Whether the schedule fires at `t` (UTC seconds since the epoch).
    pub fn matches(&self, t: i64) -> bool {
        let days = t.div_euclid(86_400);
        let sod = t.rem_euclid(86_400);
        let (_, m, d) = civil_from_days(days);
        let dow = (days + 4).rem_euclid(7) as u32; // 1970-01-01 was a Thursday.
        let hit = |set: u64, v: u32| set & (1 << v) != 0;
        hit(self.second, (sod % 60) as u32)
            && hit(self.minute, (sod / 60 % 60) as u32)
            && hit(self.hour, (sod / 3_600) as u32)
            && hit(self.month, m)
            && self.day_matches(d, dow)
    }

    fn day_matches(&self, dom: u32, dow: u32) -> bool {
        let a = self.dom & (1 << dom) != 0;
        let b = self.dow & (1 << dow) != 0;
        if self.dom & STAR != 0 || self.dow & STAR != 0 {
            a && b
        } else {
            a || b
        }
    }

    /// The first fire time strictly after `t` and at most `limit`, walking
    /// day by day and then over the day's seconds that the hour and minute
    /// fields allow.
    pub fn next_after(&self, t: i64, limit: i64) -> Option<i64> {
        let mut day = (t + 1).div_euclid(86_400);
        while day * 86_400 <= limit {
            let (_, m, d) = civil_from_days(day);
            let dow = (day + 4).rem_euclid(7) as u32;
            if self.month & (1 << m) != 0 && self.day_matches(d, dow) {
                for h in 0..24u32 {
                    if self.hour & (1 << h) == 0 {
                        continue;
                    }
                    for mi in 0..60u32 {
                        if self.minute & (1 << mi) == 0 {
                            continue;
                        }
                        for s in 0..60u32 {
                            if self.second & (1 << s) == 0 {
                                continue;
                            }
                            let at = day * 86_400 + (h * 3_600 + mi * 60 + s) as i64;
                            if at > t {
                                return (at <= limit).then_some(at);
                            }
                        }
                    }
                }
            }
            day += 1;
        }
        None
    }
}

fn field(text: &str, b: &Bounds) -> Result<u64, String> {
    let mut set = 0;
    for part in text.split(',').filter(|p| !p.is_empty()) {
        set |= range(part, b)?;
    }
    Ok(set)
}

fn range(expr: &str, b: &Bounds) -> Result<u64, String> {
    let rs: Vec<&str> = expr.split('/').collect();
    let lh: Vec<&str> = rs[0].split('-').collect();
    let (start, mut end, mut extra) = if lh[0] == "*" || lh[0] == "?" {
        (b.min, b.max, STAR)
    } else {
        let start = int_or_name(lh[0], b)?;
        let end = match lh.len() {
            1 => start,
            2 => int_or_name(lh[1], b)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end, 0)
    };
    let step = match rs.len() {
        1 => 1,
        2 => {
            let step = int(rs[1])?;
            if lh.len() == 1 {
                end = b.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < b.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            b.min
        ));
    }
    if end > b.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            b.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(bits(start, end, step) | extra)
}

fn int_or_name(s: &str, b: &Bounds) -> Result<u32, String> {
    let lower = s.to_ascii_lowercase();
    match b.names.iter().find(|(n, _)| *n == lower) {
        Some((_, v)) => Ok(*v),
        None => int(s),
    }
}

fn int(s: &str) -> Result<u32, String> {
    let n: i64 = s
        .parse()
        .map_err(|_| format!("failed to parse int from {s}"))?;
    if n < 0 {
        return Err(format!("negative number ({n}) not allowed: {s}"));
    }
    // Anything this large is out of every field's range anyway.
    Ok(n.min(1_000) as u32)
}

/// Year, month (1–12) and day (1–31) of a day count since 1970-01-01
/// (H. Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date (the inverse of
/// [`civil_from_days`]).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (UTC only) into seconds since the epoch.
pub fn parse_utc(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = &text[r];
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d, h, mi, s) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    if !(1..=12).contains(&mo) || d < 1 || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    if civil_from_days(days) != (y, mo as u32, d as u32) {
        return None; // 31 April and the like.
    }
    Some(days * 86_400 + h * 3_600 + mi * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> i64 {
        days_from_civil(y, mo, d) * 86_400 + h * 3_600 + mi * 60
    }

    /// robfig/cron spec_test.go TestActivation, row by row (its times are
    /// 2012 dates in the local zone; here UTC).
    #[test]
    fn robfig_activation_table() {
        // ((month, day, hour, minute), spec, fires then)
        type Row = ((u32, u32, i64, i64), &'static str, bool);
        let rows: &[Row] = &[
            ((7, 9, 15, 0), "0/15 * * * *", true),
            ((7, 9, 15, 45), "0/15 * * * *", true),
            ((7, 9, 15, 40), "0/15 * * * *", false),
            ((7, 9, 15, 5), "5/15 * * * *", true),
            ((7, 9, 15, 20), "5/15 * * * *", true),
            ((7, 9, 15, 50), "5/15 * * * *", true),
            ((7, 15, 15, 0), "0/15 * * Jul *", true),
            ((7, 15, 15, 0), "0/15 * * Jun *", false),
            ((7, 15, 8, 30), "30 08 ? Jul Sun", true),
            ((7, 15, 8, 30), "30 08 15 Jul ?", true),
            ((7, 16, 8, 30), "30 08 ? Jul Sun", false),
            ((7, 16, 8, 30), "30 08 15 Jul ?", false),
            ((7, 9, 15, 0), "@hourly", true),
            ((7, 9, 15, 4), "@hourly", false),
            ((7, 9, 15, 0), "@daily", false),
            ((7, 9, 0, 0), "@daily", true),
            ((7, 9, 0, 0), "@weekly", false),
            ((7, 8, 0, 0), "@weekly", true),
            ((7, 8, 1, 0), "@weekly", false),
            ((7, 8, 0, 0), "@monthly", false),
            ((7, 1, 0, 0), "@monthly", true),
            ((7, 15, 0, 0), "* * 1,15 * Sun", true),
            ((6, 15, 0, 0), "* * 1,15 * Sun", true),
            ((8, 1, 0, 0), "* * 1,15 * Sun", true),
            ((7, 15, 0, 0), "* * */10 * Sun", true),
            ((7, 15, 0, 0), "* * * * Mon", false),
            ((7, 9, 0, 0), "* * 1,15 * *", false),
            ((7, 15, 0, 0), "* * 1,15 * *", true),
            ((7, 15, 0, 0), "* * */2 * Sun", true),
        ];
        for &((mo, d, h, mi), spec, want) in rows {
            let s = CronSchedule::parse(spec).unwrap();
            let t = at(2012, mo, d, h, mi);
            // As upstream: Next(t − 1 s) == t.
            let got = s.next_after(t - 1, t + 400 * 86_400) == Some(t);
            assert_eq!(got, want, "{spec} at 2012-{mo}-{d} {h}:{mi}");
            assert_eq!(s.matches(t), want, "{spec} matches");
        }
    }

    #[test]
    fn six_fields_put_seconds_first() {
        let s = CronSchedule::parse("*/20 * * * * *").unwrap();
        let t0 = at(2026, 1, 1, 0, 0);
        assert_eq!(s.next_after(t0, t0 + 100), Some(t0 + 20));
        let five = CronSchedule::parse("* * * * *").unwrap();
        assert_eq!(five.next_after(t0, t0 + 1_000), Some(t0 + 60));
        assert_eq!(five.next_after(t0 - 1, t0 + 1_000), Some(t0));
    }

    #[test]
    fn errors_follow_robfig_wording() {
        let e = |s: &str| CronSchedule::parse(s).unwrap_err().rule;
        assert_eq!(e("* * * *"), "expected 5 to 6 fields, found 4");
        assert!(e("@every 1m").contains("@every"));
        assert!(e("60 * * * *").contains("above maximum (59)"));
        assert!(e("* * 0 * *").contains("below minimum (1)"));
        assert!(e("* * * * 7").contains("above maximum (6)"));
        assert!(e("5-1 * * * *").contains("beyond end of range"));
        assert!(e("*/0 * * * *").contains("positive number"));
        assert!(e("x * * * *").contains("failed to parse int"));
        assert!(e("@fortnightly").contains("unrecognized descriptor"));
        assert!(e("CRON_TZ=Europe/Paris * * * * *").contains("UTC"));
    }

    #[test]
    fn civil_dates_round_trip_and_weekdays() {
        for days in [-1, 0, 59, 365, 11_016, 15_531, 20_454, 50_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(
            parse_utc("2012-07-15T08:30:00Z"),
            Some(at(2012, 7, 15, 8, 30))
        );
        assert_eq!(parse_utc("2026-04-31T00:00:00Z"), None);
        assert_eq!(parse_utc("2026-01-01 00:00:00"), None);
        // 2012-07-15 was a Sunday.
        let sunday = CronSchedule::parse("0 0 ? * Sun").unwrap();
        assert!(sunday.matches(at(2012, 7, 15, 0, 0)));
    }
}
