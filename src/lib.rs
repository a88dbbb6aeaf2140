//! The `oneclass` command's library: configuration, the one-process application, the demo.
//! Tests drive the system through these, exactly as the binary does.

pub mod app;
pub mod config;
pub mod demo;
pub mod early_warning;
pub mod logging;
pub mod outbox;
pub mod paynow_poll;
pub mod projections;
pub mod wire;
