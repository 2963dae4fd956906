//! The `vigil` binary itself: durability, logs, completion and man pages.

mod durability;
mod logs;
