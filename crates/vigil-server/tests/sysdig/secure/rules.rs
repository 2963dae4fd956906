//! Rules, Falco macros and lists.
