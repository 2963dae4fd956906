//! `GET /v2.0/notification-methods/types`.

use axum::{
    Json,
    extract::{RawQuery, State},
};
use monasca::types::{Envelope, NotificationMethodType};

use crate::{
    MonascaState,
    v2_0::{BaseUrl, Tenant, params::Query},
};

pub(super) async fn types(
    _: Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Json<Envelope<NotificationMethodType>> {
    let q = Query::parse(raw.as_deref());
    Json(Envelope {
        links: q.links(&base.url(), None),
        elements: state
            .notifications
            .types
            .iter()
            .map(|t| NotificationMethodType { kind: t.clone() })
            .collect(),
    })
}
