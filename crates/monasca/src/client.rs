//! The async client: executes [`Endpoint`]s over the kit's transport with a Monasca token,
//! decodes answers, follows pages.

use std::{sync::Arc, time::Duration};

use client_core::{Answer, Api, HttpOptions, Transport, decode, flatten_pages};
use futures::Stream;
use http::HeaderMap;
use serde::de::DeserializeOwned;
use url::Url;

pub use client_core::RequestObserver;

use crate::{
    Error, Result,
    auth::{StaticToken, TokenSource},
    page::Page,
    request::{AUTH_TOKEN, Endpoint, token_header},
    types::Envelope,
};

/// A Monasca v2.0 API client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    endpoint: Url,
    auth: Auth,
}

/// What the kit needs to know of Monasca: the token source's `X-Auth-Token`, and the error
/// bodies of Monasca and Keystone.
#[derive(Debug)]
struct Auth(Arc<dyn TokenSource>);

impl Api for Auth {
    type Error = Error;

    async fn headers(&self, _: &reqwest::Client) -> Result<HeaderMap> {
        let token = self.0.token().await?;
        let mut h = HeaderMap::new();
        h.insert(AUTH_TOKEN, token_header(&token)?);
        Ok(h)
    }

    fn invalidate(&self) {
        self.0.invalidate();
    }

    fn can_refresh(&self) -> bool {
        self.0.can_refresh()
    }

    fn error(&self, method: &http::Method, url: &Url, answer: Answer) -> Error {
        Error::from_response(
            answer.status.as_u16(),
            method.as_str(),
            url.as_str(),
            answer.header("x-openstack-request-id").map(str::to_string),
            &answer.body,
        )
    }
}

/// Builds a [`Client`].
#[must_use]
pub struct ClientBuilder {
    endpoint: String,
    auth: Option<Arc<dyn TokenSource>>,
    http: HttpOptions,
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
        self.http.timeout = Some(t);
        self
    }

    /// Skip TLS certificate verification (`--insecure`).
    pub fn insecure(mut self, yes: bool) -> Self {
        self.http.insecure = yes;
        self
    }

    /// Trust this PEM CA bundle in addition to the system roots (`--os-cacert`).
    pub fn ca_pem(mut self, pem: Vec<u8>) -> Self {
        self.http.ca_pems.push(pem);
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
        self.http.identity_pem = Some(pem);
        self
    }

    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.http.user_agent = ua.into();
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
        let transport = Transport::new(self.http.build().map_err(client_core::Error::from)?)
            .observer(self.observer);
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                endpoint,
                auth: Auth(auth),
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
            http: HttpOptions {
                timeout: Some(Duration::from_secs(60)),
                user_agent: concat!("vigil-monasca/", env!("CARGO_PKG_VERSION")).to_string(),
                ..HttpOptions::default()
            },
            observer: None,
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
        let (url, body) = self
            .inner
            .transport
            .call_endpoint(&self.inner.auth, &self.inner.endpoint, ep)
            .await?;
        // An empty answer (204) decodes as JSON `null`: fine for `()`, an error otherwise.
        Ok(decode::json(
            url.as_str(),
            body.as_deref().unwrap_or(b"null"),
        )?)
    }

    /// Fetches the page at an absolute URL, such as a `next` link.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn get_page<T: DeserializeOwned>(&self, url: Url) -> Result<Page<T>> {
        let bytes = self
            .inner
            .transport
            .call(&self.inner.auth, &http::Method::GET, &url, None)
            .await?;
        let env: Envelope<T> = decode::json(url.as_str(), &bytes)?;
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
        enum Next<'e, E> {
            First(&'e E),
            Link(Url),
        }
        flatten_pages(Next::First(ep), move |next| async move {
            let page: Page<T> = match next {
                Next::First(ep) => self.page(ep).await?,
                Next::Link(url) => self.get_page(url).await?,
            };
            // An empty page ends the list even if it links on.
            let next = page
                .next
                .filter(|_| !page.elements.is_empty())
                .map(Next::Link);
            Ok((page.elements, next))
        })
    }
}
