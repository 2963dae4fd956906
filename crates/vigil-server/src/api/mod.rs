//! HTTP APIs served by Vigil.

pub mod error;
pub mod keystone;
pub mod monasca;
