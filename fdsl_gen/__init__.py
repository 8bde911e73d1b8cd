"""fdsl-gen: formula-driven supervised learning datasets (FractalDB, 2D-OFDB, 1p-frac, ...), rendered fast.

    import fdsl_gen
    db = fdsl_gen.get_database("ofdb", categories=1000)
    images = db.render([0, 1, 2], [0, 0, 0])        # torch uint8 [3, 1, 362, 362]
    arrays = db.render_array([0, 1, 2], [0, 0, 0])  # the same as NumPy
    stream = fdsl_gen.FDSLStream("ofdb", categories=1000, batch_size=64, augment="ofdb")
    for images, labels in stream: ...                # float32 [64, 3, 224, 224], int64 [64]
    dataset = fdsl_gen.FDSLDataset("ofdb", transform=my_transform)  # map-style: dataset[i] -> (image, label)

Importing compiles nothing and needs no GPU.
"""

__version__ = "0.1.0"

from .errors import UsageError  # noqa: E402
from . import selfcheck  # noqa: E402,F401  (installs the GPU self-check that the databases ask through backends)
from .registry import database_class, get_database, list_databases, register_database  # noqa: E402

__all__ = ["FDSLDataset", "FDSLStream", "UsageError", "__version__", "database_class", "get_database", "list_databases",
           "register_database"]


def __getattr__(name: str):
    if name == "FDSLStream":  # imported on first use: it pulls in torch
        from .stream import FDSLStream

        return FDSLStream
    if name == "FDSLDataset":
        from .dataset import FDSLDataset

        return FDSLDataset
    raise AttributeError(f"module 'fdsl_gen' has no attribute {name!r}")
