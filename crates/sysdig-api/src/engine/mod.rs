//! Engines of the Sysdig side: background work on the repository and the metric store, without
//! HTTP (so that it can move to the alarm engine's crate later).

pub mod alerts;
