pub mod time;
pub mod types;
