//! Enums of the names Sysdig gives a `type` field, with an `Other` arm for names this crate does
//! not know: each travels as its plain string, so no name is lost or refused on the way through.

/// Defines `$name` with one arm per known wire name and `Other(String)`; it (de)serializes as the
/// bare string and compares with `&str`.
macro_rules! wire_names {
    ($(#[$doc:meta])* $name:ident { $($(#[$arm_doc:meta])* $arm:ident = $wire:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($(#[$arm_doc])* $arm,)+
            /// A name this crate does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The names this crate knows, in the order Sysdig documents them.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// The name on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$arm => $wire,)+
                    Self::Other(s) => s,
                }
            }

            /// Whether the name is one of [`Self::KNOWN`].
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        /// An empty `Other`, as a struct's `Default` had an empty string.
        impl Default for $name {
            fn default() -> Self {
                Self::Other(String::new())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => Self::$arm,)+
                    other => Self::Other(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match Self::from(s.as_str()) {
                    Self::Other(_) => Self::Other(s),
                    known => known,
                }
            }
        }

        impl From<$name> for String {
            fn from(k: $name) -> Self {
                match k {
                    $name::Other(s) => s,
                    known => known.as_str().to_string(),
                }
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::{alerts::AlertKind, channels::ChannelKind};

    #[test]
    fn names_travel_as_the_bare_string() {
        for (kind, wire) in [
            (ChannelKind::PagerDuty, "\"PAGER_DUTY\""),
            (ChannelKind::Other("TEAMS".into()), "\"TEAMS\""),
            (ChannelKind::default(), "\"\""),
        ] {
            assert_eq!(serde_json::to_string(&kind).unwrap(), wire);
            assert_eq!(serde_json::from_str::<ChannelKind>(wire).unwrap(), kind);
        }
        let a: AlertKind = serde_json::from_str("\"HOST_COMPARISON\"").unwrap();
        assert_eq!(a, AlertKind::HostComparison);
        assert!(a.is_known() && a == "HOST_COMPARISON");
        assert!(
            !AlertKind::from("manual").is_known(),
            "names are case-sensitive"
        );
        assert_eq!(AlertKind::KNOWN.len(), 4);
    }
}
