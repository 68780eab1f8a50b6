"""Training StyleGAN2 on the procedural face world (or any image stream): ``faceedit train``.

Example:
    >>> from faceedit.training import Trainer, preset
    >>> Trainer("runs/synthfaces-64", preset("synthfaces-64")).train(max_minutes=10)  # doctest: +SKIP
"""

from faceedit.training.checkpoint import TrainingState, latest_checkpoint, list_checkpoints, load_checkpoint
from faceedit.training.config import PRESETS, TrainingConfig, preset
from faceedit.training.discriminator import Discriminator
from faceedit.training.trainer import Trainer

__all__ = ["Trainer", "TrainingConfig", "TrainingState", "Discriminator", "PRESETS", "preset", "latest_checkpoint",
           "list_checkpoints", "load_checkpoint"]
