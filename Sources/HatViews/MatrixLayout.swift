// Geometry and drawing of a MatrixField beside the image: square cells, the carrier rows/columns
// set apart by a gap and marked by a cyan bar, labels when the cells are big enough for the font
// (row labels on the left, column labels on top, thinned to every k-th when they are wider than a
// cell), the query's row outlined.
import HatImaging

struct MatrixLayout {
    let matrix: MatrixField
    let cell: Int
    let rowLabelWidth: Int
    let colLabelStep: Int
    let topBand: Int
    let caption: String?
    static let separator = 3
    static let markerBar = 4

    /// `available`: pixels of height the matrix may take; `availableWidth`: of width (figures
    /// leave it to follow the height).
    init(_ m: MatrixField, available: Int, availableWidth: Int? = nil) {
        matrix = m
        let sepRows = m.markedRows > 0 && m.markedRows < m.rows ? MatrixLayout.separator : 0
        let sepCols = m.markedCols > 0 && m.markedCols < m.cols ? MatrixLayout.separator : 0
        let fit = (max(available, 64) - Canvas.lineHeight - sepRows - MatrixLayout.markerBar) / max(m.rows, 1)
        // One pixel per cell at the least: a 2304 x 2304 window matrix (21k models at 768) stays
        // 2304 pixels wide instead of growing without bound. A given width holds the row labels
        // too (they took the matrix's last columns off the screen's picture otherwise).
        func cellSize(labels: Int) -> Int {
            let fitW = ((availableWidth.map { $0 - labels - MatrixLayout.markerBar - 1 } ?? max(available, 240)) - sepCols) / max(m.cols, 1)
            return max(1, min(32, fit, fitW))
        }
        let labelWidth = (m.rowLabels.map { Canvas.textWidth($0) }.max() ?? 0) + 4
        let withLabels = cellSize(labels: labelWidth)
        if !m.rowLabels.isEmpty && withLabels >= BitmapFont.glyphHeight {
            cell = withLabels
            rowLabelWidth = labelWidth
        } else {
            cell = cellSize(labels: 0)
            rowLabelWidth = 0
        }
        if m.colLabels.isEmpty || cell < 3 {
            colLabelStep = 0
        } else {
            let widest = (m.colLabels.map { Canvas.textWidth($0) }.max() ?? 0) + 3
            colLabelStep = max(1, (widest + cell - 1) / cell)
        }
        topBand = (colLabelStep > 0 ? Canvas.lineHeight : 0) + MatrixLayout.markerBar + 1
        caption = m.rows > 1 ? "rows: queries, columns: keys" : (m.markedCols == m.cols ? "carrier tokens" : nil)
    }

    var leftBand: Int { rowLabelWidth + MatrixLayout.markerBar + 1 }
    var separatorRows: Int { matrix.markedRows > 0 && matrix.markedRows < matrix.rows ? MatrixLayout.separator : 0 }
    var separatorCols: Int { matrix.markedCols > 0 && matrix.markedCols < matrix.cols ? MatrixLayout.separator : 0 }
    var gridWidth: Int { matrix.cols * cell + separatorCols }
    var gridHeight: Int { matrix.rows * cell + separatorRows }
    var width: Int { max(leftBand + gridWidth, caption.map { Canvas.textWidth($0) } ?? 0) }
    var height: Int { topBand + gridHeight + (caption != nil ? 4 + Canvas.lineHeight : 0) }

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
                let ty = gy + rowOffset(i) + (cell - BitmapFont.glyphHeight) / 2
                canvas.text(m.rowLabels[i], x: x, y: ty, FigureStyle.mutedText)
            }
        }
        if colLabelStep > 0 {
            for j in stride(from: 0, to: min(m.cols, m.colLabels.count), by: colLabelStep) {
                canvas.text(m.colLabels[j], x: gx + colOffset(j), y: y, FigureStyle.mutedText)
            }
        }
        if let h = m.highlightRow, h >= 0, h < m.rows {
            canvas.stroke(x: gx - 1, y: gy + rowOffset(h) - 1, w: gridWidth + 2, h: cell + 2,
                          FigureStyle.highlightRow, thickness: cell >= 6 ? 2 : 1)
        }
        if let c = caption {
            canvas.text(c, x: x, y: gy + gridHeight + 4, FigureStyle.mutedText)
        }
    }
}
