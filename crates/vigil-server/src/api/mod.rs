//! HTTP APIs served by Vigil besides the Monasca API (the `monasca-api` crate).

pub mod sysdig;
