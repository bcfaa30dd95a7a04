// Every colour of the explorer, named by what it means, in one place (htop's habit). The renderer
// never writes a literal colour; a new theme is a new value of this struct. The picture's marks
// (query, windows, carrier boxes) are the PNG figures' colours (FigureStyle), since the figure
// code draws the picture on screen too.
import HatViews

public struct Theme: Sendable {
    /// Screen background and ordinary text.
    public var background: CellColor
    public var text: CellColor
    /// Less important text (labels, hints, units).
    public var dimText: CellColor
    /// Section headings in the side panel.
    public var heading: CellColor
    /// The header bar and the footer bar.
    public var barBackground: CellColor
    public var barText: CellColor
    /// The current view's tab in the header, and key names in the footer.
    public var activeTab: CellColor
    public var activeTabText: CellColor
    public var key: CellColor
    /// The query token (its outline over the picture, the highlighted matrix row).
    public var selection: CellColor
    /// Window borders over the picture; the window holding the query.
    public var windowGrid: CellColor
    public var selectedWindow: CellColor
    /// Carrier-token pooling boxes; the emphasised ones.
    public var carrierToken: CellColor
    public var carrierTokenHighlight: CellColor
    /// The line setting carrier rows/columns apart from window tokens in a matrix.
    public var matrixSeparator: CellColor
    /// Where there is no picture (letterbox around the image, padding beyond the input).
    public var pictureBackground: CellColor
    /// Status line messages: success and problems.
    public var statusOK: CellColor
    public var statusError: CellColor
    /// The help overlay's frame and background.
    public var overlayBackground: CellColor
    public var overlayBorder: CellColor
    /// How strongly the view's colours cover the image (0 = image only, 1 = colours only).
    public var fieldOpacity: Float

    public static let standard = Theme(
        background: CellColor(18, 18, 24), text: CellColor(220, 220, 220), dimText: CellColor(130, 130, 140),
        heading: CellColor(120, 190, 255), barBackground: CellColor(44, 48, 62), barText: CellColor(220, 220, 230),
        activeTab: CellColor(120, 190, 255), activeTabText: CellColor(10, 10, 20), key: CellColor(255, 200, 90),
        selection: CellColor(FigureStyle.query), windowGrid: CellColor(FigureStyle.windowGrid),
        selectedWindow: CellColor(FigureStyle.selectedWindow),
        carrierToken: CellColor(FigureStyle.carrierBox), carrierTokenHighlight: CellColor(FigureStyle.highlightedCarrierBox),
        matrixSeparator: CellColor(255, 255, 255), pictureBackground: CellColor(0, 0, 0),
        statusOK: CellColor(120, 230, 120), statusError: CellColor(255, 110, 110),
        overlayBackground: CellColor(30, 32, 44), overlayBorder: CellColor(120, 190, 255), fieldOpacity: 0.7)
}
