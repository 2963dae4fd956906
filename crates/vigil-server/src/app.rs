//! The server as a library: state, router, and a runner that tests start on `127.0.0.1:0`.

use std::{future::Future, net::SocketAddr, sync::Arc};

use alarm_engine::{Clock, ManualClock, SystemClock};
use anyhow::Context;
use axum::Router;
use axum::ServiceExt;
use axum::extract::Request;
use axum::serve::ListenerExt;
use metric_store::{EmbeddedOptions, EmbeddedStore, MetricStore};
use metric_store_clickhouse::ClickHouseStore;
use monasca_api::MonascaState;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tower::Layer;
use tower_http::{
    catch_panic::CatchPanicLayer, normalize_path::NormalizePathLayer, trace::TraceLayer,
};

use crate::{
    alarms::Alarming,
    config::{ConfigDb, MetricStoreKind, Settings},
    identity::{AuthMode, Identity, keystone::KeystoneValidator},
};

/// What the server composes: each API gets its own part and builds its routes over it.
#[derive(Clone)]
pub struct AppState {
    pub telemetry: Arc<vigil_http::telemetry::Telemetry>,
    /// The Sysdig Monitor API emulation (`sysdig.db`).
    pub sysdig: sysdig_api::SysdigState,
    /// What the Monasca API reaches.
    pub monasca: MonascaState,
    /// The Prometheus HTTP API (PromQL over the same store).
    pub prometheus: prometheus_api::PrometheusState,
}

/// Every API Vigil serves.
pub fn router(state: AppState) -> Router {
    let id = &state.monasca.identity;
    let identity = (id.mode == AuthMode::Identity).then_some(id.prefix.as_str());
    let metrics = Router::new()
        .route(
            "/metrics",
            axum::routing::get(vigil_http::telemetry::scrape),
        )
        .with_state(state.telemetry.clone());
    // Inside the router so the matched route pattern is known to the middleware.
    let tracked =
        axum::middleware::from_fn_with_state(state.telemetry.clone(), vigil_http::telemetry::track);
    monasca_api::service(state.monasca.clone(), identity)
        // Sysdig Monitor API + IBM IAM emulation (`/api/...`, `/identity/token`, `/vigil/sysdig/...`).
        .merge(sysdig_api::service(state.sysdig.clone()))
        .merge(prometheus_api::service(state.prometheus.clone()))
        .merge(metrics)
        .route_layer(tracked)
        .layer(CatchPanicLayer::custom(|_| {
            // A panic is a bug; still answer in the API's own error shape.
            monasca_api::ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                "An unexpected error occurred",
            )
            .into_response_owned()
        }))
        .layer(TraceLayer::new_for_http())
}

/// Opens the store in `settings.data_dir` and serves on `listener` until `shutdown`
/// completes; then finishes in-flight requests and closes the store cleanly.
///
/// # Errors
/// The store cannot be opened or closed, or the listener fails.
pub async fn serve(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let clock = settings_clock(&settings);
    serve_with_clock(settings, listener, shutdown, clock).await
}

/// The clock `settings` ask for: the system's, or one frozen by `[engine] frozen_clock_ms`.
fn settings_clock(settings: &Settings) -> Arc<dyn Clock> {
    match settings.frozen_clock_ms {
        Some(ms) => Arc::new(ManualClock::new(ms)),
        None => Arc::new(SystemClock),
    }
}

/// [`serve`] with the threshold engine reading `clock` (tests move it by hand).
///
/// # Errors
/// As [`serve`].
pub async fn serve_with_clock(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<()> {
    serve_inner(settings, listener, shutdown, clock, None).await
}

/// The measurement store `settings` ask for: the embedded one in the data directory, or
/// ClickHouse.
async fn open_metric_store(settings: &Settings) -> anyhow::Result<Arc<dyn MetricStore>> {
    Ok(match settings.metric_store {
        MetricStoreKind::Embedded => {
            let options = EmbeddedOptions {
                retention: settings.retention,
                ..EmbeddedOptions::default()
            };
            let store = EmbeddedStore::open_with(&settings.data_dir, options)
                .await
                .with_context(|| {
                    format!(
                        "cannot open the metric store in {}",
                        settings.data_dir.display()
                    )
                })?;
            Arc::new(store)
        }
        MetricStoreKind::ClickHouse => {
            let store = ClickHouseStore::open(settings.clickhouse.clone())
                .await
                .with_context(|| {
                    format!(
                        "cannot open the ClickHouse metric store (database {} at {})",
                        settings.clickhouse.database,
                        settings.clickhouse.urls.join(", ")
                    )
                })?;
            tracing::info!(
                urls = ?settings.clickhouse.urls,
                database = %settings.clickhouse.database,
                "measurements in ClickHouse"
            );
            Arc::new(store)
        }
    })
}

/// [`serve_with_clock`], telling `ready` once the stores are open and requests are served.
async fn serve_inner(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    clock: Arc<dyn Clock>,
    ready: Option<oneshot::Sender<()>>,
) -> anyhow::Result<()> {
    // Held until this function returns: a second server (or `vigil compact`) on the same
    // directory would interleave writes with ours.
    let _lock = lock_data_dir(&settings.data_dir)?;
    let store = open_metric_store(&settings).await?;
    // One pool for every repository on PostgreSQL; its schema is migrated here, before use.
    let postgres = match &settings.config_db {
        ConfigDb::Sqlite => None,
        ConfigDb::Postgres(pg) => Some(
            config_repo_postgres::PgDb::open(pg)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("cannot open the PostgreSQL config database")?,
        ),
    };
    let alarms = Alarming::open(
        &settings.data_dir,
        postgres.as_ref(),
        store.clone(),
        clock,
        settings.engine.clone(),
        crate::alarms::NodeAddress {
            advertise_url: settings.advertise_url.as_deref(),
            bound: listener.local_addr()?,
        },
    )
    .await
    .context("cannot load alarms")?;
    // With shared evaluation: the first round (a node alone takes every definition) before
    // serving, then one a second.
    let rounds = match &alarms.cluster {
        Some(c) => Some(
            c.member
                .start()
                .await
                .context("cannot join alarm evaluation")?,
        ),
        None => None,
    };
    let cluster_routes = alarms.cluster_router();
    let member = alarms.cluster.as_ref().map(|c| c.member.clone());
    let ticker = alarms.engine.spawn_ticker();
    let mut identity = Identity::new(
        settings.auth,
        settings.identity_prefix.clone(),
        settings.users.clone(),
        settings.token_ttl,
    );
    if let (AuthMode::Keystone, Some(k)) = (settings.auth, &settings.keystone) {
        identity = identity.with_keystone(KeystoneValidator::new(k)?);
    }
    // Nodes sharing a database accept each other's tokens and application credentials.
    if let Some(db) = &postgres {
        identity = identity.with_stores(
            Arc::new(config_repo_postgres::identity::PgTokens::new(db.clone())),
            Arc::new(config_repo_postgres::identity::PgAppCredentials::new(
                db.clone(),
            )),
        );
    }
    let identity = Arc::new(identity);
    let sysdig = match &postgres {
        None => {
            sysdig_api::SysdigState::open(
                &settings.data_dir,
                settings.sysdig.clone(),
                settings.max_body_bytes,
            )
            .await
        }
        Some(db) => {
            let repo = config_repo_postgres::sysdig::PgSysdigRepo::new(db.clone());
            sysdig_api::SysdigState::open_with_repo(
                &settings.data_dir,
                Arc::new(repo.clone()),
                Arc::new(repo.outbox()),
                "the PostgreSQL config database",
                settings.sysdig.clone(),
                settings.max_body_bytes,
            )
            .await
        }
    }
    .context("cannot open the Sysdig store")?
    .with_metrics(store.clone());
    let mut telemetry = vigil_http::telemetry::Telemetry::new();
    let notifier = notification_engine::Notifier::start(
        vec![alarms.outbox.clone(), sysdig.delivery.outbox.clone()],
        settings.notifications.clone(),
        telemetry.registry_mut(),
    )
    .context("cannot start notification delivery")?;
    let wake: config_repo::outbox::Wake = {
        let n = notifier.clone();
        Arc::new(move || n.wake())
    };
    let check_address: config_repo::outbox::AddressCheck = {
        let n = notifier.clone();
        Arc::new(move |kind, address| n.check_monasca_address(kind, address))
    };
    let check_options: config_repo::outbox::OptionsCheck = {
        let n = notifier.clone();
        Arc::new(move |kind, options| n.check_sysdig_options(kind, options))
    };
    let sysdig = sysdig.with_delivery(check_options, wake.clone());
    // Transitions the threshold engine commits queued their deliveries in the same write.
    let waker = {
        let mut transitions = alarms.engine.subscribe();
        let wake = wake.clone();
        tokio::spawn(async move {
            loop {
                match transitions.recv().await {
                    Ok(t) if t.actions_enabled && !t.actions.is_empty() => wake(),
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => wake(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        })
    };
    let promql = promql_engine::Engine::new(store.clone(), settings.promql.clone());
    let sysdig_alerts = alarm_engine::sysdig_alerts::spawn(
        sysdig.repo.clone(),
        store.clone(),
        promql.clone(),
        settings.sysdig.alert_tenants.clone(),
        settings.sysdig.alert_interval,
        wake.clone(),
    );
    tracing::info!(auth = ?settings.auth, "authentication");
    let ingested = telemetry.counter(
        "ingested_points",
        "Measurements acknowledged by POST /v2.0/metrics",
    );
    crate::store_metrics::register(&mut telemetry, store.clone());
    crate::engine_metrics::register(&mut telemetry, alarms.engine.clone());
    if let Some(c) = &alarms.cluster {
        c.register_metrics(&mut telemetry);
    }
    vigil_http::process_metrics::register(&mut telemetry);
    let alarm_outbox = alarms.outbox.clone();
    let monasca = MonascaState {
        store: store.clone(),
        repos: alarms.repos.clone(),
        identity,
        alarms: Arc::new(alarms),
        max_body_bytes: settings.max_body_bytes,
        series_keys: Arc::default(),
        group_cache: Arc::default(),
        ingested: Arc::new(move |n| {
            ingested.inc_by(n as u64);
        }),
        notifications: monasca_api::Notifications {
            outbox: alarm_outbox,
            types: {
                // Listed by name, as upstream's table of types reads.
                let mut types = notifier.monasca_types();
                types.sort_by(|a, b| a.as_str().cmp(b.as_str()));
                types.into()
            },
            check_address,
            wake: wake.clone(),
        },
    };
    let prometheus = prometheus_api::PrometheusState {
        engine: promql,
        identity: monasca.identity.clone(),
        sysdig: sysdig.clone(),
    };
    let state = AppState {
        telemetry: Arc::new(telemetry),
        sysdig,
        monasca,
        prometheus,
    };
    tracing::info!(addr = %listener.local_addr()?, "vigil listening");
    // falcon ignores a trailing slash (the real CLI's alarm-history-list sends one): trim it
    // before routing.
    let mut routes = router(state);
    if let Some(r) = cluster_routes {
        routes = routes.merge(r);
    }
    let app = NormalizePathLayer::trim_trailing_slash().layer(routes);
    if let Some(r) = ready {
        let _ = r.send(());
    }
    // Answers go out at once rather than waiting on Nagle's algorithm for the client's ACK of
    // an earlier write (a response written in more than one piece).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, ServiceExt::<Request>::into_make_service(app))
        .with_graceful_shutdown(shutdown)
        .await
        .context("server failed")?;
    ticker.abort();
    waker.abort();
    if let Some(r) = rounds {
        r.abort();
    }
    if let Some(m) = member {
        m.leave().await;
    }
    if let Some(t) = sysdig_alerts {
        t.abort();
    }
    notifier.shutdown().await;
    store.close().await.context("closing the metric store")?;
    tracing::info!("requests finished and stores closed");
    Ok(())
}

/// Takes `DIR/vigil.lock` for this process, creating `DIR` if needed; the lock goes with the
/// returned file (and with the process, however it ends).
///
/// # Errors
/// The directory cannot be created, or another process holds the lock.
pub fn lock_data_dir(dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    let path = dir.join("vigil.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "the data directory {} is in use by another vigil process ({} is locked)",
            dir.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// A server running in a background task.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Binds `settings.bind` (port 0 for an ephemeral one) and starts serving; returns once
    /// the stores are open and requests are being served.
    ///
    /// # Errors
    /// The address cannot be bound, or the server cannot start (the data directory is in use,
    /// a store cannot be opened).
    pub async fn start(settings: Settings) -> anyhow::Result<Self> {
        let clock = settings_clock(&settings);
        Self::start_with_clock(settings, clock).await
    }

    /// [`Running::start`] with the threshold engine reading `clock`.
    ///
    /// # Errors
    /// As [`Running::start`].
    pub async fn start_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("cannot bind {}", settings.bind))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let (ready, is_ready) = oneshot::channel();
        let task = tokio::spawn(serve_inner(
            settings,
            listener,
            async {
                let _ = stopped.await;
            },
            clock,
            Some(ready),
        ));
        if is_ready.await.is_err() {
            // The server ended before serving: its error says why.
            return match task.await.context("server task panicked")? {
                Err(e) => Err(e),
                Ok(()) => Err(anyhow::anyhow!("the server stopped before it was ready")),
            };
        }
        Ok(Self {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful shutdown; returns the server's result.
    ///
    /// # Errors
    /// What the server returned, or a panic in its task.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        (&mut self.task).await.context("server task panicked")?
    }
}
