"""Python client of the infoplane service (nHSIC information flow through network layers).

- :class:`Client` posts activation dumps to ``/v1/analyses`` (and training jobs to
  ``/v1/trainings``) and waits for the finished result, following 202 answers.
- :func:`dump_arrays` builds a dump from plain arrays (numpy, JAX, TensorFlow/Keras, lists).
- ``infoplane.torch.Recorder`` records post-activation outputs of named layers of a PyTorch
  model at several checkpoints (imported on first use: ``import infoplane`` never imports torch).
"""

__version__ = "0.1.0"

from ._client import ApiError, Client, InfoplaneError, JobFailed, WaitTimeout  # noqa: E402
from ._dump import as_numpy, dump_arrays, save_npz, to_npz  # noqa: E402

__all__ = [
    "ApiError",
    "Client",
    "InfoplaneError",
    "JobFailed",
    "WaitTimeout",
    "as_numpy",
    "dump_arrays",
    "save_npz",
    "to_npz",
    "__version__",
]


def __getattr__(name):
    # `infoplane.torch` on first access, so that `import infoplane` works without torch.
    if name == "torch":
        import importlib

        return importlib.import_module(".torch", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
