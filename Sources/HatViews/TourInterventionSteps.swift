// Tour step 11: "Does the model need the carriers?" The model runs again on the loaded input
// (through the runner the executable hands in: this module never imports the engine) with the
// first carrier stage's carrier attention cut (each carrier attends only to itself) and with the
// windows cut off from their carriers (window tokens read none, and none are added back), and the
// step shows the prediction before and after each, the cut carrier attention (a diagonal matrix),
// and on the embedded demo the held-out accuracies measured with and without carriers.
import HatRecording

extension TourSteps {
    static func carrierCut(_ t: TourFacts) -> TourStep {
        let title = "Does the model need the carriers?"
        guard let st = t.hatStage else {
            return TourStep(kind: .carrierCut, title: title, applies: false, facts: t.noCarrierFacts,
                            sentences: [t.noCarrierSentence + " With no carriers there is nothing to cut."])
        }
        let level = st.level
        let global: [Intervention] = [.cutGlobal(level: level, block: nil)]
        // Window tokens get nothing from the carriers: no carrier keys, and (where the model has
        // it) nothing added back by propagation.
        let deaf: [Intervention] = [.cutCarriers(level: level, block: nil)]
            + (t.config.doPropagation ? [.noPropagation(level: level)] : [])
        func options(_ list: [Intervention]) -> String { list.map(\.description).joined(separator: " ") }

        var facts: [String] = []
        let before = t.rec.topK(min(2, t.rec.logits.count))
        let loaded = t.inputs.interventions.isEmpty ? "as loaded" : "as loaded (with \(options(t.inputs.interventions)))"
        facts.append("\(loaded): " + before.map { "\(t.className($0.index)) \(TourFacts.pct($0.probability))" }.joined(separator: ", "))
        var picture: ViewResult?
        var sentences: [String] = []
        if let runner = t.inputs.runner {
            do {
                let cut = try runner(t.inputs.interventions + global)
                let alone = try runner(t.inputs.interventions + deaf)
                facts.append("carriers attend only to themselves (\(options(global)), every block of stage \(st.number)): " + change(t, t.rec, cut))
                facts.append("window tokens get nothing from their carriers (\(options(deaf))): " + change(t, t.rec, alone))
                picture = cutMatrix(t, cut, st)
                sentences.append("The model ran twice more on this image. First every carrier of stage \(st.number) may attend only to itself, so nothing crosses a window border through carrier attention; the matrix shows that carrier attention, now only its diagonal. Then the windows are cut off from their carriers altogether.")
                sentences.append(verdict(t, t.rec, cut, alone))
            } catch {
                facts.append("the model could not run again: \(error)")
            }
        } else {
            facts.append("this tour shows a recording file: the model is not loaded, so it cannot run again here")
            sentences.append("Every command that runs the model takes the same cuts: `hatscope predict --cut-global levels.\(level)` answers with the carriers of stage \(st.number) attending only to themselves, and `hatscope tour` on the checkpoint and image runs this step.")
        }
        if t.inputs.isDemo {
            facts += DemoFacts.accuracies
            sentences.append(DemoFacts.reading)
        }
        return TourStep(kind: .carrierCut, title: title, facts: facts, sentences: sentences,
                        // K cuts the stage on screen: first to the one cut here (the explorer
                        // opens on stage 3, which may have no carriers).
                        explorer: [.reach(level: level, view: .carrier, "its carrier attention, what the cut changes"),
                                   .use([.cycleCarrierCut], "cut this stage's carriers (again: the next cut, then none)"),
                                   .use([.differenceView], "see any view after minus before the cut")],
                        picture: picture)
    }

    /// "same colour 97.7% -> 96.7%" (the class that led before), plus the new leader when it changed.
    static func change(_ t: TourFacts, _ before: Recording, _ after: Recording) -> String {
        guard let b = before.topK(1).first, let a = after.topK(1).first else { return "no classes" }
        let now = after.probabilities()
        var s = "\(t.className(b.index)) \(TourFacts.pct(b.probability)) -> \(TourFacts.pct(now[b.index]))"
        if a.index != b.index { s += "; now first: \(t.className(a.index)) \(TourFacts.pct(a.probability))" }
        return s
    }

    /// One sentence on what the two cuts did to this image's answer.
    static func verdict(_ t: TourFacts, _ before: Recording, _ cut: Recording, _ alone: Recording) -> String {
        let b = before.topK(1).first?.index
        let flipped = [cut, alone].filter { $0.topK(1).first?.index != b }.count
        switch flipped {
        case 0: return "On this image the answer survives both cuts: whatever decides it is found inside the windows or in the last stage. Try another image, or cut in the explorer and compare the views."
        case 2: return "Both cuts change the answer: on this image the prediction depends on information the carriers carry between windows."
        default: return "One of the cuts changes the answer: on this image the prediction depends on part of what the carriers do."
        }
    }

    /// The cut run's carrier attention of the stage's first recorded block, mean of heads, as a
    /// matrix alone: with the cut it is the identity.
    static func cutMatrix(_ t: TourFacts, _ cut: Recording, _ st: TransformerStageRecord) -> ViewResult? {
        guard var v = try? Views.compute(.carrier, recording: cut, selection: Selection(level: st.level, block: 0, head: nil)) else {
            return nil
        }
        v.field = nil
        v.title = "carrier attention with the cut | stage \(st.number) | block 0 | mean of heads"
        return v
    }
}
