"""eqhyp_utils: the support package of the course on feature learning and signal propagation.

Layers are numbered 1 … L + 1 everywhere (output layer last); per-layer results are arrays whose
entry ``i`` belongs to layer ``i + 1``.
"""
from .activations import ACTIVATIONS, Activation, get_activation
from .errors import (CorruptResultError, EqhypError, InvalidInputError, TrainingDivergedError,
                     UnsupportedError)
from .models import MLP, ResidualMLP, build_model

__version__ = "0.1.0"
