//! Reusable views shared by the pages.

pub mod account_tabs;
pub mod badge;
pub mod card;
pub mod copy_button;
pub mod deploy_fields;
pub mod deploy_status;
pub mod dialog;
pub mod empty_state;
pub mod form;
pub mod icon;
pub mod live_card;
pub mod model_card;
pub mod nav;
pub mod page_header;
pub mod require_auth;
pub mod skeleton;
pub mod sparkline;
pub mod toast;
pub mod top_bar;
pub mod user_menu;
