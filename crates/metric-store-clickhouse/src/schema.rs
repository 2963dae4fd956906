//! The tables, created at start-up when missing, and retention by dropping old partitions.

use metric_store::StoreError;
use serde::Deserialize;

use crate::{
    http::{External, Http},
    options::{ClickHouseOptions, check_identifier},
};

/// Table names as statements use them (`db.series`, `db.points`) and where the data lives
/// (the same tables on one server; the `_local` tables under `Distributed` ones on a cluster).
///
/// The tables are created on every configured server, not `ON CLUSTER`: distributed DDL
/// needs ZooKeeper, which a cluster without replicas does not otherwise need. So with
/// `cluster`, `urls` must name every server of it.
#[derive(Clone, Debug)]
pub(crate) struct Tables {
    pub database: String,
    pub series: String,
    pub points: String,
    pub series_local: String,
    pub points_local: String,
}

impl Tables {
    pub fn new(opts: &ClickHouseOptions) -> Result<Self, StoreError> {
        check_identifier("database", &opts.database)?;
        let db = &opts.database;
        let local = match &opts.cluster {
            Some(c) => {
                check_identifier("cluster", c)?;
                "_local"
            }
            None => "",
        };
        Ok(Self {
            database: db.clone(),
            series: format!("{db}.series"),
            points: format!("{db}.points"),
            series_local: format!("{db}.series{local}"),
            points_local: format!("{db}.points{local}"),
        })
    }

    /// The statements that create the database and tables, in order.
    pub fn ddl(&self, opts: &ClickHouseOptions) -> Vec<String> {
        let db = &self.database;
        let engine = |table: &str| match (&opts.cluster, opts.replicated) {
            (Some(_), true) => format!(
                "ReplicatedReplacingMergeTree('/clickhouse/tables/{{shard}}/{db}/{table}', '{{replica}}', ver)"
            ),
            _ => "ReplacingMergeTree(ver)".to_string(),
        };
        let local = if opts.cluster.is_some() { "_local" } else { "" };
        let mut out = vec![
            format!("CREATE DATABASE IF NOT EXISTS {db}"),
            format!(
                "CREATE TABLE IF NOT EXISTS {db}.series{local} (tenant String, name String, \
                 dim_keys Array(String), dim_values Array(String), sid UInt64, ver UInt64) \
                 ENGINE = {} ORDER BY (tenant, name, sid)",
                engine(&format!("series{local}"))
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {db}.points{local} (tenant String, sid UInt64, \
                 ts Int64, value Float64, value_meta String, ver UInt64) ENGINE = {} \
                 PARTITION BY toYYYYMM(toDateTime(intDiv(ts, 1000), 'UTC')) \
                 ORDER BY (tenant, sid, ts)",
                engine(&format!("points{local}"))
            ),
        ];
        if let Some(c) = &opts.cluster {
            // A series' rows and points live on one shard, chosen by its id.
            for t in ["series", "points"] {
                out.push(format!(
                    "CREATE TABLE IF NOT EXISTS {db}.{t} AS {db}.{t}_local \
                     ENGINE = Distributed({c}, {db}, {t}_local, sid)"
                ));
            }
        }
        out
    }

    /// Creates what is missing, on every server.
    pub async fn create(&self, http: &Http, opts: &ClickHouseOptions) -> Result<(), StoreError> {
        for stmt in self.ddl(opts) {
            http.query_everywhere(&stmt, &[]).await?;
        }
        Ok(())
    }

    /// Drops the monthly partitions wholly older than `keep_after_ms`; the number dropped.
    pub async fn drop_old_partitions(
        &self,
        http: &Http,
        keep_after_ms: i64,
    ) -> Result<usize, StoreError> {
        #[derive(Deserialize)]
        struct Part {
            partition: String,
        }
        let mut args = External::new("args", "db String, tbl String");
        let table = self
            .points_local
            .rsplit('.')
            .next()
            .unwrap_or("points")
            .to_string();
        args.row([self.database.as_str(), table.as_str()]);
        let query = "SELECT DISTINCT partition FROM system.parts WHERE active \
                     AND database IN (SELECT db FROM args) AND table IN (SELECT tbl FROM args) \
                     FORMAT JSONEachRow";
        let answers = http.query_everywhere(query, &[args]).await?;
        // The first month still (partly) kept: older ones go.
        let keep_month = yyyymm(keep_after_ms);
        let mut months = std::collections::BTreeSet::new();
        for line in answers
            .iter()
            .flat_map(|a| a.lines())
            .filter(|l| !l.is_empty())
        {
            let p: Part = serde_json::from_str(line)
                .map_err(|e| StoreError::Backend(format!("system.parts row: {e}")))?;
            // A partition id is a number Vigil's partition key made; anything else is left
            // alone (and never reaches SQL text).
            if let Ok(month) = p.partition.parse::<u32>()
                && month < keep_month
            {
                months.insert(month);
            }
        }
        for month in &months {
            // On every server: each shard drops its part of the month (dropping a partition a
            // server does not have is no error).
            let stmt = format!("ALTER TABLE {} DROP PARTITION {month}", self.points_local);
            http.query_everywhere(&stmt, &[]).await?;
        }
        let dropped = months.len();
        Ok(dropped)
    }
}

/// The `YYYYMM` of an epoch-ms instant, in UTC (as the partition key computes it).
fn yyyymm(ms: i64) -> u32 {
    let days = ms.div_euclid(86_400_000);
    // Civil-from-days (proleptic Gregorian), Howard Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year.clamp(0, 9999) * 100 + month) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_utc_calendar_months() {
        assert_eq!(yyyymm(0), 197_001);
        assert_eq!(yyyymm(1_767_225_600_000 - 1), 202_512); // 2025-12-31T23:59:59.999Z
        assert_eq!(yyyymm(1_767_225_600_000), 202_601);
        assert_eq!(yyyymm(951_782_400_000), 200_002); // 2000-02-29
    }

    #[test]
    fn a_cluster_gets_local_and_distributed_tables() {
        let opts = ClickHouseOptions {
            cluster: Some("c1".into()),
            replicated: true,
            ..Default::default()
        };
        let t = Tables::new(&opts).unwrap_or_else(|e| panic!("{e}"));
        let ddl = t.ddl(&opts).join("\n");
        assert!(
            ddl.contains("TABLE IF NOT EXISTS vigil.points_local ("),
            "{ddl}"
        );
        assert!(!ddl.contains("ON CLUSTER"), "{ddl}");
        assert!(ddl.contains("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/vigil/points_local', '{replica}', ver)"), "{ddl}");
        assert!(
            ddl.contains("Distributed(c1, vigil, points_local, sid)"),
            "{ddl}"
        );
        let single = Tables::new(&ClickHouseOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(single.points_local, "vigil.points");
        assert!(
            Tables::new(&ClickHouseOptions {
                cluster: Some("c; DROP".into()),
                ..Default::default()
            })
            .is_err()
        );
    }
}
