// The options of the commands that take over the terminal (`explore`, `tour`): colours, pictures,
// mouse. What they mean is HatTUI's (TerminalOptions, DisplaySetup).
import ArgumentParser
import HatTUI

struct ScreenOptions: ParsableArguments {
    @Option(help: "Colours: auto, truecolor, 256, 16, 8 or mono.")
    var color: String = "auto"

    @Option(help: "Pictures: auto, kitty, sixel, iterm2 or blocks (half blocks).")
    var graphics: String = "auto"

    @Flag(help: "Do not use the mouse.")
    var noMouse = false

    func validate() throws {
        guard TerminalOptions.colorChoices.contains(color.lowercased()) else {
            throw ValidationError("--color must be auto, truecolor, 256, 16, 8 or mono (got \(color))")
        }
        guard GraphicsProtocol(rawValue: graphics.lowercased()) != nil || graphics.lowercased() == "auto" else {
            throw ValidationError("--graphics must be auto, kitty, sixel, iterm2 or blocks (got \(graphics))")
        }
    }

    var terminal: TerminalOptions { TerminalOptions(color: color, mouse: !noMouse, graphics: graphics.lowercased()) }
}
