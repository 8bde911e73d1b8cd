"""The bundled trainer: a ViT with timm's parameter names, pre-training on the stream, fine-tuning on real images."""
