//! The Sysdig Monitor API and IBM IAM emulation.

mod monitor;
