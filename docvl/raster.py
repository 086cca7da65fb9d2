"""One page -> one PageImage at native resolution, bounded by the pixel budget.

A scanned page (one image covering the page) is planned at that image's own DPI; a vector page at the
DPI that fills the budget. Both are then sized by smart_resize and rendered straight to that size, so
the budget applies before any full-size allocation and the model's processor never resizes again.

Hostile pages are bounded too: image files larger than sources.MAX_DECODE_PIXELS are refused before
they are decoded, PDF pages are rendered at the scale the budget allows whatever their size, and `render_page(..., time_limit=)` renders in a worker process that is killed when the
document's rasterization time runs out (see RenderWorker).
"""

from __future__ import annotations

import atexit
import math
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from PIL import Image

from .budget import Budget, smart_resize, visual_tokens
from .errors import DocvlError, EngineError, InputError, short_reason
from .sources import MAX_DECODE_PIXELS, Document, open_document, too_large

# An image covering this share of the page makes the page a scan.
SCAN_COVERAGE = 0.85


@dataclass
class PageImage:
    source: str
    page: int  # 1-based
    image: Image.Image
    width_pt: float  # page as displayed (rotation applied)
    height_pt: float
    rotation: int
    dpi: float  # resolution of the rendered image
    scan_dpi: float | None  # the embedded scan's own resolution, if the page is a scan

    @property
    def width_px(self) -> int:
        return self.image.width

    @property
    def height_px(self) -> int:
        return self.image.height

    @property
    def visual_tokens(self) -> int:
        return visual_tokens(self.height_px, self.width_px)

    def px_to_pt(self, box: list[float]) -> list[float]:
        """A pixel box of the rendered image -> PDF points, top-left origin of the displayed page."""
        sx = self.width_pt / self.width_px
        sy = self.height_pt / self.height_px
        x0, y0, x1, y1 = box
        return [x0 * sx, y0 * sy, x1 * sx, y1 * sy]

    def pt_to_px(self, box: list[float]) -> list[float]:
        sx = self.width_px / self.width_pt
        sy = self.height_px / self.height_pt
        x0, y0, x1, y1 = box
        return [x0 * sx, y0 * sy, x1 * sx, y1 * sy]

    def describe(self) -> dict:
        """The page's geometry as it appears in every output record."""
        return {
            "width_pt": round(self.width_pt, 2),
            "height_pt": round(self.height_pt, 2),
            "rotation": self.rotation,
            "width_px": self.width_px,
            "height_px": self.height_px,
            "dpi": round(self.dpi, 2),
            "scan_dpi": None if self.scan_dpi is None else round(self.scan_dpi, 2),
            "visual_tokens": self.visual_tokens,
        }


def plan_size(width_pt: float, height_pt: float, native_dpi: float | None, budget: Budget) -> tuple[int, int]:
    """Pixel (height, width) for a page: native DPI for scans, the budget's fill for vector pages."""
    if native_dpi is None:
        native_dpi = 72.0 * math.sqrt(budget.max_pixels / (width_pt * height_pt))
    return smart_resize(
        max(1, round(height_pt * native_dpi / 72.0)), max(1, round(width_pt * native_dpi / 72.0)), budget
    )


def scan_dpi(page) -> float | None:
    """The resolution of the image that covers the page, if the page is a scan."""
    area = abs(page.rect)
    if area <= 0:
        return None
    best = None
    for info in page.get_image_info():
        x0, y0, x1, y1 = info["bbox"]
        shown = abs(x1 - x0) * abs(y1 - y0)
        if shown >= SCAN_COVERAGE * area and info["width"] > 0 and info["height"] > 0:
            dpi = 72.0 * math.sqrt(info["width"] * info["height"] / shown)
            best = max(best or 0.0, dpi)
    return best


def page_geometry(doc: Document, number: int) -> tuple[float, float, int, float | None]:
    """(width_pt, height_pt, rotation, scan_dpi) of page `number` (1-based), without rendering it.
    A page that cannot be loaded (a cycle in the page tree, a broken image frame) raises InputError."""
    try:
        if doc.kind == "pdf":
            page = doc.handle[number - 1]
            r = page.rect
            return r.width, r.height, page.rotation, scan_dpi(page)
        img = doc.handle
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's notes on odd files are not the user's business
            img.seek(number - 1)
        dpi = _image_dpi(img)
        return img.width * 72.0 / dpi, img.height * 72.0 / dpi, 0, dpi
    except Exception as e:
        raise InputError(f"{doc.path}: page {number} cannot be read ({short_reason(e)})") from None


def _image_dpi(img: Image.Image) -> float:
    dpi = img.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    # Files without a resolution (or with a nonsense one) are taken as 72 DPI: 1 px = 1 pt.
    return value if 10.0 <= value <= 10000.0 else 72.0


def render_page(doc: Document, number: int, budget: Budget, time_limit: float | None = None) -> PageImage:
    """Render page `number` (1-based) of an opened document inside the budget; see page_job."""
    return page_job(rasterize, doc, number, budget, time_limit)


def page_job(job, doc: Document, number: int, budget: Budget, time_limit: float | None = None):
    """`job(doc, number, budget)` for one page, within the document's rasterization time limit.

    `time_limit` is the number of seconds the whole document may use; each call spends from it
    (`doc.raster_seconds`), and once it is spent the remaining pages fail at once. Without a limit
    the job runs here, in this process (the fast path). With one it runs in this thread's
    RenderWorker process, which is killed when the time runs out: PyMuPDF interprets pages in C
    holding the GIL, so nothing inside this process could interrupt a page that renders forever.
    `job` must be a module-level function (it is sent to the worker by name). Every failure is an
    InputError with a one-line message naming the file and the page."""
    if time_limit is None:
        return job(doc, number, budget)
    left = time_limit - doc.raster_seconds
    if left <= 0:
        raise InputError(f"{doc.path}: page {number} not read: the document used up its rasterization "
                         f"time limit ({time_limit:g} s, --raster-timeout)")
    start = time.monotonic()
    try:
        return _thread_worker().call(job, doc, number, budget, left, time_limit)
    finally:
        doc.raster_seconds += time.monotonic() - start


def rasterize(doc: Document, number: int, budget: Budget) -> PageImage:
    """Plan and render one page in this process, without a time limit."""
    width_pt, height_pt, rotation, native = page_geometry(doc, number)
    try:
        if width_pt <= 0 or height_pt <= 0:
            raise InputError(f"{doc.path}: page {number} has no area")
        h, w = plan_size(width_pt, height_pt, native, budget)
        image = _render_pdf(doc, number, w, h) if doc.kind == "pdf" else _render_image(doc, number, w, h)
    except InputError:
        raise
    except Exception as e:
        raise InputError(f"{doc.path}: page {number} cannot be rendered ({short_reason(e)})") from None
    dpi = 72.0 * math.sqrt((w * h) / (width_pt * height_pt))
    return PageImage(doc.path, number, image, width_pt, height_pt, rotation, dpi, native)


def _render_pdf(doc: Document, number: int, w: int, h: int) -> Image.Image:
    import pymupdf

    page = doc.handle[number - 1]
    r = page.rect
    pix = page.get_pixmap(matrix=pymupdf.Matrix(w / r.width, h / r.height), alpha=False, colorspace="rgb")
    image = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
    # The transformed rectangle can round to one pixel more or less than planned.
    return image if image.size == (w, h) else image.resize((w, h), Image.Resampling.BICUBIC)


def _render_image(doc: Document, number: int, w: int, h: int) -> Image.Image:
    img = doc.handle
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's notes on odd files are not the user's business
        img.seek(number - 1)
        # JPEG can decode at 1/2, 1/4, 1/8 scale: never decode more pixels than needed.
        img.draft(None, (w, h))
        if img.width * img.height > MAX_DECODE_PIXELS:
            raise InputError(too_large(f"{doc.path}: page {number}", img.width, img.height))
        img.load()
    frame = _eight_bit(img)
    # Downscale before converting: a bilevel or gray scan stays one byte per pixel at full size.
    if frame.size != (w, h):
        frame = frame.resize((w, h), Image.Resampling.BICUBIC, reducing_gap=3.0)
    return _on_white(frame)


def _eight_bit(img: Image.Image) -> Image.Image:
    """Modes that resize well: 16-bit gray is scaled down (converting it clips everything to white),
    palette and bilevel images become gray or color."""
    if img.mode.startswith("I"):
        wide = img.convert("I")
        return (wide.point(lambda v: v / 257) if wide.getextrema()[1] > 255 else wide).convert("L")
    if img.mode in ("L", "RGB", "RGBA", "LA"):
        return img
    if img.mode == "1":
        return img.convert("L")  # bilevel resizes only by nearest neighbour
    return img.convert("RGBA" if img.has_transparency_data else "RGB")


def _on_white(frame: Image.Image) -> Image.Image:
    """A new RGB image; transparent areas become white paper, not black."""
    if "A" not in frame.mode:
        return frame.convert("RGB")
    paper = Image.new("RGB", frame.size, "white")
    paper.paste(frame.convert("RGBA"), mask=frame.getchannel("A"))
    return paper


# -- time-limited rendering in a worker process ---------------------------------------------------

# A fresh worker imports PyMuPDF (about half a second); a machine too busy to manage that in this
# long is reported as such instead of waiting forever.
WORKER_START_SECONDS = 60.0

_local = threading.local()


_workers: list["RenderWorker"] = []


def _thread_worker() -> "RenderWorker":
    """This thread's worker: started on first use, replaced after it was killed. One per thread,
    because a worker renders one page at a time and a document belongs to one thread."""
    worker = getattr(_local, "worker", None)
    if worker is None or not worker.alive():
        worker = _local.worker = RenderWorker()
        _workers.append(worker)
    return worker


@atexit.register
def _stop_workers() -> None:
    # Ended and waited for, so that no worker outlives docvl and its resource use counts as docvl's.
    while _workers:
        _workers.pop().stop(gently=True)


class RenderWorker:
    """A child process that runs page jobs (`rasterize`: PageImages) and sends back their results.

    The child keeps the last document it was sent open, so the file's bytes cross the pipe once per
    document and each page costs one request and its image. It runs with no stdout or stderr (what
    MuPDF, libtiff or Pillow print cannot reach docvl's output) and sets an alarm before each page,
    so that it ends itself should this process be gone."""

    def __init__(self):
        to_child, requests = os.pipe()
        replies, from_child = os.pipe()
        # The same docvl package as this process's, whatever the child's working folder or sys.path.
        root = str(Path(__file__).resolve().parent.parent)
        code = (f"import sys; sys.path.insert(0, {root!r}); import docvl.cli; "
                f"from docvl.raster import serve; serve({to_child}, {from_child})")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code], pass_fds=(to_child, from_child),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            os.close(to_child)
            os.close(from_child)
        self.requests = Connection(requests, readable=False)
        self.replies = Connection(replies, writable=False)
        self.opened = None  # (path, sha256, password) of the document the child holds
        try:
            ready = self.replies.poll(WORKER_START_SECONDS) and self.replies.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            raise EngineError(f"the page renderer process could not start ({self.stop()})")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, gently: bool = False) -> str:
        """End the child (if it still runs): `gently` lets it finish on end-of-input first. How it
        ended, for messages."""
        if gently:
            self.requests.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self.alive():
            self.process.kill()
        code = self.process.wait()
        self.requests.close()
        self.replies.close()
        return f"killed by signal {-code}" if code < 0 else f"exit code {code}"

    def call(self, job, doc: Document, number: int, budget: Budget, seconds: float, time_limit: float):
        key = (doc.path, doc.sha256, doc.password)
        data = None if self.opened == key else doc.data
        try:
            self.requests.send((job, doc.path, data, doc.password, number, budget, seconds))
            if not self.replies.poll(seconds):
                self.stop()
                raise InputError(f"{doc.path}: page {number} was stopped: it took longer than the document's "
                                 f"rasterization time limit ({time_limit:g} s, --raster-timeout)")
            status, value, holds_doc = self.replies.recv()
        except (EOFError, OSError):
            raise InputError(f"{doc.path}: page {number}: the renderer crashed on it ({self.stop()})") from None
        self.opened = key if holds_doc else None
        if status == "error":
            raise InputError(value)
        return value


def serve(requests_fd: int, replies_fd: int) -> None:
    """The worker's loop: (job, path, bytes or None, password, page, budget, seconds) in, the job's
    result or a one-line error out. Bytes come with the first page of each document."""
    warnings.simplefilter("ignore")
    requests = Connection(requests_fd, writable=False)
    replies = Connection(replies_fd, readable=False)
    replies.send("ready")
    doc = None
    while True:
        try:
            job, path, data, password, number, budget, seconds = requests.recv()
        except EOFError:  # the parent is done
            return
        # The default action of SIGALRM ends the process, even inside C code that holds the GIL.
        signal.alarm(math.ceil(seconds) + 1)
        try:
            if data is not None:
                if doc is not None:
                    doc.close()
                doc = None
                doc = open_document(path, password, data)
            reply = ("ok", job(doc, number, budget))
        except DocvlError as e:
            reply = ("error", e.message)
        except Exception as e:  # rasterize turns page errors into InputError; anything else is reported too
            reply = ("error", f"{path}: page {number} cannot be rendered ({short_reason(e)})")
        signal.alarm(0)
        replies.send((*reply, doc is not None))
