"""Metrics, in three layers: feature extraction -> statistics (pure) -> score (pure).

Feature extraction (models, resizing, I/O) lives outside this package, for example in
:mod:`gan_core.classifier`; the modules here take NumPy arrays and return numbers.
"""
