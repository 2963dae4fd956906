//! The Sysdig Secure API: through the `sysdig` client crate and over raw HTTP, one file per
//! area (policies, rules and Falco files; policy events, activity audit and compliance).

mod audit;
mod compliance;
mod events;
mod policies;
mod rules;
mod rules_files;
mod secure_team;
mod support;
