"""Prompt templates, one file per task, optionally specialised per model family.

`{task}.{family}.txt` wins over `{task}.txt`; `--prompt-file` replaces both. Templates are
str.format strings; the fields each task fills are listed at the top of the task's module.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import UsageError

# Languages Qwen2-VL reads (its model card lists these); code -> name used in prompts.
LANGUAGES = {
    "en": "English", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic",
    "vi": "Vietnamese", "th": "Thai", "fr": "French", "de": "German", "es": "Spanish",
    "it": "Italian", "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "pl": "Polish",
    "cs": "Czech", "sv": "Swedish", "da": "Danish", "fi": "Finnish", "no": "Norwegian",
    "tr": "Turkish", "el": "Greek", "hu": "Hungarian", "ro": "Romanian", "uk": "Ukrainian",
    "id": "Indonesian", "ms": "Malay", "he": "Hebrew", "hi": "Hindi",
}


def language_name(code: str | None) -> str | None:
    if code is None:
        return None
    name = LANGUAGES.get(code.lower())
    if name is None:
        known = ", ".join(sorted(LANGUAGES))
        raise UsageError(f"--lang {code}: unknown language code; use one of {known}")
    return name


def load_template(task: str, family: str, prompt_file: str | None = None) -> str:
    if prompt_file:
        try:
            return Path(prompt_file).read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"--prompt-file {prompt_file}: {e.strerror or e}") from None
    folder = resources.files(__package__)
    for name in (f"{task}.{family}.txt", f"{task}.txt"):
        path = folder / name
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise UsageError(f"no prompt template for task {task!r}")


def render(template: str, **fields) -> str:
    try:
        return template.format(**fields).strip()
    except (KeyError, IndexError, ValueError) as e:
        raise UsageError(f"prompt template: cannot fill {e}; fields are {', '.join(sorted(fields))}") from None
