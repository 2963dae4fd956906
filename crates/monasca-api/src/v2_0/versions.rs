//! `GET /` and `GET /v2.0`.

use axum::{Json, extract::Path};
use monasca::types::{Envelope, Link, Version};

use super::{BaseUrl, Tenant};
use crate::error::ApiError;

/// The `updated` string monasca-api's code returns (its spec shows an older one).
const UPDATED: &str = "2013-03-06T00:00:00.000Z";

fn v2(href: String) -> Version {
    Version {
        id: "v2.0".into(),
        links: vec![Link {
            rel: "self".into(),
            href,
        }],
        status: "CURRENT".into(),
        updated: UPDATED.into(),
    }
}

pub async fn list(_: Tenant, base: BaseUrl) -> Json<Envelope<Version>> {
    let root = format!("{}/", base.origin);
    Json(Envelope {
        links: vec![Link {
            rel: "self".into(),
            href: root.clone(),
        }],
        elements: vec![v2(format!("{root}v2.0"))],
    })
}

pub async fn get(
    _: Tenant,
    base: BaseUrl,
    Path(version): Path<String>,
) -> Result<Json<Version>, ApiError> {
    if version != "v2.0" {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid version",
            format!("No versions found matching {version}"),
        ));
    }
    Ok(Json(v2(base.url())))
}
