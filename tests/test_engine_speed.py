"""The local engine's speed options: attention kernels and the static-cache + torch.compile decode."""

import pytest
from PIL import Image

from docvl.budget import Budget
from docvl.engines import Request
from docvl.config import Config
from docvl.engines.local import CACHE_STEP, LocalEngine, LocalOptions
from docvl.errors import UsageError

BUDGET = Budget(64 * 784, 128 * 784)
PAGES = [Request(Image.new("RGB", (28 * 10, 28 * 8), "white"), "Read the text."),
         Request(Image.new("RGB", (28 * 6, 28 * 12), "gray"), "Read the text.")]


def engine(model, **options):
    return LocalEngine(LocalOptions(model=str(model), device="cpu", max_new_tokens=5, min_new_tokens=5,
                                    **options), BUDGET)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_attention_kernel_is_the_one_asked_for(tiny_model, attn):
    e = engine(tiny_model, attn=attn)
    assert e.model.config._attn_implementation == attn
    assert e.model.model.visual.config._attn_implementation == attn


def test_attention_kernels_that_cannot_run_here_are_usage_errors(tiny_model):
    with pytest.raises(UsageError, match="sdpa, eager, flash_attention_2"):
        Config(attn="flash")
    with pytest.raises(UsageError, match="needs a CUDA GPU and the flash-attn package"):
        Config(attn="flash_attention_2", device="cpu")
    with pytest.raises(UsageError, match="needs a CUDA GPU"):  # the engine: --device auto found no GPU
        engine(tiny_model, attn="flash_attention_2")


def test_compiled_static_cache_decode_gives_the_same_tokens(tiny_model):
    # M-RoPE positions survive the static cache and torch.compile: greedy decoding is token for token the
    # same, for pages of different sizes (different prompt lengths, one cache shape).
    plain = engine(tiny_model).generate(PAGES)
    fast = engine(tiny_model, compile=True)
    assert [g.text for g in fast.generate(PAGES)] == [g.text for g in plain]
    assert [g.text for g in fast.generate(PAGES[::-1])] == [g.text for g in plain[::-1]]
    assert hasattr(fast.model, "_compiled_call")  # transformers compiled the decode step
    # The cache is sized once for the budget's largest page, so later batches reuse the compiled graph.
    assert fast.model._previous_max_cache_length % CACHE_STEP == 0
    assert fast.model._previous_max_cache_length >= 128 + 5 + max(g.prompt_tokens - g.visual_tokens for g in plain)
