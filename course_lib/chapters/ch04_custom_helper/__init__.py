"""Chapter 4 · Your own helper (sampler) — the exercise checkers.

A notebook imports the binding of its own framework::

    from course_lib.chapters.ch04_custom_helper import tf as ex      # TensorFlow
    from course_lib.chapters.ch04_custom_helper import torch as ex   # PyTorch

    ex.check_top_k_sampler(TopKSampler)   # prints ✓, or ✗ with what is wrong and a hint

``cases`` holds the cases, NumPy references and the usual mistakes, ``checkers`` the hints and
checker bodies (both written once); ``tf`` and ``torch`` bind them to their backend.
"""
