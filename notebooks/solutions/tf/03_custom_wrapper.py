"""Solutions to the exercises of Chapter 3 · Writing cells and wrappers (TensorFlow).

Check them:  python notebooks/solutions/tf/03_custom_wrapper.py
Load one into a notebook cell:  %load ../solutions/tf/03_custom_wrapper.py
"""

from course_lib import tf as cl  # noqa: F401  (first: it quiets TensorFlow's C++ logging)
import keras
import tensorflow as tf


# Exercise 1: a cell that sums its inputs
class RunningSumCell(keras.layers.Layer):
    def __init__(self, depth, **kwargs):
        super().__init__(**kwargs)
        self.depth = depth

    @property
    def state_size(self):
        return self.depth

    @property
    def output_size(self):
        return self.depth

    def get_initial_state(self, batch_size=None, dtype=None, **kwargs):
        return tf.zeros([batch_size, self.depth], dtype or tf.float32)

    def call(self, inputs, states):
        new = states + inputs  # (B, D)
        return new, new


# Exercise 2: a wrapper that projects the inputs
class InputProjectionWrapper(keras.layers.Layer):
    def __init__(self, cell, num_proj, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.projection = keras.layers.Dense(num_proj)

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return self.cell.output_size

    def get_initial_state(self, batch_size=None, dtype=None, **kwargs):
        return self.cell.get_initial_state(batch_size=batch_size, dtype=dtype)

    def call(self, inputs, states):
        return self.cell(self.projection(inputs), states)  # (B, P) into the cell


# Exercise 3: a GRU cell from scratch
class MyGRUCell(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def build(self, input_shape):
        D, H = int(input_shape[-1]), self.units
        self.kernel = self.add_weight(name="kernel", shape=(D, 3 * H), initializer="glorot_uniform")
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(H, 3 * H), initializer="orthogonal")
        self.bias = self.add_weight(name="bias", shape=(2, 3 * H), initializer="zeros")

    def get_initial_state(self, batch_size=None, dtype=None, **kwargs):
        return tf.zeros([batch_size, self.units], dtype or tf.float32)

    def call(self, inputs, states):
        h = states  # (B, H)
        x_z, x_r, x_h = tf.split(inputs @ self.kernel + self.bias[0], 3, axis=-1)
        h_z, h_r, h_h = tf.split(h @ self.recurrent_kernel + self.bias[1], 3, axis=-1)
        z = tf.sigmoid(x_z + h_z)  # update gate
        r = tf.sigmoid(x_r + h_r)  # reset gate
        h_tilde = tf.tanh(x_h + r * h_h)  # reset after the product (Keras reset_after=True)
        h = z * h + (1.0 - z) * h_tilde
        return h, h


if __name__ == "__main__":
    from course_lib.chapters.ch03_custom_wrapper import tf as ex

    results = [ex.check_running_sum_cell(RunningSumCell),
               ex.check_input_projection_wrapper(InputProjectionWrapper), ex.check_gru_cell(MyGRUCell)]
    raise SystemExit(0 if all(results) else 1)
