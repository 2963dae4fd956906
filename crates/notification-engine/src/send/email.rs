//! E-mail through the configured SMTP server (lettre, rustls): upstream's headers (`Subject`,
//! `From`, `To`, `Date`) and a UTF-8 plain-text body.

use std::time::{Duration, SystemTime};

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::authentication::Credentials,
};
use secrecy::ExposeSecret;

use super::Outcome;
use crate::{
    payload::EmailRequest,
    settings::{EmailSettings, SmtpSecurity},
};

/// The SMTP transport and sender of [`EmailSettings`].
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// # Errors
    /// The sender address does not parse, or TLS cannot be set up for the server.
    pub fn new(s: &EmailSettings) -> anyhow::Result<Self> {
        let from: Mailbox = s.from_addr.parse().map_err(|e| {
            anyhow::anyhow!(
                "notifications.email.from_addr {:?} is not an address: {e}",
                s.from_addr
            )
        })?;
        let builder = match s.security {
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.server)
            }
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.server)?
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.server)?,
        };
        let mut builder = builder
            .port(s.port())
            .timeout(Some(Duration::from_millis(s.timeout_ms.max(1))));
        if let (Some(user), Some(password)) = (&s.user, &s.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_string(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Sends `req`: delivered when the server accepts it, rejected on a permanent (5xx)
    /// answer, failed (retried) otherwise.
    /// The `Message-ID` is made of `idempotency_key`, so a re-sent message can be recognised.
    pub async fn send(&self, req: &EmailRequest, idempotency_key: &str) -> Outcome {
        let id = format!(
            "<{}@vigil>",
            idempotency_key.replace(['<', '>', '@', ' '], "-")
        );
        let message = match build_message(&self.from, req, SystemTime::now(), Some(id)) {
            Ok(m) => m,
            Err(why) => return Outcome::dropped(why),
        };
        match self.transport.send(message).await {
            Ok(resp) => Outcome::delivered(format!(
                "SMTP {}: {}",
                resp.code(),
                resp.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) if e.is_permanent() => Outcome::rejected(format!("SMTP rejected it: {e}")),
            Err(e) => Outcome::failed(format!("SMTP: {e}")),
        }
    }
}

/// The message upstream sends: `Subject`, `From`, `To` (every recipient), `Date`, plain text.
///
/// # Errors
/// A recipient that is not an address.
pub fn build_message(
    from: &Mailbox,
    req: &EmailRequest,
    date: SystemTime,
    message_id: Option<String>,
) -> Result<Message, String> {
    let mut builder = Message::builder()
        .message_id(message_id)
        .from(from.clone())
        .subject(req.subject.clone())
        .date(date)
        .header(ContentType::TEXT_PLAIN);
    for to in &req.to {
        let mailbox: Mailbox = to
            .parse()
            .map_err(|e| format!("{to:?} is not an e-mail address: {e}"))?;
        builder = builder.to(mailbox);
    }
    builder
        .body(req.body.clone())
        .map_err(|e| format!("the message cannot be built: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_message_carries_upstreams_headers_and_body() {
        let from: Mailbox = "monasca@example.com".parse().unwrap();
        let req = EmailRequest {
            to: vec!["ops@example.com".into(), "dba@example.com".into()],
            subject: "ALARM HIGH \"cpu high\" for Host: h1".into(),
            body: "On host \"h1\" thresholds were exceeded\n\nWith dimensions:\n[\n]".into(),
        };
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_860_095);
        let msg = build_message(&from, &req, at, Some("<e-1@vigil>".into())).unwrap();
        let text = String::from_utf8(msg.formatted()).unwrap();
        assert!(text.contains("Message-ID: <e-1@vigil>\r\n"), "{text}");
        assert!(text.contains("From: monasca@example.com\r\n"), "{text}");
        assert!(
            text.contains("To: ops@example.com, dba@example.com\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Subject: ALARM HIGH \"cpu high\" for Host: h1\r\n"),
            "{text}"
        );
        assert!(text.contains("Date: Thu, 04 Dec 2025 14:54:55 "), "{text}");
        assert!(
            text.contains("Content-Type: text/plain; charset=utf-8\r\n"),
            "{text}"
        );
        assert!(
            text.contains("On host \"h1\" thresholds were exceeded\r\n"),
            "{text}"
        );
        let envelope = msg.envelope();
        assert_eq!(envelope.to().len(), 2);
        assert_eq!(
            build_message(
                &from,
                &EmailRequest {
                    to: vec!["nobody".into()],
                    ..req
                },
                at,
                None
            )
            .unwrap_err(),
            "\"nobody\" is not an e-mail address: Invalid input"
        );
    }

    #[test]
    fn a_mailer_builds_for_each_security() {
        for security in [
            SmtpSecurity::None,
            SmtpSecurity::Starttls,
            SmtpSecurity::Tls,
        ] {
            let s = EmailSettings {
                server: "127.0.0.1".into(),
                port: 0,
                security,
                user: Some("u".into()),
                password: Some("p".to_string().into()),
                from_addr: "Vigil <vigil@example.com>".into(),
                timeout_ms: 100,
                grafana_url: None,
            };
            Mailer::new(&s).unwrap();
        }
        let bad = EmailSettings {
            server: "x".into(),
            port: 25,
            security: SmtpSecurity::None,
            user: None,
            password: None,
            from_addr: "not an address".into(),
            timeout_ms: 100,
            grafana_url: None,
        };
        assert!(Mailer::new(&bad).is_err());
    }
}
