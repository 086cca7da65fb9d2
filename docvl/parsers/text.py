"""Clean-up every parser applies first: drop a reasoning preamble, cut an endless repetition."""

from __future__ import annotations

# A tail counts as a loop when one unit repeats at least this often and covers this many characters.
MIN_REPEATS = 6
MIN_LOOP_CHARS = 60
MAX_PERIOD = 400
THINK_END = "</think>"


def clean_answer(text: str) -> tuple[str, list[str]]:
    """(the answer part of the model's text, warnings): reasoning dropped, a looping tail cut."""
    text, thinking = drop_reasoning(text)
    text, loop = cut_repetition(text)
    return text, [w for w in (thinking, loop) if w]


def drop_reasoning(text: str) -> tuple[str, str | None]:
    """Qwen3-VL Thinking models reason first and answer after `</think>` (the chat template opens
    `<think>` in the prompt, so the answer may hold only the closing tag). Boxes or JSON inside the
    reasoning are drafts, not the answer."""
    end = text.rfind(THINK_END)
    if end >= 0:
        return text[end + len(THINK_END):], None
    if text.lstrip().startswith("<think>"):
        return "", "the answer was cut off while the model was still reasoning (<think> not closed)"
    return text, None


def cut_repetition(text: str) -> tuple[str, str | None]:
    """(text with a looping tail kept once, warning or None).

    A model that never emits its stop token repeats the same few lines until --max-new-tokens. Only
    the tail is examined, so repeated rows followed by a proper ending are left alone.
    """
    t = text.rstrip()
    n = len(t)
    for period in range(1, min(MAX_PERIOD, n // MIN_REPEATS) + 1):
        # Longest suffix in which every character equals the one `period` before it (binary search:
        # if a suffix has that property, so has every shorter one).
        lo, hi = 0, n - period
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if t[n - mid:] == t[n - mid - period:n - period]:
                lo = mid
            else:
                hi = mid - 1
        looped = lo + period
        if looped >= MIN_LOOP_CHARS and looped >= MIN_REPEATS * period:
            repeats = -(-looped // period)  # the last copy may be cut short
            return t[: n - lo], (f"the answer repeats the same {period} characters {repeats} times to its end "
                                 f"(the model looped until --max-new-tokens); kept them once")
    return text, None
