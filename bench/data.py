"""The bench's seeded data: weights and inputs in NumPy, the same for every candidate and process.

Framework-free (NumPy only), so that the tfa worker, which runs in its own venv with its own
NumPy, gets exactly these arrays through an ``.npz`` file instead of re-making them.
"""

from __future__ import annotations

#: id fed as the first decoder input
START = 0
#: the end token; the output layer's bias for it is -1e4 in every model, so greedy and beam
#: search never emit it and every decode runs exactly ``tgt_len`` steps
END = 1


def make_data(shapes) -> dict:
    """Seeded NumPy weights and inputs, the same for every candidate and both backends.

    Weights in Keras layout (gates i, f, c, o): ``emb [V, E]``, ``kernel [E, 4H]``,
    ``recurrent_kernel [H, 4H]``, ``bias [4H]`` (forget gate 1), ``out_kernel [H, V]``,
    ``out_bias [V]`` (``END``: -1e4). Inputs: ``targets [B, T]`` in ``[2, V)``, ``dec_in``
    (``START`` then the targets shifted right), ``h0``/``c0 [B, H]`` (an "encoder" state),
    ``lengths_ragged [B]`` in ``[T//2, T]`` (row 0 full), ``memory [B, S, H]``.
    """
    import numpy as np

    s = shapes
    rng = np.random.default_rng(s.seed)
    f32 = np.float32

    def uniform(shape, fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape).astype(f32)

    H, E, V, B, T, S = s.units, s.embed, s.vocab, s.batch, s.tgt_len, s.src_len
    bias = np.zeros(4 * H, f32)
    bias[H:2 * H] = 1.0
    out_bias = np.zeros(V, f32)
    out_bias[END] = -1e4
    targets = rng.integers(2, V, size=(B, T)).astype(np.int64)
    dec_in = np.concatenate([np.full((B, 1), START, np.int64), targets[:, :-1]], axis=1)
    lengths = rng.integers(max(T // 2, 1), T + 1, size=B).astype(np.int64)
    lengths[0] = T
    return {
        "emb": (rng.standard_normal((V, E)) * 0.1).astype(f32),
        "kernel": uniform((E, 4 * H), E, 4 * H),
        "recurrent_kernel": uniform((H, 4 * H), H, 4 * H),
        "bias": bias,
        "out_kernel": uniform((H, V), H, V),
        "out_bias": out_bias,
        "targets": targets,
        "dec_in": dec_in,
        "h0": (rng.standard_normal((B, H)) * 0.5).astype(f32),
        "c0": (rng.standard_normal((B, H)) * 0.5).astype(f32),
        "lengths_ragged": lengths,
        "memory": rng.standard_normal((B, S, H)).astype(f32),
    }


def make_attention_weights(shapes) -> dict:
    """Seeded weights of ``AttentionWrapper(LSTMCell(H), BahdanauAttention(H), attention_layer_size=H)``.

    Keys and layouts are ``export_weights``' (Keras layout, gates i, f, c, o), so
    ``cl.import_weights(cell, weights)`` loads them in either backend:
    ``cell/kernel [E + H, 4H]`` (the cell's input is the embedding and the previous attention),
    ``cell/recurrent_kernel [H, 4H]``, ``cell/bias [4H]`` (forget gate 1),
    ``attention_mechanism/memory_layer/kernel [H, H]``, ``attention_mechanism/query_layer/kernel [H, H]``,
    ``attention_mechanism/attention_v [H]``, ``attention_layer/kernel [2H, H]`` (cell output and context).
    A stream of its own (seed + 1): ``make_data``'s arrays do not change.
    """
    import numpy as np

    s = shapes
    rng = np.random.default_rng(s.seed + 1)
    H, E = s.units, s.embed

    def uniform(shape):
        limit = np.sqrt(6.0 / (shape[0] + shape[-1]))
        return rng.uniform(-limit, limit, size=shape).astype(np.float32)

    bias = np.zeros(4 * H, np.float32)
    bias[H:2 * H] = 1.0
    return {
        "cell/kernel": uniform((E + H, 4 * H)),
        "cell/recurrent_kernel": uniform((H, 4 * H)),
        "cell/bias": bias,
        "attention_mechanism/memory_layer/kernel": uniform((H, H)),
        "attention_mechanism/query_layer/kernel": uniform((H, H)),
        "attention_mechanism/attention_v": uniform((1, H))[0],
        "attention_layer/kernel": uniform((2 * H, H)),
    }
