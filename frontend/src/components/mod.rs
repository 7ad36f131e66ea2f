//! Reusable views shared by the pages.

pub mod badge;
pub mod card;
pub mod empty_state;
pub mod icon;
pub mod live_card;
pub mod nav;
pub mod page_header;
pub mod skeleton;
pub mod sparkline;
pub mod toast;
pub mod top_bar;
