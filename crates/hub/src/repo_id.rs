use crate::HubError;

/// Longest owner or name the Hub accepts.
pub const MAX_REPO_PART_LEN: usize = 96;

/// Checks a repo id the way the Hub (and `huggingface_hub.validate_repo_id`) does:
/// `owner/name`, or a bare `name` for legacy canonical models (`gpt2`, `bert-base-uncased`).
///
/// Each part is 1 to 96 characters of `[A-Za-z0-9-_.]`, starts and ends with a letter,
/// digit or `_`, and contains neither `--` nor `..`.
pub fn validate_repo_id(id: &str) -> Result<(), HubError> {
    let invalid = |why: &str| Err(HubError::InvalidRepoId(format!("{}: {why}", shown(id))));
    let mut parts = id.split('/');
    let first = parts.next().unwrap_or_default();
    let second = parts.next();
    if parts.next().is_some() {
        return invalid("expected `owner/name` or `name`");
    }
    for part in std::iter::once(first).chain(second) {
        if part.is_empty() {
            return invalid("empty owner or name");
        }
        if part.len() > MAX_REPO_PART_LEN {
            return invalid("owner and name are at most 96 characters each");
        }
        if !part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return invalid("only letters, digits, `-`, `_` and `.` are allowed");
        }
        if part.contains("..") || part.contains("--") {
            return invalid("`..` and `--` are not allowed");
        }
        let edge_ok = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let (Some(&head), Some(&tail)) = (part.as_bytes().first(), part.as_bytes().last()) else {
            return invalid("empty owner or name");
        };
        if !edge_ok(head) || !edge_ok(tail) {
            return invalid("owner and name cannot start or end with `-` or `.`");
        }
    }
    Ok(())
}

/// The id as shown in an error: truncated so a hostile input cannot flood logs.
fn shown(id: &str) -> String {
    const MAX_SHOWN: usize = 200;
    if id.len() <= MAX_SHOWN {
        return format!("{id:?}");
    }
    let cut = (0..=MAX_SHOWN)
        .rev()
        .find(|&i| id.is_char_boundary(i))
        .unwrap_or(0);
    format!("{:?}…", &id[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_hub_ids() {
        for id in [
            "google-bert/bert-base-uncased",
            "sentence-transformers/all-MiniLM-L6-v2",
            "gpt2",
            "bert-base-uncased",
            "meta-llama/Llama-3.2-1B",
            "a/b",
            "_x/y_",
            "org/model.v1.0",
            &format!("{}/{}", "a".repeat(96), "b".repeat(96)),
        ] {
            assert_eq!(validate_repo_id(id), Ok(()), "{id}");
        }
    }

    #[test]
    fn rejects_ids_the_hub_rejects() {
        for id in [
            "",
            "/",
            "a/",
            "/b",
            "a/b/c",
            "../etc",
            "a/..",
            "a/b..c",
            "a/b--c",
            "-a/b",
            "a/b-",
            ".hidden/x",
            "a/b.",
            "a b/c",
            "a/b?c",
            "a/b#c",
            "a/%2e%2e",
            "a\\b",
            "ünï/còde",
            &"a".repeat(97),
            &format!("a/{}", "b".repeat(97)),
        ] {
            assert!(
                matches!(validate_repo_id(id), Err(HubError::InvalidRepoId(_))),
                "{id:?} should be rejected"
            );
        }
    }

    #[test]
    fn long_ids_are_truncated_in_errors() {
        let id = "x".repeat(10_000);
        let Err(HubError::InvalidRepoId(message)) = validate_repo_id(&id) else {
            panic!("expected InvalidRepoId");
        };
        assert!(message.len() < 300, "{}", message.len());
    }
}
