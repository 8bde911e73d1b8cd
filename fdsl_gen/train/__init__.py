"""The bundled trainer: a ViT with timm's parameter names, pre-training on the stream, fine-tuning on real images.

    vit.py         the model (timm names) and its configs
    config.py      frozen run configs and the pre-training presets (fast, paper)
    pretrain.py    pretrain_supervised / pretrain_mae: one loop over an FDSLStream
    finetune.py    finetune / evaluate on Fashion-MNIST or an ImageFolder
    mae.py, mixup.py, data.py, checkpoint.py, runtime.py, logs.py: the pieces they use

Importing the package imports nothing heavy; `fdsl-gen train ...` is the command line.
"""
