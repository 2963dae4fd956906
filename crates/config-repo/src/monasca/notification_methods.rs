//! Notification methods: where alarm actions send.

use async_trait::async_trait;
use monasca::types::NotificationType;

use crate::RepoResult;

/// A tenant's notification method as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationMethod {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub kind: NotificationType,
    pub address: String,
    /// Seconds between repeats of a webhook (0: once).
    pub period: i64,
}

/// What a notification-method list may be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationMethodSort {
    Id,
    Name,
    Type,
    Address,
    UpdatedAt,
    CreatedAt,
}

impl NotificationMethodSort {
    /// The field by its API name (`id`, `name`, `type`, `address`, `updated_at`, `created_at`).
    pub fn from_field(field: &str) -> Option<Self> {
        Some(match field {
            "id" => Self::Id,
            "name" => Self::Name,
            "type" => Self::Type,
            "address" => Self::Address,
            "updated_at" => Self::UpdatedAt,
            "created_at" => Self::CreatedAt,
            _ => return None,
        })
    }
}

/// Where a page starts and how long it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    pub offset: usize,
    pub limit: usize,
}

/// A page of records and whether more follow it.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub more: bool,
}

/// The notification methods of every tenant.
#[async_trait]
pub trait NotificationMethodRepo: Send + Sync {
    /// Stores a new method.
    ///
    /// # Errors
    /// [`RepoError::Conflict`](crate::RepoError::Conflict) if the tenant has a method of that
    /// name.
    async fn create(&self, method: NotificationMethod) -> RepoResult<()>;

    /// The tenant's method `id`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`](crate::RepoError::NotFound) if the tenant has none such.
    async fn get(&self, tenant: &str, id: &str) -> RepoResult<NotificationMethod>;

    /// A page of the tenant's methods in `sort` order, then by id.
    async fn list(
        &self,
        tenant: &str,
        sort: &[(NotificationMethodSort, bool)],
        paging: Paging,
    ) -> RepoResult<Page<NotificationMethod>>;

    /// Replaces the stored method with the same tenant and id.
    ///
    /// # Errors
    /// `Conflict` if another method of the tenant has the name (checked first), `NotFound`
    /// if there is no such method.
    async fn update(&self, method: NotificationMethod) -> RepoResult<()>;

    /// Deletes the method, and the actions naming it.
    ///
    /// # Errors
    /// `NotFound` if the tenant has no such method.
    async fn delete(&self, tenant: &str, id: &str) -> RepoResult<()>;
}

/// The conflict a taken name causes; `other` names the holder on update, as upstream says it.
pub fn method_name_taken(name: &str, other: Option<&str>) -> crate::RepoError {
    crate::RepoError::Conflict(match other {
        None => format!("A notification method with the name {name} already exists"),
        Some(o) => format!("A notification method with name {name} already exists with id {o}"),
    })
}
