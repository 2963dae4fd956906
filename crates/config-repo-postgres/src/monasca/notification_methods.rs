//! `notification_method` rows.

use async_trait::async_trait;
use config_repo::{
    RepoError, RepoResult,
    monasca::{
        NotificationMethod, NotificationMethodRepo, NotificationMethodSort, Page, Paging,
        method_name_taken, rows,
    },
    now_ms,
};
use postgres::{GenericClient, Row};

use super::PgMonasca;
use crate::{PgResultExt, error::col};

fn column(sort: NotificationMethodSort) -> &'static str {
    match sort {
        NotificationMethodSort::Id => "id",
        NotificationMethodSort::Name => "name",
        NotificationMethodSort::Type => "type",
        NotificationMethodSort::Address => "address",
        NotificationMethodSort::UpdatedAt => "updated_at",
        NotificationMethodSort::CreatedAt => "created_at",
    }
}

fn row(tenant: &str, r: &Row) -> RepoResult<NotificationMethod> {
    Ok(NotificationMethod {
        id: col(r, 0)?,
        tenant: tenant.to_string(),
        name: col(r, 1)?,
        kind: col::<String>(r, 2)?.into(),
        address: col(r, 3)?,
        period: col(r, 4)?,
    })
}

fn named(
    c: &mut impl GenericClient,
    tenant: &str,
    name: &str,
    except: Option<&str>,
) -> RepoResult<Option<String>> {
    c.query_opt(
        "SELECT id FROM notification_method WHERE tenant_id = $1 AND name = $2 AND id != $3",
        &[&tenant, &name, &except.unwrap_or("")],
    )
    .pg()?
    .map(|r| col(&r, 0))
    .transpose()
}

#[async_trait]
impl NotificationMethodRepo for PgMonasca {
    async fn create(&self, m: NotificationMethod) -> RepoResult<()> {
        self.locked_tx(move |tx| {
            if named(tx, &m.tenant, &m.name, None)?.is_some() {
                return Err(method_name_taken(&m.name, None));
            }
            tx.execute(
                "INSERT INTO notification_method \
                 (id, tenant_id, name, type, address, period, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                &[
                    &m.id,
                    &m.tenant,
                    &m.name,
                    &m.kind.as_str(),
                    &m.address,
                    &m.period,
                    &now_ms(),
                ],
            )
            .pg()?;
            Ok(())
        })
        .await
    }

    async fn get(&self, tenant: &str, id: &str) -> RepoResult<NotificationMethod> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.call(move |c| {
            let found = c
                .query_opt(
                    "SELECT id, name, type, address, period FROM notification_method \
                     WHERE tenant_id = $1 AND id = $2",
                    &[&tenant, &id],
                )
                .pg()?;
            match found {
                Some(r) => row(&tenant, &r),
                None => Err(RepoError::NotFound(format!("notification method {id}"))),
            }
        })
        .await
    }

    async fn list(
        &self,
        tenant: &str,
        sort: &[(NotificationMethodSort, bool)],
        paging: Paging,
    ) -> RepoResult<Page<NotificationMethod>> {
        let sql = format!(
            "SELECT id, name, type, address, period FROM notification_method \
             WHERE tenant_id = $1 ORDER BY {} LIMIT $2 OFFSET $3",
            rows::order_by(sort, column, NotificationMethodSort::Id)
        );
        let tenant = tenant.to_string();
        let limit = i64::try_from(paging.limit).unwrap_or(i64::MAX - 1);
        let offset = i64::try_from(paging.offset).unwrap_or(i64::MAX);
        let mut items = self
            .call(move |c| {
                c.query(&sql, &[&tenant, &(limit + 1), &offset])
                    .pg()?
                    .iter()
                    .map(|r| row(&tenant, r))
                    .collect::<RepoResult<Vec<_>>>()
            })
            .await?;
        let more = items.len() > paging.limit;
        items.truncate(paging.limit);
        Ok(Page { items, more })
    }

    async fn update(&self, m: NotificationMethod) -> RepoResult<()> {
        self.locked_tx(move |tx| {
            if let Some(other) = named(tx, &m.tenant, &m.name, Some(&m.id))? {
                return Err(method_name_taken(&m.name, Some(&other)));
            }
            let n = tx
                .execute(
                    "UPDATE notification_method SET name = $1, type = $2, address = $3, \
                     period = $4, updated_at = $5 WHERE tenant_id = $6 AND id = $7",
                    &[
                        &m.name,
                        &m.kind.as_str(),
                        &m.address,
                        &m.period,
                        &now_ms(),
                        &m.tenant,
                        &m.id,
                    ],
                )
                .pg()?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("notification method {}", m.id)));
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, tenant: &str, id: &str) -> RepoResult<()> {
        super::delete_owned(
            self,
            "notification_method",
            "notification method",
            tenant,
            id,
        )
        .await
    }
}
