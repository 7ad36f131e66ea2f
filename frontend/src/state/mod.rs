//! App-wide state shared through context: the session, toasts and preferences.

pub mod session;
pub mod theme;
pub mod toast;
