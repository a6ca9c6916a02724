"""Chapter 1 · Unrolling a cell: dynamic_rnn — the exercise checkers.

A notebook imports the binding of its own framework::

    from course_lib.chapters.ch01_dynamic_rnn import tf as ex      # TensorFlow
    from course_lib.chapters.ch01_dynamic_rnn import torch as ex   # PyTorch

    ex.check_unroll(my_dynamic_rnn)   # prints ✓, or ✗ with what is wrong and a hint

``checkers`` holds the cases, NumPy references, hints and checker bodies (written once);
``tf`` and ``torch`` bind them to their backend.
"""
