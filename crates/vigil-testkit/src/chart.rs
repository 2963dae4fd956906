//! Reads a chart that `sdc`/`monasca` print with `--plot` (not on a terminal, so one marker
//! character per series and no colour): the plotting rows, the time-axis labels and the
//! legend, so tests can assert what a reader of the chart would see.

/// A `--plot` chart taken apart.
#[derive(Debug)]
pub struct Chart {
    /// The plotting rows, top first, without the y labels and the axis.
    pub rows: Vec<String>,
    /// The y-axis labels, top first.
    pub y_labels: Vec<String>,
    /// The words under the x axis (the first and last instants).
    pub times: Vec<String>,
    /// `(marker, series name)` in legend order.
    pub legend: Vec<(char, String)>,
    pub text: String,
}

impl Chart {
    /// Takes `text` apart; panics when it is not a chart.
    pub fn parse(text: &str) -> Chart {
        let lines: Vec<&str> = text.lines().collect();
        let axis = lines
            .iter()
            .position(|l| l.trim_start().starts_with('└'))
            .unwrap_or_else(|| panic!("no x axis in\n{text}"));
        let mut rows = Vec::new();
        let mut y_labels = Vec::new();
        for l in &lines[..axis] {
            let (label, cells) = l
                .split_once(['│', '┤'])
                .unwrap_or_else(|| panic!("no y axis in {l:?}\n{text}"));
            if !label.trim().is_empty() {
                y_labels.push(label.trim().to_string());
            }
            rows.push(cells.to_string());
        }
        let mut times = Vec::new();
        let mut legend = Vec::new();
        for l in &lines[axis + 1..] {
            // Legend lines are "  <marker> <name>"; time lines hold only instants.
            let mut chars = l.chars();
            match (chars.next(), chars.next(), chars.next(), chars.next()) {
                (Some(' '), Some(' '), Some(m), Some(' ')) if m != ' ' && m != '(' => {
                    legend.push((m, l[2 + m.len_utf8() + 1..].to_string()));
                }
                _ if legend.is_empty() => times.extend(l.split_whitespace().map(String::from)),
                _ => {}
            }
        }
        Chart {
            rows,
            y_labels,
            times,
            legend,
            text: text.to_string(),
        }
    }

    /// The marker the legend gives `series`; panics when the legend does not name it.
    pub fn marker(&self, series: &str) -> char {
        self.legend
            .iter()
            .find(|(_, name)| name == series)
            .unwrap_or_else(|| panic!("no {series:?} in the legend of\n{}", self.text))
            .0
    }

    /// The distinct characters drawn in the plotting area, sorted.
    pub fn markers_drawn(&self) -> Vec<char> {
        let mut drawn: Vec<char> = self
            .rows
            .iter()
            .flat_map(|r| r.chars())
            .filter(|c| *c != ' ')
            .collect();
        drawn.sort_unstable();
        drawn.dedup();
        drawn
    }

    /// The rows (0 at the top) of `marker`'s leftmost and rightmost cells.
    pub fn edge_rows(&self, marker: char) -> (usize, usize) {
        let cells: Vec<(usize, usize)> = self
            .rows
            .iter()
            .enumerate()
            .flat_map(|(r, line)| {
                line.chars()
                    .enumerate()
                    .filter(move |(_, ch)| *ch == marker)
                    .map(move |(c, _)| (c, r))
            })
            .collect();
        let left = cells.iter().min_by_key(|(c, _)| *c);
        let right = cells.iter().max_by_key(|(c, _)| *c);
        match (left, right) {
            (Some(l), Some(r)) => (l.1, r.1),
            _ => panic!("{marker:?} is not drawn in\n{}", self.text),
        }
    }
}

/// `ms` as the charts write instants: `2026-01-01T00:00:00Z`.
pub fn instant(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(e) => panic!("{ms} is no instant: {e}"),
    }
}

#[test]
fn reads_a_chart() {
    assert_eq!(instant(crate::T0 + 61_000), "2026-01-01T00:01:01Z");
    assert_eq!(instant(951_782_400_000), "2000-02-29T00:00:00Z");
    let text = "2 ┤  +\n  │ * \n1 ┤*  +\n  └────\n   2026-01-01T00:00:00Z 2026-01-01T00:01:00Z\n  * a{x=\"1\"}\n  + b\n";
    let c = Chart::parse(text);
    assert_eq!(c.y_labels, ["2", "1"]);
    assert_eq!(c.times, ["2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"]);
    assert_eq!(c.marker("a{x=\"1\"}"), '*');
    assert_eq!(c.markers_drawn(), ['*', '+']);
    assert_eq!(c.edge_rows('*'), (2, 1));
}
