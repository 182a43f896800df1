"""Training biorel models from a validated config (see :mod:`biorel.config`).

from biorel.config import load_config
from biorel.training import train
result = train(load_config("configs/bc5cdr.toml", ["--training.epochs", "2"]))
"""

from __future__ import annotations

from .data import load_split
from .dev import dev_scorer, primary_value
from .loop import Trainer, TrainResult, lr_factor, train

__all__ = ["Trainer", "TrainResult", "train", "load_split", "lr_factor", "dev_scorer", "primary_value"]
