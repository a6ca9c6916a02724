"""Solutions to the exercises of Chapter 2 · The decode loop: dynamic_decode (PyTorch).

Check them:  python notebooks/solutions/torch/02_dynamic_decode.py
Load one into a notebook cell:  %load ../solutions/torch/02_dynamic_decode.py
"""

from course_lib import torch as cl  # noqa: F401
import torch


# Exercise 1: the greedy decode loop by hand
def my_greedy_decode(decoder, embedding, start_tokens, end_token, initial_state, maximum_iterations):
    finished, inputs, state = decoder.initialize(
        embedding, start_tokens=start_tokens, end_token=end_token, initial_state=initial_state)
    lengths = torch.zeros_like(start_tokens)  # (B,)
    sample_ids = []
    for t in range(maximum_iterations):
        if bool(finished.all()):
            break
        outputs, state, inputs, step_finished = decoder.step(t, inputs, state)
        lengths = torch.where(finished, lengths, t + 1)  # a row's length grows until it has finished
        finished = finished | step_finished
        sample_ids.append(outputs.sample_id)  # (B,)
    return torch.stack(sample_ids, dim=1), lengths  # (B, T), (B,)


# Exercise 2: softmax with a temperature
def temperature_probs(logits, temperature):
    return torch.softmax(logits / temperature, dim=-1)


# Exercise 3: decode lengths from sample ids
def lengths_from_ids(sample_ids, end_token):
    is_end = sample_ids == end_token  # (B, T)
    first_end = is_end.int().argmax(dim=1)  # the first True (argmax returns the first maximum)
    T = sample_ids.shape[1]
    return torch.where(is_end.any(dim=1), first_end + 1, T)


if __name__ == "__main__":
    from course_lib.chapters.ch02_dynamic_decode import torch as ex

    results = [ex.check_decode_loop(my_greedy_decode), ex.check_temperature(temperature_probs),
               ex.check_lengths_from_ids(lengths_from_ids)]
    raise SystemExit(0 if all(results) else 1)
