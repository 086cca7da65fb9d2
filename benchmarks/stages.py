"""Where the time goes inside `model.generate`: vision encoding, prefill, decode.

Attached from outside, so the code being measured is the code that runs: forward hooks on the vision
tower, and a logits processor appended to each generate call, which runs once per generated token right
after the model's forward (outside any compiled graph). On CUDA the marks are CUDA events, read once after
the call, so measuring adds no synchronisation; on the CPU they are wall-clock times.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Call:
    rows: int  # batch size of this generate call
    prompt_len: int  # padded prompt length
    start: object = None
    end: object = None
    vision: list = field(default_factory=list)  # (start, end) marks per vision forward
    steps: list = field(default_factory=list)  # one mark per generated token


class StageTimer:
    def __init__(self, model):
        import torch

        self._torch = torch
        self.cuda = model.device.type == "cuda"
        self.calls: list[Call] = []
        self._call: Call | None = None
        visual = model.model.visual
        self._model = model
        self._hooks = [visual.register_forward_pre_hook(lambda *_: self._vision_mark(start=True)),
                       visual.register_forward_hook(lambda *_: self._vision_mark(start=False))]
        self._wrap_generate(model)

    def detach(self) -> None:
        """Leave the model as it was, so that the next timer of the same model measures alone."""
        for hook in self._hooks:
            hook.remove()
        del self._model.generate  # the instance's wrapper; the class's generate shows through again

    def _mark(self):
        if self.cuda:
            event = self._torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    def _seconds(self, a, b) -> float:
        return a.elapsed_time(b) / 1000.0 if self.cuda else b - a

    def _vision_mark(self, start: bool) -> None:
        if self._call is None:
            return
        if start:
            self._call.vision.append([self._mark(), None])
        else:
            self._call.vision[-1][1] = self._mark()

    def _wrap_generate(self, model) -> None:
        from transformers import LogitsProcessor, LogitsProcessorList

        timer = self

        class StepMark(LogitsProcessor):
            def __call__(self, input_ids, scores):
                timer._call.steps.append(timer._mark())
                return scores

        original = model.generate

        def generate(*args, **kwargs):
            processors = LogitsProcessorList(kwargs.pop("logits_processor", None) or [])
            processors.append(StepMark())
            ids = kwargs["input_ids"]
            self._call = Call(rows=ids.shape[0], prompt_len=ids.shape[1], start=self._mark())
            try:
                return original(*args, logits_processor=processors, **kwargs)
            finally:
                self._call.end = self._mark()
                self.calls.append(self._call)
                self._call = None

        model.generate = generate

    def reset(self) -> None:
        self.calls = []

    def summary(self) -> dict:
        """Seconds per stage summed over the calls, and the decode work done."""
        if self.cuda:
            self._torch.cuda.synchronize()
        total = {"generate_s": 0.0, "vision_s": 0.0, "prefill_s": 0.0, "decode_s": 0.0, "decode_steps": 0,
                 "decode_tokens": 0, "calls": len(self.calls), "rows": 0, "context_tokens": 0.0}
        for c in self.calls:
            vision = sum(self._seconds(a, b) for a, b in c.vision)
            total["generate_s"] += self._seconds(c.start, c.end)
            total["vision_s"] += vision
            if not c.steps:
                continue
            total["prefill_s"] += self._seconds(c.start, c.steps[0]) - vision
            total["decode_s"] += self._seconds(c.steps[0], c.steps[-1])
            steps = len(c.steps) - 1  # the first token comes from the prefill
            total["decode_steps"] += steps
            total["decode_tokens"] += steps * c.rows
            total["rows"] += c.rows
            # Mean KV length a decode step attends to: the padded prompt plus half the answer.
            total["context_tokens"] += steps * (c.prompt_len + len(c.steps) / 2)
        steps = total.pop("decode_steps")
        total["context_tokens"] = round(total["context_tokens"] / steps, 1) if steps else None
        total["mean_batch"] = round(total.pop("rows") / max(1, total["calls"]), 2)
        total["decode_tokens_per_s"] = (round(total["decode_tokens"] / total["decode_s"], 2)
                                        if total["decode_s"] > 0 else None)
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in total.items()}
