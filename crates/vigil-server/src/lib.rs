//! Vigil's server: the Monasca v2.0 API over the embedded metric store.
//!
//! Start it from code as tests do:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let mut settings = vigil_server::config::Settings::with_data_dir("/tmp/vigil");
//! settings.bind = "127.0.0.1:0".parse()?;
//! let server = vigil_server::app::Running::start(settings).await?;
//! println!("listening on {}", server.url());
//! server.stop().await?;
//! # Ok(()) }
//! ```

pub mod alarms;
pub mod app;
pub mod config;
pub use monasca_api::identity;
pub mod engine_metrics;
pub mod store_metrics;
