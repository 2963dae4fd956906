//! The elements of a measurements or statistics answer: which series each merges and which
//! dimensions it reports. Held flat (a few vectors for any number of groups), and grouping by
//! one dimension keeps the store's answer as it is, so 100,000 groups cost no allocation each
//! to build, to cache or to drop.

use std::{
    collections::{BTreeMap, hash_map::Entry},
    sync::Arc,
};

use metric_store::{DimMatch, DimensionGroups, SeriesFilter, SeriesId, TimeRange};

use crate::{MonascaState, error::ApiError};

/// The groups of one query, in answer order.
pub enum Groups {
    /// Grouped by one dimension, as the store gave them: each group reports `key` with its
    /// value, or nothing for the series without the dimension.
    ByDimension {
        key: Arc<str>,
        groups: DimensionGroups,
    },
    /// Any other grouping, listed.
    Listed(Listed),
}

/// Groups with their own dimensions, one group after the other.
#[derive(Default)]
pub struct Listed {
    /// Each group's dimensions, sorted by key within a group.
    dimensions: Vec<(Arc<str>, Arc<str>)>,
    dimension_ends: Vec<usize>,
    series: Vec<SeriesId>,
    series_ends: Vec<usize>,
}

impl Listed {
    /// Adds a group; `dimensions` must come sorted by key, without repeats.
    pub fn push(
        &mut self,
        dimensions: impl IntoIterator<Item = (Arc<str>, Arc<str>)>,
        series: impl IntoIterator<Item = SeriesId>,
    ) {
        self.dimensions.extend(dimensions);
        self.dimension_ends.push(self.dimensions.len());
        self.series.extend(series);
        self.series_ends.push(self.series.len());
    }

    fn span(ends: &[usize], i: usize) -> std::ops::Range<usize> {
        (if i == 0 { 0 } else { ends[i - 1] })..ends[i]
    }
}

impl Groups {
    pub fn len(&self) -> usize {
        match self {
            Groups::ByDimension { groups, .. } => groups.len(),
            Groups::Listed(l) => l.series_ends.len(),
        }
    }

    /// Group `i`'s series.
    pub fn series(&self, i: usize) -> &[SeriesId] {
        match self {
            Groups::ByDimension { groups, .. } => groups.series(i),
            Groups::Listed(l) => &l.series[Listed::span(&l.series_ends, i)],
        }
    }

    /// How many series all groups hold together.
    pub fn series_count(&self) -> usize {
        match self {
            Groups::ByDimension { groups, .. } => groups.all_series().len(),
            Groups::Listed(l) => l.series.len(),
        }
    }

    /// Group `i`'s dimensions as (key, value), sorted by key.
    pub fn dimensions(&self, i: usize) -> impl Iterator<Item = (&str, &str)> {
        let (one, listed) = match self {
            Groups::ByDimension { key, groups } => {
                (groups.value(i).map(|v| (&**key, &**v)), &[][..])
            }
            Groups::Listed(l) => (None, &l.dimensions[Listed::span(&l.dimension_ends, i)]),
        };
        one.into_iter()
            .chain(listed.iter().map(|(k, v)| (&**k, &**v)))
    }

    pub fn dimension_map(&self, i: usize) -> BTreeMap<String, String> {
        self.dimensions(i)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// Resolves the series of a measurements/statistics query into elements, with monasca-api's
/// rules: one series unless `merge_metrics` or `group_by` says otherwise (409 if several
/// match), merged series reporting the query's dimensions, groups reporting their keys.
pub async fn groups(
    state: &MonascaState,
    filter: &SeriesFilter,
    merge: bool,
    group_by: Option<&[String]>,
) -> Result<Arc<Groups>, ApiError> {
    let Some(keys) = group_by else {
        return Ok(Arc::new(find_groups(state, filter, merge, None).await?));
    };
    // The generation is read first: a series added meanwhile makes the entry stale at once.
    let generation = state.store.series_generation();
    let query = format!("{filter:?}\u{0}{keys:?}");
    if let Some(g) = generation.and_then(|g| state.group_cache.get(&query, g)) {
        return Ok(g);
    }
    let groups = Arc::new(find_groups(state, filter, merge, Some(keys)).await?);
    if let Some(g) = generation {
        state.group_cache.put(query, g, &groups);
    }
    Ok(groups)
}

async fn find_groups(
    state: &MonascaState,
    filter: &SeriesFilter,
    merge: bool,
    group_by: Option<&[String]>,
) -> Result<Groups, ApiError> {
    // Grouping by one dimension, the usual case: the store's index of that dimension has the
    // groups in order, without a key built or compared per series.
    if let Some([key]) = group_by
        && key != "*"
        && let Some(groups) = state.store.group_by_dimension(filter, key).await?
    {
        return Ok(Groups::ByDimension {
            key: Arc::from(key.as_str()),
            groups,
        });
    }
    let series = state.store.find_series(filter, TimeRange::ALL).await?;
    let mut listed = Listed::default();
    match group_by {
        None if !merge => match series.as_slice() {
            [] => {}
            [one] => listed.push(
                one.key
                    .dimensions
                    .iter()
                    .map(|(k, v)| (Arc::from(k.as_str()), Arc::from(v.as_str()))),
                [one.id],
            ),
            _ => return Err(ApiError::multiple_metrics()),
        },
        None => {
            // The query's dimensions, in a map's order as a reported map would have them.
            let dimensions: BTreeMap<&str, String> = filter
                .dimensions
                .iter()
                .map(|(k, m)| {
                    let v = match m {
                        DimMatch::Exists => String::new(),
                        DimMatch::AnyOf(vs) => vs.join("|"),
                    };
                    (k.as_str(), v)
                })
                .collect();
            if !series.is_empty() {
                listed.push(
                    dimensions
                        .into_iter()
                        .map(|(k, v)| (Arc::from(k), Arc::from(v))),
                    series.iter().map(|s| s.id),
                );
            }
        }
        Some(keys) if keys.iter().any(|k| k == "*") => {
            let mut strings = Strings::default();
            for s in &series {
                listed.push(
                    s.key
                        .dimensions
                        .iter()
                        .map(|(k, v)| (strings.get(k), strings.get(v))),
                    [s.id],
                );
            }
        }
        Some(keys) => {
            // Sorted and without repeats, so a group's pairs come in a map's order and
            // compare as its map would.
            let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            keys.sort_unstable();
            keys.dedup();
            type Pairs<'a> = Vec<(&'a str, &'a str)>;
            let mut index: foldhash::HashMap<Pairs<'_>, usize> = Default::default();
            let mut found: Vec<(Pairs<'_>, Vec<SeriesId>)> = Vec::new();
            for s in &series {
                let pairs: Pairs<'_> = keys
                    .iter()
                    .filter_map(|k| s.key.dimensions.get_key_value(*k))
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                match index.entry(pairs) {
                    Entry::Occupied(e) => found[*e.get()].1.push(s.id),
                    Entry::Vacant(e) => {
                        found.push((e.key().clone(), vec![s.id]));
                        e.insert(found.len() - 1);
                    }
                }
            }
            // Series come ordered by dimensions, so groups by the leading ones (hostname,
            // say) usually are in order already; a check is linear, a sort is not.
            if !found.is_sorted_by(|a, b| a.0 <= b.0) {
                found.sort_by(|a, b| a.0.cmp(&b.0));
            }
            let mut strings = Strings::default();
            for (pairs, series) in found {
                listed.push(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (strings.get(k), strings.get(v))),
                    series,
                );
            }
        }
    }
    Ok(Groups::Listed(listed))
}

/// Strings shared between groups: dimension keys (and values several groups report) are held
/// once.
#[derive(Default)]
struct Strings(foldhash::HashSet<Arc<str>>);

impl Strings {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(k) = self.0.get(s) {
            return k.clone();
        }
        let k: Arc<str> = Arc::from(s);
        self.0.insert(k.clone());
        k
    }
}
