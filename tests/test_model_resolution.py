"""Where `--model` comes from, decided before torch loads: a folder, the local Hugging Face cache, or one
quick look at the hub. A model that is not there fails in a second or two with one line, never with the
hub client's half minute of retries."""

import json
import shutil
import time

import pytest

from cliproc import run_docvl
from docs import page_image

MIN, MAX = 64 * 784, 256 * 784
# The hub is unreachable (a closed port) and docvl is not told to stay offline.
UNREACHABLE = {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "", "TRANSFORMERS_OFFLINE": ""}


@pytest.fixture
def scan(tmp_path):
    path = tmp_path / "scan.png"
    page_image(600, 800).save(path)
    return path


def test_a_model_not_cached_with_the_hub_unreachable_fails_fast_in_one_line(tmp_path, scan):
    env = {**UNREACHABLE, "HF_HOME": str(tmp_path / "hf-home")}
    start = time.monotonic()
    r = run_docvl("ocr", scan, env=env, timeout=60)
    seconds = time.monotonic() - start
    assert r.code == 4 and r.stdout == ""
    [line] = r.stderr.splitlines()
    assert line.startswith(f"docvl: error: {scan}: page 1 needs the model: model 'Qwen/Qwen2-VL-2B-Instruct' "
                           "is not available here")
    assert "cannot be reached" in line and "hf download Qwen/Qwen2-VL-2B-Instruct" in line
    assert seconds < 5


def test_a_model_not_cached_offline_says_so_in_one_line(tmp_path, scan):
    r = run_docvl("ocr", scan, env={"HF_HOME": str(tmp_path / "hf-home")}, timeout=60)
    assert r.code == 4 and r.stdout == ""
    [line] = r.stderr.splitlines()
    assert "not in the Hugging Face cache" in line and "HF_HUB_OFFLINE is set" in line
    assert "hf download Qwen/Qwen2-VL-2B-Instruct" in line


@pytest.mark.parametrize("model", ["/no/such/folder", "./no-such-folder", "../no/such", "~/no-such-folder-docvl",
                                   "no/such/folder"])
def test_a_missing_model_folder_is_named_as_one(scan, model):
    r = run_docvl("ocr", scan, "--model", model, env=UNREACHABLE, timeout=60)
    assert r.code == 4 and r.stdout == ""
    [line] = r.stderr.splitlines()
    assert f"--model {model}: no such folder" in line
    assert "Repo id" not in line and "hf download" not in line


def test_a_file_given_as_the_model_folder(scan):
    r = run_docvl("ocr", scan, "--model", scan, timeout=60)
    assert r.code == 4
    [line] = r.stderr.splitlines()
    assert f"--model {scan}: is a file, not a checkpoint folder" in line


def test_a_cached_model_loads_without_asking_the_hub(tmp_path, scan, tiny_model):
    # The tiny checkpoint laid out as `hf download tiny/qwen` leaves it in the cache.
    repo = tmp_path / "hf-home" / "hub" / "models--tiny--qwen"
    shutil.copytree(tiny_model, repo / "snapshots" / ("0" * 40))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    env = {**UNREACHABLE, "HF_HOME": str(tmp_path / "hf-home")}
    r = run_docvl("ocr", scan, "--model", "tiny/qwen", "--min-pixels", MIN, "--max-pixels", MAX,
                  "--max-new-tokens", 2, env=env)
    assert r.code == 0, r.stderr
    assert r.stderr == ""  # no retries, no warnings from the hub client
    assert json.loads(r.stdout)["engine"]["model"] == "tiny/qwen"


def test_a_device_outside_its_choices_is_a_usage_error(scan):
    r = run_docvl("ocr", scan, "--device", "gpu", timeout=60)
    assert r.code == 2
    [line] = r.stderr.splitlines()
    assert line.endswith("--device gpu: use auto, cpu, cuda, cuda:N, mps")
