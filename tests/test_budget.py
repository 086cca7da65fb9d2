import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qwen_vl_utils.vision_process import smart_resize as reference

from docvl.budget import FACTOR, Budget, smart_resize, visual_tokens


@settings(max_examples=2000, deadline=None)
@given(
    height=st.integers(1, 20000),
    width=st.integers(1, 20000),
    min_tokens=st.integers(1, 4096),
    extra_tokens=st.integers(0, 16384),
)
def test_smart_resize_matches_qwen_vl_utils(height, width, min_tokens, extra_tokens):
    budget = Budget(min_tokens * FACTOR * FACTOR, (min_tokens + extra_tokens) * FACTOR * FACTOR)
    if max(height, width) / min(height, width) > 200:
        with pytest.raises(ValueError):
            smart_resize(height, width, budget)
        return
    expected = reference(height, width, FACTOR, budget.min_pixels, budget.max_pixels)
    got = smart_resize(height, width, budget)
    if min(expected) == 0:
        # qwen-vl-utils floors an extreme aspect ratio to a zero side; docvl (like transformers) keeps 28.
        assert min(got) == FACTOR
        return
    assert got == expected
    h, w = got
    assert h % FACTOR == 0 and w % FACTOR == 0
    assert h * w <= budget.max_pixels or h * w >= budget.min_pixels


def test_visual_tokens_is_one_per_28x28_block():
    assert visual_tokens(28 * 10, 28 * 7) == 70


def test_budget_rejects_inverted_bounds():
    with pytest.raises(ValueError):
        Budget(10 * 784, 5 * 784)
