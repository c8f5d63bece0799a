//! A port of Go's `text/tabwriter` column algorithm (the one kubectl prints through): cells are
//! tab-terminated, the text after a line's last tab is not part of any column, and a column is
//! aligned over each run of consecutive lines that have a cell in it.

/// Layout settings: the smallest column width and the padding added to the widest cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Minimal width of a column, padding included.
    pub min_width: usize,
    /// Spaces added to the widest cell of a column.
    pub padding: usize,
}

/// kubectl's `get` printer: `tabwriter.NewWriter(out, 6, 4, 3, ' ', RememberWidths)`.
pub const GET: Layout = Layout {
    min_width: 6,
    padding: 3,
};
/// kubectl's `describe` printer: `tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)`.
pub const DESCRIBE: Layout = Layout {
    min_width: 0,
    padding: 2,
};

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Aligns `text` (lines with tab-separated cells) the way Go's tabwriter does.
pub fn align(text: &str, layout: Layout) -> String {
    let ends_with_newline = text.ends_with('\n');
    let lines: Vec<Vec<&str>> = text
        .strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .map(|l| l.split('\t').collect())
        .collect();
    let mut out = String::new();
    let mut widths = Vec::new();
    format(&lines, 0, lines.len(), &mut widths, layout, &mut out);
    if !ends_with_newline {
        out.pop();
    }
    out
}

fn format(
    lines: &[Vec<&str>],
    mut line0: usize,
    line1: usize,
    widths: &mut Vec<usize>,
    layout: Layout,
    out: &mut String,
) {
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        // A cell in this column starts a block: print the lines before it first.
        write_lines(&lines[line0..this], widths, out);
        line0 = this;
        let mut w = layout.min_width;
        while this < line1 && column + 1 < lines[this].len() {
            w = w.max(width(lines[this][column]) + layout.padding);
            this += 1;
        }
        widths.push(w);
        format(lines, line0, this, widths, layout, out);
        widths.pop();
        line0 = this;
    }
    write_lines(&lines[line0..line1], widths, out);
}

fn write_lines(lines: &[Vec<&str>], widths: &[usize], out: &mut String) {
    for cells in lines {
        for (j, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if j + 1 < cells.len() {
                if let Some(w) = widths.get(j) {
                    out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(cell))));
                }
            }
        }
        out.push('\n');
    }
}

/// Pads rows of cells into columns with remembered widths (kubectl's `RememberWidths`), so rows
/// printed later (watch events) line up with the ones printed before.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    widths: Vec<usize>,
}

impl Columns {
    /// Grows the remembered widths to fit `rows`.
    pub fn fit(&mut self, rows: &[Vec<String>]) {
        for row in rows {
            for (j, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
                let w = (width(cell) + GET.padding).max(GET.min_width);
                if self.widths.len() <= j {
                    self.widths.resize(j + 1, 0);
                }
                self.widths[j] = self.widths[j].max(w);
            }
        }
    }

    /// One row, padded; the last cell is not padded.
    pub fn line(&self, row: &[String]) -> String {
        let mut s = String::new();
        for (j, cell) in row.iter().enumerate() {
            s.push_str(cell);
            if j + 1 < row.len() {
                let w = self.widths.get(j).copied().unwrap_or(0);
                s.extend(std::iter::repeat_n(' ', w.saturating_sub(width(cell))));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_blocks_like_go() {
        let cases = [
            (
                "a:\tx\nlonger:\ty\n",
                "a:      x\nlonger: y\n",
                Layout {
                    min_width: 0,
                    padding: 1,
                },
            ),
            // A line without tabs ends the block.
            (
                "a:\tx\nheader\nlonger:\ty\n",
                "a: x\nheader\nlonger: y\n",
                Layout {
                    min_width: 0,
                    padding: 1,
                },
            ),
            // Nested columns align only where present.
            ("k\tv\tw\nkk\tvvv\n", "k     v     w\nkk    vvv\n", GET),
            (
                "Name:\tweb\nEvents:\t<none>\n",
                "Name:    web\nEvents:  <none>\n",
                DESCRIBE,
            ),
        ];
        for (input, want, layout) in cases {
            assert_eq!(align(input, layout), want, "{input:?}");
        }
    }

    #[test]
    fn remembered_widths_grow() {
        let mut c = Columns::default();
        let rows = vec![
            vec!["NAME".to_string(), "AGE".to_string()],
            vec!["web".to_string(), "5s".to_string()],
        ];
        c.fit(&rows);
        assert_eq!(c.line(&rows[0]), "NAME   AGE");
        c.fit(&[vec!["a-much-longer".to_string(), "1s".to_string()]]);
        assert_eq!(c.line(&rows[1]), "web             5s");
    }
}
