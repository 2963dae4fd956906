//! `POST /v2.0/notification-methods/{id}/test` (a Vigil extension): queues a test
//! notification through the method, as if an alarm of the tenant had gone to ALARM; its
//! attempts show under `deliveries`.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use config_repo::outbox::{NewDelivery, Receiver, Source};
use monasca::types::{AlarmState, AlarmTransitionedEvent, NotificationTest, Severity};
use serde_json::Value;

use crate::{MonascaState, error::ApiError, new_id, v2_0::Tenant};

pub(super) async fn send_test(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<NotificationTest>), ApiError> {
    let m = state.repos.notification_methods.get(&tenant, &id).await?;
    let now = state.alarms.now_ms();
    let event = AlarmTransitionedEvent {
        tenant_id: tenant.clone(),
        alarm_id: format!("test-{}", new_id()),
        alarm_definition_id: "test".into(),
        alarm_name: format!("Test notification through {}", m.name),
        alarm_description: "A test notification sent on request; no alarm changed state.".into(),
        old_state: AlarmState::Ok,
        new_state: AlarmState::Alarm,
        actions_enabled: true,
        state_change_reason: "Test notification requested through the API".into(),
        severity: Severity::Low,
        link: None,
        lifecycle_state: None,
        metrics: Vec::new(),
        sub_alarms: Vec::new(),
        timestamp: now,
    };
    let event = serde_json::to_value(&event)
        .map_err(|e| config_repo::RepoError::Storage(format!("cannot encode an event: {e}")))?;
    let event_id = new_id();
    let n = &state.notifications;
    n.outbox
        .enqueue(NewDelivery {
            event_id: event_id.clone(),
            source: Source::Monasca,
            tenant,
            receiver: Receiver {
                id: m.id.clone(),
                name: m.name,
                kind: m.kind.to_string(),
                address: m.address,
                options: Value::Null,
                // A test is sent once, whatever the method's period.
                period_s: 0,
            },
            event,
            test: true,
            created_ms: now,
        })
        .await?;
    (n.wake)();
    Ok((
        StatusCode::ACCEPTED,
        Json(NotificationTest {
            notification_method_id: m.id,
            event_id,
        }),
    ))
}
