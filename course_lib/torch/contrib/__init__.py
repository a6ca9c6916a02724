"""``tf.contrib`` for PyTorch: TF1's ``contrib.rnn``, ``nn`` and ``seq2seq`` with TF1's signatures.

A TF1 program's model lines run after changing their imports (and the tensor lines that are
TensorFlow itself: ``tf.nn.embedding_lookup`` -> ``F.embedding``, ``tf.float32`` -> ``torch.float32``)::

    import torch
    from course_lib.torch.contrib import nn, rnn, seq2seq
    cell = rnn.MultiRNNCell([rnn.BasicLSTMCell(6) for _ in range(2)])       # tf.contrib.rnn.*
    helper = seq2seq.TrainingHelper(inputs, sequence_length)                # tf.contrib.seq2seq.*
    decoder = seq2seq.BasicDecoder(cell, helper, cell.zero_state(B, torch.float32), output_layer)
    outputs, state, lengths = seq2seq.dynamic_decode(decoder, maximum_iterations=10)
    outputs, state = nn.dynamic_rnn(cell, inputs, dtype=torch.float32)       # tf.nn.dynamic_rnn

What a port keeps: every model line (cells, wrappers, ``zero_state``, ``LSTMStateTuple(c, h)``,
Helpers bound at construction, ``BasicDecoder(cell, helper, initial_state)``, ``dynamic_decode``'s
three results, the mechanisms' ``num_units`` and ``memory``, ``AttentionWrapperState.time`` and
``clone``, ``BeamSearchDecoder``'s TF1 arguments, ``sequence_loss``) and TF1's variable layouts
and names (``kernel [D + H, 4H]``, gates i, j, f, o, ``forget_bias`` added at each call), so one
``export_weights`` dict loads into the TensorFlow and the PyTorch contrib cells alike.

What a port changes: the graph and the session. There is no ``tf.Session``, ``placeholder``,
``variable_scope`` or ``get_variable``: the model lines run eagerly, and ``sess.run(train_op)``
becomes an autograd step::

    ...model lines...
    loss = seq2seq.sequence_loss(outputs.rnn_output, targets, weights)
    optimizer.zero_grad(); loss.backward(); optimizer.step()

Cells build their weights on the first call: make the optimizer (and ``import_weights``) after one
forward pass. Build a Helper (and set an attention mechanism's memory up) in each step, as TF1
built them in the graph. A decode without ``maximum_iterations`` stops after a safety cap and
warns (TF1 hung). The state layouts differ from course_lib's modern cells: ``LSTMStateTuple(c, h)``
here, ``[h, c]`` there; a plain list or tuple given as an LSTM state is refused, with the order in
the message. ``course_lib.common.contrib.layouts`` maps TF1 weights to the modern (Keras) layout.
"""

from course_lib.torch.contrib import nn, rnn, seq2seq  # noqa: F401

__all__ = ["nn", "rnn", "seq2seq"]
