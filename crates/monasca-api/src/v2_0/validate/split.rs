//! One large body scanned in pieces on the request's thread and whichever cores are idle
//! ([`metric_store::share`]: the request's thread takes every piece no running helper has
//! claimed, so it never waits for a helper to be scheduled). The top-level array is cut at
//! guessed element boundaries (a `{` after a `,`); each piece is scanned from its cut to the
//! next, and a guess counts only if the piece before it, scanned from a true boundary, ends
//! exactly there. A cut inside a string is found out and the body is scanned whole instead.
//! Only the byte scanner is split, and it reports no errors: every error still comes from
//! the sequential path, so messages and which metric is named first stay the same.

use std::sync::Arc;

use axum::body::Bytes;
use metric_store::Sample;

use super::{
    Scan,
    series_keys::{Found, SeriesKeys},
};

/// Bytes a piece holds at least: below this, sharing costs about what it saves.
pub(super) const MIN_PIECE: usize = 32 << 10;

/// Pieces for a body of `len` bytes: a few per core that could help, so a helper that starts
/// late still finds some, and none under [`MIN_PIECE`]. 1 when no helper is idle.
pub(super) fn pieces(len: usize) -> usize {
    if !metric_store::share::anyone_idle() {
        return 1;
    }
    let cores = metric_store::share::helpers() + 1;
    (len / MIN_PIECE).min(4 * cores).max(1)
}

/// The samples of `body` (an array) scanned in up to `pieces` pieces, exactly those a
/// sequential scan gives; `None` when the body could not be split or a piece declined, for
/// the sequential path to decide.
pub(super) fn scan(
    keys: &Arc<SeriesKeys>,
    tenant: &Arc<str>,
    body: &Bytes,
    pieces: usize,
) -> Option<Vec<Sample>> {
    let starts = cuts(body, pieces);
    if starts.len() < 2 {
        return None;
    }
    let ends: Vec<usize> = starts.iter().skip(1).copied().chain([body.len()]).collect();
    let last = starts.len() - 1;
    let (keys_, tenant_, body_) = (keys.clone(), tenant.clone(), body.clone());
    let results = metric_store::share::run(starts.len(), move |k| {
        piece(&keys_, &tenant_, &body_, starts[k]..ends[k], k == last)
    })?;
    let total = results
        .iter()
        .map(|r| r.as_ref().map_or(0, |(s, _)| s.len()))
        .sum();
    let mut samples = Vec::with_capacity(total);
    let mut found = Vec::with_capacity(results.len());
    for r in results {
        let (mut s, f) = r?;
        samples.append(&mut s);
        found.push(f);
    }
    keys.remember(found);
    Some(samples)
}

/// Scans the elements in `range` of `body`: all of them, each followed by a `,` unless `last`
/// (then by the array's `]` and blanks only). `None` otherwise, or if the scanner declines.
fn piece(
    keys: &SeriesKeys,
    tenant: &str,
    body: &[u8],
    range: std::ops::Range<usize>,
    last: bool,
) -> Option<(Vec<Sample>, Found)> {
    // Cuts are at ASCII bytes, so each piece is valid UTF-8 if the body is: the pieces check
    // the body between them.
    let text = std::str::from_utf8(body.get(range)?).ok()?;
    let mut reader = keys.reader();
    let mut scan = Scan::new(text);
    let mut samples = Vec::with_capacity(text.len() / 100 + 1);
    let mut last_name = None;
    loop {
        samples.push(scan.metric(tenant, &mut reader, &mut last_name)?);
        let more = scan.more(b']')?;
        let at_end = scan.peek().is_none();
        match (more, at_end, last) {
            // Ended on a `,` exactly where the next piece starts.
            (true, true, false) => break,
            (true, false, _) => continue,
            // The array ended, and only blanks follow it.
            (false, true, true) => break,
            _ => return None,
        }
    }
    Some((samples, reader.into_found()))
}

/// Where the pieces start: the array's first element, then up to `pieces - 1` guessed
/// element starts near even shares of the body. Fewer than two when `text` is not an array
/// of objects.
pub(super) fn cuts(b: &[u8], pieces: usize) -> Vec<usize> {
    let blank = |c: &u8| matches!(c, b' ' | b'\n' | b'\r' | b'\t');
    let Some(open) = b.iter().position(|c| !blank(c)) else {
        return Vec::new();
    };
    let Some(first) = b.iter().skip(open + 1).position(|c| !blank(c)) else {
        return Vec::new();
    };
    let first = open + 1 + first;
    if b[open] != b'[' || b[first] != b'{' {
        return Vec::new();
    }
    let mut out = vec![first];
    for k in 1..pieces {
        let from = (b.len() * k / pieces).max(out[out.len() - 1] + 1);
        match next_element(b, from) {
            Some(at) => out.push(at),
            None => break,
        }
    }
    out.dedup();
    out
}

/// The first `{` at or after `from` that follows a `,` and blanks: an element's start if
/// `from` is outside strings, to be verified.
fn next_element(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let comma = i + b.get(i..)?.iter().position(|&c| c == b',')?;
        let next = comma
            + 1
            + b.get(comma + 1..)?
                .iter()
                .position(|c| !matches!(c, b' ' | b'\n' | b'\r' | b'\t'))?;
        if b[next] == b'{' {
            return Some(next);
        }
        i = next;
    }
}
