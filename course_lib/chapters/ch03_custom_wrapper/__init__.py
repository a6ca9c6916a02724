"""Chapter 3 · Writing cells and wrappers — the exercise checkers.

A notebook imports the binding of its own framework::

    from course_lib.chapters.ch03_custom_wrapper import tf as ex      # TensorFlow
    from course_lib.chapters.ch03_custom_wrapper import torch as ex   # PyTorch

    ex.check_gru_cell(MyGRUCell)   # prints ✓, or ✗ with what is wrong and a hint

``checkers`` holds the cases, NumPy references, hints and checker bodies (written once);
``tf`` and ``torch`` bind them to their backend.
"""
