//! Notification delivery end to end: the real server, alarms driven by posted metrics, and
//! real receivers on loopback (an HTTP recorder; the SMTP side is in the Python interop suite,
//! against aiosmtpd).

mod monasca;
mod sysdig;
