//! The scheduler: what the user asked to send and when ([`timing`], [`recipient`]), the pure
//! [`planner`] that turns a timing into instants, the schedules and the outbox in the app
//! database ([`store`], [`outbox`]), and the [`runner`] task that sends through one
//! [`gate`] and applies the [`catch_up`] policy after downtime.

pub mod catch_up;
pub mod clock;
pub mod engine_sender;
pub mod gate;
pub mod outbox;
pub mod planner;
pub mod recipient;
pub mod runner;
pub mod sender;
pub mod store;
pub mod timing;
pub mod words;

#[cfg(test)]
mod planner_tests;
#[cfg(test)]
mod store_tests;
