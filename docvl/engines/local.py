"""The local engine: Qwen2-VL family checkpoints through transformers, on CPU or CUDA GPUs."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from ..budget import Budget
from ..config import Config, parse_max_memory
from ..errors import EngineError, EngineOutOfMemory, UsageError, short_reason
from . import BatchFailed, Generation, Request, family_of


@dataclass
class LocalOptions:
    model: str
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    dtype: str = "auto"  # auto | bfloat16 | float16 | float32
    quant: str = "none"  # none | 8bit | 4bit
    gpus: int | None = None  # shard over this many GPUs with device_map
    max_memory: str | None = None  # "0=20GiB,1=20GiB[,cpu=64GiB]"
    max_new_tokens: int = 1024
    min_new_tokens: int | None = None  # benchmarks pin the output length
    max_time: float | None = None  # seconds one batch may generate (--page-timeout)
    trust_remote_code: bool = False
    attn: str = "sdpa"  # sdpa | eager | flash_attention_2
    compile: bool = False  # static KV cache + torch.compile of the decode step


# Static-cache lengths are rounded up to this, so small differences in prompt text reuse one cache shape.
CACHE_STEP = 256


def from_config(config: Config) -> "LocalEngine":
    return LocalEngine(LocalOptions(
        model=config.model, device=config.device, dtype=config.dtype, quant=config.quant, gpus=config.gpus,
        max_memory=config.max_memory, max_new_tokens=config.max_new_tokens, max_time=config.page_timeout,
        trust_remote_code=config.trust_remote_code, attn=config.attn, compile=config.compile), config.budget)


# How long the one look at the hub may take, for a model that is not in the local cache.
HUB_PROBE_TIMEOUT = 5.0


def looks_like_path(model: str) -> bool:
    """Whether --model names a folder rather than a Hugging Face id (`owner/name`, or `name`)."""
    if model.startswith(("/", "./", "../", "~", ".\\", "..\\")) or model in (".", ".."):
        return True
    if os.path.exists(os.path.expanduser(model)):
        return True
    seps = model.count(os.sep) + (model.count(os.altsep) if os.altsep else 0)
    return seps > 1 or (os.sep != "/" and os.sep in model)


def resolve_model(model: str) -> str:
    """Where to load `model` from, without importing torch: a local folder as given, the snapshot folder
    of the local Hugging Face cache (no hub call), or, only when the model is not cached and
    HF_HUB_OFFLINE is not set, the id itself after one quick look at the hub (no retries) says it is
    there to download. Anything else is one EngineError line that says what to do."""
    if looks_like_path(model):
        folder = os.path.expanduser(model)
        if os.path.isdir(folder):
            return folder
        what = "is a file, not a checkpoint folder" if os.path.exists(folder) else "no such folder"
        raise EngineError(f"--model {model}: {what}; pass the folder of a saved checkpoint "
                          f"(config.json and weights) or a Hugging Face id such as Qwen/Qwen2-VL-2B-Instruct")
    from huggingface_hub import constants, hf_hub_url, try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        cached = try_to_load_from_cache(model, "config.json")
    except HFValidationError:
        raise EngineError(f"--model {model}: neither a folder here nor a Hugging Face id such as "
                          f"Qwen/Qwen2-VL-2B-Instruct") from None
    if isinstance(cached, str):
        return os.path.dirname(cached)  # the cached snapshot: transformers reads it without asking the hub
    fix = f"download it on a connected machine with `hf download {model}` or pass --model /path/to/checkpoint"
    if constants.HF_HUB_OFFLINE:
        raise EngineError(f"model {model!r} is not available here (not in the Hugging Face cache "
                          f"{constants.HF_HUB_CACHE}, and HF_HUB_OFFLINE is set); {fix}")
    from huggingface_hub import get_hf_file_metadata
    from huggingface_hub.errors import EntryNotFoundError, GatedRepoError, RepositoryNotFoundError

    try:
        # One HEAD request, no retries: transformers' own first look retries for half a minute.
        get_hf_file_metadata(hf_hub_url(model, "config.json"), timeout=HUB_PROBE_TIMEOUT)
    except GatedRepoError:
        raise EngineError(f"model {model!r} is gated on the hub: accept its terms on the model page, log in "
                          f"with `hf auth login`, then `hf download {model}`") from None
    except RepositoryNotFoundError:
        raise EngineError(f"model {model!r} is not on the Hugging Face hub (or is private: log in with "
                          f"`hf auth login`) and not in the cache {constants.HF_HUB_CACHE}; check the id, "
                          f"or pass --model /path/to/checkpoint") from None
    except EntryNotFoundError:
        raise EngineError(f"model {model!r} has no config.json on the hub: not a transformers checkpoint") from None
    except Exception as e:
        raise EngineError(f"model {model!r} is not available here (not in the Hugging Face cache "
                          f"{constants.HF_HUB_CACHE}, and the hub at {constants.ENDPOINT} cannot be reached: "
                          f"{short_reason(e)}); {fix}, or set HF_HUB_OFFLINE=1 to never ask the hub") from None
    return model


def _plain(o: LocalOptions) -> bool:
    """Options whose checks need no torch: a usage error cannot hide behind a missing model."""
    return (o.device in ("auto", "cpu") and o.dtype in ("auto", "float32", "fp32") and o.quant == "none"
            and o.attn in ("sdpa", "eager") and not o.gpus and not o.max_memory)


class LocalEngine:
    """Loads the model once; `generate` runs one batch with left padding and greedy decoding."""

    name = "local"

    def __init__(self, options: LocalOptions, budget: Budget):
        self.options = options
        self.budget = budget
        self.model_name = options.model
        # Where the checkpoint is, decided before torch loads (seconds): a missing model fails at once,
        # unless options only torch can check might be wrong, which are reported first.
        try:
            self._source = resolve_model(options.model)
            missing = None
        except EngineError as e:
            if _plain(options):
                raise
            missing = e
        import torch
        from transformers.utils import logging as hf_logging

        # stderr carries docvl's own messages; transformers' loading bars and notices are noise there.
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        self._torch = torch
        self.device = self._pick_device(options.device)
        self.dtype = self._pick_dtype(options.dtype)
        self._check_attn()
        if missing:
            raise missing
        config = self._load("config")
        self.family = family_of(getattr(config, "model_type", ""))
        self.processor = self._load("processor")
        # Decoder-only batching needs left padding so every row's last token is its prompt's end.
        self.processor.tokenizer.padding_side = "left"
        self.model = self._load("model")
        self.model.eval()
        tok = self.processor.tokenizer
        self.image_token_id = tok.convert_tokens_to_ids("<|image_pad|>")
        gen = getattr(self.model, "generation_config", None)
        eos = getattr(gen, "eos_token_id", None) or tok.eos_token_id
        self.stop_ids = set(eos if isinstance(eos, list) else [eos])
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else next(iter(self.stop_ids))
        self.stop_ids.add(self.pad_id)

    # -- loading -------------------------------------------------------------------------------

    def _pick_device(self, device: str) -> str:
        torch = self._torch
        if device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise UsageError("--device cuda: no CUDA GPU is visible to PyTorch; use --device cpu")
        if device == "mps" and not torch.backends.mps.is_available():
            raise UsageError("--device mps: Apple's Metal backend is not available here")
        return device

    def _pick_dtype(self, dtype: str):
        torch = self._torch
        if dtype == "auto":
            # bf16 is what Qwen2-VL was trained in; CPUs run float32 faster and more accurately.
            return torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[dtype]

    def _check_attn(self) -> None:
        # Config checked the package; `--device auto` may still have resolved to the CPU.
        if self.options.attn == "flash_attention_2" and not self.device.startswith("cuda"):
            raise UsageError("--attn flash_attention_2 needs a CUDA GPU; use --attn sdpa")

    def _quantization_config(self):
        from transformers import BitsAndBytesConfig

        # The vision tower and lm_head stay in full precision: the ViT's patch embeddings and its
        # few layers carry every character's shape (quantizing them costs OCR accuracy for little
        # memory), and lm_head shares its weights with the token embeddings in the 2B model.
        # transformers matches these from the start of a module's name: "model.visual" in 5.x,
        # "visual" in checkpoints laid out as in 4.x.
        skip = ["model.visual", "visual", "lm_head"]
        if self.options.quant == "8bit":
            return BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=skip)
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=self.dtype,
            bnb_4bit_use_double_quant=True,
            llm_int8_skip_modules=skip,
        )

    def _device_map(self):
        o = self.options
        if o.gpus or o.max_memory:
            if not self.device.startswith("cuda"):
                raise UsageError("--gpus and --max-memory shard over CUDA GPUs; none is in use")
            available = self._torch.cuda.device_count()
            if o.gpus and o.gpus > available:
                raise UsageError(f"--gpus {o.gpus}: only {available} CUDA GPU(s) visible")
            caps = parse_max_memory(o.max_memory) if o.max_memory else {}
            if o.gpus:
                caps = {k: v for k, v in caps.items() if not isinstance(k, int) or k < o.gpus}
                for i in range(o.gpus):
                    caps.setdefault(i, f"{self._torch.cuda.get_device_properties(i).total_memory // 2**30}GiB")
            return {"device_map": "auto", "max_memory": caps}
        return {"device_map": self.device}

    def _load(self, what: str):
        from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

        name = self.options.model
        source = self._source
        trc = self.options.trust_remote_code
        try:
            if what == "config":
                return AutoConfig.from_pretrained(source, trust_remote_code=trc)
            if what == "processor":
                return AutoProcessor.from_pretrained(source, trust_remote_code=trc)
            kwargs = {"dtype": self.dtype, "trust_remote_code": trc, "attn_implementation": self.options.attn,
                      **self._device_map()}
            if self.options.quant != "none":
                kwargs["quantization_config"] = self._quantization_config()
            return AutoModelForImageTextToText.from_pretrained(source, **kwargs)
        except (UsageError, EngineError):
            raise
        except OSError as e:
            raise EngineError(
                f"model {name!r} is not available here ({short_reason(e)}); download it on a connected "
                f"machine with `hf download {name}` or pass --model /path/to/checkpoint"
            ) from None
        except Exception as e:
            raise EngineError(f"model {name!r} could not be loaded: {short_reason(e)}") from None

    # -- generation ----------------------------------------------------------------------------

    def chat_text(self, prompt: str) -> str:
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
        return self.processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def _compiled_decode(self, inputs) -> dict:
        """generate() arguments for a static KV cache, whose decode step transformers compiles (CUDA graphs on
        a GPU). The cache is sized for the budget's largest page, so that every batch of the same size reuses
        one compiled graph instead of compiling again for each prompt length."""
        from transformers.generation import CompileConfig

        ids = inputs["input_ids"]
        text_tokens = int(((ids != self.image_token_id) & inputs["attention_mask"].bool()).sum(dim=1).max())
        longest = text_tokens + self.budget.max_pixels // (28 * 28) + self.options.max_new_tokens
        config = CompileConfig()
        if not self.device.startswith("cuda"):
            # transformers compiles only on accelerators unless told otherwise; CUDA graphs need a GPU.
            config = CompileConfig(mode="default")
            config._compile_all_devices = True
        return {"cache_implementation": "static", "max_cache_len": -(-longest // CACHE_STEP) * CACHE_STEP,
                "compile_config": config}

    def _logprob_recorder(self, kwargs: dict) -> "TokenLogprobs":
        """A logits processor that keeps the chosen tokens' log-probabilities (page confidence) from the
        logits generate() computes anyway: no extra forward pass, one step's distribution held at a time.
        It sees the model's raw logits: the checkpoint's repetition penalty, which generate() would apply
        first, is applied after it instead (the same tokens are chosen)."""
        from transformers import LogitsProcessorList, RepetitionPenaltyLogitsProcessor

        recorder = TokenLogprobs(self._torch)
        processors = [recorder]
        penalty = getattr(getattr(self.model, "generation_config", None), "repetition_penalty", None)
        if penalty is not None and penalty != 1.0:
            kwargs["repetition_penalty"] = 1.0  # generate() would otherwise put it before the recorder
            processors.append(RepetitionPenaltyLogitsProcessor(penalty))
        kwargs["logits_processor"] = LogitsProcessorList(processors)
        return recorder

    def generate(self, requests: list[Request]) -> list[Generation]:
        torch = self._torch
        start = time.perf_counter()
        # Pages arrive sized by docvl: multiples of 28 inside the budget, or below it after an out-of-memory
        # retry. Bounds that hold every page keep the processor from resizing any of them again.
        areas = [r.image.width * r.image.height for r in requests]
        size = {"shortest_edge": min(self.budget.min_pixels, *areas),
                "longest_edge": max(self.budget.max_pixels, *areas)}
        inputs = self.processor(
            text=[self.chat_text(r.prompt) for r in requests],
            images=[r.image for r in requests],
            padding=True,
            return_tensors="pt",
            size=size,
        )
        first_device = next(self.model.parameters()).device
        kwargs = {"max_new_tokens": self.options.max_new_tokens, "do_sample": False,
                  "pad_token_id": self.pad_id}
        if self.options.min_new_tokens:
            kwargs["min_new_tokens"] = self.options.min_new_tokens
        if self.options.compile:
            kwargs.update(self._compiled_decode(inputs))
        if self.options.max_time:
            kwargs["max_time"] = self.options.max_time
        recorder = self._logprob_recorder(kwargs)
        try:
            inputs = inputs.to(first_device)
            with torch.inference_mode():
                out = self.model.generate(**inputs, **kwargs)
        except torch.OutOfMemoryError:
            del inputs
            if torch.cuda.is_available():
                torch.cuda.empty_cache()  # give the split batch the memory this one held
            # The runner catches this: it splits the batch, then retries a page at fewer pixels.
            raise EngineOutOfMemory(
                "CUDA out of memory; lower --batch-size, --max-batch-tokens or --max-pixels, or use --quant 4bit"
            ) from None
        except Exception as e:
            raise BatchFailed(f"the model failed on this page: {short_reason(e)}") from None
        seconds = (time.perf_counter() - start) / len(requests)
        prompt_len = inputs["input_ids"].shape[1]
        logprobs = recorder.chosen(out)
        results = []
        for row, ids in enumerate(inputs["input_ids"]):
            new = out[row, prompt_len:].tolist()
            end = next((i for i, t in enumerate(new) if t in self.stop_ids), len(new))
            text = self.processor.tokenizer.decode(new[:end], skip_special_tokens=False)
            if end < len(new):
                finish = "stop"
            else:  # no stop token: the length limit or, short of it, the time limit ended the row
                finish = "length" if len(new) >= self.options.max_new_tokens else "time"
            results.append(Generation(
                text=text,
                prompt_tokens=int(inputs["attention_mask"][row].sum()),
                # The stop token counts as generated, as servers count it.
                completion_tokens=min(end + 1, len(new)),
                visual_tokens=int((ids == self.image_token_id).sum()),
                seconds=seconds,
                finish_reason=finish,
                token_logprobs=logprobs[row][:end],
                token_texts=[self.processor.tokenizer.decode([t], skip_special_tokens=False) for t in new[:end]],
            ))
        return results


class TokenLogprobs:
    """Logits processor (generate() calls it at every step with the sequences so far and the next token's
    logits; it changes nothing): step k's log-softmax is held until step k+1 shows the token chosen from
    it, then only that token's log-probability is kept."""

    def __init__(self, torch):
        self._torch = torch
        self._last = None  # this step's log-probabilities over the vocabulary (batch x vocab)
        self._chosen = []  # per step: the chosen tokens' log-probabilities (batch)

    def __call__(self, input_ids, scores):
        if self._last is not None:
            self._chosen.append(self._last.gather(1, input_ids[:, -1:].to(self._last.device)).squeeze(1))
        self._last = self._torch.log_softmax(scores.float(), dim=-1)
        return scores

    def chosen(self, sequences) -> list[list[float]]:
        """Per row, the log-probability of every generated token of `sequences` (generate()'s output)."""
        if self._last is not None:
            self._chosen.append(self._last.gather(1, sequences[:, -1:].to(self._last.device)).squeeze(1))
            self._last = None
        if not self._chosen:
            return [[] for _ in range(sequences.shape[0])]
        return self._torch.stack(self._chosen, dim=1).tolist()
