//! XML Schema dateTimes as CAP and EDXL-RM write them: parsed to Unix milliseconds and written
//! back in UTC. Our own few lines (civil-from-days after Howard Hinnant's algorithms) instead of
//! a date crate: the formats are narrow and fixed.

/// A parsed dateTime: the instant, and whether the text carried a time zone (CAP 1.2 requires
/// one; EDXL-RM files in the wild often omit it, and then UTC is assumed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant {
    pub unix_ms: i64,
    pub had_zone: bool,
}

/// Which dateTime lexical forms are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateTimeRule {
    /// CAP 1.2: `YYYY-MM-DDThh:mm:ss` and a numeric offset (`-00:00`, never `Z`), no fraction.
    Cap12,
    /// xs:dateTime: optional fraction, `Z`, a numeric offset or no zone at all.
    XsdDateTime,
}

/// Parses a dateTime; the error says what is wrong, for the caller to prefix with the element.
pub fn parse_datetime(text: &str, rule: DateTimeRule) -> Result<Instant, String> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() >= 19
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !shape_ok {
        return Err(format!("{text:?} is not a dateTime (YYYY-MM-DDThh:mm:ss±hh:mm)"));
    }
    let digits = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let part = &text[range];
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse::<i64>().map_err(|_| format!("{text:?} is not a dateTime"))
        } else {
            Err(format!("{text:?} is not a dateTime"))
        }
    };
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let mut rest = &text[19..];
    let mut millis = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        if rule == DateTimeRule::Cap12 {
            return Err(format!("{text:?}: CAP 1.2 dateTimes have no fraction of a second"));
        }
        let end = fraction.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(fraction.len());
        if end == 0 {
            return Err(format!("{text:?} is not a dateTime"));
        }
        let first3: String = fraction[..end].chars().chain("000".chars()).take(3).collect();
        millis = first3.parse::<i64>().map_err(|_| format!("{text:?} is not a dateTime"))?;
        rest = &fraction[end..];
    }
    let (offset_minutes, had_zone) = match rest {
        "" if rule == DateTimeRule::XsdDateTime => (0, false),
        "" => return Err(format!("{text:?} has no time zone (CAP 1.2 requires ±hh:mm)")),
        "Z" if rule == DateTimeRule::XsdDateTime => (0, true),
        "Z" => return Err(format!("{text:?}: CAP 1.2 does not allow \"Z\"; write -00:00 for UTC")),
        zone => {
            let zb = zone.as_bytes();
            let ok = zb.len() == 6
                && (zb[0] == b'+' || zb[0] == b'-')
                && zb[3] == b':'
                && zb[1..3].iter().chain(&zb[4..6]).all(u8::is_ascii_digit);
            if !ok {
                return Err(format!("{text:?} has a malformed time zone {zone:?}"));
            }
            let hours: i64 = zone[1..3].parse().unwrap_or(99);
            let minutes: i64 = zone[4..6].parse().unwrap_or(99);
            if hours > 14 || minutes > 59 {
                return Err(format!("{text:?} has a time zone out of range"));
            }
            let sign = if zb[0] == b'-' { -1 } else { 1 };
            (sign * (hours * 60 + minutes), true)
        }
    };
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    };
    if !(1..=9999).contains(&year) || day < 1 || day > days_in_month {
        return Err(format!("{text:?} is not a calendar date"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!("{text:?} is not a time of day"));
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Ok(Instant { unix_ms: seconds * 1000 + millis, had_zone })
}

/// `YYYY-MM-DDThh:mm:ssZ` for a Unix millisecond instant (whole seconds, UTC).
pub fn format_utc(unix_ms: i64) -> String {
    let seconds = unix_ms.div_euclid(1000);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap12_dates_need_a_numeric_zone() {
        let t = parse_datetime("2003-06-17T14:57:00-07:00", DateTimeRule::Cap12).unwrap();
        assert_eq!(format_utc(t.unix_ms), "2003-06-17T21:57:00Z");
        assert!(parse_datetime("2017-01-01T10:43:00Z", DateTimeRule::Cap12).is_err());
        assert!(parse_datetime("2017-01-01T10:43:00", DateTimeRule::Cap12).is_err());
        assert!(parse_datetime("2017-02-29T10:43:00-00:00", DateTimeRule::Cap12).is_err());
        assert!(parse_datetime("2017-01-01T10:43:00.5-00:00", DateTimeRule::Cap12).is_err());
    }

    #[test]
    fn xsd_dates_take_fractions_z_and_no_zone() {
        let t = parse_datetime("2009-04-20T20:45:11.640-04:00", DateTimeRule::XsdDateTime).unwrap();
        assert_eq!(t.unix_ms % 1000, 640);
        assert_eq!(format_utc(t.unix_ms), "2009-04-21T00:45:11Z");
        let z = parse_datetime("2008-04-14T18:00:00Z", DateTimeRule::XsdDateTime).unwrap();
        assert!(z.had_zone);
        let none = parse_datetime("2009-06-09T13:00:00", DateTimeRule::XsdDateTime).unwrap();
        assert!(!none.had_zone);
        assert_eq!(format_utc(none.unix_ms), "2009-06-09T13:00:00Z");
    }

    #[test]
    fn civil_conversion_agrees_with_counting_days() {
        // An independent check: walk the calendar one day at a time from 1900 with a plain
        // month-length table, and hold both closed formulas to it.
        let (mut y, mut m, mut d) = (1900i64, 1i64, 1i64);
        let start = days_from_civil(1900, 1, 1);
        for offset in 0..(200 * 366) {
            assert_eq!(days_from_civil(y, m, d), start + offset);
            assert_eq!(civil_from_days(start + offset), (y, m, d));
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let length = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            d += 1;
            if d > length[m as usize - 1] {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }
}
