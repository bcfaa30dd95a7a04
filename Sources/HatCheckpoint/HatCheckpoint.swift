// HatCheckpoint: torch.save and safetensors readers. Sources land with the checkpoint issue.
