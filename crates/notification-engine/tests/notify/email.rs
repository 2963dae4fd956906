//! E-mail through a real SMTP server. Cargo cannot start one here, so this test waits for
//! one on `127.0.0.1:8025` (`python -m aiosmtpd -n -l 127.0.0.1:8025`, which prints what it
//! receives); the python interop suite checks the received mail.

use std::time::Duration;

use config_repo::outbox::AttemptStatus;
use monasca::types::AlarmState;
use notification_engine::{EmailSettings, NotifySettings, SmtpSecurity};

use super::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an SMTP server on 127.0.0.1:8025 (python -m aiosmtpd -n -l 127.0.0.1:8025)"]
async fn an_alarm_is_mailed_through_the_smtp_server() {
    let db = monasca_db();
    db.add_method("m-mail", "EMAIL", "ops@example.com", 0);
    db.queue(&["m-mail"], &transition("a-1", AlarmState::Alarm));
    let settings = NotifySettings {
        email: Some(EmailSettings {
            server: "127.0.0.1".into(),
            port: 8025,
            security: SmtpSecurity::None,
            user: None,
            password: None,
            from_addr: "Monasca <monasca@example.com>".into(),
            timeout_ms: 2_000,
            grafana_url: None,
        }),
        timeout_ms: 3_000,
        ..quick()
    };
    let notifier = start(vec![db.outbox.clone()], settings);
    assert!(
        notifier
            .monasca_types()
            .iter()
            .any(|t| t.as_str() == "EMAIL")
    );
    notifier.wake();
    assert!(
        eventually(Duration::from_secs(5), || async {
            db.outbox.pending().await.unwrap() == 0
        })
        .await
    );
    let log = db.attempts("m-mail").await;
    assert_eq!(log[0].status, AttemptStatus::Delivered, "{}", log[0].answer);
    assert!(log[0].answer.starts_with("SMTP 250"), "{}", log[0].answer);
    notifier.shutdown().await;
}
