//! IAM access tokens of the IBM IAM emulation, signed rather than remembered: the token names
//! its user and expiry and carries an HMAC-SHA256 of both under a key kept in the Sysdig
//! repository (made once per database), so every node sharing the database accepts a token
//! any of them issued, and a restart keeps them valid, with no lookup per request.

use ring::hmac;

use crate::IamLookup;

/// The meta key of the signing key.
pub(crate) const SIGNING_KEY_META: &str = "iam_signing_key";
const PREFIX: &str = "vigil-iam.";

/// Signs and checks IAM access tokens. `Debug` never shows the key.
#[derive(Clone)]
pub(crate) struct IamSigner(hmac::Key);

impl std::fmt::Debug for IamSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IamSigner(<redacted>)")
    }
}

/// A fresh signing key's text (random, 256 bits).
pub(crate) fn new_key_text() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl IamSigner {
    pub(crate) fn new(key_text: &str) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, key_text.as_bytes()))
    }

    /// A token for `user_id` valid until `expires_ms` (epoch ms).
    pub(crate) fn issue(&self, user_id: i64, expires_ms: i64) -> String {
        let claims = format!("{user_id}.{expires_ms}");
        let tag = hmac::sign(&self.0, claims.as_bytes());
        format!("{PREFIX}{claims}.{}", hex(tag.as_ref()))
    }

    /// What `token` stands for at `now_ms`.
    pub(crate) fn check(&self, token: &str, now_ms: i64) -> IamLookup {
        let Some(rest) = token.strip_prefix(PREFIX) else {
            return IamLookup::Unknown;
        };
        let Some((claims, tag)) = rest.rsplit_once('.') else {
            return IamLookup::Unknown;
        };
        let Some(tag) = unhex(tag) else {
            return IamLookup::Unknown;
        };
        if hmac::verify(&self.0, claims.as_bytes(), &tag).is_err() {
            return IamLookup::Unknown;
        }
        let Some((user, expires)) = claims.split_once('.') else {
            return IamLookup::Unknown;
        };
        match (user.parse::<i64>(), expires.parse::<i64>()) {
            (Ok(_), Ok(e)) if e <= now_ms => IamLookup::Expired,
            (Ok(u), Ok(_)) => IamLookup::User(u),
            _ => IamLookup::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_accepted_until_they_expire_and_only_under_their_key() {
        let signer = IamSigner::new("key-one");
        let token = signer.issue(42, 2_000);
        assert!(matches!(signer.check(&token, 1_999), IamLookup::User(42)));
        assert!(matches!(signer.check(&token, 2_000), IamLookup::Expired));
        // Another database's key, or a token whose claims were changed, is unknown.
        assert!(matches!(
            IamSigner::new("key-two").check(&token, 0),
            IamLookup::Unknown
        ));
        let forged = token.replacen("42.", "43.", 1);
        assert!(matches!(signer.check(&forged, 0), IamLookup::Unknown));
        let later = token.replacen(".2000.", ".9999.", 1);
        assert!(matches!(signer.check(&later, 0), IamLookup::Unknown));
        for junk in [
            "",
            "vigil-iam.",
            "vigil-iam.1.2.zz",
            "vigil-iam.1.2.abc",
            "Bearer x",
        ] {
            assert!(
                matches!(signer.check(junk, 0), IamLookup::Unknown),
                "{junk}"
            );
        }
        assert!(!format!("{signer:?}").contains("key-one"));
    }
}
