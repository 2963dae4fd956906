//! What every [`TokenRepo`] must do: find a token by its hash until it expires, revoke it once,
//! and keep tokens apart; find application credentials by id and by name and user.

use crate::identity::{AppCredentialRepo, StoredAppCredential, StoredToken, TokenRepo};

/// Runs the token conformance suite against `repo`, which must be empty.
///
/// # Panics
/// When the repository behaves differently from what the identity service relies on.
pub async fn tokens(repo: &dyn TokenRepo) {
    let now = crate::now_ms();
    let scoped = StoredToken {
        user: "mini-mon 'quoted' \\ ; DROP TABLE identity_tokens; --".into(),
        project: Some("mini-mon".into()),
        roles: vec!["monasca-user".into(), "admin".into()],
        issued_at_ms: now,
        expires_at_ms: now + 60_000,
    };
    let unscoped = StoredToken {
        project: None,
        roles: Vec::new(),
        ..scoped.clone()
    };
    let ok = |r: crate::RepoResult<()>| r.unwrap_or_else(|e| panic!("{e}"));
    ok(repo.insert("h1", &scoped).await);
    ok(repo.insert("h2", &unscoped).await);
    assert_eq!(repo.get("h1", now).await.ok(), Some(Some(scoped.clone())));
    assert_eq!(repo.get("h2", now).await.ok(), Some(Some(unscoped)));
    assert_eq!(repo.get("h3", now).await.ok(), Some(None), "never issued");
    assert_eq!(
        repo.get("h1", now + 60_000).await.ok(),
        Some(None),
        "expired at its expiry time"
    );
    assert_eq!(repo.remove("h1").await.ok(), Some(true));
    assert_eq!(repo.remove("h1").await.ok(), Some(false), "revoked once");
    assert_eq!(repo.get("h1", now).await.ok(), Some(None));
    assert!(
        repo.get("h2", now).await.ok().flatten().is_some(),
        "others kept"
    );
}

/// Runs the application credential conformance suite against `repo`, which must be empty.
///
/// # Panics
/// When the repository behaves differently from what the identity service relies on.
pub async fn app_credentials(repo: &dyn AppCredentialRepo) {
    let cred = |id: &str, name: &str, user: &str| StoredAppCredential {
        id: id.into(),
        name: name.into(),
        secret_hash: format!("hash of {id}'s \\ secret"),
        user: user.into(),
    };
    let (c1, c2, c3) = (
        cred("c1", "ci 'x'", "alice"),
        cred("c2", "ci 'x'", "alice"),
        cred("c3", "ci 'x'", "bob"),
    );
    for c in [&c1, &c2, &c3] {
        repo.create(c).await.unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(repo.by_id("c1").await.ok(), Some(Some(c1.clone())));
    assert_eq!(repo.by_id("nope").await.ok(), Some(None));
    let mut named = repo.by_name("ci 'x'", "alice").await.unwrap_or_default();
    named.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(named, vec![c1, c2], "same name, same user; not bob's");
    assert_eq!(repo.by_name("ci", "alice").await.ok(), Some(Vec::new()));
}
