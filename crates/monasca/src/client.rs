//! The async client: executes [`Endpoint`]s, decodes answers, follows pages.

use std::{sync::Arc, time::Duration};

use futures::{Stream, TryStreamExt, stream};
use serde::de::DeserializeOwned;
use url::Url;

use crate::{
    Error, Result,
    auth::{StaticToken, TokenSource},
    page::Page,
    request::Endpoint,
    types::Envelope,
};

/// A Monasca v2.0 API client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    endpoint: Url,
    auth: Arc<dyn TokenSource>,
    observer: Option<Arc<dyn RequestObserver>>,
}

/// Told about every HTTP exchange the client makes: the CLI's `--timing`, `-v` and `--debug`.
pub trait RequestObserver: Send + Sync + std::fmt::Debug {
    /// `status` is `None` when no answer came.
    fn exchange(&self, method: &http::Method, url: &Url, status: Option<u16>, elapsed: Duration);
}

/// Builds a [`Client`].
#[must_use]
pub struct ClientBuilder {
    endpoint: String,
    auth: Option<Arc<dyn TokenSource>>,
    timeout: Option<Duration>,
    insecure: bool,
    ca_pem: Vec<Vec<u8>>,
    identity_pem: Option<Vec<u8>>,
    user_agent: String,
    observer: Option<Arc<dyn RequestObserver>>,
}

impl ClientBuilder {
    /// The token sent as `X-Auth-Token`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.auth = Some(Arc::new(StaticToken::new(token)));
        self
    }

    /// Any token source, such as a Keystone session.
    pub fn token_source(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.auth = Some(source);
        self
    }

    /// Timeout for each whole request.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// Skip TLS certificate verification (`--insecure`).
    pub fn insecure(mut self, yes: bool) -> Self {
        self.insecure = yes;
        self
    }

    /// Trust this PEM CA bundle in addition to the system roots (`--os-cacert`).
    pub fn ca_pem(mut self, pem: Vec<u8>) -> Self {
        self.ca_pem.push(pem);
        self
    }

    /// Report every request and its timing to `o`.
    pub fn observer(mut self, o: Arc<dyn RequestObserver>) -> Self {
        self.observer = Some(o);
        self
    }

    /// Present this client certificate and key (PEM, concatenated) to the server
    /// (`--os-cert`/`--os-key`).
    pub fn identity_pem(mut self, pem: Vec<u8>) -> Self {
        self.identity_pem = Some(pem);
        self
    }

    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// # Errors
    /// An endpoint that is not an http(s) URL, no token source, or a TLS setup failure.
    pub fn build(self) -> Result<Client> {
        let endpoint = Url::parse(&self.endpoint).map_err(|e| Error::InvalidUrl {
            url: self.endpoint.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(Error::InvalidUrl {
                url: self.endpoint,
                reason: "the scheme must be http or https".into(),
            });
        }
        let auth = self.auth.ok_or_else(|| {
            Error::Auth("no token given (set OS_AUTH_TOKEN or --os-token)".into())
        })?;
        // One crypto provider for the process: ring, which builds fast and is already linked.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .danger_accept_invalid_certs(self.insecure);
        if let Some(t) = self.timeout {
            http = http.timeout(t);
        }
        for pem in &self.ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::InvalidRequest(format!("invalid CA bundle: {e}")))?
            {
                http = http.add_root_certificate(cert);
            }
        }
        if let Some(pem) = &self.identity_pem {
            let id = reqwest::Identity::from_pem(pem)
                .map_err(|e| Error::InvalidRequest(format!("invalid client certificate: {e}")))?;
            http = http.identity(id);
        }
        let http = http
            .build()
            .map_err(|e| Error::InvalidRequest(format!("cannot set up HTTP: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoint,
                auth,
                observer: self.observer,
            }),
        })
    }
}

impl Client {
    /// A builder for the API at `endpoint`, e.g. `http://127.0.0.1:8070/v2.0`.
    pub fn builder(endpoint: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            endpoint: endpoint.into(),
            auth: None,
            timeout: Some(Duration::from_secs(60)),
            insecure: false,
            ca_pem: Vec::new(),
            identity_pem: None,
            observer: None,
            user_agent: concat!("vigil-monasca/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }

    /// The API endpoint requests are sent under.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// Executes an operation and decodes its answer.
    ///
    /// # Errors
    /// Transport failures, error statuses (as [`Error::Api`]) and undecodable answers.
    pub async fn send<E: Endpoint + Sync>(&self, ep: &E) -> Result<E::Output> {
        let url = ep.url(&self.inner.endpoint)?;
        let body = ep.body()?;
        let bytes = self.execute(ep.method(), url.clone(), body).await?;
        if bytes.is_empty() || ep.expects_empty() {
            // An empty answer (204) decodes as JSON `null`: fine for `()`, an error otherwise.
            return decode(url.as_str(), b"null");
        }
        decode(url.as_str(), &bytes)
    }

    /// Fetches the page at an absolute URL, such as a `next` link.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn get_page<T: DeserializeOwned>(&self, url: Url) -> Result<Page<T>> {
        let bytes = self.execute(http::Method::GET, url.clone(), None).await?;
        let env: Envelope<T> = decode(url.as_str(), &bytes)?;
        Page::from_envelope(env)
    }

    /// The first page of a list operation.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn page<T, E>(&self, ep: &E) -> Result<Page<T>>
    where
        T: DeserializeOwned,
        E: Endpoint<Output = Envelope<T>> + Sync,
    {
        Page::from_envelope(self.send(ep).await?)
    }

    /// Every element of a list operation, following `next` links as the stream is consumed.
    pub fn stream<'a, T, E>(&'a self, ep: &'a E) -> impl Stream<Item = Result<T>> + 'a
    where
        T: DeserializeOwned + 'a,
        E: Endpoint<Output = Envelope<T>> + Sync,
    {
        enum State<'e, E> {
            First(&'e E),
            Next(Url),
            Done,
        }
        stream::try_unfold(State::First(ep), move |state| async move {
            let page: Page<T> = match state {
                State::First(ep) => self.page(ep).await?,
                State::Next(url) => self.get_page(url).await?,
                State::Done => return Ok(None),
            };
            let next = match page.next {
                Some(u) if !page.elements.is_empty() => State::Next(u),
                _ => State::Done,
            };
            Ok(Some((
                stream::iter(page.elements.into_iter().map(Ok)),
                next,
            )))
        })
        .try_flatten()
    }

    async fn execute(
        &self,
        method: http::Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<bytes::Bytes> {
        let mut retried = false;
        loop {
            let token = self.inner.auth.token().await?;
            let mut req = self
                .inner
                .http
                .request(method.clone(), url.clone())
                .header("X-Auth-Token", token)
                .header(http::header::ACCEPT, "application/json");
            if let Some(b) = &body {
                req = req
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(b.clone());
            }
            let started = std::time::Instant::now();
            let sent = req.send().await;
            if let Some(o) = &self.inner.observer {
                let status = sent.as_ref().ok().map(|r| r.status().as_u16());
                o.exchange(&method, &url, status, started.elapsed());
            }
            let resp = sent.map_err(|source| Error::Transport {
                url: url.to_string(),
                source,
            })?;
            let status = resp.status();
            if status == http::StatusCode::UNAUTHORIZED && !retried && self.inner.auth.can_refresh()
            {
                self.inner.auth.invalidate();
                retried = true;
                continue;
            }
            let request_id = resp
                .headers()
                .get("x-openstack-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let bytes = resp.bytes().await.map_err(|source| Error::Transport {
                url: url.to_string(),
                source,
            })?;
            if !status.is_success() {
                return Err(Error::from_response(
                    status.as_u16(),
                    method.as_str(),
                    url.as_str(),
                    request_id,
                    &bytes,
                ));
            }
            return Ok(bytes);
        }
    }
}

fn decode<T: DeserializeOwned>(url: &str, bytes: &[u8]) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
        url: url.to_string(),
        path: e.path().to_string(),
        source: e.into_inner(),
    })
}
