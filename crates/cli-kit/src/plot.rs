//! Line charts of time series drawn with characters, for the `--plot` option of `sdc` and
//! `monasca`: one line per series, each with its own marker character (and, on a colour
//! terminal, its own colour), a y axis labelled with the maximum, middle and minimum, a time
//! axis labelled with the first and last instants in UTC, and a legend naming each series.
//!
//! Drawn on a character grid of our own rather than with a chart crate: the light ones draw
//! every series with the same braille dots or box lines, so without colour (in a pipe, under
//! `NO_COLOR`) the series could not be told apart, and they compute in `f32`, too coarse for
//! epoch milliseconds.
//!
//! ```
//! use cli_kit::plot::{Canvas, Series, render};
//! let rising = Series::new("cpu", vec![(0, 1.0), (60_000, 2.0), (120_000, 3.0)]);
//! let chart = render(&[rising], Canvas::PIPE).unwrap_or_default();
//! assert!(chart.contains("* cpu"));
//! assert!(chart.contains("1970-01-01T00:02:00Z"));
//! ```

use std::fmt::Write as _;

/// What a CLI prints when there is nothing to draw.
pub const NO_DATA: &str = "no data to plot";

/// One marker per series, in order; there are as many series as markers at most.
const MARKERS: &[char] = &[
    '*', '+', 'o', 'x', '#', '@', '%', '&', '=', '~', '$', '^', 'A', 'B', 'C', 'D', 'E', 'F', 'G',
    'H', 'J', 'K', 'L', 'M', 'N', 'P', 'R', 'S', 'T', 'U', 'V', 'W', 'Y', 'Z',
];

/// ANSI foreground colours, one per series, repeating (the markers keep series apart).
const COLOURS: &[u8] = &[31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

/// One named series of `(epoch milliseconds, value)` points, in any order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(i64, f64)>,
}

impl Series {
    pub fn new(label: impl Into<String>, points: Vec<(i64, f64)>) -> Self {
        Self {
            label: label.into(),
            points,
        }
    }
}

/// A series' legend name as PromQL writes a series: `name{key="value", ...}`, or the bare
/// name without labels.
pub fn series_name<K: std::fmt::Display, V: AsRef<str>>(
    name: &str,
    labels: impl IntoIterator<Item = (K, V)>,
) -> String {
    let pairs: Vec<String> = labels
        .into_iter()
        .map(|(k, v)| format!("{k}={:?}", v.as_ref()))
        .collect();
    if pairs.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", pairs.join(", "))
    }
}

/// The size of a chart in characters (axes, labels and legend included in the width; the
/// height counts the plotting rows) and whether it may use colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Canvas {
    pub width: usize,
    pub height: usize,
    pub colour: bool,
}

impl Canvas {
    /// What a chart gets when stdout is not a terminal: 100 columns, 20 rows, no colour.
    pub const PIPE: Canvas = Canvas {
        width: 100,
        height: 20,
        colour: false,
    };

    /// The canvas for stdout: `COLUMNS` if set, else the terminal's width, else 100 columns;
    /// at most 20 rows (fewer on a short terminal); colour only on a terminal and without
    /// `NO_COLOR`.
    pub fn for_stdout() -> Canvas {
        use std::io::IsTerminal;
        let tty = std::io::stdout().is_terminal();
        let (cols, rows) = if tty { terminal_size() } else { (None, None) };
        let env_num = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|n| *n > 0)
        };
        let width = env_num("COLUMNS").or(cols).unwrap_or(Self::PIPE.width);
        let height = match env_num("LINES").or(rows) {
            // Room for the axis, the time labels and a short legend.
            Some(r) => r.saturating_sub(6).clamp(5, Self::PIPE.height),
            None => Self::PIPE.height,
        };
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Canvas {
            width,
            height,
            colour: tty && !no_colour,
        }
    }
}

/// The terminal's columns and rows, when stdout is one that says.
#[cfg(unix)]
fn terminal_size() -> (Option<usize>, Option<usize>) {
    match rustix::termios::tcgetwinsize(std::io::stdout()) {
        Ok(ws) => (
            Some(usize::from(ws.ws_col)).filter(|c| *c > 0),
            Some(usize::from(ws.ws_row)).filter(|r| *r > 0),
        ),
        Err(_) => (None, None),
    }
}

#[cfg(not(unix))]
fn terminal_size() -> (Option<usize>, Option<usize>) {
    (None, None)
}

/// Prints the chart of `series` on a canvas fitted to stdout, or [`NO_DATA`] when no series
/// has a finite point.
///
/// # Errors
/// stdout cannot be written (a closed pipe is fine).
pub fn print(series: &[Series]) -> anyhow::Result<()> {
    match render(series, Canvas::for_stdout()) {
        Some(chart) => crate::write_stdout(chart.as_bytes()),
        None => crate::print(NO_DATA),
    }
}

/// The chart of `series` on `canvas`, ending in a newline; `None` when no series has a
/// finite point. Series without one are left out; series beyond the last marker are counted
/// in a note under the legend.
pub fn render(series: &[Series], canvas: Canvas) -> Option<String> {
    let mut drawn: Vec<(&str, Vec<(i64, f64)>)> = series
        .iter()
        .map(|s| {
            let mut pts: Vec<(i64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.1.is_finite())
                .collect();
            pts.sort_by_key(|p| p.0);
            (s.label.as_str(), pts)
        })
        .filter(|(_, pts)| !pts.is_empty())
        .collect();
    if drawn.is_empty() {
        return None;
    }
    let left_out = drawn.len().saturating_sub(MARKERS.len());
    drawn.truncate(MARKERS.len());

    let all = || drawn.iter().flat_map(|(_, pts)| pts.iter());
    let t_min = all().map(|p| p.0).min()?;
    let t_max = all().map(|p| p.0).max()?;
    let mut v_min = all().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let mut v_max = all().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    if v_min == v_max {
        // A flat line is drawn across the middle.
        let pad = if v_min == 0.0 {
            1.0
        } else {
            v_min.abs() / 10.0
        };
        v_min -= pad;
        v_max += pad;
    }

    let height = canvas.height.max(3);
    let label = |v: f64| value_label(v, v_max - v_min);
    let y_labels = [
        (0, label(v_max)),
        (height / 2, label(v_min + (v_max - v_min) / 2.0)),
        (height - 1, label(v_min)),
    ];
    let label_width = y_labels
        .iter()
        .map(|(_, l)| l.chars().count())
        .max()
        .unwrap_or(0);
    // The label, a space and the axis come before the plotting columns.
    let width = canvas.width.saturating_sub(label_width + 2).max(10);

    let column = |t: i64| -> usize {
        if t_max == t_min {
            return width / 2;
        }
        let share = (t - t_min) as f64 / (t_max - t_min) as f64;
        (share * (width - 1) as f64).round() as usize
    };
    let row = |v: f64| -> usize {
        let share = (v_max - v) / (v_max - v_min);
        (share * (height - 1) as f64).round() as usize
    };
    let mut grid: Vec<Vec<Option<usize>>> = vec![vec![None; width]; height];
    for (index, (_, pts)) in drawn.iter().enumerate() {
        let cells: Vec<(usize, usize)> = pts.iter().map(|p| (column(p.0), row(p.1))).collect();
        if let [only] = cells.as_slice() {
            grid[only.1][only.0] = Some(index);
        }
        for pair in cells.windows(2) {
            for (c, r) in line(pair[0], pair[1]) {
                grid[r][c] = Some(index);
            }
        }
    }

    let mut out = String::new();
    for (r, cells) in grid.iter().enumerate() {
        let label = y_labels
            .iter()
            .find(|(at, _)| *at == r)
            .map(|(_, l)| l.as_str());
        let axis = if label.is_some() { '┤' } else { '│' };
        let mut line = format!("{:>label_width$} {axis}", label.unwrap_or(""));
        for cell in cells {
            match cell {
                Some(i) => line.push_str(&marker(*i, canvas.colour)),
                None => line.push(' '),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let indent = " ".repeat(label_width + 1);
    let _ = writeln!(out, "{indent}└{}", "─".repeat(width));
    out.push_str(&time_axis(&indent, width, t_min, t_max));
    for (index, (label, _)) in drawn.iter().enumerate() {
        let _ = writeln!(out, "  {} {label}", marker(index, canvas.colour));
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "  ({left_out} more series not drawn: at most {} fit)",
            MARKERS.len()
        );
    }
    Some(out)
}

/// Series `index`'s marker, in its colour when `colour`.
fn marker(index: usize, colour: bool) -> String {
    let m = MARKERS[index % MARKERS.len()];
    if colour {
        format!("\x1b[{}m{m}\x1b[0m", COLOURS[index % COLOURS.len()])
    } else {
        m.to_string()
    }
}

/// The cells from `a` to `b` (columns, rows), both included, one per step along the longer
/// side so that the line has no gaps.
fn line(a: (usize, usize), b: (usize, usize)) -> impl Iterator<Item = (usize, usize)> {
    let (dc, dr) = (b.0 as f64 - a.0 as f64, b.1 as f64 - a.1 as f64);
    let steps = a.0.abs_diff(b.0).max(a.1.abs_diff(b.1)).max(1);
    (0..=steps).map(move |s| {
        let f = s as f64 / steps as f64;
        (
            (a.0 as f64 + dc * f).round() as usize,
            (a.1 as f64 + dr * f).round() as usize,
        )
    })
}

/// The first instant under the left end of the axis and the last under its right end, or on
/// a line of its own when both do not fit on one.
fn time_axis(indent: &str, width: usize, t_min: i64, t_max: i64) -> String {
    let start = instant(t_min);
    if t_min == t_max {
        return format!("{indent}{start:^width$}\n").trim_end().to_string() + "\n";
    }
    let end = instant(t_max);
    let (s, e) = (start.chars().count(), end.chars().count());
    if s + 1 + e <= width + 1 {
        let gap = (width + 1).saturating_sub(s + e);
        format!("{indent}{start}{}{end}\n", " ".repeat(gap))
    } else {
        let pad = (width + 1).saturating_sub(e);
        format!("{indent}{start}\n{indent}{}{end}\n", " ".repeat(pad))
    }
}

/// `ms` as an ISO-8601 instant in UTC to the second, as the CLIs' tables show instants.
fn instant(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => crate::instant_utc(t),
        Err(_) => ms.to_string(),
    }
}

/// A short y-axis label: as many decimals as the `span` of the axis needs (two digits
/// below its order of magnitude), or scientific notation for very large values and spans.
fn value_label(v: f64, span: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let decimals = (2.0 - span.log10().floor()).clamp(0.0, 9.0) as usize;
    if v.abs() >= 1e7 || decimals > 6 {
        return format!("{v:.2e}");
    }
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if s == "-0" { "0".into() } else { s.into() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The rows of the plotting area (above the x axis), without the y labels and axis.
    fn plot_rows(chart: &str) -> Vec<String> {
        chart
            .lines()
            .take_while(|l| !l.contains('└'))
            .map(|l| {
                l.split_once(['│', '┤'])
                    .map(|(_, cells)| cells.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// The row (0 at the top) of the first and the last cell holding `marker`, by column.
    fn rows_at_edges(chart: &str, marker: char) -> (usize, usize) {
        let rows = plot_rows(chart);
        let at = |pick_last: bool| {
            let mut best: Option<(usize, usize)> = None;
            for (r, line) in rows.iter().enumerate() {
                for (c, ch) in line.chars().enumerate() {
                    if ch != marker {
                        continue;
                    }
                    let better = match best {
                        None => true,
                        Some((bc, _)) => (pick_last && c > bc) || (!pick_last && c < bc),
                    };
                    if better {
                        best = Some((c, r));
                    }
                }
            }
            best.unwrap().1
        };
        (at(false), at(true))
    }

    const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    #[test]
    fn a_rising_series_ends_higher_than_it_starts_and_a_falling_one_lower() {
        let rising = Series::new("up", (0..10).map(|i| (T0 + i * 60_000, i as f64)).collect());
        let falling = Series::new(
            "down",
            (0..10).map(|i| (T0 + i * 60_000, 9.0 - i as f64)).collect(),
        );
        let chart = render(&[rising, falling], Canvas::PIPE).unwrap();
        let (left, right) = rows_at_edges(&chart, '*');
        assert!(right < left, "rising: row {left} -> {right}\n{chart}");
        let (left, right) = rows_at_edges(&chart, '+');
        assert!(right > left, "falling: row {left} -> {right}\n{chart}");
        // The extremes sit on the top and bottom rows, labelled with the values.
        let rows = plot_rows(&chart);
        assert_eq!(rows.len(), Canvas::PIPE.height);
        let labelled: Vec<&str> = chart
            .lines()
            .filter(|l| l.contains('┤'))
            .map(|l| l.trim_start().split('┤').next().unwrap())
            .collect();
        assert_eq!(labelled, ["9 ", "4.5 ", "0 "], "{chart}");
        assert!(
            chart
                .lines()
                .next()
                .unwrap()
                .trim_start()
                .starts_with("9 ┤")
        );
        assert!(chart.contains("  * up\n  + down\n"), "{chart}");
        assert!(
            chart.contains("2026-01-01T00:00:00Z") && chart.contains("2026-01-01T00:09:00Z"),
            "{chart}"
        );
        // Every line fits the canvas, the time axis ends under the right end.
        for l in chart.lines() {
            assert!(l.chars().count() <= Canvas::PIPE.width, "{l:?}");
        }
        let axis = chart.lines().find(|l| l.contains('└')).unwrap();
        let times = chart.lines().find(|l| l.contains("2026-")).unwrap();
        assert_eq!(axis.chars().count(), times.chars().count(), "{chart}");
    }

    #[test]
    fn lines_have_no_gaps() {
        let jump = Series::new("j", vec![(T0, 0.0), (T0 + 1000, 100.0)]);
        let chart = render(&[jump], Canvas::PIPE).unwrap();
        // A steep line touches every row.
        for (r, row) in plot_rows(&chart).iter().enumerate() {
            assert!(row.contains('*'), "row {r}\n{chart}");
        }
    }

    #[test]
    fn nothing_finite_is_no_chart() {
        assert_eq!(render(&[], Canvas::PIPE), None);
        let empty = Series::new("e", vec![(T0, f64::NAN)]);
        assert_eq!(
            render(&[empty, Series::new("f", vec![])], Canvas::PIPE),
            None
        );
    }

    #[test]
    fn one_point_and_flat_series_are_drawn() {
        let one = Series::new("one", vec![(T0, 5.0)]);
        let chart = render(&[one], Canvas::PIPE).unwrap();
        let rows = plot_rows(&chart);
        let marked: Vec<usize> = (0..rows.len()).filter(|r| rows[*r].contains('*')).collect();
        assert_eq!(marked, [Canvas::PIPE.height / 2], "{chart}");
        assert!(chart.contains("2026-01-01T00:00:00Z"), "{chart}");
        assert!(
            chart.contains("5.5 ┤") && chart.contains("4.5 ┤"),
            "{chart}"
        );
        // Labels have the decimals the axis needs: the middle of -0.999..1 is 0.
        let wave = Series::new("w", vec![(T0, -0.999), (T0 + 1, 1.0), (T0 + 2, 0.1)]);
        let chart = render(&[wave], Canvas::PIPE).unwrap();
        assert!(chart.starts_with(" 1 ┤"), "{chart}");
        assert!(
            chart.contains("\n 0 ┤") && chart.contains("\n-1 ┤"),
            "{chart}"
        );
    }

    #[test]
    fn colour_wraps_markers_and_too_many_series_are_counted() {
        let many: Vec<Series> = (0..MARKERS.len() + 2)
            .map(|i| Series::new(format!("s{i}"), vec![(T0, i as f64), (T0 + 1, 1.0)]))
            .collect();
        let chart = render(
            &many,
            Canvas {
                colour: true,
                ..Canvas::PIPE
            },
        )
        .unwrap();
        assert!(chart.contains("\x1b[31m*\x1b[0m s0"), "{chart}");
        assert!(chart.contains("\x1b[32m+\x1b[0m s1"), "{chart}");
        assert!(chart.contains("(2 more series not drawn"), "{chart}");
        let plain = render(&many, Canvas::PIPE).unwrap();
        assert!(!plain.contains('\x1b'));
    }

    #[test]
    fn narrow_canvases_put_the_end_time_on_its_own_line() {
        let s = Series::new("s", vec![(T0, 1.0), (T0 + 3_600_000, 2.0)]);
        let chart = render(
            &[s],
            Canvas {
                width: 30,
                height: 4,
                colour: false,
            },
        )
        .unwrap();
        let start = chart
            .lines()
            .position(|l| l.contains("2026-01-01T00:00:00Z"));
        let end = chart
            .lines()
            .position(|l| l.contains("2026-01-01T01:00:00Z"));
        assert_eq!(end, start.map(|s| s + 1), "{chart}");
    }

    #[test]
    fn series_names_read_like_promql() {
        assert_eq!(series_name("m", Vec::<(&str, &str)>::new()), "m");
        assert_eq!(
            series_name("m", [("a", "x"), ("b", "y\"z")]),
            r#"m{a="x", b="y\"z"}"#
        );
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(value_label(0.0, 1.0), "0");
        assert_eq!(value_label(2.5, 10.0), "2.5");
        assert_eq!(value_label(57.5, 85.0), "57.5");
        assert_eq!(value_label(100.0, 90.0), "100");
        assert_eq!(value_label(0.0005, 1.999), "0");
        assert_eq!(value_label(-0.0001, 0.0002), "-0.0001");
        assert_eq!(value_label(12_345_678.0, 1e7), "1.23e7");
        assert_eq!(value_label(1.0, 1e-9), "1.00e0");
    }
}
