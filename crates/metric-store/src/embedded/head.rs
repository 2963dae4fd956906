//! The in-memory head: points written since the last seal, per series id, sorted by time with
//! one point per timestamp (a rewrite replaces). Sealing moves the whole head into blocks and
//! starts an empty one, so the head holds at most one sealing interval of points.
//!
//! A point costs 16 bytes here (time and value); the rare value_meta lives in a side map, which
//! halves the head, the largest part of the engine's memory at a million series.

use std::{collections::HashMap, sync::Arc};

use foldhash::fast::RandomState;

use crate::{Point, TimeRange};

use super::registry::Gid;

#[derive(Clone, Copy)]
struct Slot {
    timestamp: i64,
    value: f64,
}

#[derive(Default)]
pub(crate) struct Head {
    series: Vec<Vec<Slot>>,
    metas: HashMap<(Gid, i64), Arc<str>, RandomState>,
    points: usize,
    active: usize,
}

/// Index range of the slots within `range`.
fn span(pts: &[Slot], range: TimeRange) -> std::ops::Range<usize> {
    let lo = pts.partition_point(|p| p.timestamp < range.start);
    let hi = pts.partition_point(|p| p.timestamp < range.end);
    lo..hi.max(lo)
}

impl Head {
    pub(crate) fn point_count(&self) -> usize {
        self.points
    }

    pub(crate) fn series_count(&self) -> usize {
        self.active
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.points == 0
    }

    pub(crate) fn upsert(&mut self, id: Gid, p: Point) {
        let i = id as usize;
        if self.series.len() <= i {
            self.series.resize_with(i + 1, Vec::new);
        }
        let pts = &mut self.series[i];
        if pts.is_empty() {
            self.active += 1;
        }
        let slot = Slot {
            timestamp: p.timestamp,
            value: p.value,
        };
        match pts.last() {
            Some(last) if last.timestamp >= p.timestamp => {
                match pts.binary_search_by_key(&p.timestamp, |x| x.timestamp) {
                    Ok(j) => pts[j] = slot,
                    Err(j) => {
                        pts.insert(j, slot);
                        self.points += 1;
                    }
                }
            }
            _ => {
                pts.push(slot);
                self.points += 1;
            }
        }
        match p.value_meta {
            Some(m) => {
                self.metas.insert((id, p.timestamp), m);
            }
            None if !self.metas.is_empty() => {
                self.metas.remove(&(id, p.timestamp));
            }
            None => {}
        }
    }

    fn points_of(&self, id: Gid, slots: &[Slot]) -> Vec<Point> {
        slots
            .iter()
            .map(|s| Point {
                timestamp: s.timestamp,
                value: s.value,
                value_meta: if self.metas.is_empty() {
                    None
                } else {
                    self.metas.get(&(id, s.timestamp)).cloned()
                },
            })
            .collect()
    }

    fn slots(&self, id: Gid) -> &[Slot] {
        self.series.get(id as usize).map_or(&[], Vec::as_slice)
    }

    /// The series' points within `range`.
    pub(crate) fn in_range(&self, id: Gid, range: TimeRange) -> Vec<Point> {
        let pts = self.slots(id);
        self.points_of(id, &pts[span(pts, range)])
    }

    pub(crate) fn has_in_range(&self, id: Gid, range: TimeRange) -> bool {
        let pts = self.slots(id);
        let (Some(first), Some(last)) = (pts.first(), pts.last()) else {
            return false;
        };
        // The ends answer most questions without a search (label values ask once a value).
        if range.contains(first.timestamp) || range.contains(last.timestamp) {
            return true;
        }
        if first.timestamp >= range.end || last.timestamp < range.start {
            return false;
        }
        !span(pts, range).is_empty()
    }

    /// The newest timestamp held.
    pub(crate) fn newest(&self) -> Option<i64> {
        self.series
            .iter()
            .filter_map(|p| p.last().map(|p| p.timestamp))
            .max()
    }

    /// Every non-empty series, in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Gid, Vec<Point>)> + '_ {
        self.series
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .map(|(i, p)| (i as Gid, self.points_of(i as Gid, p)))
    }
}
