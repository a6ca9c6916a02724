"""Chapter 2 · The decode loop: dynamic_decode — the exercise checkers.

A notebook imports the binding of its own framework::

    from course_lib.chapters.ch02_dynamic_decode import tf as ex      # TensorFlow
    from course_lib.chapters.ch02_dynamic_decode import torch as ex   # PyTorch

    ex.check_decode_loop(my_greedy_decode)   # prints ✓, or ✗ with what is wrong and a hint

``checkers`` holds the cases, NumPy references, hints and checker bodies (written once);
``tf`` and ``torch`` bind them to their backend.
"""
