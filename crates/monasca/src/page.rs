//! One page of a list answer.

use url::Url;

use crate::{Error, Result, types::Envelope};

/// The elements of one page and the link to the next, if the server has more.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub elements: Vec<T>,
    pub next: Option<Url>,
}

impl<T> Page<T> {
    /// # Errors
    /// A `next` link that is not a URL.
    pub fn from_envelope(env: Envelope<T>) -> Result<Self> {
        let next = env
            .next_href()
            .map(|h| {
                Url::parse(h).map_err(|e| Error::InvalidUrl {
                    url: h.to_string(),
                    reason: e.to_string(),
                })
            })
            .transpose()?;
        Ok(Self {
            elements: env.elements,
            next,
        })
    }
}
