"""``TensorArray``: histories that grow per decode step; in TensorFlow, ``tf.TensorArray`` itself.

The PyTorch backend has a twin class of the same name (``course_lib.torch.tensor_array``), so
``dynamic_decode(impute_finished=True)`` passes such a history through untouched in both.
"""

import tensorflow as tf

TensorArray = tf.TensorArray
