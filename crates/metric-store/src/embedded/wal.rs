//! The write-ahead log on disk: numbered segments, opening and listing them, and replaying
//! them (and a legacy snapshot) into a head at open.

use std::{
    fs::{self, File, OpenOptions},
    path::{Path, PathBuf},
};

use super::{
    codec::{LoggedSample, LoggedSeries, Next, decode_record},
    disk::{read_all, sync_dir},
    head::Head,
    registry::Registry,
};
use crate::{Point, StoreError};

/// Written by earlier versions, which checkpointed the whole head; still read at open and
/// removed by the first seal.
pub(super) const SNAPSHOT: &str = "snapshot.dat";
const SNAPSHOT_MAGIC: &[u8; 8] = b"VGSNAP01";

pub(super) fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("wal-{n:010}.log"))
}

pub(super) fn list_segments(dir: &Path) -> Result<Vec<u64>, StoreError> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(StoreError::io(dir))? {
        let e = e.map_err(StoreError::io(dir))?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name
            .strip_prefix("wal-")
            .and_then(|s| s.strip_suffix(".log"))
            .and_then(|s| s.parse::<u64>().ok())
        {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

pub(super) fn open_segment(dir: &Path, n: u64) -> Result<File, StoreError> {
    let p = segment_path(dir, n);
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p)
        .map_err(StoreError::io(&p))?;
    // The new file's directory entry must be durable before anything in it is acknowledged.
    sync_dir(dir)?;
    Ok(f)
}

/// Adds logged samples to the head; `Err` names an id no earlier record or the registry file
/// gave (damage the checksum did not catch, or a log from another store).
fn apply_samples(
    reg: &mut Registry,
    head: &mut Head,
    samples: Vec<LoggedSample>,
) -> Result<(), String> {
    for s in samples {
        let id = match s.series {
            LoggedSeries::Key(key) => reg.insert(&key),
            LoggedSeries::Id(id) if (id as usize) < reg.len() => id,
            LoggedSeries::Id(id) => {
                return Err(format!("series id {id} unknown ({} series)", reg.len()));
            }
        };
        head.upsert(
            id,
            Point {
                timestamp: s.timestamp,
                value: s.value,
                value_meta: s.value_meta,
            },
        );
    }
    Ok(())
}

/// Loads a snapshot left by an earlier version; returns the last segment it covers (0 if none).
pub(super) fn load_snapshot(
    dir: &Path,
    reg: &mut Registry,
    head: &mut Head,
) -> Result<u64, StoreError> {
    let path = dir.join(SNAPSHOT);
    if !path.exists() {
        return Ok(0);
    }
    let buf = read_all(&path)?;
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.clone(),
        reason,
    };
    if buf.len() < 16 || &buf[..8] != SNAPSHOT_MAGIC {
        return Err(corrupt("bad header".into()));
    }
    let covered = u64::from_le_bytes(
        buf[8..16]
            .try_into()
            .map_err(|_| corrupt("bad header".into()))?,
    );
    let mut pos = 16;
    loop {
        match decode_record(&buf[pos..]) {
            Next::Record { samples, len } => {
                apply_samples(reg, head, samples)
                    .map_err(|r| corrupt(format!("{r} at byte {pos}")))?;
                pos += len;
            }
            Next::End => return Ok(covered),
            // A snapshot is renamed into place only once complete, so damage here is real
            // corruption, not a torn write.
            Next::Torn(reason) => return Err(corrupt(format!("{reason} at byte {pos}"))),
        }
    }
}

/// Replays one log segment, cutting off a torn tail left by a crash mid-append. Only the last
/// segment can end in one: earlier ones were fsynced whole before the log moved on, so damage
/// there is the disk's, and what follows it may have been acknowledged. Such a segment is
/// copied aside as `*.corrupt` (with an error in the log) before it is cut, so that nothing
/// is thrown away, and the store opens with the records before the damage.
pub(super) fn replay_segment(
    path: &Path,
    reg: &mut Registry,
    head: &mut Head,
    last: bool,
) -> Result<(), StoreError> {
    let buf = read_all(path)?;
    let mut pos = 0;
    loop {
        match decode_record(&buf[pos..]) {
            Next::Record { samples, len } => {
                // Ids are given in log order, so an unknown one is not a torn tail: refuse to
                // open rather than drop acknowledged writes after it.
                apply_samples(reg, head, samples).map_err(|reason| StoreError::Corrupt {
                    path: path.to_path_buf(),
                    reason: format!("{reason} at byte {pos}"),
                })?;
                pos += len;
            }
            Next::End => return Ok(()),
            Next::Torn(reason) => {
                if last {
                    // Only a write that was never acknowledged can be torn: acknowledgement
                    // waits for the fsync of the whole group.
                    tracing::warn!(
                        path = %path.display(),
                        offset = pos,
                        reason,
                        "truncating torn tail of write-ahead log"
                    );
                } else {
                    let mut aside = path.as_os_str().to_owned();
                    aside.push(".corrupt");
                    tracing::error!(
                        path = %path.display(),
                        offset = pos,
                        lost_bytes = buf.len() - pos,
                        reason,
                        "write-ahead log segment damaged before its end: the records after the \
                         damage are not served; the whole segment is kept as *.corrupt"
                    );
                    fs::write(&aside, &buf).map_err(StoreError::io(Path::new(&aside)))?;
                }
                let f = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(StoreError::io(path))?;
                f.set_len(pos as u64).map_err(StoreError::io(path))?;
                f.sync_all().map_err(StoreError::io(path))?;
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::{io::Write, sync::Arc};

    use super::*;
    use crate::{Sample, SeriesKey, embedded::codec::encode_record};

    fn batch(host: &str, times: std::ops::Range<i64>) -> Vec<Sample> {
        let series = Arc::new(SeriesKey {
            tenant: "t".into(),
            name: "cpu".into(),
            dimensions: [("host".to_string(), host.to_string())].into(),
        });
        times
            .map(|timestamp| Sample {
                series: series.clone(),
                timestamp,
                value: 1.0,
                value_meta: None,
            })
            .collect()
    }

    fn record(samples: &[Sample]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record(samples, &[], &mut out);
        out
    }

    #[test]
    fn segments_are_listed_by_number_and_other_files_ignored() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            segment_path(dir.path(), 7).file_name().unwrap(),
            "wal-0000000007.log"
        );
        for n in [12, 3, 10_000_000_000] {
            open_segment(dir.path(), n).unwrap();
        }
        for other in [
            "wal-x.log",
            "wal-0000000005.tmp",
            "blk-p1-s1-1.vgb",
            SNAPSHOT,
        ] {
            fs::write(dir.path().join(other), b"").unwrap();
        }
        assert_eq!(list_segments(dir.path()).unwrap(), [3, 12, 10_000_000_000]);
    }

    #[test]
    fn replay_keeps_whole_records_and_truncates_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = segment_path(dir.path(), 1);
        let whole = [record(&batch("a", 0..3)), record(&batch("b", 0..2))].concat();
        let torn = record(&batch("c", 0..4));
        let mut f = open_segment(dir.path(), 1).unwrap();
        f.write_all(&whole).unwrap();
        f.write_all(&torn[..torn.len() / 2]).unwrap();
        drop(f);

        for _ in 0..2 {
            let (mut reg, mut head) = (Registry::default(), Head::default());
            replay_segment(&path, &mut reg, &mut head, true).unwrap();
            assert_eq!((reg.len(), head.point_count()), (2, 5));
            assert_eq!(fs::metadata(&path).unwrap().len(), whole.len() as u64);
        }
    }

    #[test]
    fn samples_logged_by_id_replay_onto_the_series_logged_before_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = segment_path(dir.path(), 1);
        let (a, b) = (batch("a", 0..2), batch("b", 0..1));
        let first = [a.clone(), b.clone()].concat();
        let mut later = Vec::new();
        // Ids are given in log order: a is 0, b is 1.
        encode_record(
            &[b[0].clone(), a[0].clone()],
            &[Some(1), Some(0)],
            &mut later,
        );
        let mut f = open_segment(dir.path(), 1).unwrap();
        f.write_all(&[record(&first), later.clone()].concat())
            .unwrap();
        drop(f);
        let (mut reg, mut head) = (Registry::default(), Head::default());
        replay_segment(&path, &mut reg, &mut head, true).unwrap();
        assert_eq!((reg.len(), head.point_count()), (2, 3));
        assert_eq!(reg.lookup(&a[0].series), Some(0));

        // An id nothing gave is damage, not a tail to cut: the store refuses to open.
        let mut unknown = Vec::new();
        encode_record(&b, &[Some(5)], &mut unknown);
        fs::write(&path, [record(&first), unknown].concat()).unwrap();
        let err = replay_segment(&path, &mut Registry::default(), &mut Head::default(), true);
        assert!(matches!(err, Err(StoreError::Corrupt { .. })), "{err:?}");
    }

    #[test]
    fn damage_before_the_last_segment_is_kept_aside_not_only_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = segment_path(dir.path(), 1);
        let good = record(&batch("a", 0..3));
        let mut damaged = record(&batch("b", 0..2));
        damaged[10] ^= 0xff;
        let after = record(&batch("c", 0..4));
        let whole = [good.clone(), damaged, after].concat();
        fs::write(&path, &whole).unwrap();
        let (mut reg, mut head) = (Registry::default(), Head::default());
        replay_segment(&path, &mut reg, &mut head, false).unwrap();
        assert_eq!(head.point_count(), 3);
        assert_eq!(fs::read(&path).unwrap(), good);
        let aside = dir.path().join("wal-0000000001.log.corrupt");
        assert_eq!(fs::read(aside).unwrap(), whole);
        // Aside files are not segments.
        assert_eq!(list_segments(dir.path()).unwrap(), [1]);
    }

    #[test]
    fn a_legacy_snapshot_is_loaded_whole_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut reg, mut head) = (Registry::default(), Head::default());
        assert_eq!(load_snapshot(dir.path(), &mut reg, &mut head).unwrap(), 0);

        let mut snap = SNAPSHOT_MAGIC.to_vec();
        snap.extend_from_slice(&7u64.to_le_bytes());
        snap.extend_from_slice(&record(&batch("a", 0..3)));
        fs::write(dir.path().join(SNAPSHOT), &snap).unwrap();
        assert_eq!(load_snapshot(dir.path(), &mut reg, &mut head).unwrap(), 7);
        assert_eq!(head.point_count(), 3);

        // A snapshot is written aside and renamed whole, so a short one is damage, not a tear.
        fs::write(dir.path().join(SNAPSHOT), &snap[..snap.len() - 1]).unwrap();
        let err = load_snapshot(dir.path(), &mut Registry::default(), &mut Head::default());
        assert!(matches!(err, Err(StoreError::Corrupt { .. })), "{err:?}");
    }
}
