"""The model formats mlgov tells apart (the names policies use in `[models] allow_formats`)."""

FORMATS: tuple[str, ...] = (
    "safetensors", "onnx", "gguf", "numpy", "numpy-zip", "keras", "hdf5", "tf-savedmodel",
    "pytorch-zip", "pytorch-legacy", "torchscript", "joblib", "pickle", "zip", "unknown",
)
