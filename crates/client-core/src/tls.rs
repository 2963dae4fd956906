//! The reqwest client every API client builds: rustls with ring as the process's crypto
//! provider (it builds fast and is linked already), extra CA bundles, a client certificate,
//! a timeout and a user agent.

use std::{fmt, time::Duration};

use crate::TlsError;

/// What the HTTP client is built from.
#[derive(Clone, Default)]
pub struct HttpOptions {
    /// Do not verify server certificates (`--insecure`).
    pub insecure: bool,
    /// PEM bundles of CA certificates trusted besides the system's roots.
    pub ca_pems: Vec<Vec<u8>>,
    /// A client certificate and its key, PEM, concatenated.
    pub identity_pem: Option<Vec<u8>>,
    /// Timeout of each whole request; `None` waits forever.
    pub timeout: Option<Duration>,
    pub user_agent: String,
}

/// The identity holds a private key: `Debug` shows only whether there is one.
impl fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpOptions")
            .field("insecure", &self.insecure)
            .field("ca_pems", &self.ca_pems.len())
            .field(
                "identity_pem",
                &self.identity_pem.as_ref().map(|_| "<redacted>"),
            )
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

impl HttpOptions {
    /// A client with these settings.
    ///
    /// # Errors
    /// A CA bundle that does not parse or holds no certificate, an unusable client
    /// certificate, or a TLS back-end that cannot start.
    pub fn build(&self) -> Result<reqwest::Client, TlsError> {
        // Whoever installs first wins; every client of this workspace asks for ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .user_agent(self.user_agent.as_str())
            .danger_accept_invalid_certs(self.insecure);
        if let Some(t) = self.timeout {
            b = b.timeout(t);
        }
        for pem in &self.ca_pems {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(TlsError::InvalidCa)?;
            if certs.is_empty() {
                return Err(TlsError::EmptyCa);
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        if let Some(pem) = &self.identity_pem {
            b = b.identity(reqwest::Identity::from_pem(pem).map_err(TlsError::InvalidIdentity)?);
        }
        b.build().map_err(TlsError::Setup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_files_are_refused() {
        let with_ca = |pem: &[u8]| HttpOptions {
            ca_pems: vec![pem.to_vec()],
            ..Default::default()
        };
        assert!(matches!(
            with_ca(b"not a certificate").build(),
            Err(TlsError::EmptyCa | TlsError::InvalidCa(_))
        ));
        assert!(matches!(
            with_ca(b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
                .build(),
            Err(TlsError::InvalidCa(_) | TlsError::EmptyCa)
        ));
        let identity = HttpOptions {
            identity_pem: Some(b"no key here".to_vec()),
            ..Default::default()
        };
        assert!(matches!(
            identity.build(),
            Err(TlsError::InvalidIdentity(_))
        ));
    }

    #[test]
    fn plain_and_insecure_clients_build() {
        HttpOptions::default().build().unwrap();
        HttpOptions {
            insecure: true,
            timeout: Some(Duration::from_secs(1)),
            user_agent: "t/1".into(),
            ..Default::default()
        }
        .build()
        .unwrap();
    }

    #[test]
    fn debug_hides_the_private_key() {
        let o = HttpOptions {
            identity_pem: Some(b"-----BEGIN PRIVATE KEY-----s3cr3t".to_vec()),
            ..Default::default()
        };
        assert!(!format!("{o:?}").contains("s3cr3t"));
    }
}
