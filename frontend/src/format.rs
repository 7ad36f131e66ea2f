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

#[cfg(test)]
mod tests {
    use super::*;

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
}
