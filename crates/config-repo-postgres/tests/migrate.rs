//! Schema migrations: applied once, by one node at a time, refused when the database is newer.

use config_repo_postgres::{PgSettings, migrate};

use config_repo_postgres::testing as pg;

#[test]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
fn nodes_starting_together_migrate_once_and_later_starts_find_nothing_to_do() {
    let url = pg::fresh_database();
    let settings = PgSettings::parse(&url).unwrap();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                migrate::apply(&mut c).unwrap()
            })
        })
        .collect();
    let mut applied: Vec<i32> = starts.into_iter().flat_map(|t| t.join().unwrap()).collect();
    applied.sort_unstable();
    let all: Vec<i32> = migrate::MIGRATIONS.iter().map(|m| m.0).collect();
    assert_eq!(applied, all, "each migration applied by exactly one node");
    config_repo_postgres::PgDb::connect(&settings).unwrap();
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    assert!(migrate::apply(&mut c).unwrap().is_empty());
    let recorded: i64 = c
        .query_one("SELECT count(*) FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(recorded, i64::try_from(all.len()).unwrap());

    // A database migrated by a newer build is not touched.
    c.execute(
        "INSERT INTO schema_version (version, description) VALUES (9999, 'from the future')",
        &[],
    )
    .unwrap();
    let refused = config_repo_postgres::PgDb::connect(&settings).unwrap_err();
    assert!(refused.to_string().contains("9999"), "{refused}");
}

#[test]
fn settings_never_show_the_password() {
    let s = PgSettings::parse("postgres://vigil:s3cret-pw@127.0.0.1:5432/vigil").unwrap();
    let shown = format!("{s:?}");
    assert!(!shown.contains("s3cret-pw"), "{shown}");
    assert!(shown.contains("vigil"), "{shown}");
    let bad = PgSettings::parse("postgres://vigil:s3cret-pw@127.0.0.1:notaport/vigil").unwrap_err();
    assert!(!bad.to_string().contains("s3cret-pw"), "{bad}");
    let from_env = PgSettings::parse("postgres://vigil@127.0.0.1:5432/vigil")
        .unwrap()
        .with_password("env-pw-s3cret");
    let shown = format!("{from_env:?}");
    assert!(
        shown.contains("<redacted>") && !shown.contains("env-pw-s3cret"),
        "{shown}"
    );
    // TLS asked for is refused, not silently dropped.
    let tls = PgSettings::parse("postgres://vigil:s3cret-pw@db.example:5432/vigil?sslmode=require")
        .unwrap_err();
    assert!(tls.to_string().contains("sslmode=require"), "{tls}");
    assert!(!tls.to_string().contains("s3cret-pw"), "{tls}");
    assert!(PgSettings::parse("postgres://vigil@127.0.0.1/vigil?sslmode=disable").is_ok());
}
