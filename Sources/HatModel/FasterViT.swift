// FasterViT forward pass (placeholder class; the forward lands next).
import HatCore

public final class FasterViT {
    public let config: ModelConfig
    public init(config: ModelConfig) { self.config = config }
}
