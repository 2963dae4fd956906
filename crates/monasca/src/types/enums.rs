//! The closed vocabularies of the alarming API: alarm states, severities and notification
//! method types. Each keeps a value it does not know as `Other`, so a newer server's answer
//! still reads and is written back unchanged; matching is exact (upper case, as sent).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines a string enum with known upper-case values and an `Other(String)` arm.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value this crate does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// Every known value, in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value as it goes on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(s) => s,
                }
            }

            /// Whether this is one of the known values.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }

            /// A known value written in any case, as the API accepts it in queries and
            /// bodies; `None` for anything else.
            pub fn parse_any_case(s: &str) -> Option<Self> {
                let v = Self::from(s.to_uppercase());
                v.is_known().then_some(v)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)+
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($text => $name::$variant,)+
                    _ => $name::Other(s),
                }
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self::from)
            }
        }
    };
}

wire_enum! {
    /// An alarm's (or a history entry's) state.
    AlarmState {
        Ok = "OK",
        Alarm = "ALARM",
        Undetermined = "UNDETERMINED",
    }
}

wire_enum! {
    /// An alarm definition's severity, lowest first.
    Severity {
        Low = "LOW",
        Medium = "MEDIUM",
        High = "HIGH",
        Critical = "CRITICAL",
    }
}

wire_enum! {
    /// Where a notification method sends: the types monasca-api registers by default.
    NotificationType {
        Email = "EMAIL",
        Webhook = "WEBHOOK",
        Pagerduty = "PAGERDUTY",
        Slack = "SLACK",
        Jira = "JIRA",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn known_values_round_trip_as_their_strings() {
        for s in AlarmState::KNOWN {
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(&serde_json::from_str::<AlarmState>(&json).unwrap(), s);
        }
        assert_eq!(
            serde_json::to_string(&Severity::Critical).unwrap(),
            "\"CRITICAL\""
        );
        assert_eq!(
            serde_json::from_str::<NotificationType>("\"PAGERDUTY\"").unwrap(),
            NotificationType::Pagerduty
        );
    }

    #[test]
    fn unknown_and_lower_case_values_are_kept_as_sent() {
        let v: NotificationType = serde_json::from_str("\"HIPCHAT\"").unwrap();
        assert_eq!(v, NotificationType::Other("HIPCHAT".into()));
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"HIPCHAT\"");
        let v: Severity = serde_json::from_str("\"low\"").unwrap();
        assert_eq!(v, Severity::Other("low".into()));
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"low\"");
    }

    #[test]
    fn any_case_parsing_takes_only_known_values() {
        assert_eq!(AlarmState::parse_any_case("alarm"), Some(AlarmState::Alarm));
        assert_eq!(Severity::parse_any_case("Medium"), Some(Severity::Medium));
        assert_eq!(AlarmState::parse_any_case("broken"), None);
        assert!(!NotificationType::from("email").is_known());
        assert_eq!(AlarmState::Alarm, "ALARM");
        assert!(Severity::Other("x".into()) != "LOW");
    }
}
