//! Reading the response headers the Hub uses for paging and rate limits.

use std::time::{Duration, SystemTime};

/// The URL of `rel="next"` in `Link` header values (RFC 8288), as written (maybe relative).
pub(crate) fn next_link<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<String> {
    values.into_iter().find_map(|value| {
        parse_link_value(value)
            .into_iter()
            .find(|(_, rels)| rels.iter().any(|r| r.eq_ignore_ascii_case("next")))
            .map(|(url, _)| url)
    })
}

/// `<url>; rel="a b"; x=y, <url2>; rel=c` → `[(url, [a, b]), (url2, [c])]`.
fn parse_link_value(value: &str) -> Vec<(String, Vec<String>)> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else { break };
        let url = after[..close].trim().to_owned();
        let mut params = &after[close + 1..];
        // Parameters run to the next top-level comma; quoted strings may contain commas.
        let mut end = params.len();
        let mut in_quotes = false;
        for (i, c) in params.char_indices() {
            match c {
                '"' => in_quotes = !in_quotes,
                ',' if !in_quotes => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        rest = &params[end..];
        params = &params[..end];
        let mut rels = Vec::new();
        for param in params.split(';') {
            let Some((name, val)) = param.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("rel") {
                let val = val.trim().trim_matches('"');
                rels.extend(val.split_ascii_whitespace().map(str::to_owned));
            }
        }
        links.push((url, rels));
    }
    links
}

/// `Retry-After`: delay seconds or an HTTP date (a past date means now).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The reset delay `t=` of an IETF `RateLimit` header (`"api";r=0;t=89`), which the Hub
/// sends with 429 when there is no `Retry-After`.
pub(crate) fn parse_ratelimit_reset(value: &str) -> Option<Duration> {
    value
        .split([';', ','])
        .filter_map(|p| p.trim().strip_prefix("t="))
        .find_map(|t| t.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_in_hub_form() {
        let v = r#"<https://huggingface.co/api/models?limit=2&cursor=eyJfaWQiOnsiJGd0IjoiNjIx"}>; rel="next""#;
        assert_eq!(
            next_link([v]).as_deref(),
            Some(r#"https://huggingface.co/api/models?limit=2&cursor=eyJfaWQiOnsiJGd0IjoiNjIx"}"#)
        );
    }

    #[test]
    fn next_link_among_others() {
        let v = r#"<https://h/a?c=1>; rel="prev", <https://h/a?c=3>; title="x, y"; rel="last next", </rel?c=2>; rel=next"#;
        assert_eq!(next_link([v]).as_deref(), Some("https://h/a?c=3"));
        assert_eq!(
            next_link(["<https://h/p>; rel=\"prev\"", "</q?c=2>; REL=Next"]).as_deref(),
            Some("/q?c=2")
        );
    }

    #[test]
    fn no_next_link() {
        assert_eq!(next_link(["<https://h/a>; rel=\"prev\""]), None);
        assert_eq!(next_link(["garbage"]), None);
        assert_eq!(next_link(["<unterminated; rel=next"]), None);
        assert_eq!(next_link(Vec::<&str>::new()), None);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
    }

    #[test]
    fn ratelimit_reset() {
        assert_eq!(
            parse_ratelimit_reset(r#""api";r=0;t=89"#),
            Some(Duration::from_secs(89))
        );
        assert_eq!(
            parse_ratelimit_reset("limit=500, remaining=0, t=7"),
            Some(Duration::from_secs(7))
        );
        assert_eq!(parse_ratelimit_reset(r#""api";r=10"#), None);
    }
}
