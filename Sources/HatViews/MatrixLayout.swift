// Geometry and drawing of a MatrixField beside the image: square cells, the carrier rows/columns
// set apart by a gap and marked by a cyan bar, labels when the cells are big enough for the font
// (row labels on the left, column labels on top, thinned to every k-th when they are wider than a
// cell), the query's row outlined. On a screen the text is scaled with the terminal's cells
// (`textScale`), so labels stay readable at large fonts; figures draw it at scale 1.
import HatImaging

struct MatrixLayout {
    let matrix: MatrixField
    let cell: Int
    let rowLabelWidth: Int
    let colLabelStep: Int
    let topBand: Int
    let caption: String?
    /// Font scale of the labels (1 in figures; smaller than asked when the cells are too small
    /// for labels that large) and of the caption.
    let labelScale: Int
    let captionScale: Int
    static let separator = 3
    static let markerBar = 4

    /// `available`: pixels of height the matrix may take; `availableWidth`: of width (figures
    /// leave it to follow the height); `textScale`: the font scale of labels and caption (a
    /// screen's, from its cell size).
    init(_ m: MatrixField, available: Int, availableWidth: Int? = nil, textScale: Int = 1) {
        matrix = m
        let ts = max(1, textScale)
        let sepRows = m.markedRows > 0 && m.markedRows < m.rows ? MatrixLayout.separator : 0
        let sepCols = m.markedCols > 0 && m.markedCols < m.cols ? MatrixLayout.separator : 0
        let fit = (max(available, 64) - Canvas.lineHeight(scale: ts) - sepRows - MatrixLayout.markerBar) / max(m.rows, 1)
        // At most 32 pixels per cell at text scale 1 (more with larger text, so the labels keep
        // their columns). One pixel per cell at the least: a 2304 x 2304 window matrix (21k
        // models at 768) stays 2304 pixels wide instead of growing without bound. A given width
        // holds the row labels too (they took the matrix's last columns off the screen's picture
        // otherwise).
        func cellSize(labels: Int) -> Int {
            let fitW = ((availableWidth.map { $0 - labels - MatrixLayout.markerBar - 1 } ?? max(available, 240)) - sepCols) / max(m.cols, 1)
            return max(1, min(32 * ts, fit, fitW))
        }
        // The largest label scale up to `ts` whose row labels leave cells at least a glyph tall.
        var chosen: (cell: Int, labels: Int, scale: Int)? = nil
        if !m.rowLabels.isEmpty {
            for s in stride(from: ts, through: 1, by: -1) {
                let labelWidth = (m.rowLabels.map { Canvas.textWidth($0, scale: s) }.max() ?? 0) + 4 * s
                let withLabels = cellSize(labels: labelWidth)
                if withLabels >= BitmapFont.glyphHeight * s { chosen = (withLabels, labelWidth, s); break }
            }
        }
        cell = chosen?.cell ?? cellSize(labels: 0)
        rowLabelWidth = chosen?.labels ?? 0
        // Column labels at the row labels' scale (the largest that fits above cells this size).
        let ls = chosen?.scale ?? max(1, min(ts, cell / BitmapFont.glyphHeight))
        labelScale = ls
        if m.colLabels.isEmpty || cell < 3 {
            colLabelStep = 0
        } else {
            let widest = (m.colLabels.map { Canvas.textWidth($0, scale: ls) }.max() ?? 0) + 3 * ls
            colLabelStep = max(1, (widest + cell - 1) / cell)
        }
        captionScale = ts
        topBand = (colLabelStep > 0 ? Canvas.lineHeight(scale: ls) : 0) + MatrixLayout.markerBar + 1
        caption = m.rows > 1 ? "rows: queries, columns: keys" : (m.markedCols == m.cols ? "carrier tokens" : nil)
    }

    var leftBand: Int { rowLabelWidth + MatrixLayout.markerBar + 1 }
    var separatorRows: Int { matrix.markedRows > 0 && matrix.markedRows < matrix.rows ? MatrixLayout.separator : 0 }
    var separatorCols: Int { matrix.markedCols > 0 && matrix.markedCols < matrix.cols ? MatrixLayout.separator : 0 }
    var gridWidth: Int { matrix.cols * cell + separatorCols }
    var gridHeight: Int { matrix.rows * cell + separatorRows }
    var width: Int { max(leftBand + gridWidth, caption.map { Canvas.textWidth($0, scale: captionScale) } ?? 0) }
    var height: Int { topBand + gridHeight + (caption != nil ? 4 * captionScale + Canvas.lineHeight(scale: captionScale) : 0) }

    /// Offsets of row i / column j inside the grid (after the carrier separator when past it).
    func rowOffset(_ i: Int) -> Int { i * cell + (i >= matrix.markedRows ? separatorRows : 0) }
    func colOffset(_ j: Int) -> Int { j * cell + (j >= matrix.markedCols ? separatorCols : 0) }

    /// Top-left canvas pixel of cell (i, j) when the layout is drawn at (x, y).
    func cellOrigin(x: Int, y: Int, row i: Int, col j: Int) -> (x: Int, y: Int) {
        (x + leftBand + colOffset(j), y + topBand + rowOffset(i))
    }

    func draw(on canvas: inout Canvas, x: Int, y: Int, body: Body) {
        let m = matrix
        let gx = x + leftBand, gy = y + topBand
        canvas.fill(x: gx, y: gy, w: gridWidth, h: gridHeight, FigureStyle.matrixSeparator)
        for i in 0 ..< m.rows {
            for j in 0 ..< m.cols {
                let v = m.values[i * m.cols + j]
                let color = v.isNaN ? FigureStyle.panelBackground : body.color(v)
                canvas.fill(x: gx + colOffset(j), y: gy + rowOffset(i), w: cell, h: cell, color)
            }
        }
        // Carrier markers: a bar left of the carrier rows and above the carrier columns.
        let bar = MatrixLayout.markerBar
        if m.markedRows > 0 {
            canvas.fill(x: gx - bar - 1, y: gy, w: bar, h: m.markedRows * cell, FigureStyle.carrierBox)
        }
        if m.markedCols > 0 {
            canvas.fill(x: gx, y: gy - bar - 1, w: m.markedCols * cell, h: bar, FigureStyle.carrierBox)
        }
        if rowLabelWidth > 0 {
            for i in 0 ..< min(m.rows, m.rowLabels.count) {
                let ty = gy + rowOffset(i) + (cell - BitmapFont.glyphHeight * labelScale) / 2
                canvas.text(m.rowLabels[i], x: x, y: ty, FigureStyle.mutedText, scale: labelScale)
            }
        }
        if colLabelStep > 0 {
            for j in stride(from: 0, to: min(m.cols, m.colLabels.count), by: colLabelStep) {
                canvas.text(m.colLabels[j], x: gx + colOffset(j), y: y, FigureStyle.mutedText, scale: labelScale)
            }
        }
        if let h = m.highlightRow, h >= 0, h < m.rows {
            canvas.stroke(x: gx - 1, y: gy + rowOffset(h) - 1, w: gridWidth + 2, h: cell + 2,
                          FigureStyle.highlightRow, thickness: cell >= 6 ? 2 : 1)
        }
        if let c = caption {
            canvas.text(c, x: x, y: gy + gridHeight + 4 * captionScale, FigureStyle.mutedText, scale: captionScale)
        }
    }
}
