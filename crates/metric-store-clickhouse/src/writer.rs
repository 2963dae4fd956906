//! Group commit: writes that arrive while an INSERT is in flight wait and go together in the
//! next one, so ClickHouse sees few large inserts (each insert makes a part on disk) however
//! many small batches the API receives. A write is answered only after ClickHouse accepted
//! the INSERT that carried it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use metric_store::{Sample, SeriesId, SeriesKey, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::{http::Http, schema::Tables};

/// A series' id: the first 8 bytes of SHA-256 over its key's strings, each followed by 0xff
/// (which UTF-8 never holds). Every node computes the same id for the same key, with no
/// round trip to ClickHouse.
pub fn series_id(key: &SeriesKey) -> SeriesId {
    let mut h = Sha256::new();
    for s in key.strs() {
        h.update(s.as_bytes());
        h.update([0xff]);
    }
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

/// The tenant of each series id this store has seen, so a read by ids can filter on the
/// tenant (the first column of the points' key) as well.
pub(crate) type Tenants = Arc<Mutex<HashMap<SeriesId, Arc<str>>>>;

pub(crate) struct Job {
    pub samples: Arc<Vec<Sample>>,
    pub done: oneshot::Sender<Result<(), StoreError>>,
}

#[derive(Serialize)]
struct SeriesRow<'a> {
    tenant: &'a str,
    name: &'a str,
    dim_keys: Vec<&'a str>,
    dim_values: Vec<&'a str>,
    sid: u64,
    ver: u64,
}

/// Appends one `points` row in `RowBinary` (the columns in table order: tenant, sid, ts,
/// value, value_meta, ver): strings as a LEB128 length and their bytes, numbers little-endian.
/// No text format to escape, and the cheapest for ClickHouse to parse.
fn point_row(out: &mut Vec<u8>, tenant: &str, sid: u64, ts: i64, value: f64, meta: &str, ver: u64) {
    binary_str(out, tenant);
    out.extend_from_slice(&sid.to_le_bytes());
    out.extend_from_slice(&ts.to_le_bytes());
    out.extend_from_slice(&value.to_le_bytes());
    binary_str(out, meta);
    out.extend_from_slice(&ver.to_le_bytes());
}

fn binary_str(out: &mut Vec<u8>, s: &str) {
    let mut n = s.len() as u64;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(s.as_bytes());
}

/// The writer task: gathers jobs up to `max_rows` rows, inserts them, answers them.
pub(crate) async fn run(
    http: Arc<Http>,
    tables: Tables,
    tenants: Tenants,
    max_rows: usize,
    mut rx: mpsc::Receiver<Job>,
) {
    // Series whose row this process has inserted (another node may have too: the series
    // table is a ReplacingMergeTree and readers take one row per id).
    let mut known: HashMap<Arc<SeriesKey>, SeriesId> = HashMap::new();
    let mut last_ver = 0u64;
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut rows = jobs[0].samples.len();
        while rows < max_rows {
            match rx.try_recv() {
                Ok(j) => {
                    rows += j.samples.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        // Versions order rows of one (series, timestamp): the later write wins, within a
        // batch too; nanoseconds keep that order across nodes with synchronised clocks.
        let base = now.max(last_ver + 1);
        last_ver = base + rows as u64;
        let result = insert(&http, &tables, &tenants, &mut known, &jobs, base).await;
        // Refused while a server answers: some job's rows were bad, and they must not fail
        // the others gathered with them, so each job goes alone. (While none answers, every
        // job fails as it is.)
        if result.is_err() && jobs.len() > 1 && http.is_reachable() {
            // Each job keeps the versions it had in the whole, so later jobs still win.
            let mut job_base = base;
            for j in jobs {
                let alone = std::slice::from_ref(&j);
                let r = insert(&http, &tables, &tenants, &mut known, alone, job_base).await;
                job_base += j.samples.len() as u64;
                let _ = j.done.send(r.map_err(StoreError::Backend));
            }
            continue;
        }
        for j in jobs {
            let r = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Backend(e.clone())),
            };
            let _ = j.done.send(r);
        }
    }
}

async fn insert(
    http: &Http,
    tables: &Tables,
    tenants: &Tenants,
    known: &mut HashMap<Arc<SeriesKey>, SeriesId>,
    jobs: &[Job],
    base_ver: u64,
) -> Result<(), String> {
    let mut series_body = Vec::new();
    let mut points_body = Vec::new();
    let mut new_series: HashMap<Arc<SeriesKey>, SeriesId> = HashMap::new();
    let samples = jobs.iter().flat_map(|j| j.samples.iter());
    for (ver, s) in (base_ver + 1..).zip(samples) {
        let sid = match known.get(&s.series) {
            Some(id) => *id,
            None => match new_series.get(&s.series) {
                Some(id) => *id,
                None => {
                    let id = series_id(&s.series);
                    let row = SeriesRow {
                        tenant: &s.series.tenant,
                        name: &s.series.name,
                        dim_keys: s.series.dimensions.keys().map(String::as_str).collect(),
                        dim_values: s.series.dimensions.values().map(String::as_str).collect(),
                        sid: id,
                        ver: base_ver,
                    };
                    json_line(&mut series_body, &row)?;
                    new_series.insert(s.series.clone(), id);
                    id
                }
            },
        };
        point_row(
            &mut points_body,
            &s.series.tenant,
            sid,
            s.timestamp,
            s.value,
            s.value_meta.as_deref().unwrap_or(""),
            ver,
        );
    }
    // Series first: a reader that finds a point can always find its series.
    if !series_body.is_empty() {
        http.insert(&tables.series, "JSONEachRow", series_body)
            .await
            .map_err(|e| e.to_string())?;
    }
    if !points_body.is_empty() {
        http.insert(&tables.points, "RowBinary", points_body)
            .await
            .map_err(|e| e.to_string())?;
    }
    if !new_series.is_empty() {
        let mut t = tenants.lock().unwrap_or_else(|e| e.into_inner());
        for (k, id) in new_series {
            t.entry(id).or_insert_with(|| Arc::from(k.tenant.as_str()));
            known.insert(k, id);
        }
    }
    Ok(())
}

fn json_line(out: &mut Vec<u8>, row: &impl Serialize) -> Result<(), String> {
    serde_json::to_writer(&mut *out, row).map_err(|e| format!("encoding a row: {e}"))?;
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_binary_strings_carry_their_length() {
        let mut out = Vec::new();
        binary_str(&mut out, "");
        binary_str(&mut out, "a\0");
        binary_str(&mut out, &"x".repeat(200));
        assert_eq!(&out[..4], [0, 2, b'a', 0]);
        assert_eq!(&out[4..6], [0xc8, 0x01]);
        assert_eq!(out.len(), 6 + 200);
    }
}
