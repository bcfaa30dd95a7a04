// What was measured about the embedded demo model (assets/demo/description.md), for the tour's
// carrier step. Quoted here because the views never read files; DemoFactsTests checks that every
// number still stands in description.md.

enum DemoFacts {
    /// One short line each, every number said what it is and where it comes from.
    static let accuracies: [String] = [
        "the demo model's held-out accuracy: 99.97 % (2,999 of 3,000 images; assets/demo/description.md)",
        "carrier attention switched off (hat_attn's output zeroed in all 3 blocks, PyTorch, 2,000 held-out images): 62.2 %; propagation off: 78.6 %",
        "hatscope on the same 2,000: --cut-global levels.2 50.00 % (it answers \"same colour\" for every image); --cut-carriers levels.2 --no-propagation levels.2 70.45 %",
    ]
    /// What the numbers say.
    static let reading = "So the demo's answer needs the carriers: without carrier attention it says \"same colour\" whatever the image, which is chance on these balanced images. \"Same colour\" is also its answer when one shape is covered: \"different colours\" needs both shapes' colours to meet through the carriers."
}
