"""The decode speed that memory bandwidth allows: each decode step reads the language model's weights once
and every row's KV cache, so tokens/s <= batch * bandwidth / (weight bytes + batch * context * KV bytes a
token). Compute, kernel launches and the ViT are ignored: it is an upper bound, not a prediction."""

from __future__ import annotations

# Peak memory bandwidth in TB/s by GPU name (vendor data sheets); the first name contained in
# torch.cuda.get_device_name() wins, so the specific variants come before the generic ones.
BANDWIDTH_TBPS = [
    ("GH200", 4.0), ("H200", 4.8), ("H100 NVL", 3.9), ("H100 PCIe", 2.0), ("H100", 3.35),
    ("H800", 3.35), ("A100-SXM4-80GB", 2.039), ("A100 80GB PCIe", 1.935), ("A100", 1.555),
    ("L40S", 0.864), ("L40", 0.864), ("L4", 0.3), ("A10G", 0.6), ("A10", 0.6),
    ("RTX 4090", 1.008), ("RTX 3090", 0.936), ("V100", 0.9), ("T4", 0.32),
]


def bandwidth_tbps(gpu_name: str | None) -> float | None:
    for name, tbps in BANDWIDTH_TBPS:
        if gpu_name and name.lower() in gpu_name.lower():
            return tbps
    return None


def decode_weight_bytes(model) -> int:
    """Bytes a decode step reads for weights: everything but the vision tower (4-bit weights count
    packed; tied embeddings once, as lm_head)."""
    return sum(p.numel() * p.element_size() for name, p in model.named_parameters() if ".visual." not in f".{name}")


def kv_bytes_per_token(model, dtype_bytes: int) -> int:
    text = model.config.get_text_config()
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    return 2 * text.num_hidden_layers * text.num_key_value_heads * head_dim * dtype_bytes


def decode_bound(tbps: float, weight_bytes: int, kv_per_token: int, batch: float, context: float) -> float:
    """Tokens/s allowed by bandwidth at this batch size and mean context length."""
    return batch * tbps * 1e12 / (weight_bytes + batch * context * kv_per_token)
