// What was measured about the embedded demo model (assets/demo/description.md), for the tour's
// carrier step. Quoted here because the views never read files; DemoFactsTests checks that every
// number still stands in description.md.

enum DemoFacts {
    /// One short line each, every number said what it is and where it comes from.
    static let accuracies: [String] = [
        "the demo model's held-out accuracy: 100.00 % (3,000 of 3,000 images; assets/demo/description.md)",
        "carrier attention switched off (hat_attn's output zeroed in all 3 blocks, PyTorch, 2,000 held-out images): 64.45 %; propagation off: 63.35 %",
        "hatscope on the same 2,000: --cut-global levels.2 50.00 % (it answers \"same colour\" for every image); --cut-carriers levels.2 --no-propagation levels.2 58.45 %",
    ]
    /// What the numbers say.
    static let reading = "So the demo's answer needs the carriers: when every carrier attends only to itself (--cut-global) it says \"same colour\" whatever the image, which is chance on these balanced images and leaves a same-colour image's answer as it was. Covering one of the two shapes makes it say \"different colours\"; covering plain background does not, and covering both shapes brings \"same colour\" back, its answer when it sees no marked shape."
}
