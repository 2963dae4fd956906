//! The in-memory head: points written since the last seal, per series id, sorted by time with
//! one point per timestamp (a rewrite replaces). Sealing moves the whole head into blocks and
//! starts an empty one, so the head holds at most one sealing interval of points.

use crate::{Point, TimeRange};

use super::registry::Gid;

#[derive(Default)]
pub(crate) struct Head {
    series: Vec<Vec<Point>>,
    points: usize,
    active: usize,
}

/// Index range of the points of `pts` within `range`.
pub(crate) fn span(pts: &[Point], range: TimeRange) -> std::ops::Range<usize> {
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
        match pts.last() {
            Some(last) if last.timestamp >= p.timestamp => {
                match pts.binary_search_by_key(&p.timestamp, |x| x.timestamp) {
                    Ok(j) => pts[j] = p,
                    Err(j) => {
                        pts.insert(j, p);
                        self.points += 1;
                    }
                }
            }
            _ => {
                pts.push(p);
                self.points += 1;
            }
        }
    }

    pub(crate) fn points(&self, id: Gid) -> &[Point] {
        self.series.get(id as usize).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn in_range(&self, id: Gid, range: TimeRange) -> &[Point] {
        let pts = self.points(id);
        &pts[span(pts, range)]
    }

    /// Every non-empty series, in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Gid, &[Point])> {
        self.series
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .map(|(i, p)| (i as Gid, p.as_slice()))
    }
}
