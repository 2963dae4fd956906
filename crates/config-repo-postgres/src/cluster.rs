//! [`EvaluationLeases`] in PostgreSQL: `engine_node` (membership by heartbeat), `engine_lease`
//! (a row per definition, made by the definition's insert trigger) and `engine_change` (the
//! API's changes, logged by triggers). Times are the database's clock, so nodes' clocks need
//! not agree.
//!
//! A round is one transaction. Claims take rows `FOR UPDATE SKIP LOCKED`, and a write batch of
//! the threshold engine, before its first write of a definition's alarms, locks that
//! definition's live lease row `FOR SHARE` until it commits ([`crate::threshold`]): a claim
//! never waits for, and never takes over under, a batch in flight, so the new holder loads the
//! alarms after the old holder's last write.

use config_repo::{
    RepoResult,
    monasca::cluster::{CHANGE_HORIZON_S, Change, EvaluationLeases, LeaseRound, NodeInfo},
};
use postgres::Transaction;

use crate::{PgDb, PgResultExt, error::col};

/// The leases of the Monasca definitions in `db`.
#[derive(Clone, Debug)]
pub struct PgEvaluationLeases {
    db: PgDb,
}

impl PgEvaluationLeases {
    pub fn new(db: PgDb) -> Self {
        Self { db }
    }
}

/// Old change rows and long-dead nodes are dropped by a round now and then.
const CLEANUP_EVERY: u64 = 60;

fn ids(rows: &[postgres::Row]) -> RepoResult<Vec<String>> {
    rows.iter().map(|r| col(r, 0)).collect()
}

/// This round's share: definitions over live nodes, rounded up.
fn fair_share(definitions: i64, live: i64) -> i64 {
    let live = live.max(1);
    (definitions + live - 1) / live
}

/// Nodes whose heartbeat has not lapsed.
fn live_nodes(tx: &mut Transaction<'_>) -> RepoResult<i64> {
    col(
        &tx.query_one(
            "SELECT count(*) FROM engine_node WHERE alive_until > now()",
            &[],
        )
        .pg()?,
        0,
    )
}

fn round_in(tx: &mut Transaction<'_>, node: &NodeInfo, lease_s: f64) -> RepoResult<LeaseRound> {
    tx.execute(
        "INSERT INTO engine_node (node_id, url, alive_until) \
         VALUES ($1, $2, now() + make_interval(secs => $3)) \
         ON CONFLICT (node_id) DO UPDATE SET url = EXCLUDED.url, alive_until = EXCLUDED.alive_until",
        &[&node.id, &node.url, &lease_s],
    )
    .pg()?;
    // A lapsed lease is not renewed: someone may have claimed it, and this node has dropped
    // what it knew of the definition.
    let mut held = ids(&tx
        .query(
            "UPDATE engine_lease SET lease_until = now() + make_interval(secs => $2) \
             WHERE node_id = $1 AND lease_until > now() RETURNING definition_id",
            &[&node.id, &lease_s],
        )
        .pg()?)?;
    held.sort();
    let live = live_nodes(tx)?;
    let total: i64 = col(
        &tx.query_one("SELECT count(*) FROM engine_lease", &[])
            .pg()?,
        0,
    )?;
    let share = usize::try_from(fair_share(total, live)).unwrap_or(usize::MAX);
    if held.len() > share {
        let extra = held.split_off(share);
        tx.execute(
            "UPDATE engine_lease SET node_id = NULL, lease_until = '-infinity' \
             WHERE node_id = $1 AND definition_id = ANY($2)",
            &[&node.id, &extra],
        )
        .pg()?;
    } else if held.len() < share {
        let want = i64::try_from(share - held.len()).unwrap_or(i64::MAX);
        let claimed = tx
            .query(
                "UPDATE engine_lease SET node_id = $1, \
                     lease_until = now() + make_interval(secs => $3) \
                 WHERE definition_id IN ( \
                     SELECT definition_id FROM engine_lease \
                     WHERE node_id IS NULL OR lease_until <= now() \
                     ORDER BY definition_id LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 RETURNING definition_id",
                &[&node.id, &want, &lease_s],
            )
            .pg()?;
        held.extend(ids(&claimed)?);
    }
    let others = tx
        .query(
            "SELECT l.definition_id, n.url FROM engine_lease l \
             JOIN engine_node n ON n.node_id = l.node_id \
             WHERE l.lease_until > now() AND l.node_id <> $1",
            &[&node.id],
        )
        .pg()?
        .iter()
        .map(|r| Ok((col(r, 0)?, col(r, 1)?)))
        .collect::<RepoResult<Vec<(String, String)>>>()?;
    let horizon = CHANGE_HORIZON_S as f64;
    let changes = tx
        .query(
            "SELECT seq, kind, ref_id FROM engine_change \
             WHERE at > now() - make_interval(secs => $1) ORDER BY seq",
            &[&horizon],
        )
        .pg()?
        .iter()
        .map(|r| {
            let kind: String = col(r, 1)?;
            let id: String = col(r, 2)?;
            let change = if kind == "alarm" {
                Change::Alarm(id)
            } else {
                Change::Definition(id)
            };
            Ok((col(r, 0)?, change))
        })
        .collect::<RepoResult<Vec<_>>>()?;
    Ok(LeaseRound {
        held,
        others,
        live_nodes: usize::try_from(live).unwrap_or(1),
        changes,
    })
}

impl EvaluationLeases for PgEvaluationLeases {
    fn round(&self, node: &NodeInfo, lease_s: f64) -> RepoResult<LeaseRound> {
        static ROUNDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = ROUNDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.db.blocking(|c| {
            let mut tx = c.transaction().pg()?;
            let round = round_in(&mut tx, node, lease_s)?;
            if n % CLEANUP_EVERY == CLEANUP_EVERY - 1 {
                tx.batch_execute(
                    "DELETE FROM engine_change WHERE at < now() - interval '1 hour'; \
                     DELETE FROM engine_node WHERE alive_until < now() - interval '1 hour';",
                )
                .pg()?;
            }
            tx.commit().pg()?;
            Ok(round)
        })
    }

    fn claim(
        &self,
        node: &NodeInfo,
        definition_id: &str,
        lease_s: f64,
    ) -> RepoResult<Option<usize>> {
        self.db.blocking(|c| {
            let mut tx = c.transaction().pg()?;
            let n = tx
                .execute(
                    "UPDATE engine_lease SET node_id = $1, \
                         lease_until = now() + make_interval(secs => $3) \
                     WHERE definition_id = ( \
                         SELECT definition_id FROM engine_lease WHERE definition_id = $2 \
                         AND (node_id IS NULL OR lease_until <= now()) FOR UPDATE SKIP LOCKED)",
                    &[&node.id, &definition_id, &lease_s],
                )
                .pg()?;
            let live = live_nodes(&mut tx)?;
            tx.commit().pg()?;
            Ok((n == 1).then(|| usize::try_from(live).unwrap_or(1)))
        })
    }

    fn leave(&self, node_id: &str) -> RepoResult<()> {
        self.db.blocking(|c| {
            let mut tx = c.transaction().pg()?;
            tx.execute(
                "UPDATE engine_lease SET node_id = NULL, lease_until = '-infinity' \
                 WHERE node_id = $1",
                &[&node_id],
            )
            .pg()?;
            tx.execute("DELETE FROM engine_node WHERE node_id = $1", &[&node_id])
                .pg()?;
            tx.commit().pg()
        })
    }

    fn cluster_key(&self) -> RepoResult<String> {
        let fresh = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        self.db.blocking(|c| {
            c.execute(
                "INSERT INTO cluster_key (id, secret) VALUES (1, $1) ON CONFLICT DO NOTHING",
                &[&fresh],
            )
            .pg()?;
            col(&c.query_one("SELECT secret FROM cluster_key", &[]).pg()?, 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::fair_share;

    #[test]
    fn a_share_is_rounded_up_and_never_divides_by_zero() {
        assert_eq!(fair_share(10, 3), 4);
        assert_eq!(fair_share(9, 3), 3);
        assert_eq!(fair_share(0, 2), 0);
        assert_eq!(fair_share(5, 0), 5);
    }
}
