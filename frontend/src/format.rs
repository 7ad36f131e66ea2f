//! Formatting of times, durations and numbers for display.

use wasm_bindgen::JsValue;

/// `3d 4h`, `2h 5m`, `4m 10s` or `12s`: the two largest units are enough for an uptime.
pub fn duration_short(total_seconds: u64) -> String {
    let (d, h, m, s) = (
        total_seconds / 86_400,
        total_seconds / 3_600 % 24,
        total_seconds / 60 % 60,
        total_seconds % 60,
    );
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// Milliseconds with a precision that suits their size: `0.42 ms`, `3.1 ms`, `120 ms`.
pub fn millis(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.2} ms")
    } else if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// Local wall-clock time (`14:03:27`) of a Unix-millisecond instant.
pub fn clock_time_ms(unix_ms: f64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(unix_ms));
    clock(&date)
}

/// Local wall-clock time of an RFC 3339 timestamp, or the text itself if it does not parse.
pub fn clock_time_rfc3339(text: &str) -> String {
    let date = js_sys::Date::new(&JsValue::from_str(text));
    if date.get_time().is_nan() {
        text.to_owned()
    } else {
        clock(&date)
    }
}

fn clock(date: &js_sys::Date) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

/// `store` → `Store`.
pub fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn parse_rfc3339(text: &str) -> Option<js_sys::Date> {
    let date = js_sys::Date::new(&JsValue::from_str(text));
    (!date.get_time().is_nan()).then_some(date)
}

/// `29 Nov 2026, 14:03` in local time, or the text itself if it does not parse.
pub fn date_time(text: &str) -> String {
    match parse_rfc3339(text) {
        Some(date) => format!(
            "{} {} {}, {:02}:{:02}",
            date.get_date(),
            MONTHS[(date.get_month() as usize).min(11)],
            date.get_full_year(),
            date.get_hours(),
            date.get_minutes()
        ),
        None => text.to_owned(),
    }
}

/// `29 Nov 2026` in local time.
pub fn date(text: &str) -> String {
    match parse_rfc3339(text) {
        Some(date) => format!(
            "{} {} {}",
            date.get_date(),
            MONTHS[(date.get_month() as usize).min(11)],
            date.get_full_year()
        ),
        None => text.to_owned(),
    }
}

/// `just now`, `5 min ago`, `in 3 days`... for an RFC 3339 instant, relative to now.
pub fn relative(text: &str) -> String {
    match parse_rfc3339(text) {
        Some(date) => relative_seconds((js_sys::Date::now() - date.get_time()) / 1000.0),
        None => text.to_owned(),
    }
}

/// Whether an RFC 3339 instant is in the past.
pub fn is_past(text: &str) -> bool {
    parse_rfc3339(text).is_some_and(|d| d.get_time() <= js_sys::Date::now())
}

/// `seconds_ago` positive for the past, negative for the future.
pub fn relative_seconds(seconds_ago: f64) -> String {
    let future = seconds_ago < 0.0;
    let s = seconds_ago.abs();
    let amount = if s < 45.0 {
        return "just now".to_owned();
    } else if s < 90.0 * 60.0 {
        format!("{} min", (s / 60.0).round().max(1.0))
    } else if s < 36.0 * 3600.0 {
        format!("{} h", (s / 3600.0).round())
    } else {
        let days = (s / 86_400.0).round();
        if days == 1.0 {
            "1 day".to_owned()
        } else {
            format!("{days} days")
        }
    };
    if future {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// `Chrome on Linux` from a User-Agent header; the raw text when nothing is recognised.
pub fn device(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = if ua.contains("Edg/") {
        Some("Edge")
    } else if ua.contains("OPR/") {
        Some("Opera")
    } else if ua.contains("Firefox/") {
        Some("Firefox")
    } else if ua.contains("HeadlessChrome/") {
        Some("Headless Chrome")
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        Some("Chrome")
    } else if ua.contains("Safari/") {
        Some("Safari")
    } else if ua.starts_with("curl/") {
        Some("curl")
    } else if ua.starts_with("node") || ua.contains("undici") {
        Some("Node.js")
    } else if ua.starts_with("python") {
        Some("Python")
    } else {
        None
    };
    let os = if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        Some("iOS")
    } else if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        Some("macOS")
    } else if ua.contains("CrOS") {
        Some("ChromeOS")
    } else if ua.contains("Linux") {
        Some("Linux")
    } else {
        None
    };
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(o)) => format!("Browser on {o}"),
        (None, None) if ua.trim().is_empty() => "Unknown device".to_owned(),
        (None, None) => ua.chars().take(60).collect(),
    }
}

/// `1,234,567`: every digit, grouped by thousands.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `999`, `1.2k`, `12k`, `3.4M`, `1.1B`: counts short enough for a card.
pub fn compact(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    let abs = n.unsigned_abs();
    if abs < 1_000 {
        return format!("{sign}{abs}");
    }
    const UNITS: [(f64, &str); 3] = [(1e3, "k"), (1e6, "M"), (1e9, "B")];
    let value = abs as f64;
    let mut index = match abs {
        0..1_000_000 => 0,
        1_000_000..1_000_000_000 => 1,
        _ => 2,
    };
    loop {
        let (scale, unit) = UNITS[index];
        let scaled = value / scale;
        // One decimal below 10, none above; rounding up to 1000 moves to the next unit.
        let text = if scaled < 9.95 {
            let t = format!("{scaled:.1}");
            t.strip_suffix(".0").map(str::to_owned).unwrap_or(t)
        } else {
            format!("{scaled:.0}")
        };
        if scaled.round() >= 1_000.0 && index + 1 < UNITS.len() {
            index += 1;
            continue;
        }
        return format!("{sign}{text}{unit}");
    }
}

/// `512 B`, `232 kB`, `90.9 MB`, `1.34 GB`: decimal units with three significant
/// digits, as the Hub shows file sizes.
pub fn bytes(n: u64) -> String {
    if n < 1_000 {
        return format!("{n} B");
    }
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    let mut value = n as f64 / 1_000.0;
    let mut unit = 0;
    while value.round() >= 1_000.0 && unit + 1 < UNITS.len() {
        value /= 1_000.0;
        unit += 1;
    }
    let text = if value < 9.995 {
        format!("{value:.2}")
    } else if value < 99.95 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    };
    format!("{text} {}", UNITS[unit])
}

/// `AL` for `Ada Lovelace`, `A` for `ada`.
pub fn initials(name: &str) -> String {
    let mut letters = name
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .flat_map(char::to_uppercase);
    let first = letters.next();
    let last = letters.last();
    first.into_iter().chain(last).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative_seconds(3.0), "just now");
        assert_eq!(relative_seconds(-3.0), "just now");
        assert_eq!(relative_seconds(300.0), "5 min ago");
        assert_eq!(relative_seconds(3.0 * 3600.0), "3 h ago");
        assert_eq!(relative_seconds(-30.0 * 86_400.0), "in 30 days");
        assert_eq!(relative_seconds(86_400.0 * 1.6), "2 days ago");
    }

    #[test]
    fn devices_are_summarised() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
        assert_eq!(device(chrome), "Chrome on Linux");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device(safari), "Safari on iOS");
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(device(firefox), "Firefox on Windows");
        assert_eq!(device("curl/8.5.0"), "curl");
        assert_eq!(device(""), "Unknown device");
        assert_eq!(initials("Ada  Lovelace"), "AL");
        assert_eq!(initials("ada"), "A");
        assert_eq!(initials("Ada King Lovelace"), "AL");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn durations_keep_the_two_largest_units() {
        assert_eq!(duration_short(0), "0s");
        assert_eq!(duration_short(59), "59s");
        assert_eq!(duration_short(61), "1m 1s");
        assert_eq!(duration_short(3_720), "1h 2m");
        assert_eq!(duration_short(90_000), "1d 1h");
    }

    #[test]
    fn millis_precision_follows_magnitude() {
        assert_eq!(millis(0.4213), "0.42 ms");
        assert_eq!(millis(3.21), "3.2 ms");
        assert_eq!(millis(120.4), "120 ms");
        assert_eq!(capitalize("cache"), "Cache");
    }

    #[test]
    fn numbers_are_grouped_and_compacted() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(compact(0), "0");
        assert_eq!(compact(999), "999");
        assert_eq!(compact(1_000), "1k");
        assert_eq!(compact(1_234), "1.2k");
        assert_eq!(compact(12_345), "12k");
        assert_eq!(compact(999_499), "999k");
        assert_eq!(compact(999_999), "1M");
        assert_eq!(compact(72_376_843), "72M");
        assert_eq!(compact(3_400_000_000), "3.4B");
        assert_eq!(compact(-1_500), "-1.5k");
    }

    #[test]
    fn sizes_use_decimal_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_000), "1.00 kB");
        assert_eq!(bytes(232_000), "232 kB");
        assert_eq!(bytes(90_868_376), "90.9 MB");
        assert_eq!(bytes(1_340_000_000), "1.34 GB");
        assert_eq!(bytes(999_999), "1.00 MB");
    }
}
