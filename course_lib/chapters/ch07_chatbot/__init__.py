"""Chapter 7, a chatbot with attention: its model, trainer, replies, checkpoints and exercise checkers.

A notebook imports the binding of its own framework; both give the same names::

    from course_lib import tf as cl
    from course_lib.chapters.ch07_chatbot import tf as ch      # or: ... import torch as ch
    model = ch.Seq2SeqChatbot(vocab_size, attention="bahdanau")
    trainer, bot = ch.Trainer(model), ch.Chatbot(model, tokenizer)
    ch.check_beam_start(beam_start)                              # an exercise's checker

Written once, framework-free: ``replies`` (``Chatbot``: text in, replies out), ``decoding`` (greedy,
beam and sampled decodes against the backend ``cl``), ``training`` (the model's arguments,
``Trainer.evaluate``), ``checkpoints`` (save and load, every file checked) and ``checkers`` (the
exercises' cases, references, mistakes and checker bodies). Tensor code: ``model_tf`` / ``model_torch``
(``Seq2SeqChatbot``, ``reverse_padded``, ``Trainer``). Bindings: ``tf`` / ``torch``.
"""
