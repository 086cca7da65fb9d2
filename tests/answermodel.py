"""A tiny Qwen2-VL trained on CPU to give one fixed answer whatever the page and the prompt.

Random weights emit gibberish, which tests the plumbing but never a table, a box or a field. This
checkpoint is real (the same architecture, tokenizer, processor and loading path as a user's) and its
answer is known, so a test can check content end to end: a known HTML table becomes the right CSV, a
known box lands on the right spot of a rotated page. Teacher forcing on the answer after the real
chat prompt, with page-like images of 16 to 256 visual tokens; a few minutes on one CPU core,
built once and cached like the other tiny checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from pathlib import Path

from tinymodel import CACHE, FIXTURES, TINY_TEXT, TINY_VISION, config_dict, publish

# Training goes on in rounds of EXTRA_STEPS until the answer comes out right on pages it never saw.
STEPS = 150
EXTRA_STEPS = 50
MAX_STEPS = 500
CHECK_PAGES = 10
LEARNING_RATE = 3e-3
SEED = 0


def _prompts() -> list[str]:
    """docvl's own prompts for the tasks the tests run (the model learns to answer any of them)."""
    from docvl.parsers.fields import FieldSpec
    from docvl.tasks.extract import extract_task
    from docvl.tasks.grounding import ground_task
    from docvl.tasks.ocr import ocr_task
    from docvl.tasks.tables import tables_task

    tasks = [tables_task(), ground_task("the total"), ground_task("the total", all_matches=True),
             extract_task([FieldSpec("invoice_number"), FieldSpec("date", "date"), FieldSpec("total", "number")]),
             ocr_task(boxes=True)]
    return [task.prompt(None, "qwen2-vl") for task in tasks]


def _page(rng: random.Random):
    """A white page-like image with a few lines of text, 16 to 256 visual tokens, any aspect."""
    from PIL import Image, ImageDraw

    tokens, aspect = rng.randint(16, 256), rng.uniform(0.5, 2.0)
    h = max(28, round((tokens * 784 / aspect) ** 0.5 / 28) * 28)
    w = max(28, round(tokens * 784 / h / 28) * 28)
    image = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(0, 12)):
        line = "".join(rng.choice("ABCDxyz0123 .,") for _ in range(12))
        draw.text((rng.randint(0, w), rng.randint(0, h)), line, fill="black")
    return image


def answers_right(model, processor, answer: str, prompts: list[str], size: dict) -> bool:
    """Greedy answers to CHECK_PAGES pages not trained on, under every prompt, equal `answer`."""
    import torch

    rng = random.Random(SEED + 1)
    for n in range(CHECK_PAGES):
        prompt = prompts[n % len(prompts)]
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
        chat = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = processor(text=[chat], images=[_page(rng)], return_tensors="pt", size=size)
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=len(processor.tokenizer(answer)["input_ids"]) + 2,
                                 do_sample=False)
        text = processor.tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=False)
        if text.removesuffix("<|im_end|>") != answer:
            return False
    return True


def build_answering_checkpoint(name: str, answer: str) -> Path:
    """A saved checkpoint folder whose greedy answer to any page and prompt is `answer`."""
    import torch
    import transformers
    from transformers import AutoProcessor, Qwen2VLConfig, Qwen2VLForConditionalGeneration

    prompts = _prompts()
    cfg = config_dict(TINY_TEXT, TINY_VISION)
    recipe = [cfg, answer, prompts, STEPS, EXTRA_STEPS, CHECK_PAGES, LEARNING_RATE, SEED, transformers.__version__]
    recipe = json.dumps(recipe, sort_keys=True)
    out = CACHE / f"{name}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"
    if (out / "config.json").exists():
        return out
    processor = AutoProcessor.from_pretrained(FIXTURES)
    size = {"shortest_edge": 16 * 784, "longest_edge": 256 * 784}
    target = answer + "<|im_end|>"
    answer_tokens = len(processor.tokenizer(target, add_special_tokens=False)["input_ids"])
    rng = random.Random(SEED)
    torch.manual_seed(SEED)
    model = Qwen2VLForConditionalGeneration(Qwen2VLConfig(**cfg))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.0)
    losses: list[float] = []

    def train(steps: int) -> None:
        model.train()
        for _ in range(steps):
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": rng.choice(prompts)}]}]
            chat = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            inputs = processor(text=[chat + target], images=[_page(rng)], return_tensors="pt", size=size)
            labels = inputs["input_ids"].clone()
            labels[:, : labels.shape[1] - answer_tokens] = -100  # learn the answer only
            loss = model(**inputs, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        model.eval()

    train(STEPS)
    while not answers_right(model, processor, answer, prompts, size):
        if len(losses) >= MAX_STEPS:
            raise RuntimeError(f"the answering model did not learn its answer in {MAX_STEPS} steps "
                               f"(last loss {losses[-1]:.3f})")
        train(EXTRA_STEPS)
    tmp = CACHE / f".{out.name}.{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    processor.save_pretrained(tmp)
    # For whoever wonders why an answer came out wrong: how far training got.
    (tmp / "training.json").write_text(json.dumps({"answer": answer, "steps": len(losses), "losses": losses}))
    return publish(tmp, out)
