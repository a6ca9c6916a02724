"""Argument checks and rules of TF1's decoders, mechanisms and loss, without a framework."""

from __future__ import annotations

from course_lib.common.checks import describe


def not_callable_message(decoder) -> str:
    """The error for calling a TF1 decoder (TF1 runs a decoder with ``dynamic_decode``)."""
    return (f"a TF1 decoder ({type(decoder).__name__}) is not called: run it with "
            "contrib.seq2seq.dynamic_decode(decoder, maximum_iterations=...), which returns "
            "(final_outputs, final_state, final_sequence_lengths)")


def check_decoder(decoder, contrib_decoder_class, modern_decoder_class) -> None:
    """TF1's ``dynamic_decode`` takes a contrib ``Decoder`` (inputs bound at construction)."""
    if isinstance(decoder, contrib_decoder_class):
        return
    if isinstance(decoder, modern_decoder_class):
        raise TypeError(f"`decoder` must be a contrib.seq2seq Decoder (its inputs bound at construction), got the "
                        f"modern {type(decoder).__name__}: call it as decoder(inputs, initial_state=..., ...) or "
                        "run course_lib's dynamic_decode(decoder, decoder_init_input=..., decoder_init_kwargs=...)")
    raise TypeError(f"`decoder` must be a contrib.seq2seq Decoder (e.g. BasicDecoder(cell, helper, initial_state)), "
                    f"got {describe(decoder)}")


def tf1_loss_flags(average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch) -> dict:
    """TF1's ``sequence_loss`` flags as the modern ones that compute the same thing.

    TF1 (1.15) picks the first that applies: both averages, both sums, one average, one sum; so
    ``average_across_timesteps`` with ``sum_over_batch`` averages over time only (tfa refuses the
    pair as ambiguous). Averaging and summing one axis is refused, as in TF1.
    """
    for axis, average, total in (("timesteps", average_across_timesteps, sum_over_timesteps),
                                 ("batch", average_across_batch, sum_over_batch)):
        if average and total:
            raise ValueError(f"`average_across_{axis}` and `sum_over_{axis}` cannot both be True: average or "
                             f"sum over the {axis} axis, not both")
    flags = dict(average_across_timesteps=False, average_across_batch=False, sum_over_timesteps=False,
                 sum_over_batch=False)
    if average_across_timesteps and average_across_batch:
        flags.update(average_across_timesteps=True, average_across_batch=True)
    elif sum_over_timesteps and sum_over_batch:
        flags.update(sum_over_timesteps=True, sum_over_batch=True)
    elif average_across_timesteps or average_across_batch:
        flags.update(average_across_timesteps=bool(average_across_timesteps),
                     average_across_batch=bool(average_across_batch))
    elif sum_over_timesteps or sum_over_batch:
        flags.update(sum_over_timesteps=bool(sum_over_timesteps), sum_over_batch=bool(sum_over_batch))
    return flags


def check_mechanism_args(memory, score_mask_value, custom_key_value_fn, owner: str) -> None:
    """TF1's mechanisms take ``memory`` at construction; two TF1 options are not supported here."""
    if memory is None:
        raise ValueError(f"`memory` of {owner} is required (TF1 takes the encoder outputs [B, T, D] at "
                         "construction), got None")
    if score_mask_value is not None and score_mask_value != float("-inf"):
        raise NotImplementedError(f"`score_mask_value` = {score_mask_value!r} is not supported: masked scores get "
                                  "the dtype's minimum (the same alignments as TF1's default -inf for every row "
                                  "with a length > 0)")
    if custom_key_value_fn is not None:
        raise NotImplementedError("`custom_key_value_fn` is not supported: compute the keys with a `memory_layer` "
                                  "or transform the memory before passing it")
