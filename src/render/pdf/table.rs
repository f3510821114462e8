//! Tables that break across pages: every row is wrapped cell by cell, and when a row does not fit
//! on the current page a new page starts with the header row repeated.

use super::layout::{leading, Face, Pages, BLACK, MARGIN};

/// Space between a cell's border and its text.
const PAD: f32 = 3.0;
/// Most lines shown in one cell, so a single row can never be taller than a page.
const MAX_CELL_LINES: usize = 12;
const HEADER_FILL: (f32, f32, f32) = (0.86, 0.88, 0.92);
const STRIPE_FILL: (f32, f32, f32) = (0.955, 0.96, 0.97);

/// One column: its header and width in points.
pub(super) struct Column {
    pub(super) title: &'static str,
    pub(super) width: f32,
}

/// One cell: text, face and colour.
pub(super) struct Cell {
    pub(super) text: String,
    pub(super) face: Face,
    pub(super) color: (f32, f32, f32),
}

impl Cell {
    pub(super) fn plain(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            face: Face::Sans,
            color: BLACK,
        }
    }

    pub(super) fn styled(text: impl Into<String>, face: Face, color: (f32, f32, f32)) -> Self {
        Cell {
            text: text.into(),
            face,
            color,
        }
    }
}

/// A table being drawn at the left margin.
pub(super) struct Table {
    columns: Vec<Column>,
    size: f32,
    rows: usize,
}

impl Table {
    /// Starts a table and draws its header row (on a new page if the header and one row do not
    /// fit on this one).
    pub(super) fn start(p: &mut Pages, columns: Vec<Column>, size: f32) -> Self {
        let t = Table {
            columns,
            size,
            rows: 0,
        };
        p.ensure(3.0 * (leading(size) + 2.0 * PAD));
        t.header(p);
        t
    }

    fn width(&self) -> f32 {
        self.columns.iter().map(|c| c.width).sum()
    }

    fn header(&self, p: &mut Pages) {
        let cells: Vec<Vec<String>> = self
            .columns
            .iter()
            .map(|c| {
                p.fonts
                    .wrap(Face::Bold, self.size, c.title, c.width - 2.0 * PAD)
            })
            .collect();
        let faces = vec![(Face::Bold, BLACK); cells.len()];
        self.draw(p, &cells, &faces, Some(HEADER_FILL));
    }

    /// Draws one row, starting a new page (with the header repeated) when it does not fit.
    pub(super) fn row(&mut self, p: &mut Pages, cells: &[Cell]) {
        let wrapped: Vec<Vec<String>> = self
            .columns
            .iter()
            .zip(cells)
            .map(|(col, cell)| {
                let mut lines =
                    p.fonts
                        .wrap(cell.face, self.size, &cell.text, col.width - 2.0 * PAD);
                if lines.len() > MAX_CELL_LINES {
                    lines.truncate(MAX_CELL_LINES);
                    if let Some(last) = lines.last_mut() {
                        // The mark must fit inside the column too: shorten the line for it.
                        let max = col.width - 2.0 * PAD;
                        while !last.is_empty()
                            && p.fonts.width(cell.face, self.size, &format!("{last} …")) > max
                        {
                            last.pop();
                        }
                        last.push_str(" …");
                    }
                }
                lines
            })
            .collect();
        let height = row_height(&wrapped, self.size);
        if p.ensure(height) {
            self.header(p);
        }
        let faces: Vec<_> = cells.iter().map(|c| (c.face, c.color)).collect();
        let fill = (self.rows % 2 == 1).then_some(STRIPE_FILL);
        self.draw(p, &wrapped, &faces, fill);
        self.rows += 1;
    }

    /// Leaves some space after the table.
    pub(super) fn end(self, p: &mut Pages) {
        p.gap(8.0);
    }

    fn draw(
        &self,
        p: &mut Pages,
        cells: &[Vec<String>],
        faces: &[(Face, (f32, f32, f32))],
        fill: Option<(f32, f32, f32)>,
    ) {
        let height = row_height(cells, self.size);
        let top = p.y;
        if let Some(color) = fill {
            p.rect(MARGIN, top, self.width(), height, color);
        }
        let lh = leading(self.size);
        let mut x = MARGIN;
        for ((col, lines), (face, color)) in self.columns.iter().zip(cells).zip(faces) {
            for (i, line) in lines.iter().enumerate() {
                let baseline = top - PAD - self.size - i as f32 * lh;
                p.text_at(x + PAD, baseline, *face, self.size, *color, line);
            }
            x += col.width;
        }
        p.rect(MARGIN, top - height, self.width(), 0.4, (0.75, 0.77, 0.8));
        p.y = top - height;
    }
}

fn row_height(cells: &[Vec<String>], size: f32) -> f32 {
    let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
    lines as f32 * leading(size) + 2.0 * PAD
}
