//! Operations on `/v2.0/notification-methods`.

use http::Method;
use serde_json::Value;

use crate::{
    Endpoint,
    types::{
        DeliveryAttempt, Envelope, NotificationMethod, NotificationMethodRequest,
        NotificationMethodType, NotificationTest,
    },
};

use client_core::{Result, json_body as json};

/// `POST /notification-methods`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateNotificationMethod(pub NotificationMethodRequest);

impl Endpoint for CreateNotificationMethod {
    type Output = NotificationMethod;
    fn method(&self) -> Method {
        Method::POST
    }
    fn path(&self) -> String {
        "notification-methods".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>> {
        json(&self.0)
    }
}

/// `GET /notification-methods`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct ListNotificationMethods {
    sort_by: Option<String>,
    limit: Option<usize>,
    offset: Option<String>,
}

impl ListNotificationMethods {
    pub fn new() -> Self {
        Self::default()
    }
    /// `field [asc|desc],...`
    pub fn sort_by(mut self, s: impl Into<String>) -> Self {
        self.sort_by = Some(s.into());
        self
    }
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }
    pub fn offset(mut self, o: impl Into<String>) -> Self {
        self.offset = Some(o.into());
        self
    }
}

impl Endpoint for ListNotificationMethods {
    type Output = Envelope<NotificationMethod>;
    fn path(&self) -> String {
        "notification-methods".into()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(l) = self.limit {
            q.push(("limit", l.to_string()));
        }
        if let Some(o) = &self.offset {
            q.push(("offset", o.clone()));
        }
        if let Some(s) = &self.sort_by {
            q.push(("sort_by", s.clone()));
        }
        q
    }
}

/// `GET /notification-methods/{id}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetNotificationMethod(pub String);

impl Endpoint for GetNotificationMethod {
    type Output = NotificationMethod;
    fn path(&self) -> String {
        format!("notification-methods/{}", self.0)
    }
}

crate::request::update_endpoint!(
    /// `PUT /notification-methods/{id}` (every field) or `PATCH` (some fields).
    UpdateNotificationMethod,
    NotificationMethod,
    Value,
    "notification-methods"
);

/// `DELETE /notification-methods/{id}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteNotificationMethod(pub String);

impl Endpoint for DeleteNotificationMethod {
    type Output = ();
    fn method(&self) -> Method {
        Method::DELETE
    }
    fn path(&self) -> String {
        format!("notification-methods/{}", self.0)
    }
    fn ignores_body(&self) -> bool {
        true
    }
}

/// `GET /notification-methods/types`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListNotificationMethodTypes;

impl Endpoint for ListNotificationMethodTypes {
    type Output = Envelope<NotificationMethodType>;
    fn path(&self) -> String {
        "notification-methods/types".into()
    }
}

/// `POST /notification-methods/{id}/test` (a Vigil extension): queues a test notification
/// through the method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestNotificationMethod(pub String);

impl Endpoint for TestNotificationMethod {
    type Output = NotificationTest;
    fn method(&self) -> Method {
        Method::POST
    }
    fn path(&self) -> String {
        format!("notification-methods/{}/test", self.0)
    }
}

/// `GET /notification-methods/{id}/deliveries` (a Vigil extension): the method's latest
/// delivery attempts, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListDeliveries {
    pub id: String,
    pub limit: Option<usize>,
}

impl Endpoint for ListDeliveries {
    type Output = Envelope<DeliveryAttempt>;
    fn path(&self) -> String {
        format!("notification-methods/{}/deliveries", self.id)
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        self.limit
            .map(|l| vec![("limit", l.to_string())])
            .unwrap_or_default()
    }
}
