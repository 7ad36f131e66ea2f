//! App-wide state shared through context: toasts and preferences.

pub mod theme;
pub mod toast;
