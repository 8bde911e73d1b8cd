"""Low-level file helpers shared by the databases (category tables), the exporter and the trainer: atomic
writes and the compact tensor file. They import nothing of the package above `errors` and `_env`."""
