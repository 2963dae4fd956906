//! Sysdig Secure: the calls of sdcclient's `SdSecureClient` 0.19. A Secure client is an ordinary
//! [`crate::Client`] built with [`crate::ClientBuilder::secure`] (Secure's URL and token
//! variables) and a token of a Secure team; each area has its own module.

pub mod audit;
pub mod commands;
pub mod compliance;
pub mod events;
pub mod filter;
pub mod policies;
pub mod rules;
pub mod rules_files;
