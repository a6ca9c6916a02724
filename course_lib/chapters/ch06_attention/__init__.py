"""Chapter 6 · Attention — the exercise checkers.

A notebook imports the binding of its own framework::

    from course_lib.chapters.ch06_attention import tf as ex      # TensorFlow
    from course_lib.chapters.ch06_attention import torch as ex   # PyTorch

    ex.check_masked_softmax(masked_softmax)   # prints ✓, or ✗ with what is wrong and a hint

``checkers`` holds the cases, NumPy references, hints and checker bodies (written once);
``tf`` and ``torch`` bind them to their backend.
"""
