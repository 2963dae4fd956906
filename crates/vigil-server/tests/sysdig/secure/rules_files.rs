//! Falco rules files.
