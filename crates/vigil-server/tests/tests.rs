//! Integration tests: the real server on 127.0.0.1:0, driven by the real client and binary.
//! Laid out like the routes; the test of an endpoint is in the file of its resource:
//!
//! | routes | file |
//! |---|---|
//! | `POST/GET /v2.0/metrics`, `…/measurements`, `…/statistics`, `…/names`, `…/dimensions/…`, `GET /`, `/v2.0`, `/healthcheck`, `GET /metrics` (Prometheus) | `monasca/metrics.rs` |
//! | rejected metric bodies and query parameters of those routes | `monasca/bad_input.rs` |
//! | upstream's exact behaviour where it is odd: empty names, `actions_enabled` strings, `match_by` changes, paging ids of `group_by`, old timestamps, `WWW-Authenticate` | `monasca/conformance.rs` |
//! | `/v2.0/notification-methods` (+ `/types`) | `monasca/notification_methods.rs` |
//! | `/v2.0/alarm-definitions`, `/v2.0/alarms`, `…/count`, `…/state-history`, the threshold engine | `monasca/alarms.rs` |
//! | `/identity/v3/…` (Keystone subset), roles and projects on every Monasca route, `--auth keystone` | `monasca/identity.rs` |
//! | `/api/…` (Sysdig Monitor: users, teams, tokens, channels, alerts, notifications, dashboards, events, agents), `/identity/token` (IBM IAM), `/vigil/sysdig/…` over raw HTTP: tokens and IAM in `sysdig/monitor.rs`; teams, users and team-owned objects in `sysdig/monitor/objects.rs`; alert evaluation and injected faults in `sysdig/monitor/alerts.rs` | `sysdig/monitor*` |
//! | the older Monitor APIs sdcclient still calls: dashboards v2, events v1, agents config, access keys, explore grouping, data retention; unknown `/api/…` paths | `sysdig/monitor/legacy.rs` |
//! | the same through the `sysdig` client crate: every resource, token and IBM IAM auth, retries | `sysdig/client_api.rs`, `sysdig/client_auth.rs` |
//! | notification delivery: alarm actions and Sysdig channels to real receivers, `…/test`, `…/deliveries`, URL policy | `notifications/monasca.rs`, `notifications/sysdig.rs` |
//! | `/api/v1/query`, `…/query_range`, `…/series`, `…/labels`, `…/label/{name}/values`, `…/metadata`, `…/format_query`, `…/status/buildinfo` (Prometheus HTTP API, Monasca tokens) and the same under `/prometheus/api/v1` (Sysdig tokens) | `prometheus/api.rs` |
//! | the binary: `kill -9`, SIGTERM, the data directory lock, `vigil compact` | `server/durability.rs` |
//! | `--metric-store clickhouse`: two nodes over one ClickHouse (with `VIGIL_TEST_CLICKHOUSE_URL`, which also moves every in-process server's measurements to ClickHouse) | `server/clickhouse.rs` |
//! | the binary's logs, `vigil completion`, `vigil man` | `server/logs.rs` |
//! | `--config-db postgres://…`: two nodes over one PostgreSQL | `server/postgres.rs` |
//!
//! With `VIGIL_TEST_CONFIG_DB=postgres` every server keeps its configuration in PostgreSQL (a
//! throwaway server the kit starts), so the whole suite runs against that backend too.
//!
//! Request building (query strings, bodies) is tested in the client crates; repository rules
//! in config-repo's conformance suites; the engine on a manual clock in alarm-engine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod kit;
mod monasca;
mod notifications;
mod prometheus;
mod server;
mod sysdig;
