//! The service catalog of a Keystone v3 token, and choosing an endpoint from it by service
//! type, interface and region, as keystoneauth's `get_endpoint` does.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::{Error, Result};

/// One endpoint of a service (`token.catalog[].endpoints[]`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct CatalogEndpoint {
    #[serde(default)]
    pub id: Option<String>,
    pub interface: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub region_id: Option<String>,
    pub url: String,
}

/// One service of the catalog (`token.catalog[]`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct CatalogService {
    #[serde(rename = "type")]
    pub service_type: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub endpoints: Vec<CatalogEndpoint>,
}

/// The service catalog.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Catalog(pub Vec<CatalogService>);

/// Which of a service's URLs to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Interface {
    #[default]
    Public,
    Internal,
    Admin,
}

impl Interface {
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        }
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Interface {
    type Err = Error;

    /// `public`, `internal`, `admin`, also in the v2 spelling (`publicURL`, ...).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "public" | "publicurl" => Ok(Interface::Public),
            "internal" | "internalurl" => Ok(Interface::Internal),
            "admin" | "adminurl" => Ok(Interface::Admin),
            _ => Err(Error::Invalid(format!(
                "invalid interface {s:?}: use public, internal or admin"
            ))),
        }
    }
}

/// What endpoint to look for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointFilter {
    pub service_type: String,
    pub interface: Interface,
    /// `None`: any region (the first endpoint with the interface).
    pub region: Option<String>,
}

impl EndpointFilter {
    /// The Monasca API: service type `monitoring`, public interface, any region.
    pub fn monitoring() -> Self {
        Self::new("monitoring")
    }

    pub fn new(service_type: impl Into<String>) -> Self {
        Self {
            service_type: service_type.into(),
            interface: Interface::Public,
            region: None,
        }
    }

    #[must_use]
    pub fn interface(mut self, i: Interface) -> Self {
        self.interface = i;
        self
    }

    #[must_use]
    pub fn region(mut self, r: Option<String>) -> Self {
        self.region = r.filter(|r| !r.is_empty());
        self
    }
}

impl Catalog {
    /// The URL of the first endpoint that matches the filter.
    ///
    /// # Errors
    /// [`Error::NoEndpoint`], listing what the catalog offers for the service type, and
    /// [`Error::Decode`] for an endpoint URL that does not parse.
    pub fn endpoint(&self, filter: &EndpointFilter) -> Result<Url> {
        let endpoints = || {
            self.0
                .iter()
                .filter(|s| s.service_type == filter.service_type)
                .flat_map(|s| s.endpoints.iter())
        };
        let found = endpoints().find(|e| {
            e.interface.parse::<Interface>().ok() == Some(filter.interface)
                && filter
                    .region
                    .as_ref()
                    .is_none_or(|r| e.region_id.as_ref() == Some(r) || e.region.as_ref() == Some(r))
        });
        match found {
            Some(e) => Url::parse(&e.url).map_err(|err| Error::Decode {
                url: e.url.clone(),
                reason: format!("catalog endpoint URL for {}: {err}", filter.service_type),
            }),
            None => Err(Error::NoEndpoint {
                service_type: filter.service_type.clone(),
                interface: filter.interface.to_string(),
                region: filter.region.clone(),
                available: endpoints()
                    .map(|e| {
                        let region = e.region_id.as_deref().or(e.region.as_deref());
                        format!(
                            "{} {}{}",
                            e.interface,
                            region.map(|r| format!("{r} ")).unwrap_or_default(),
                            e.url
                        )
                    })
                    .collect(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn catalog() -> Catalog {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../tests/fixtures/token-project-scoped.json"))
                .unwrap();
        serde_json::from_value(v["token"]["catalog"].clone()).unwrap()
    }

    #[test]
    fn picks_by_interface_and_region() {
        let c = catalog();
        let m = EndpointFilter::monitoring();
        assert_eq!(
            c.endpoint(&m).unwrap().as_str(),
            "https://monasca.example.com:8070/v2.0"
        );
        assert_eq!(
            c.endpoint(&m.clone().interface(Interface::Internal))
                .unwrap()
                .as_str(),
            "http://10.0.0.5:8070/v2.0"
        );
        assert_eq!(
            c.endpoint(&m.clone().region(Some("RegionTwo".into())))
                .unwrap()
                .as_str(),
            "https://monasca.two.example.com:8070/v2.0"
        );
        // An empty region means any.
        assert!(c.endpoint(&m.clone().region(Some(String::new()))).is_ok());
        assert_eq!(
            c.endpoint(&EndpointFilter::new("identity").interface("adminURL".parse().unwrap()))
                .unwrap()
                .as_str(),
            "http://example.com/identity"
        );
    }

    #[test]
    fn missing_endpoint_says_what_there_is() {
        let c = catalog();
        let e = c
            .endpoint(
                &EndpointFilter::monitoring()
                    .interface(Interface::Internal)
                    .region(Some("RegionTwo".into())),
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no monitoring endpoint with interface internal in region RegionTwo in the service \
             catalog (it has: public RegionOne https://monasca.example.com:8070/v2.0; internal \
             RegionOne http://10.0.0.5:8070/v2.0; admin RegionOne http://10.0.0.5:8070/v2.0; \
             public RegionTwo https://monasca.two.example.com:8070/v2.0)"
        );
        let e = Catalog::default()
            .endpoint(&EndpointFilter::monitoring())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no monitoring endpoint with interface public in the service catalog"
        );
    }

    #[test]
    fn interfaces_parse() {
        assert_eq!("PUBLIC".parse::<Interface>().unwrap(), Interface::Public);
        assert_eq!(
            "internalURL".parse::<Interface>().unwrap(),
            Interface::Internal
        );
        assert!("private".parse::<Interface>().is_err());
    }
}
