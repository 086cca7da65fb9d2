"""bitsandbytes 8-bit and 4-bit load the tiny checkpoint on CPU (and CUDA, where there is one) and generate."""

import pytest
from PIL import Image

from docvl.budget import Budget
from docvl.config import Config
from docvl.engines import Request
from docvl.engines.local import LocalEngine, LocalOptions
from docvl.errors import UsageError

pytest.importorskip("bitsandbytes")
BUDGET = Budget(64 * 784, 128 * 784)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not _cuda(), reason="needs a CUDA GPU (run on the lent H100: see tests/test_cuda.py)"))])
@pytest.mark.parametrize("quant, weight_type", [("8bit", "Linear8bitLt"), ("4bit", "Linear4bit")])
def test_quantized_tiny_model_generates(tiny_model, quant, weight_type, device):
    engine = LocalEngine(LocalOptions(model=str(tiny_model), quant=quant, device=device, max_new_tokens=4), BUDGET)
    assert next(engine.model.parameters()).device.type == device
    layers = {type(m).__name__ for name, m in engine.model.named_modules() if "language_model" in name}
    assert weight_type in layers
    # The vision tower and lm_head stay unquantized.
    vision = {type(m).__name__ for name, m in engine.model.named_modules() if "visual" in name}
    assert weight_type not in vision
    assert type(engine.model.lm_head).__name__ == "Linear"
    [gen] = engine.generate([Request(Image.new("RGB", (28 * 10, 28 * 8), "white"), "Read the text.")])
    assert 1 <= gen.completion_tokens <= 4 and gen.visual_tokens == 80


def test_quant_without_bitsandbytes_says_how_to_install(monkeypatch):
    import docvl.config

    real = docvl.config.importlib.util.find_spec
    monkeypatch.setattr(docvl.config.importlib.util, "find_spec",
                        lambda name, *a: None if name == "bitsandbytes" else real(name, *a))
    with pytest.raises(UsageError, match=r"docvl\[quant\]"):
        Config(quant="4bit", device="cpu")


def test_unknown_quant_is_a_usage_error():
    with pytest.raises(UsageError, match="none, 8bit, 4bit"):
        Config(quant="3bit")
