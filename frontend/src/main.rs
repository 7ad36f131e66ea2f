//! The hfb browser app: a Leptos single-page app (client-side rendering) built by trunk.

mod api;
mod app;
mod components;
mod format;
mod pages;
mod policy;
mod state;
mod validate;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
