"""Build small randomly initialised Qwen2-VL checkpoints from the real tokenizer and config.

The tokenizer, chat template and processor settings are Qwen2-VL-2B-Instruct's own (vendored in
tests/fixtures/qwen2-vl with their licence); only the network is shrunk. Checkpoints are saved like
a user's and cached between test sessions, keyed by the recipe and the transformers version.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "qwen2-vl"
CACHE = Path(os.environ.get("DOCVL_TEST_CACHE", Path(__file__).parent / ".cache"))

TINY_TEXT = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, max_window_layers=2,
                 rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]})
TINY_VISION = dict(depth=2, embed_dim=64, num_heads=4, hidden_size=64)


def config_dict(text: dict | None = None, vision: dict | None = None) -> dict:
    cfg = json.loads((FIXTURES / "config-2b-instruct.json").read_text())
    # Copies: transformers' config classes normalise nested dicts such as rope_scaling in place, which
    # would change the recipe (and so the cache key) of every checkpoint built after the first.
    cfg.update(copy.deepcopy(text or {}))
    cfg["vision_config"].update(copy.deepcopy(vision or {}))
    return cfg


def build_checkpoint(name: str, text: dict | None = TINY_TEXT, vision: dict | None = TINY_VISION,
                     seed: int = 0, dtype: str = "float32") -> Path:
    """A saved checkpoint folder (model + processor), built once and cached. `dtype` is what the weights
    are stored in (benchmarks store the 2B architecture in bfloat16, as the real checkpoint is)."""
    import torch
    import transformers
    from transformers import AutoProcessor, Qwen2VLConfig, Qwen2VLForConditionalGeneration

    recipe = [config_dict(text, vision), seed, transformers.__version__] + ([dtype] if dtype != "float32" else [])
    recipe = json.dumps(recipe, sort_keys=True)
    key = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    out = CACHE / f"{name}-{key}"
    if (out / "config.json").exists():
        return out
    tmp = CACHE / f".{name}-{key}.{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration(Qwen2VLConfig(**config_dict(text, vision))).to(getattr(torch, dtype))
    model.save_pretrained(tmp)
    AutoProcessor.from_pretrained(FIXTURES).save_pretrained(tmp)
    return publish(tmp, out)


def publish(tmp: Path, out: Path) -> Path:
    """Move a checkpoint saved in `tmp` to its cache folder `out`, with the real generation config."""
    shutil.copy(FIXTURES / "generation_config.json", tmp / "generation_config.json")
    try:
        tmp.rename(out)
    except OSError:  # another process won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return out
