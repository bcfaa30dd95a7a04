// The intervention options (--occlude, --occlude-box, --ablate-head, --cut-carriers, --cut-global,
// --no-propagation), repeatable, shared by every command that runs the model with them (record,
// predict, export, explore, tour, bench): a subcommand adds
// `@OptionGroup(title: InterventionOptions.title) var interventions: InterventionOptions` and
// passes `try interventions.resolve(config:height:width:)` to the forward pass.
// The spelling and the checks are HatRecording's (Intervention.parse / validate); this file only reads
// mask images.
import ArgumentParser
import Foundation
import HatImaging
import HatRecording

struct InterventionOptions: ParsableArguments {
    /// The --help section they are listed under.
    static let title = "Interventions (repeatable; named by official module paths, so each means the same in PyTorch)"

    @Option(name: .customLong("occlude"), help: ArgumentHelp(
        "Set the input pixels under the mask's white pixels to 0 after normalisation (the mean colour); the mask is resized nearest-neighbour to the network input.",
        valueName: "mask.png"))
    var occlude: [String] = []

    @Option(name: .customLong("occlude-box"), help: ArgumentHelp(
        "Occlude the input pixels under a box of one stage's tokens, inclusive (stages 1-4; stage 3 = levels.2).",
        valueName: "S:R0-R1,C0-C1"))
    var occludeBox: [String] = []

    @Option(name: .customLong("ablate-head"), help: ArgumentHelp(
        "Zero one head's attention output (softmax(QK^T + bias) V) before the output projection.",
        valueName: "levels.L.blocks.B.attn:H|levels.L.blocks.B.hat_attn:H"))
    var ablateHead: [String] = []

    @Option(name: .customLong("cut-carriers"), help: ArgumentHelp(
        "Window attention: window tokens read nothing from their carrier tokens (logits -inf); every block of the stage without .blocks.B.",
        valueName: "levels.L[.blocks.B]"))
    var cutCarriers: [String] = []

    @Option(name: .customLong("cut-global"), help: ArgumentHelp(
        "Carrier attention: every carrier token attends only to itself (off-diagonal logits -inf); every block without .blocks.B.",
        valueName: "levels.L[.blocks.B]"))
    var cutGlobal: [String] = []

    @Option(name: .customLong("no-propagation"), help: ArgumentHelp(
        "The stage's last block does not add the upsampled carrier tokens back into its windows.",
        valueName: "levels.L"))
    var noPropagation: [String] = []

    /// Each option with whether it was given (commands refuse them beside --recording: a
    /// recording is drawn as it was run).
    var givenOptions: [(option: String, present: Bool)] {
        [("--occlude", !occlude.isEmpty), ("--occlude-box", !occludeBox.isEmpty), ("--ablate-head", !ablateHead.isEmpty),
         ("--cut-carriers", !cutCarriers.isEmpty), ("--cut-global", !cutGlobal.isEmpty),
         ("--no-propagation", !noPropagation.isEmpty)]
    }

    /// Every given intervention, read and checked against the model and input size; a problem is
    /// one line (InterventionError, or a CLIError for an unreadable mask).
    func resolve(config: ModelConfig, height: Int, width: Int) throws -> [Intervention] {
        var out: [Intervention] = []
        for path in occlude {
            // "-" is standard input for --image / --input; a mask has to be a file of its own.
            guard path != "-" else { throw CLIError("--occlude -: a mask is read from a file, not standard input") }
            let image: RGBImage
            do { image = try ImageIO.load(path: path) } catch { throw CLIError("--occlude \(path): \(error)") }
            let mask = PixelMask(whiteOf: image.pixels, width: image.width, height: image.height,
                                 resizedTo: height, width, label: path)
            // A 0/1 mask saved as an image looks black: it would run the plain forward under an
            // --occlude label.
            guard mask.count > 0 else {
                throw CLIError("--occlude \(path): the mask has no white pixel (every channel >= 128) at the network input's \(height)x\(width): nothing to occlude")
            }
            out.append(.occludePixels(mask))
        }
        let texts: [(String, [String])] = [("occlude-box", occludeBox), ("ablate-head", ablateHead),
                                           ("cut-carriers", cutCarriers), ("cut-global", cutGlobal),
                                           ("no-propagation", noPropagation)]
        for (option, values) in texts {
            for v in values { out.append(try Intervention.parse(option: option, value: v)) }
        }
        for item in out { try item.validate(config: config, height: height, width: width) }
        return out
    }
}
