"""course_lib: the seq2seq decoding API of the course, in TensorFlow and in PyTorch.

Choose the backend with the import line; nothing here imports a framework::

    from course_lib import tf as cl      # TensorFlow 2 / Keras 3
    from course_lib import torch as cl   # PyTorch

`course_lib.common` holds the framework-free parts (NumPy in, NumPy out).
"""

__version__ = "0.1.0"
