"""Per-image dense stages after rendering: crop, resample, flip, normalise, dtype, channels (GPU: Triton)."""
