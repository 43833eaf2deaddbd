//! The scheduler: what the user asked to send and when ([`timing`], [`recipient`]), the pure
//! [`planner`] that turns a timing into instants, the schedules and the outbox in the app
//! database ([`store`], [`outbox`]), and the [`runner`] task that sends through one
//! [`gate`] and applies the [`catch_up`] policy after downtime. [`draft`] reads what a form
//! or an API sends, [`edit`] changes stored schedules, [`view`] is what screens show.

pub mod catch_up;
pub mod clock;
pub mod draft;
pub mod edit;
pub mod engine_sender;
pub mod gate;
pub mod gate_log;
pub mod hooks;
pub mod inbound;
pub mod outbox;
pub mod planner;
pub mod recipient;
pub mod runner;
pub mod sender;
pub mod store;
pub mod timing;
pub mod view;
pub mod words;

#[cfg(test)]
mod planner_tests;
#[cfg(test)]
mod store_tests;
