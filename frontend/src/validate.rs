//! Client-side checks that mirror the server's, so most mistakes show before a round
//! trip. The server stays the authority: its field errors are shown the same way.

/// The server's minimum password length (`backend/src/auth/password.rs`).
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 256;
pub const NAME_MAX: usize = 80;
pub const TEAM_NAME_MAX: usize = 64;
pub const KEY_NAME_MAX: usize = 64;

/// Why `email` is not an e-mail address the server accepts, or `None`.
pub fn email_problem(email: &str) -> Option<&'static str> {
    let email = email.trim();
    if email.is_empty() {
        return Some("Enter your e-mail address.");
    }
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    (!valid).then_some("Enter an e-mail address like name@example.com.")
}

/// Why a new password would be refused; the server also rejects passwords that are
/// common or contain the name or e-mail, and says so.
pub fn password_problem(password: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars == 0 {
        return Some("Enter a password.".to_owned());
    }
    if chars < PASSWORD_MIN {
        return Some(format!(
            "Use at least {PASSWORD_MIN} characters ({chars} so far)."
        ));
    }
    if chars > PASSWORD_MAX {
        return Some(format!("Use at most {PASSWORD_MAX} characters."));
    }
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    (distinct.len() < 5).then(|| "Use at least 5 different characters.".to_owned())
}

/// Why a required name is not acceptable (`what` is "name", "team name"...).
pub fn name_problem(name: &str, max: usize, what: &str) -> Option<String> {
    let chars = name.chars().count();
    if name.trim().is_empty() {
        Some(format!("Enter a {what}."))
    } else if chars > max {
        Some(format!("Use at most {max} characters ({chars} now)."))
    } else {
        None
    }
}

/// Where to go after signing in: `next` when it is a path on this site, else `/`.
/// Rejects other origins (`https://…`, `//host`, `/\host`) and the auth pages themselves.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(next) = next.map(str::trim).filter(|n| !n.is_empty()) else {
        return "/".to_owned();
    };
    let same_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let auth_page = matches!(path, "/login" | "/signup");
    if same_site && !auth_page {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_follow_the_server_rule() {
        assert_eq!(email_problem("ada@example.com"), None);
        assert_eq!(email_problem("  ada@example.com "), None);
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@.com",
            "ada@example.com.",
        ] {
            assert!(email_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_length_and_variety() {
        assert!(password_problem("").is_some());
        assert!(password_problem("short").unwrap_or_default().contains("10"));
        assert!(
            password_problem("aaaaabbbbbb")
                .unwrap_or_default()
                .contains("5 different")
        );
        assert_eq!(password_problem("correct horse battery"), None);
    }

    #[test]
    fn names_are_required_and_bounded() {
        assert!(name_problem("  ", 80, "name").is_some());
        assert!(name_problem(&"x".repeat(81), 80, "name").is_some());
        assert_eq!(name_problem("Ada", 80, "name"), None);
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("/account/api-keys")), "/account/api-keys");
        assert_eq!(safe_next(Some("/teams/1?tab=x#y")), "/teams/1?tab=x#y");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "evil",
            "/login",
            "/signup?next=/x",
            "/\tx",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
    }
}
