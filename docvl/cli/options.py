"""Option declarations shared by several commands, so each is spelled and documented once."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


Files = Annotated[list[str], typer.Argument(help="PDF or image files.", show_default=False)]
Pages = Annotated[Optional[str], typer.Option("--pages", help="1-based pages, e.g. 1-3,7,10-end.")]
Password = Annotated[Optional[str], typer.Option("--password", help="Password of encrypted PDFs.")]
MinPixels = Annotated[int, typer.Option("--min-pixels", help="Smallest page image, in pixels.")]
MaxPixels = Annotated[int, typer.Option("--max-pixels", help="Largest page image, in pixels (28x28 = 1 visual token).")]
Model = Annotated[str, typer.Option("--model", help="Hugging Face id or local checkpoint folder.")]
Device = Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:N or mps.")]
Dtype = Annotated[str, typer.Option("--dtype", help="auto (bf16 on CUDA, fp32 on CPU), bfloat16, float16, float32.")]
Quant = Annotated[str, typer.Option("--quant", help="none, 8bit or 4bit (bitsandbytes).")]
Gpus = Annotated[Optional[int], typer.Option("--gpus", help="Shard the model over this many GPUs.")]
MaxMemory = Annotated[Optional[str], typer.Option("--max-memory", help="Per-device caps, e.g. 0=20GiB,1=20GiB.")]
BatchSize = Annotated[int, typer.Option("--batch-size", min=1, help="Pages per generate call.")]
MaxNewTokens = Annotated[int, typer.Option("--max-new-tokens", min=1, help="Longest answer per page, in tokens.")]
TrustRemoteCode = Annotated[bool, typer.Option("--trust-remote-code", help="Run code shipped with the checkpoint.")]
Output = Annotated[Optional[str], typer.Option("-o", "--output", help="Write to this file ('-' = stdout).")]
PromptFile = Annotated[Optional[str], typer.Option("--prompt-file", help="Replace the task's prompt template.")]
