//! One function per `monasca` command.

pub mod alarm_definitions;
pub mod alarms;
pub mod metrics;
pub mod notifications;
pub mod plot;
