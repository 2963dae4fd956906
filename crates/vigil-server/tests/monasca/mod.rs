//! The Monasca v2.0 API and its Keystone side.

mod alarms;
mod bad_input;
mod conformance;
mod identity;
mod metrics;
mod notification_methods;
