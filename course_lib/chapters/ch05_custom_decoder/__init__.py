"""Chapter 5 · Your own decoder — the exercise checkers.

A notebook imports the binding of its own framework::

    from course_lib.chapters.ch05_custom_decoder import tf as ex      # TensorFlow
    from course_lib.chapters.ch05_custom_decoder import torch as ex   # PyTorch

    ex.check_gather_tree(my_gather_tree)   # prints ✓, or ✗ with what is wrong and a hint

``checkers`` holds the cases, NumPy references, hints and checker bodies (written once);
``tf`` and ``torch`` bind them to their backend.
"""
