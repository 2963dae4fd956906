//! The Sysdig Monitor API: customer-wide records (users, teams), the caller's own view and
//! tokens, and team-owned objects (notification channels, alerts and their notifications,
//! dashboards, events); customer-wide settings (agents configuration, access keys) and the
//! Explore grouping live in repository settings (`meta`).

pub mod access_keys;
pub mod agents;
pub mod alerts;
pub mod channel_delivery;
pub mod channels;
pub mod dashboards;
pub mod data;
pub mod events;
pub mod explore;
pub mod owned;
pub mod record;
pub mod teams;
pub mod user;
pub mod users;
pub mod wire;

use axum::{
    Router,
    extract::FromRef,
    routing::{get, post, put},
};
use config_repo::sysdig::{Team, User};

use crate::SysdigState;
use alerts::Alert;
use channels::Channel;
use dashboards::Dashboard;
use events::Event;

/// The Monitor API routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    SysdigState: FromRef<S>,
{
    Router::new()
        .route("/api/user/me", get(user::me))
        .route("/api/agents/connected", get(agents::connected))
        .route(
            "/api/agents/config",
            get(agents::config).put(agents::set_config),
        )
        .route(
            "/api/customer/accessKeys",
            get(access_keys::list).post(access_keys::create),
        )
        .route("/api/customer/accessKeys/{key}", put(access_keys::update))
        .route(
            "/api/customer/accessKeys/{key}/enable",
            post(access_keys::enable),
        )
        .route(
            "/api/customer/accessKeys/{key}/disable",
            post(access_keys::disable),
        )
        .route("/api/groupConfigurations", get(explore::list))
        .route("/api/groupConfigurations/explore", put(explore::set))
        .route("/api/history/timelines", get(explore::timelines))
        .route("/api/users/me", get(user::me))
        .route("/api/token", get(user::token))
        .route("/api/token/{username}/{team}", get(user::token_of))
        .route("/api/users", get(users::list).post(users::create::invite))
        .route("/api/user/provisioning", post(users::create::provision))
        .route(
            "/api/users/{id}",
            get(record::get::<User>)
                .put(users::update::update)
                .delete(record::delete::<User>),
        )
        .route("/api/teams", get(teams::list).post(teams::create::create))
        .route(
            "/api/teams/{id}",
            get(record::get::<Team>)
                .put(teams::update::update)
                .delete(record::delete::<Team>),
        )
        .route("/api/v2/teams/light/name/{name}", get(teams::by_name))
        .route(
            "/api/notificationChannels",
            get(channels::list).post(channel_delivery::create),
        )
        .route(
            "/api/notificationChannels/{id}",
            get(owned::get::<Channel>)
                .put(channel_delivery::update)
                .delete(owned::delete::<Channel>),
        )
        .route("/api/data", axum::routing::post(data::query))
        .route("/api/data/metrics", get(data::catalogue))
        .route(
            "/api/notificationChannels/{id}/test",
            axum::routing::post(channel_delivery::send_test),
        )
        .route(
            "/api/notificationChannels/{id}/deliveries",
            get(channel_delivery::deliveries),
        )
        .route(
            "/api/alerts",
            get(alerts::list).post(owned::create::<Alert>),
        )
        .route(
            "/api/alerts/{id}",
            get(owned::get::<Alert>)
                .put(owned::update::<Alert>)
                .delete(owned::delete::<Alert>),
        )
        .route("/api/notifications", get(alerts::notifications::list))
        .route(
            "/api/notifications/{id}",
            put(alerts::notifications::resolve),
        )
        .route(
            "/api/v3/dashboards",
            get(dashboards::list::list).post(owned::create::<Dashboard>),
        )
        .route(
            "/api/v3/dashboards/templates",
            get(dashboards::templates::list),
        )
        .route(
            "/api/v3/dashboards/templates/{id}",
            get(dashboards::templates::get),
        )
        .route(
            "/api/v3/dashboards/{id}",
            get(owned::get::<Dashboard>)
                .put(owned::update::<Dashboard>)
                .patch(dashboards::patch::patch)
                .delete(dashboards::delete::delete),
        )
        .route(
            "/api/v2/dashboards",
            get(dashboards::v2::list).post(owned::create::<dashboards::v2::DashboardV2>),
        )
        .route(
            "/api/v2/dashboards/{id}",
            get(owned::get::<dashboards::v2::DashboardV2>)
                .put(owned::update::<dashboards::v2::DashboardV2>)
                .delete(dashboards::delete::delete),
        )
        .route("/api/v2/defaultDashboards", get(dashboards::v2::views))
        .route("/api/v2/defaultDashboards/{id}", get(dashboards::v2::view))
        .route(
            "/api/v2/events",
            get(events::list::list).post(events::create::create),
        )
        .route(
            "/api/v2/events/{id}",
            get(owned::get::<Event>).delete(owned::delete::<Event>),
        )
        .route(
            "/api/events",
            get(events::v1::list).post(events::v1::create),
        )
        .route(
            "/api/events/{id}",
            get(owned::get::<events::v1::EventV1>).delete(owned::delete::<Event>),
        )
}

/// Any other `/api/...` path: a caller with valid credentials learns that nothing is there
/// (the `Caller` extractor answers the 401 of everyone else).
pub async fn unknown_path(_caller: crate::auth::Caller, uri: axum::http::Uri) -> crate::SdcError {
    crate::SdcError::not_found(format!("No resource at {}", uri.path()))
}
