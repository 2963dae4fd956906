//! The Prometheus HTTP API over PromQL.

mod api;
