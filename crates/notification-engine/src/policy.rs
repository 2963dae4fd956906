//! Which URLs tenants may make this server call: http(s) only, to allowed hosts, never into
//! denied networks. [`UrlPolicy::check`] judges a URL when a method or channel is written
//! (literal addresses only, no DNS); at send time the same check runs again and
//! the engine's resolver filters every address a name resolves to, so a name pointing into a
//! denied network, or one re-bound to it after the check, is refused too.
//!
//! ```
//! use notification_engine::{NotifySettings, UrlPolicy};
//! let policy = UrlPolicy::new(&NotifySettings::default()).unwrap();
//! assert!(policy.check("https://hooks.example.com/x").is_ok());
//! assert!(policy.check("http://169.254.169.254/latest/meta-data").is_err());
//! assert!(policy.check("ftp://example.com/").is_err());
//! ```

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use ipnet::IpNet;
use url::{Host, Url};

use crate::NotifySettings;

/// The URL rules of [`NotifySettings`]: allowed hosts and denied networks.
#[derive(Clone, Debug)]
pub struct UrlPolicy {
    inner: Arc<Rules>,
}

#[derive(Debug)]
struct Rules {
    allow_hosts: Vec<String>,
    deny: Vec<IpNet>,
}

/// A resolved address refused by the policy; the engine drops the delivery on it.
#[derive(Debug)]
pub(crate) struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl UrlPolicy {
    /// The policy of `settings`.
    ///
    /// # Errors
    /// A denied network that is not a CIDR (`10.0.0.0/8`) or a plain address.
    pub fn new(settings: &NotifySettings) -> anyhow::Result<Self> {
        let deny = settings
            .webhook_deny_networks
            .iter()
            .map(|n| parse_net(n))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let allow_hosts = settings
            .webhook_allow_hosts
            .iter()
            .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        Ok(Self {
            inner: Arc::new(Rules { allow_hosts, deny }),
        })
    }

    /// Whether this server may call `url`: scheme http or https, a host, the host allowed,
    /// and a literal address outside the denied networks. Names are not resolved here.
    ///
    /// # Errors
    /// Why not, in words an API error can carry.
    pub fn check(&self, url: &str) -> Result<(), String> {
        let parsed = Url::parse(url).map_err(|e| format!("not a valid URL: {e}"))?;
        self.check_url(&parsed)
    }

    pub(crate) fn check_url(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "the URL scheme must be http or https, not {:?}",
                url.scheme()
            ));
        }
        let host = url.host().ok_or("the URL has no host")?;
        let name = match &host {
            Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
            Host::Ipv4(a) => a.to_string(),
            Host::Ipv6(a) => a.to_string(),
        };
        if !self.host_allowed(&name) {
            return Err(format!(
                "the host {name} is not among the allowed webhook hosts"
            ));
        }
        let literal = match host {
            Host::Ipv4(a) => Some(IpAddr::V4(a)),
            Host::Ipv6(a) => Some(IpAddr::V6(a)),
            Host::Domain(_) => None,
        };
        if let Some(ip) = literal {
            self.check_ip(ip)?;
        }
        Ok(())
    }

    fn host_allowed(&self, host: &str) -> bool {
        let allow = &self.inner.allow_hosts;
        allow.is_empty()
            || allow.iter().any(|a| match a.strip_prefix("*.") {
                Some(parent) => host
                    .strip_suffix(parent)
                    .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
                None => a == host,
            })
    }

    /// Whether `ip` is outside every denied network (IPv4-mapped IPv6 addresses are judged
    /// as the IPv4 address they carry).
    ///
    /// # Errors
    /// The denied network it falls in.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        let plain = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match self
            .inner
            .deny
            .iter()
            .find(|n| n.contains(&ip) || n.contains(&plain))
        {
            Some(net) => Err(format!(
                "the address {plain} is in the denied network {net}"
            )),
            None => Ok(()),
        }
    }

    /// A reqwest resolver that resolves with the system and keeps only the allowed
    /// addresses; a name with none left fails with [`Refused`].
    pub(crate) fn resolver(&self) -> Arc<PolicyResolver> {
        Arc::new(PolicyResolver {
            policy: self.clone(),
        })
    }
}

fn parse_net(text: &str) -> anyhow::Result<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
        anyhow::anyhow!("webhook_deny_networks: {text:?} is not a network (like 10.0.0.0/8)")
    })
}

/// See [`UrlPolicy::resolver`].
pub(crate) struct PolicyResolver {
    policy: UrlPolicy,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusals = Vec::new();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match policy.check_ip(a.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refusals.push(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refusals
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "it has no address".into());
                return Err(Box::new(Refused(format!("{host} is refused: {why}")))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn policy(allow: &[&str], deny: &[&str]) -> UrlPolicy {
        UrlPolicy::new(&NotifySettings {
            webhook_allow_hosts: allow.iter().map(|s| s.to_string()).collect(),
            webhook_deny_networks: deny.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn the_default_refuses_metadata_and_link_local_but_not_loopback() {
        let p = UrlPolicy::new(&NotifySettings::default()).unwrap();
        let err = p.check("http://169.254.169.254/latest").unwrap_err();
        assert_eq!(
            err,
            "the address 169.254.169.254 is in the denied network 169.254.0.0/16"
        );
        assert!(p.check("http://[fe80::1]:8080/").is_err());
        assert!(p.check("http://[::ffff:169.254.169.254]/").is_err());
        assert!(p.check("http://0.0.0.0:80/").is_err());
        assert!(p.check("http://[::]:80/").is_err());
        assert!(
            p.check("http://2852039166/").is_err(),
            "169.254.169.254 as a number"
        );
        assert!(p.check("http://127.0.0.1:9000/hook").is_ok());
        assert!(p.check("http://10.1.2.3/hook").is_ok());
        assert!(p.check("https://localhost/hook").is_ok());
    }

    #[test]
    fn schemes_and_malformed_urls_are_refused_in_words() {
        let p = policy(&[], &[]);
        assert_eq!(
            p.check("file:///etc/passwd").unwrap_err(),
            "the URL scheme must be http or https, not \"file\""
        );
        assert!(
            p.check("not a url")
                .unwrap_err()
                .starts_with("not a valid URL")
        );
    }

    #[test]
    fn allowed_hosts_match_exactly_or_as_subdomains() {
        let p = policy(&["hooks.example.com", "*.corp.example"], &[]);
        assert!(p.check("https://HOOKS.example.com/x").is_ok());
        assert!(p.check("https://a.b.corp.example/x").is_ok());
        assert!(p.check("https://corp.example/x").is_err());
        assert!(p.check("https://evilcorp.example/x").is_err());
        assert_eq!(
            p.check("https://example.org/").unwrap_err(),
            "the host example.org is not among the allowed webhook hosts"
        );
    }

    #[test]
    fn denied_networks_parse_as_cidrs_or_addresses() {
        let p = policy(&[], &["10.0.0.0/8", "192.168.1.1", "127.0.0.0/8"]);
        assert!(p.check("http://10.9.9.9/").is_err());
        assert!(p.check("http://192.168.1.1/").is_err());
        assert!(p.check("http://192.168.1.2/").is_ok());
        assert!(p.check("http://[::ffff:127.0.0.1]/").is_err());
        assert!(
            UrlPolicy::new(&NotifySettings {
                webhook_deny_networks: vec!["ten-dot".into()],
                ..Default::default()
            })
            .is_err()
        );
    }
}
