"""Shared test settings: one thread, a non-interactive matplotlib backend.

The backend is chosen with ``matplotlib.use`` rather than the MPLBACKEND variable, which would leak
into the notebook kernels that nbval starts and stop them from storing figures.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import torch  # noqa: E402

torch.set_num_threads(1)
