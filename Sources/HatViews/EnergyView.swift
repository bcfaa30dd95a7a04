// Energy view: for the convolutional stages (levels 0 and 1), the L2 norm over channels of the
// stage's output feature map at each position: where the early features respond strongly.
// Transformer stages record attention, not feature maps, so the view is not offered there.
import HatRecording

enum EnergyView {
    static func compute(_ rec: Recording, _ sel: Selection) throws -> ViewResult {
        guard let stage = rec.convStages.first(where: { $0.level == sel.level }) else {
            if rec.stages.contains(where: { $0.level == sel.level }) {
                throw ViewError.notApplicable(
                    "the energy view is for the convolutional stages 1 and 2; stage \(sel.level + 1) is a transformer stage (see its attention views)")
            }
            throw ViewError.invalidSelection("stage \(sel.level + 1) is not in this recording")
        }
        guard stage.energy.count == stage.height * stage.width, stage.height > 0, stage.width > 0 else {
            throw ViewError.notApplicable("stage \(sel.level + 1)'s energy map was not recorded")
        }
        let field = Field(rows: stage.height, cols: stage.width, cellSize: stage.stride, values: stage.energy)
        let range = ViewStats.range(stage.energy)
        let mean = stage.energy.reduce(0, +) / Float(stage.energy.count)
        var numbers: [(String, String)] = [
            ("max", ViewStats.fmt(range.max)),
            ("min", ViewStats.fmt(range.min)),
            ("mean", ViewStats.fmt(mean)),
            ("map", "\(stage.height) x \(stage.width) x \(stage.channels) channels"),
        ]
        if let a = ViewStats.argmax(stage.energy) {
            numbers.append(("strongest at", "r\(a / stage.width) c\(a % stage.width)"))
        }
        let explanation = [
            "Stage \(sel.level + 1) is convolutional (no attention); colours show the size (L2 norm over its \(stage.channels) channels) of its output feature at each position, one cell per \(stage.stride)x\(stage.stride) input pixels.",
            "Bright cells are where the early features respond strongly: edges, texture and contrast.",
        ]
        let title = ["energy", rec.config.name, "stage \(sel.level + 1) (convolutional)", "stage output"]
            .joined(separator: " | ")
        return ViewResult(kind: .energy, title: title, explanation: explanation, field: field, matrix: nil,
                          overlays: Overlays(), rangeMin: range.min, rangeMax: range.max,
                          scaleLabel: "feature energy (L2 over channels)", numbers: numbers)
    }
}
