//! `GET /v2.0/notification-methods/types`.

use axum::{Json, extract::RawQuery};
use monasca::types::{Envelope, NotificationMethodType};

use super::TYPES;
use crate::v2_0::{BaseUrl, Tenant, params::Query};

pub(super) async fn types(
    _: Tenant,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Json<Envelope<NotificationMethodType>> {
    let q = Query::parse(raw.as_deref());
    Json(Envelope {
        links: q.links(&base.url(), None),
        elements: TYPES
            .iter()
            .map(|t| NotificationMethodType { kind: t.clone() })
            .collect(),
    })
}
