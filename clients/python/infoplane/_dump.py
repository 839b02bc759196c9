"""The dump format: a dict of arrays keyed ``x``, ``y``, then ``<step>/<layer>`` (or ``<layer>``
for a single checkpoint), written as an ``.npz`` archive (``np.savez``).

Nothing here imports torch, jax or tensorflow: arrays from them are converted through
``np.asarray`` (torch tensors through ``.detach().cpu()`` first, so CUDA tensors and tensors
that require grad work too).
"""

from __future__ import annotations

import io
import os
import zipfile
from typing import Any, Dict, Mapping, Union

import numpy as np

#: The dtypes the service reads; others are converted (see :func:`as_numpy`).
SUPPORTED_DTYPES = ("float32", "float64", "int32", "int64", "uint8")

Arrays = Dict[str, np.ndarray]


def as_numpy(value: Any, name: str = "array") -> np.ndarray:
    """Converts an array-like to a numpy array of a dtype the service reads.

    torch tensors are detached and moved to the CPU (float16/bfloat16 become float32); jax
    arrays, tf tensors and lists go through ``np.asarray``. float16 becomes float32, bool
    becomes uint8, small integers int32, uint32/uint64 int64. Complex, string or object data
    raise ``TypeError`` naming ``name``.
    """
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch.Tensor, without importing torch
        value = value.detach().cpu()
        if getattr(value, "dtype", None) is not None and str(value.dtype) in (
            "torch.float16",
            "torch.bfloat16",
        ):
            value = value.float()
        value = value.numpy()
    a = np.asarray(value)
    kind = a.dtype.kind
    if kind == "f":
        if a.dtype.itemsize < 4:
            a = a.astype(np.float32)
        elif a.dtype.itemsize > 8:
            a = a.astype(np.float64)
    elif kind == "b":
        a = a.astype(np.uint8)
    elif kind == "i":
        if a.dtype.itemsize < 4:
            a = a.astype(np.int32)
    elif kind == "u":
        if a.dtype.itemsize == 1:
            pass
        elif a.dtype.itemsize == 2:
            a = a.astype(np.int32)
        else:
            a = a.astype(np.int64)
    else:
        raise TypeError(
            f"{name}: dtype {a.dtype} is not numeric; the service reads "
            f"{', '.join(SUPPORTED_DTYPES)}"
        )
    return a


def _rows(a: np.ndarray, name: str) -> int:
    if a.ndim == 0:
        raise ValueError(f"{name} is a scalar; it needs one row per sample")
    return int(a.shape[0])


def dump_arrays(
    x: Any,
    y: Any,
    layers: Mapping[Any, Any],
) -> Arrays:
    """Builds the arrays of a dump from plain arrays (numpy, jax, tf, torch, lists).

    ``layers`` is either ``{step: {layer: activations}}`` for several checkpoints (steps are
    non-negative integers; every checkpoint must name the same layers) or ``{layer:
    activations}`` for one. Layers are listed input to output: the service keeps that order.
    Activations may have any shape with the samples on the first axis (the service flattens
    each sample); every array needs as many rows as ``x``.

    Returns an ordered dict ``{"x": ..., "y": ..., "<step>/<layer>": ...}`` (plain ``<layer>``
    keys for the single-checkpoint form), ready for :func:`to_npz` or ``Client.analyse``.

    >>> arrays = dump_arrays(x, y, {0: {"dense1": h0}, 100: {"dense1": h1}})
    >>> sorted(arrays)
    ['0/dense1', '100/dense1', 'x', 'y']
    """
    xs = as_numpy(x, "x")
    ys = as_numpy(y, "y")
    m = _rows(xs, "x")
    if _rows(ys, "y") != m:
        raise ValueError(f"y has {ys.shape[0]} rows but x has {m}")
    out: Arrays = {"x": xs, "y": ys}
    if not layers:
        raise ValueError("no layer activations given")
    nested = all(isinstance(v, Mapping) for v in layers.values())
    if not nested and any(isinstance(v, Mapping) for v in layers.values()):
        raise ValueError(
            "layers mixes checkpoints ({step: {layer: array}}) with plain layers ({layer: array})"
        )
    if not nested:
        layers = {None: layers}
    names = None
    for step, by_layer in layers.items():
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
                raise ValueError(f"checkpoint step {step!r} is not a non-negative integer")
            step = int(step)
        layer_names = [str(n) for n in by_layer]
        if not layer_names:
            raise ValueError(f"checkpoint {step} has no layers")
        if names is None:
            names = layer_names
        elif layer_names != names:
            raise ValueError(
                f"checkpoint {step} has layers {layer_names} but the first has {names}; every "
                "checkpoint must record the same layers in the same order"
            )
        for name, values in by_layer.items():
            name = str(name)
            if not name:
                raise ValueError("a layer name is empty")
            key = name if step is None else f"{step}/{name}"
            if key in ("x", "y"):
                raise ValueError(f'a layer may not be called "{key}"')
            if key in out:
                raise ValueError(f'layer "{key}" is given twice')
            a = as_numpy(values, f'layer "{key}"')
            if _rows(a, f'layer "{key}"') != m:
                raise ValueError(
                    f'layer "{key}" has {a.shape[0]} rows but x has {m}; every layer needs one '
                    "row per sample (samples on the first axis)"
                )
            out[key] = a
    return out


def check_arrays(arrays: Mapping[str, Any]) -> Arrays:
    """Validates an already keyed dict of arrays (``x``, ``y``, ``<step>/<layer>`` or
    ``<layer>``) and converts its values with :func:`as_numpy`; keeps the order."""
    if "x" not in arrays or "y" not in arrays:
        raise ValueError('a dump needs arrays "x" and "y"')
    out: Arrays = {}
    for key, value in arrays.items():
        key = str(key)
        out[key] = as_numpy(value, key if key in ("x", "y") else f'layer "{key}"')
    if len(out) < 3:
        raise ValueError("the dump has no layer activations")
    m = _rows(out["x"], "x")
    for key, a in out.items():
        if _rows(a, key) != m:
            raise ValueError(f'"{key}" has {a.shape[0]} rows but x has {m}')
    return out


def to_npz(arrays: Mapping[str, Any], compress: bool = False) -> bytes:
    """The ``.npz`` bytes of a dump (``np.savez``, or ``np.savez_compressed``)."""
    return write_npz(check_arrays(arrays), compress)


def write_npz(arrays: Mapping[str, np.ndarray], compress: bool = False) -> bytes:
    """``.npz`` bytes of numpy arrays as they are, in order (no checks)."""
    buf = io.BytesIO()
    # What np.savez does, without passing keys as keyword arguments (a layer called "file"
    # would collide with savez's own parameter).
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", compression=method, allowZip64=True) as zf:
        for key, a in arrays.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, a, allow_pickle=False)
    return buf.getvalue()


def save_npz(
    path: Union[str, "os.PathLike[str]"], arrays: Mapping[str, Any], compress: bool = False
) -> None:
    """Writes a dump to ``path`` as ``.npz`` (the name is kept as given)."""
    data = to_npz(arrays, compress=compress)
    with open(path, "wb") as f:
        f.write(data)

