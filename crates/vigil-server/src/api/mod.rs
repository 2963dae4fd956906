//! HTTP APIs served by Vigil. The Monasca API (with its Keystone subset and error shape) is
//! the `monasca-api` crate; the Sysdig emulation is still here.

pub use monasca_api::{error, keystone, v2_0 as monasca};

pub mod sysdig;
