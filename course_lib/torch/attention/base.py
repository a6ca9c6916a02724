"""The base of the attention mechanisms (PyTorch) and their scores.

``AttentionMechanism`` sets the memory up (zeroed past its lengths; keys computed once), masks
the scores and normalises them; a subclass defines ``_score(query, state) -> [B, T]``.
``_additive_score`` and ``_multiplicative_score`` are the two score families.

Layers whose input depth is not known yet (`memory_layer`, `query_layer`) are built on first
use, on the device and dtype of their input (as Keras builds); give `memory_size=` / `query_size=`
(PyTorch only) to build them at construction, so that `parameters()` is complete at once.
"""

from __future__ import annotations


import torch
from torch import nn

from course_lib.common.attention import MechanismLogic, check_layer, pick_function, split_memory_inputs, \
    split_query_inputs
from course_lib.common.checks import check_rank, describe
from course_lib.torch.attention.ops import _dense, _glorot_uniform_, hardmax

_PROBABILITY_FNS = {"softmax": lambda score: torch.softmax(score, dim=-1), "hardmax": hardmax}


_INITIALIZERS = {"glorot_uniform": _glorot_uniform_, "zeros": nn.init.zeros_, "ones": nn.init.ones_}


def _initializer(kernel_initializer):
    if callable(kernel_initializer):
        return kernel_initializer
    if kernel_initializer not in _INITIALIZERS:
        raise ValueError(f"`kernel_initializer` must be one of {sorted(_INITIALIZERS)} or a callable "
                         f"that fills a tensor in place, got {kernel_initializer!r}")
    return _INITIALIZERS[kernel_initializer]


def _device_for(device, memory):
    """Where the weights made at construction go: `device`, else the memory's device when a memory
    tensor is given (so a mechanism built on a CUDA memory has CUDA weights), else the default."""
    if device is None and isinstance(memory, torch.Tensor):
        return memory.device
    return device


class AttentionMechanism(MechanismLogic, nn.Module):
    """Base of the mechanisms: sets up the memory, masks scores, and calls `_score`.

    Subclasses define `_score(query, state) -> [B, T]`; they may override `probability_fn`
    (`(score, state) -> alignments`), `_next_state`, `state_size` and `initial_state`.
    Attributes after `setup_memory`: `values` `[B, T, D]` (memory, zero past the lengths),
    `keys` `[B, T, U]`, `batch_size`, `alignments_size` (T).

    Calls, as tfa 0.23: `mechanism([query, state])` (or `mechanism(query, state)`) ->
    `(alignments, next_state)`; `mechanism(memory, setup_memory=True, memory_sequence_length=None,
    mask=None)` (or `mechanism([memory, lengths], setup_memory=True)`) sets the memory up and
    returns the values. `get_config()` / `cls.from_config(config)`: the constructor's arguments
    as a dict (the TensorFlow twin's keys, `memory: None`).

    The keys are computed when the memory is set up: after new weights (`import_weights`, an
    optimizer step), set the memory up again; in training, set it up inside the training step.

    Kept from course_lib (tfa differs): a row of `memory_sequence_length` 0, or an all-False
    `memory_mask` row, gets all-zero alignments (tfa: an error, or uniform alignments): alignments
    are exactly 0 wherever the memory is masked. `probability_fn` may be a callable.
    """

    def __init__(self, memory=None, memory_sequence_length=None, memory_layer=None, query_layer=None,
                 probability_fn="softmax", dtype=None, name=None, *, device=None, memory_units=None,
                 query_units=None, memory_size=None, query_size=None):
        """As the TensorFlow base; `memory_units` / `query_units` build `memory_layer` / `query_layer`
        (Dense without bias) on first use, or now from `memory_size` / `query_size`; a given
        `memory_layer` / `query_layer` (an `nn.Module`) replaces them."""
        super().__init__()
        check_layer(memory_layer, "memory_layer", nn.Module, "a torch.nn.Module")
        check_layer(query_layer, "query_layer", nn.Module, "a torch.nn.Module")
        self.name = name or type(self).__name__
        self._factory = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        self._memory_units, self._query_units = memory_units, query_units
        self.memory_layer = memory_layer
        self.query_layer = query_layer
        if memory_layer is None and memory_size is not None and memory_units is not None:
            self.memory_layer = _dense(memory_size, memory_units, **self._factory)
        if query_size is not None:
            self._build_query_layer(query_size)
        self._probability = pick_function(probability_fn, _PROBABILITY_FNS, "probability_fn")
        self._probability_fn_arg = probability_fn
        self._custom_layers = [arg for arg, layer in (("memory_layer", memory_layer), ("query_layer", query_layer))
                               if layer is not None]
        self.values = None
        self.keys = None
        self.batch_size = None
        self._alignments_size = None
        self._memory_mask = None
        self._maybe_setup(memory, memory_sequence_length)

    def _build_query_layer(self, query_size, dtype=None, device=None):
        """Build `query_layer` for queries of depth `query_size` (if this mechanism has one)."""
        if self._query_units is not None and self.query_layer is None:
            self.query_layer = _dense(int(query_size), self._query_units, dtype or self._factory["dtype"],
                                      device or self._factory["device"])

    # -- config --------------------------------------------------------------------------
    def _mechanism_config(self) -> dict:
        """The subclass's own constructor arguments (``units``, ``normalize``, ...)."""
        return {}

    def get_config(self):
        """The constructor's arguments as a dict (the TensorFlow twin's keys): `name`, `dtype` (by
        name), `memory: None` (a tensor is not config), the subclass's own, and `memory_size` /
        `query_size` when the layers are built, so that `from_config` makes every parameter at once.

        A custom `memory_layer` / `query_layer` module is not config: a ValueError says to pass it
        to `from_config` again.
        """
        if self._custom_layers:
            raise ValueError(f"{type(self).__name__}.get_config cannot describe the custom "
                             f"{' and '.join(f'`{a}`' for a in self._custom_layers)} (a torch module): build the "
                             "mechanism from the config and pass the module again (`from_config(config, "
                             f"{self._custom_layers[0]}=...)`)")
        return {"name": self.name, "dtype": str(self._factory["dtype"]).removeprefix("torch."), "memory": None,
                **self._mechanism_config()}

    def _layer_sizes(self, query=True):
        """`memory_size` (and `query_size`) of the built layers, for the config."""
        sizes = {"memory_size": getattr(self.memory_layer, "in_features", None)}
        if query:
            sizes["query_size"] = getattr(self.query_layer, "in_features", None)
        return sizes

    @classmethod
    def from_config(cls, config, **layers):
        """The mechanism of `config` (from `get_config`), without a memory; `layers`: custom
        `memory_layer` / `query_layer` modules."""
        config = dict(config, **layers)
        if isinstance(config.get("dtype"), str):
            config["dtype"] = getattr(torch, config["dtype"])
        return cls(**config)

    # -- memory --------------------------------------------------------------------------
    def setup_memory(self, memory, memory_sequence_length=None, memory_mask=None):
        """Zero the memory past the lengths and compute the keys (once per memory).

        Args:
          memory: `[B, T, D]` encoder outputs.
          memory_sequence_length: optional `[B]` ints in [0, T]; a row of length 0 gets all-zero
            alignments.
          memory_mask: optional `[B, T]` bool, instead of `memory_sequence_length`.
        """
        if not isinstance(memory, torch.Tensor):  # NumPy or lists: in the parameters' dtype
            memory = torch.as_tensor(memory, dtype=self._factory["dtype"])
        check_rank(memory, 3, "memory", "[batch, max_time, depth]")
        if memory_sequence_length is not None and memory_mask is not None:
            raise ValueError("give `memory_sequence_length` or `memory_mask`, not both")
        B, T = memory.shape[0], memory.shape[1]
        mask = None
        if memory_sequence_length is not None:
            lengths = torch.as_tensor(memory_sequence_length, device=memory.device)
            check_rank(lengths, 1, "memory_sequence_length", "[batch]")
            if lengths.shape[0] != B:
                raise ValueError(f"`memory_sequence_length` must have the batch size of `memory` = {B}, "
                                 f"got {describe(lengths)}")
            if lengths.numel() and (int(lengths.min()) < 0 or int(lengths.max()) > T):
                raise ValueError(f"`memory_sequence_length` must lie in [0, {T}] (the memory's max_time), "
                                 f"got {lengths.tolist()}")
            mask = torch.arange(T, device=memory.device)[None, :] < lengths[:, None]  # (B, T)
        elif memory_mask is not None:
            mask = torch.as_tensor(memory_mask, device=memory.device).bool()
            if tuple(mask.shape) != (B, T):
                raise ValueError(f"`memory_mask` must have shape [{B}, {T}] (the memory's batch and "
                                 f"max_time), got {describe(mask)}")
        if mask is not None:
            memory = memory * mask[:, :, None].to(memory.dtype)  # (B, T, D)
        if self.memory_layer is None and self._memory_units is not None:
            self.memory_layer = _dense(memory.shape[-1], self._memory_units, memory.dtype, memory.device)
        depth = getattr(self.memory_layer, "in_features", memory.shape[-1])
        if depth != memory.shape[-1]:
            raise ValueError(f"`memory` must have depth {depth} (the memory_layer was built for it), "
                             f"got {describe(memory)}")
        self.keys = self.memory_layer(memory) if self.memory_layer is not None else memory  # (B, T, U)
        self.values = memory
        self._memory_mask = mask
        self.batch_size = B
        self._alignments_size = T

    def _memory_depth(self):
        """D if known (memory set up, or `memory_layer` built), else None."""
        if self.values is not None:
            return self.values.shape[-1]
        return getattr(self.memory_layer, "in_features", None)

    def initial_alignments(self, batch_size, dtype=None, device=None):
        """`[batch_size, T]` zeros (on the memory's device by default)."""
        self._check_memory()
        device = device if device is not None else self.values.device
        return torch.zeros(int(batch_size), self.alignments_size, dtype=dtype or self.values.dtype,
                           device=device)

    def initial_state(self, batch_size, dtype=None, device=None):
        """The state before the first step, structured like `state_size` (here the alignments)."""
        return self.initial_alignments(batch_size, dtype, device)

    # -- query ---------------------------------------------------------------------------
    def forward(self, inputs, state=None, setup_memory=False, mask=None, memory_sequence_length=None):
        """Score a query against the keys and normalise, or set the memory up.

        Args:
          inputs: the query `[B, query_depth]` (usually the cell output), or `[query, state]`;
            with `setup_memory=True` the memory `[B, T, D]` or `[memory, memory_sequence_length]`.
          state: the previous state (`[B, T]` alignments); None means `initial_state`.
          mask: with `setup_memory=True`, an optional `[B, T]` bool memory mask.
          setup_memory: set the memory up (see `setup_memory`) instead of querying.
          memory_sequence_length: with `setup_memory=True`, optional `[B]` lengths.

        Returns:
          `(alignments [B, T], next_state)`, alignments 0 past the memory lengths; with
          `setup_memory=True` the values `[B, T, D]`.
        """
        if setup_memory:
            memory, lengths = split_memory_inputs(inputs, memory_sequence_length)
            self.setup_memory(memory, lengths, memory_mask=mask)
            return self.values
        query, state = split_query_inputs(inputs, state)
        self._check_memory()
        if not isinstance(query, torch.Tensor):
            query = torch.as_tensor(query, dtype=self._factory["dtype"], device=self.values.device)
        check_rank(query, 2, "query", "[batch, query_depth]")
        self._build_query_layer(query.shape[-1], query.dtype, query.device)
        depth = getattr(self.query_layer, "in_features", query.shape[-1])
        if depth != query.shape[-1]:
            raise ValueError(f"`query` of {self.name} must have depth {depth} (its query_layer was built "
                             f"for it), got {describe(query)}")
        if state is None:
            state = self.initial_state(query.shape[0], query.dtype, query.device)
        score = self._score(query, state)  # (B, T)
        mask = self._memory_mask
        if mask is not None:
            score = score.masked_fill(~mask, torch.finfo(score.dtype).min)
        alignments = self.probability_fn(score, state)  # (B, T)
        if mask is not None:
            alignments = alignments * mask.to(alignments.dtype)  # exactly 0 past the lengths
        return alignments, self._next_state(alignments, state)



def _additive_score(processed_query, keys, attention_v, attention_g=None, attention_b=None, extra=None):
    """`sum_u v_u tanh(keys + query (+ extra) (+ b))_u` -> `[B, T]`; weight-normalised v with g."""
    hidden = keys + processed_query[:, None, :]  # (B, T, U)
    if extra is not None:
        hidden = hidden + extra
    v = attention_v
    if attention_g is not None:
        v = attention_g * v * torch.rsqrt(torch.sum(v * v))
        hidden = hidden + attention_b
    return torch.matmul(torch.tanh(hidden), v)  # (B, T, U) @ (U,) -> (B, T)


def _multiplicative_score(query, keys, attention_g=None):
    """`query . key` for every memory position -> `[B, T]` (times g when scaled)."""
    score = torch.bmm(query[:, None, :], keys.transpose(1, 2))[:, 0]  # (B, T)
    return score if attention_g is None else attention_g * score
