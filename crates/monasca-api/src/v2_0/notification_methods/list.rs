//! `GET /v2.0/notification-methods`.

use axum::{
    Json,
    extract::{RawQuery, State},
};
use config_repo::monasca::{NotificationMethodSort, Paging};
use monasca::types::{Envelope, NotificationMethod};

use super::{SORT_FIELDS, collection, to_wire};
use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant, params::Query},
};

pub(super) async fn list(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<NotificationMethod>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let sort: Vec<_> = q
        .sort_by(&SORT_FIELDS)?
        .into_iter()
        .filter_map(|(f, desc)| NotificationMethodSort::from_field(&f).map(|f| (f, desc)))
        .collect();
    let offset = q.row_offset()?;
    let limit = q.limit()?;
    let page = state
        .repos
        .notification_methods
        .list(&tenant, &sort, Paging { offset, limit })
        .await?;
    let coll = collection(&base);
    Ok(Json(Envelope {
        links: q.row_links(&base.url(), offset, limit, page.more),
        elements: page.items.into_iter().map(|m| to_wire(&coll, m)).collect(),
    }))
}
