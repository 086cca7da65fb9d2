"""Throughput: docvl's runner and local engine against the plain transformers loop of Qwen2-VL's README.

Both read the same synthetic, text-dense pages (letter, A4, receipt, landscape) from a PDF, at docvl's
pixel budget, and generate exactly --tokens tokens a page (min = max new tokens), on a randomly
initialised model of the real Qwen2-VL-2B-Instruct architecture (or a smaller cut of it) with the real
tokenizer and processor: speed does not depend on the weights' values.

    python benchmarks/throughput.py --config 2b --pages 64 --tokens 256 --batch-size 8 --quant none,4bit

docvl is timed twice: as `docvl ocr` runs it (the runner: raster worker processes, the model on a thread
of its own, batches across documents), and its local engine alone (pages rendered first, batches of
similar visual tokens generated on the calling thread), so that what the runner costs or gains shows.

Reports pages/s, generated tokens/s, seconds in vision encoding / prefill / decode / host work (render,
preprocess, everything outside generate), peak GPU memory, and the decode roofline; writes JSON to
benchmarks/results/.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This checkout's docvl (not another installed copy), the benchmark's modules, and tests/tinymodel.py:
# the checkpoint builder the tests use.
sys.path[:0] = [str(HERE.parent), str(HERE), str(HERE.parent / "tests")]

import report  # noqa: E402
import roofline  # noqa: E402
from stages import StageTimer  # noqa: E402
from synthetic import synthetic_pdf  # noqa: E402
from tinymodel import TINY_TEXT, TINY_VISION, build_checkpoint  # noqa: E402

from docvl.budget import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, Budget  # noqa: E402
from docvl.engines import Request  # noqa: E402
from docvl.raster import render_page  # noqa: E402
from docvl.sources import open_document  # noqa: E402
from docvl.tasks.ocr import ocr_task  # noqa: E402

# (text config overrides, vision config overrides) on top of Qwen2-VL-2B-Instruct's config.
CONFIGS = {
    "tiny": (TINY_TEXT, TINY_VISION),
    # The 2B model's widths, heads and vocabulary, with 4 of its 28 decoder layers and 4 of its 32 ViT blocks.
    "medium": ({"num_hidden_layers": 4, "max_window_layers": 4}, {"depth": 4}),
    "2b": ({}, {}),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    p.add_argument("--pages", type=int, default=8, help="pages to time (after a warm-up batch)")
    p.add_argument("--tokens", type=int, default=64, help="tokens generated per page (min = max new tokens)")
    p.add_argument("--batch-size", type=int, default=8, help="docvl's pages per generate call")
    p.add_argument("--quant", default="none", help="comma list of none, 8bit, 4bit (bitsandbytes)")
    p.add_argument("--attn", default="sdpa", help="comma list of docvl attention kernels: sdpa, eager, "
                                                  "flash_attention_2")
    p.add_argument("--compile", default="off", help="comma list of off, on (docvl --compile)")
    p.add_argument("--min-pixels", type=int, default=DEFAULT_MIN_PIXELS)
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--dtype", default="auto", help="auto (bf16 on CUDA, fp32 on CPU), bfloat16, float32")
    p.add_argument("--bandwidth-tbps", type=float, default=None,
                   help="memory bandwidth for the roofline; default: looked up by GPU name (none on CPU)")
    p.add_argument("--out", type=Path, default=None, help="result JSON (default: benchmarks/results/...)")
    args = p.parse_args(argv)
    args.quant = args.quant.split(",")
    args.attn = args.attn.split(",")
    args.compile = [c == "on" for c in args.compile.split(",")]
    return args


def main(argv: list[str] | None = None) -> dict:
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    args = parse_args(argv)
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = {"auto": torch.bfloat16 if device.startswith("cuda") else torch.float32,
             "bfloat16": torch.bfloat16, "float32": torch.float32, "float16": torch.float16}[args.dtype]
    text, vision = CONFIGS[args.config]
    checkpoint = build_checkpoint(f"bench-{args.config}", text, vision, dtype="bfloat16")
    budget = Budget(args.min_pixels, args.max_pixels)
    env = report.machine(device)
    tbps = args.bandwidth_tbps or roofline.bandwidth_tbps(env["gpu"])
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        pdf = synthetic_pdf(Path(tmp) / "pages.pdf", args.pages)
        # docvl warms up on a full batch (its compiled decode is per batch shape); the baseline, one page at
        # a time, needs only a couple of pages.
        warmup = synthetic_pdf(Path(tmp) / "warmup.pdf", min(args.pages, args.batch_size), seed=1)
        warmup_one = synthetic_pdf(Path(tmp) / "warmup-one.pdf", min(args.pages, 2), seed=1)
        for quant in args.quant:
            model, processor = load_plain(checkpoint, device, dtype, quant)
            runs.append(on_own_thread(measure, baseline_pass(model, processor, budget, args.tokens), model, dtype,
                                      tbps, warmup_one, pdf, {"engine": "baseline", "quant": quant,
                                                              "attn": "default", "compile": False, "batch_size": 1}))
            del model, processor
            release(torch)
            for attn in args.attn:
                for compiled in args.compile:
                    engine, runner, one_pass = docvl_pass(checkpoint, args, budget, quant, attn, compiled)
                    labels = {"quant": quant, "attn": attn, "compile": compiled, "batch_size": args.batch_size}
                    runs.append(on_own_thread(measure, one_pass, engine.model, engine.dtype, tbps, warmup, pdf,
                                              {"engine": "docvl", **labels}))
                    runner.close()  # its model thread ends here, and that thread's state with it
                    runs.append(on_own_thread(measure, engine_pass(engine, args.batch_size), engine.model,
                                              engine.dtype, tbps, warmup, pdf, {"engine": "docvl-engine", **labels}))
                    del engine, runner, one_pass
                    release(torch)
    payload = {
        "benchmark": "throughput",
        "command": report.command(__file__, sys.argv[1:] if argv is None else argv),
        "machine": env,
        "versions": report.versions(),
        "setup": {"config": args.config, "checkpoint": checkpoint.name, "pages": args.pages,
                  "tokens_per_page": args.tokens, "min_pixels": budget.min_pixels,
                  "max_pixels": budget.max_pixels, "dtype": str(dtype).removeprefix("torch."),
                  "bandwidth_tbps": tbps},
        "runs": runs,
        "ratios": ratios(runs),
    }
    out = args.out or report.RESULTS / f"throughput-{args.config}-{slug(env['gpu'] or 'cpu')}.json"
    report.write(out, payload)
    print_table(payload, out)
    return payload


def load_plain(checkpoint: Path, device: str, dtype, quant: str):
    """The model as Qwen2-VL's README loads it (the default attention), quantized like docvl when asked."""
    from transformers import AutoProcessor, BitsAndBytesConfig, Qwen2VLForConditionalGeneration

    kwargs = {"dtype": dtype, "device_map": device}
    skip = ["model.visual", "visual", "lm_head"]  # the same modules docvl's engine keeps in full precision
    if quant == "4bit":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype,
            bnb_4bit_use_double_quant=True, llm_int8_skip_modules=skip)
    elif quant == "8bit":
        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=skip)
    model = Qwen2VLForConditionalGeneration.from_pretrained(checkpoint, **kwargs)
    return model, AutoProcessor.from_pretrained(checkpoint)


def baseline_pass(model, processor, budget: Budget, tokens: int):
    """One page at a time: apply_chat_template + process_vision_info + processor + generate, as in the
    README, with the page budget in the message (min_pixels/max_pixels) and the page rendered by docvl."""
    from qwen_vl_utils import process_vision_info

    task = ocr_task()

    def one_pass(path: Path) -> list[dict]:
        doc = open_document(str(path))
        pages = []
        for number in range(1, doc.page_count + 1):
            page = render_page(doc, number, budget)
            messages = [{"role": "user", "content": [
                {"type": "image", "image": page.image, "min_pixels": budget.min_pixels,
                 "max_pixels": budget.max_pixels},
                {"type": "text", "text": task.prompt(page, "qwen2-vl")},
            ]}]
            text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            image_inputs, video_inputs = process_vision_info(messages)
            inputs = processor(text=[text], images=image_inputs, videos=video_inputs, padding=True,
                               return_tensors="pt").to(model.device)
            generated = model.generate(**inputs, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
            trimmed = [out[len(ids):] for ids, out in zip(inputs.input_ids, generated)]
            processor.batch_decode(trimmed, skip_special_tokens=True, clean_up_tokenization_spaces=False)
            pages.append({"prompt_tokens": int(inputs.input_ids.shape[1]), "completion_tokens": len(trimmed[0]),
                          "visual_tokens": page.visual_tokens})
        doc.close()
        return pages

    return one_pass


def docvl_pass(checkpoint: Path, args, budget: Budget, quant: str, attn: str, compiled: bool):
    """docvl's Runner over the OCR task with the local engine, as `docvl ocr` runs it."""
    from docvl.engines.local import LocalEngine, LocalOptions
    from docvl.runner import Runner, RunOptions

    engine = LocalEngine(LocalOptions(model=str(checkpoint), device=args.device, dtype=args.dtype, quant=quant,
                                      max_new_tokens=args.tokens, min_new_tokens=args.tokens, attn=attn,
                                      compile=compiled), budget)
    runner = Runner(ocr_task(), lambda: engine, RunOptions(budget=budget, batch_size=args.batch_size))

    def one_pass(path: Path) -> list[dict]:
        record = runner.run_document(str(path))
        failed = [p for p in record["pages"] if p["status"] != "ok"]
        if record["status"] != "ok" or failed:
            raise RuntimeError(f"docvl failed on the benchmark pages: {record['error']} {failed[:1]}")
        return [{k: p[k] for k in ("prompt_tokens", "completion_tokens", "visual_tokens")} for p in record["pages"]]

    return engine, runner, one_pass


def engine_pass(engine, batch_size: int):
    """docvl's local engine without the runner: the pages rendered here first, then batches of similar
    visual tokens (as the runner forms them) generated on this thread."""
    task = ocr_task()

    def one_pass(path: Path) -> list[dict]:
        doc = open_document(str(path))
        pages = sorted((render_page(doc, n, engine.budget) for n in range(1, doc.page_count + 1)),
                       key=lambda p: p.visual_tokens)
        doc.close()
        done = []
        for i in range(0, len(pages), batch_size):
            batch = pages[i:i + batch_size]
            generations = engine.generate([Request(p.image, task.prompt(p, engine.family)) for p in batch])
            done += [{"prompt_tokens": g.prompt_tokens, "completion_tokens": g.completion_tokens,
                      "visual_tokens": g.visual_tokens} for g in generations]
        return done

    return one_pass


def on_own_thread(function, *args):
    """function(*args) on a thread that ends with it, so that no run leaves per-thread torch state behind
    that slows the next: OpenMP keeps a pool of worker threads for each thread that runs parallel CPU
    work, and two live pools (the baseline's on the main thread and the runner's model thread, say)
    oversubscribe the cores; on a 2-core CPU that made the runner's decode 1.3x slower. A run's warm-up
    and timed pass share its thread, as --compile's CUDA graphs are recorded per thread."""
    with ThreadPoolExecutor(max_workers=1) as one:
        return one.submit(function, *args).result()


def measure(one_pass, model, dtype, tbps: float | None, warmup: Path, pdf: Path, labels: dict) -> dict:
    """Warm up (first-call costs, compilation), then time one pass over the pages."""
    import torch

    cuda = model.device.type == "cuda"
    timer = StageTimer(model)
    try:
        one_pass(warmup)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        timer.reset()
        start = time.perf_counter()
        pages = one_pass(pdf)
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        stages = timer.summary()
    finally:
        timer.detach()
    tokens = sum(p["completion_tokens"] for p in pages)
    run = {**labels, "pages": len(pages), "seconds": round(seconds, 3),
           "pages_per_s": round(len(pages) / seconds, 4), "generated_tokens": tokens,
           "tokens_per_s": round(tokens / seconds, 2),
           "prompt_tokens_mean": round(sum(p["prompt_tokens"] for p in pages) / len(pages), 1),
           "visual_tokens_mean": round(sum(p["visual_tokens"] for p in pages) / len(pages), 1),
           "completion_tokens_each": sorted({p["completion_tokens"] for p in pages}),
           **stages, "host_s": round(seconds - stages["generate_s"], 4),
           "peak_gpu_mib": round(torch.cuda.max_memory_allocated() / 2**20) if cuda else None}
    weights = roofline.decode_weight_bytes(model)
    kv = roofline.kv_bytes_per_token(model, torch.finfo(dtype).bits // 8)
    run["roofline"] = {"weight_bytes": weights, "kv_bytes_per_token": kv, "bandwidth_tbps": tbps,
                       "decode_tokens_per_s_bound": None, "fraction": None}
    if tbps and stages["decode_tokens_per_s"]:
        bound = roofline.decode_bound(tbps, weights, kv, stages["mean_batch"], stages["context_tokens"])
        run["roofline"].update(decode_tokens_per_s_bound=round(bound, 1),
                               fraction=round(stages["decode_tokens_per_s"] / bound, 4))
    return run


def ratios(runs: list[dict]) -> list[dict]:
    """docvl's pages/s over the baseline's, per quantization, for each docvl variant (runner, engine alone)."""
    base = {r["quant"]: r for r in runs if r["engine"] == "baseline"}
    return [{"engine": r["engine"], "quant": r["quant"], "attn": r["attn"], "compile": r["compile"],
             "docvl_over_baseline_pages_per_s": round(r["pages_per_s"] / base[r["quant"]]["pages_per_s"], 3),
             "docvl_over_baseline_decode_tokens_per_s":
                 round(r["decode_tokens_per_s"] / base[r["quant"]]["decode_tokens_per_s"], 3)
                 if r["decode_tokens_per_s"] and base[r["quant"]]["decode_tokens_per_s"] else None}
            for r in runs if r["engine"] != "baseline" and r["quant"] in base]


def release(torch) -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def print_table(payload: dict, out: Path) -> None:
    print(f"{'engine':12} {'quant':5} {'attn':17} {'compile':7} {'pages/s':>8} {'tok/s':>8} {'vision':>7} "
          f"{'prefill':>7} {'decode':>7} {'host':>6} {'peak MiB':>8} {'roofline':>8}", file=sys.stderr)
    for r in payload["runs"]:
        frac = r["roofline"]["fraction"]
        print(f"{r['engine']:12} {r['quant']:5} {r['attn']:17} {str(r['compile']):7} {r['pages_per_s']:8.3f} "
              f"{r['tokens_per_s']:8.1f} {r['vision_s']:7.2f} {r['prefill_s']:7.2f} {r['decode_s']:7.2f} "
              f"{r['host_s']:6.2f} {r['peak_gpu_mib'] or '-':>8} {f'{frac:.1%}' if frac else '-':>8}",
              file=sys.stderr)
    for r in payload["ratios"]:
        print(f"{r['engine']}/baseline pages/s ({r['quant']}, {r['attn']}, compile={r['compile']}): "
              f"{r['docvl_over_baseline_pages_per_s']:.2f}x", file=sys.stderr)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
