"""Recording layer activations from a PyTorch model, at several checkpoints, as an infoplane dump.

>>> rec = Recorder(model, layers=["fc1", "fc2", "fc3", "out"])
>>> rec.capture(x_probe, y_probe, step=0)        # before training
>>> ...train...; rec.capture(x_probe, y_probe, step=500)
>>> infoplane.Client().analyse(rec)               # or rec.save("dump.npz")

What is recorded for a layer (``activation=True``, the default, "post-activation"):

- the layer named ``"fc1"`` is looked up in ``model.named_modules()`` and a forward hook records
  its output;
- if, during the forward pass, an activation *module* (``nn.ReLU``, ``nn.Tanh``, ``nn.GELU``...;
  see ``ACTIVATIONS``) is applied directly to that output, the activation's output is recorded
  instead. This covers ``nn.Sequential(Linear, ReLU, ...)``, ``self.act1 = nn.ReLU()`` and one
  ``self.relu`` shared by every layer. Only the first activation applied directly to the tensor
  counts: ``Linear -> BatchNorm -> ReLU`` records the Linear's raw output (name the ReLU, or the
  BatchNorm, to get what you mean);
- if no activation module is applied to it (``F.relu(self.fc1(x))``, a logits layer), the raw
  output is recorded and, except for the last layer listed, a warning says so. Pass
  ``activation="relu"`` (or ``{"fc1": "relu"}``, or any function of a tensor) to apply the
  activation yourself, or ``activation=False`` to record raw (pre-activation) outputs on purpose.

``rec.sources`` says, per layer, what was recorded, e.g. ``{"fc1": "relu (ReLU 'act1') of fc1
(Linear)", "out": "output of out (Linear), no activation applied"}``.

Every tensor is ``.detach()``-ed, cast to float32 and copied to the CPU (CUDA models work), then
flattened per sample (the samples are on the first axis). ``capture`` runs the model in eval mode
under ``torch.no_grad()`` and restores its previous mode.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from ._dump import as_numpy, save_npz, to_npz

_ACTIVATION_NAMES = (
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "PReLU",
    "RReLU",
    "ELU",
    "SELU",
    "CELU",
    "GELU",
    "SiLU",
    "Mish",
    "Sigmoid",
    "Tanh",
    "Hardtanh",
    "Hardswish",
    "Hardsigmoid",
    "Softplus",
    "Softsign",
    "Tanhshrink",
    "LogSigmoid",
    "Softmax",
    "LogSoftmax",
    "Threshold",
)

#: Module classes the recorder treats as activations.
ACTIVATIONS = tuple(getattr(nn, n) for n in _ACTIVATION_NAMES if hasattr(nn, n))

_FUNCTIONS: Dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "gelu": nn.functional.gelu,
    "silu": nn.functional.silu,
    "elu": nn.functional.elu,
    "leaky_relu": nn.functional.leaky_relu,
    "softplus": nn.functional.softplus,
    "softmax": lambda t: torch.softmax(t, dim=-1),
}

ActivationSpec = Union[bool, None, str, Callable[[torch.Tensor], torch.Tensor]]
LayerSpec = Union[Sequence[str], Mapping[str, str], Callable[[str, nn.Module], bool], None]


class _Layer:
    __slots__ = ("name", "module_name", "module", "mode", "fn", "fn_name")

    def __init__(self, name: str, module_name: str, module: nn.Module, spec: ActivationSpec):
        self.name = name
        self.module_name = module_name
        self.module = module
        self.fn: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
        self.fn_name = ""
        if spec is True:
            self.mode = "own" if isinstance(module, ACTIVATIONS) else "follow"
        elif spec is False or spec is None:
            self.mode = "raw"
        elif isinstance(spec, str):
            if spec not in _FUNCTIONS:
                raise ValueError(
                    f"layer {name!r}: unknown activation {spec!r}; use one of "
                    f"{sorted(_FUNCTIONS)}, a function, True or False"
                )
            self.mode, self.fn, self.fn_name = "apply", _FUNCTIONS[spec], spec
        elif callable(spec):
            self.mode, self.fn = "apply", spec
            self.fn_name = getattr(spec, "__name__", "function")
        else:
            raise TypeError(f"layer {name!r}: activation must be a bool, a name or a function")

    def what(self) -> str:
        return f"{self.module_name} ({type(self.module).__name__})"


class _Batch:
    """What one forward pass recorded."""

    def __init__(self, n_layers: int):
        self.values: List[List[np.ndarray]] = [[] for _ in range(n_layers)]
        self.sources: List[List[str]] = [[] for _ in range(n_layers)]


def _first_tensor(out: Any) -> Optional[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    return None


def _to_rows(t: torch.Tensor, shares: Optional[torch.Tensor] = None) -> np.ndarray:
    """detach, float32, CPU, a copy of its own, flattened per sample."""
    c = t.detach().float().cpu()
    if shares is not None and c.data_ptr() == shares.data_ptr():
        c = c.clone()  # the model may still change it in place (inplace activations)
    if c.dim() == 0:
        c = c.reshape(1)
    return c.reshape(c.shape[0], -1).numpy()


class Recorder:
    """Records the activations of named layers of ``model`` on the same probe inputs at several
    checkpoints, and writes them in the dump format (``x``, ``y``, ``<step>/<layer>``).

    ``layers``: module names from ``model.named_modules()`` in input-to-output order (the
    service keeps this order), a dict ``{name in the dump: module name}``, a function
    ``(name, module) -> bool`` choosing modules (in ``named_modules()`` order), or None for every
    ``nn.Linear`` and ``nn.Conv1d/2d/3d``.

    ``activation``: True (post-activation: see the module documentation), False (the modules'
    raw outputs), an activation name (``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"gelu"``,
    ``"silu"``, ``"elu"``, ``"leaky_relu"``, ``"softplus"``, ``"softmax"``) or a function applied
    to each output, or a dict of these per layer (layers it does not name get True).

    Hooks are attached only while recording (inside :meth:`capture` and :meth:`recording`).
    """

    def __init__(
        self,
        model: nn.Module,
        layers: LayerSpec = None,
        *,
        activation: Union[ActivationSpec, Mapping[str, ActivationSpec]] = True,
    ):
        self.model = model
        modules = dict(model.named_modules())
        chosen: List[tuple] = []
        if layers is None:
            kinds = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
            chosen = [(n, n) for n, m in model.named_modules() if n and isinstance(m, kinds)]
        elif callable(layers) and not isinstance(layers, (Mapping, str)):
            chosen = [(n, n) for n, m in model.named_modules() if n and layers(n, m)]
        elif isinstance(layers, Mapping):
            chosen = [(str(k), str(v)) for k, v in layers.items()]
        elif isinstance(layers, str):
            chosen = [(layers, layers)]
        else:
            chosen = [(str(n), str(n)) for n in layers]
        if not chosen:
            raise ValueError("no layers to record")
        per_layer = activation if isinstance(activation, Mapping) else None
        if per_layer is not None:
            unknown = [k for k in per_layer if k not in {c[0] for c in chosen}]
            if unknown:
                raise KeyError(f"activation names layers that are not recorded: {unknown}")
        self._layers: List[_Layer] = []
        seen = set()
        for name, module_name in chosen:
            if name in seen:
                raise ValueError(f"layer {name!r} is listed twice")
            seen.add(name)
            if name in ("x", "y") or not name:
                raise ValueError(f"a layer may not be called {name!r} in the dump")
            if module_name not in modules:
                some = [n for n in modules if n][:30]
                raise KeyError(
                    f"model has no module {module_name!r}; its modules include {some}"
                )
            spec = per_layer.get(name, True) if per_layer is not None else activation
            self._layers.append(_Layer(name, module_name, modules[module_name], spec))
        self._x: Optional[np.ndarray] = None
        self._y: Optional[np.ndarray] = None
        self._probe: Any = None  # the probe inputs as given, for capture() without x
        self._steps: List[int] = []
        self._values: Dict[int, List[np.ndarray]] = {}
        self.sources: Dict[str, str] = {}
        self._warned = False

    @property
    def layers(self) -> List[str]:
        """The layer names, in dump order."""
        return [layer.name for layer in self._layers]

    @property
    def steps(self) -> List[int]:
        """The checkpoints recorded so far."""
        return list(self._steps)

    # -- recording -----------------------------------------------------------------------------

    def capture(
        self,
        x: Any = None,
        y: Any = None,
        *,
        step: Optional[int] = None,
        batch_size: Optional[int] = None,
        forward: Optional[Callable[[nn.Module, torch.Tensor], Any]] = None,
    ) -> None:
        """Runs the model on the probe inputs ``x`` (a tensor or an array; moved to the model's
        device and float dtype) and records one checkpoint at ``step`` (default: the last step
        + 1, from 0). ``x`` and ``y`` (labels: class indices or one-hot rows) are needed at the
        first capture; later captures must use the same inputs and may leave them out.
        ``batch_size`` splits the forward pass; ``forward(model, xb)`` replaces ``model(xb)``.
        The model runs in eval mode under ``torch.no_grad()``, then gets its mode back.
        """
        if x is None:
            if self._probe is None:
                raise ValueError("the first capture needs the probe inputs x (and labels y)")
            x = self._probe
        if y is None and self._y is None:
            raise ValueError("the first capture needs the labels y (class indices or one-hot)")
        xt = self._as_input(x)
        n = xt.shape[0]
        size = n if not batch_size or batch_size <= 0 else int(batch_size)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad(), self.recording(step=step, x=x, y=y):
                for i in range(0, n, size):
                    xb = xt[i : i + size]
                    if forward is None:
                        self.model(xb)
                    else:
                        forward(self.model, xb)
        finally:
            self.model.train(was_training)
        self._probe = x

    @contextlib.contextmanager
    def recording(self, step: Optional[int] = None, x: Any = None, y: Any = None) -> Iterator[None]:
        """Records every forward pass run inside the block as one checkpoint at ``step``
        (batches are concatenated in order), for models that :meth:`capture` cannot call.
        ``x`` and ``y`` are the inputs and labels the dump stores (give them here or at an
        earlier checkpoint); the block must run the model on exactly these inputs, in order.
        Mode and ``no_grad`` are up to you here.
        """
        if step is None:
            step = max(self._steps) + 1 if self._steps else 0
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ValueError(f"step {step!r} is not a non-negative integer")
        step = int(step)
        if step in self._values:
            raise ValueError(f"step {step} is already recorded")
        xs = self._flat_inputs(x) if x is not None else None
        ys = as_numpy(y, "y") if y is not None else None
        batch = _Batch(len(self._layers))
        handles = self._attach(batch)
        try:
            yield
        finally:
            for h in handles:
                h.remove()
        self._finish(step, batch, xs, ys)

    # -- output --------------------------------------------------------------------------------

    def arrays(self) -> Dict[str, np.ndarray]:
        """The dump: ``{"x", "y", "<step>/<layer>"...}`` in checkpoint then layer order."""
        if not self._steps:
            raise ValueError("nothing recorded yet: call capture() (or use recording()) first")
        if self._x is None or self._y is None:
            raise ValueError("the probe inputs x and labels y were never given")
        out: Dict[str, np.ndarray] = {"x": self._x, "y": self._y}
        for step in self._steps:
            for layer, values in zip(self._layers, self._values[step]):
                out[f"{step}/{layer.name}"] = values
        return out

    def npz(self, compress: bool = False) -> bytes:
        """The dump as ``.npz`` bytes."""
        return to_npz(self.arrays(), compress=compress)

    def save(self, path: Union[str, "os.PathLike[str]"], compress: bool = False) -> None:
        """Writes the dump to ``path`` (``.npz``)."""
        save_npz(path, self.arrays(), compress=compress)

    def __repr__(self) -> str:
        return f"Recorder(layers={self.layers}, steps={self._steps})"

    # -- internals -----------------------------------------------------------------------------

    def _as_input(self, x: Any) -> torch.Tensor:
        param = next(self.model.parameters(), None)
        t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
        if param is not None:
            if t.is_floating_point() and param.is_floating_point():
                t = t.to(device=param.device, dtype=param.dtype)
            else:
                t = t.to(device=param.device)
        return t

    @staticmethod
    def _flat_inputs(x: Any) -> np.ndarray:
        a = as_numpy(x, "x")
        if a.ndim == 0:
            raise ValueError("x is a scalar; it needs one row per sample")
        return a.reshape(a.shape[0], -1)

    def _attach(self, batch: _Batch) -> list:
        # Outputs of "follow" layers waiting for an activation module: id -> (tensor, layer).
        pending: Dict[int, tuple] = {}
        handles = []

        def layer_hook(i: int) -> Callable:
            layer = self._layers[i]

            def hook(module: nn.Module, inputs: Any, output: Any) -> None:
                t = _first_tensor(output)
                if t is None:
                    raise TypeError(
                        f"layer {layer.name!r}: {layer.what()} returned "
                        f"{type(output).__name__}, not a tensor"
                    )
                if layer.mode == "apply":
                    with torch.no_grad():
                        values = _to_rows(layer.fn(t.detach().float().clone()))
                    source = f"{layer.fn_name} of {layer.what()}, applied by the recorder"
                else:
                    values = _to_rows(t, shares=t)
                    if layer.mode == "own":
                        source = f"output of {layer.what()}, itself an activation"
                    elif layer.mode == "raw":
                        source = f"output of {layer.what()}, raw (activation=False)"
                    else:
                        source = f"output of {layer.what()}, no activation applied"
                        pending[id(t)] = (t, i)
                batch.values[i].append(values)
                batch.sources[i].append(source)

            return hook

        def activation_hook(name: str) -> Callable:
            def hook(module: nn.Module, inputs: Any, output: Any) -> None:
                t_in = _first_tensor(inputs)
                if t_in is None:
                    return
                hit = pending.pop(id(t_in), None)
                if hit is None or hit[0] is not t_in:
                    return
                i = hit[1]
                t_out = _first_tensor(output)
                if t_out is None:
                    return
                layer = self._layers[i]
                batch.values[i][-1] = _to_rows(t_out, shares=t_out)
                batch.sources[i][-1] = (
                    f"{type(module).__name__} {name!r} applied to {layer.what()}"
                )

            return hook

        def clear(module: nn.Module, inputs: Any, output: Any) -> None:
            pending.clear()  # no references kept past one forward pass

        try:
            for i, layer in enumerate(self._layers):
                handles.append(layer.module.register_forward_hook(layer_hook(i)))
            if any(layer.mode == "follow" for layer in self._layers):
                for name, m in self.model.named_modules():
                    if isinstance(m, ACTIVATIONS):
                        handles.append(m.register_forward_hook(activation_hook(name)))
            handles.append(self.model.register_forward_hook(clear))
        except BaseException:
            for h in handles:
                h.remove()
            raise
        return handles

    def _finish(
        self, step: int, batch: _Batch, xs: Optional[np.ndarray], ys: Optional[np.ndarray]
    ) -> None:
        if xs is not None:
            if self._x is not None and not (
                self._x.shape == xs.shape and np.array_equal(self._x, xs)
            ):
                raise ValueError(
                    "these probe inputs differ from the earlier checkpoints'; every checkpoint "
                    "must record the same inputs (make a new Recorder for other inputs)"
                )
        x = xs if xs is not None else self._x
        if ys is not None:
            if self._y is not None and not (
                self._y.shape == ys.shape and np.array_equal(self._y, ys)
            ):
                raise ValueError("these labels differ from the earlier checkpoints'")
        if x is not None and (ys if ys is not None else self._y) is not None:
            y = ys if ys is not None else self._y
            if y.shape[0] != x.shape[0]:
                raise ValueError(f"y has {y.shape[0]} rows but x has {x.shape[0]}")
        values: List[np.ndarray] = []
        for i, layer in enumerate(self._layers):
            parts = batch.values[i]
            if not parts:
                raise RuntimeError(
                    f"layer {layer.name!r} ({layer.what()}) did not run during the forward pass"
                )
            a = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
            if x is not None and a.shape[0] != x.shape[0]:
                raise ValueError(
                    f"layer {layer.name!r} ({layer.what()}) produced {a.shape[0]} rows for "
                    f"{x.shape[0]} probe inputs: its output must have the samples on the first "
                    "axis, and the module must run once per forward pass"
                )
            kinds = set(batch.sources[i])
            if len(kinds) > 1:
                raise RuntimeError(
                    f"layer {layer.name!r}: what is recorded changed between batches: "
                    f"{sorted(kinds)}"
                )
            source = kinds.pop()
            old = self.sources.get(layer.name)
            if old is not None and old != source:
                raise RuntimeError(
                    f"layer {layer.name!r}: recorded {source!r} at step {step} but {old!r} before"
                )
            self.sources[layer.name] = source
            values.append(a)
        if xs is not None:
            self._x = xs
        if ys is not None:
            self._y = ys
        self._values[step] = values
        self._steps.append(step)
        self._warn_unactivated()

    def _warn_unactivated(self) -> None:
        if self._warned:
            return
        self._warned = True
        bare = [
            layer.name
            for layer in self._layers[:-1]
            if layer.mode == "follow" and self.sources[layer.name].endswith("no activation applied")
        ]
        if bare:
            warnings.warn(
                f"no activation module is applied to the output of {bare}, so their raw "
                "(pre-activation) outputs are recorded. If forward() uses F.relu or similar, pass "
                "activation='relu' (or a dict per layer); activation=False records raw outputs "
                "without this warning.",
                stacklevel=4,
            )


__all__ = ["ACTIVATIONS", "Recorder"]
