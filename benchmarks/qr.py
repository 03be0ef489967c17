"""QR decoding benchmark: the kiosk's cascade against stock pyzbar and zxing-cpp, in one process.

    .venv/bin/python -m benchmarks.qr --corpus DIR            # N.png / N.jpg + N.txt, searched recursively
    .venv/bin/python -m benchmarks.qr --make-corpus DIR --count 200 --seed 2   # synthetic degraded photos

Each image is decoded at 0, 90, 180 and 270 degrees from grayscale by each decoder; a decode counts when
one of its results equals the expected text after folding \\r\\n and \\r to \\n. The last three lines are
`NAME: X/Y decoded, median Z ms` for project, pyzbar and zxing-cpp.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import string
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import zxingcpp
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as pyzbar_decode

from benchmarks.quick import QUICK_BANNER
from devices.errors import InputRejected
from devices.qr.decode import decode as project_decode
from devices.qr.payload import validate_payload
from devices.qr.render import render_qr

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def fold(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def find_samples(corpus: Path) -> list[tuple[Path, str]]:
    """(image, expected text) for every N.png/N.jpg with an N.txt beside it, in any subfolder."""
    samples = []
    for image in sorted(corpus.rglob("*")):
        if image.suffix.lower() in IMAGE_SUFFIXES and image.with_suffix(".txt").is_file():
            samples.append((image, fold(image.with_suffix(".txt").read_text(encoding="utf-8"))))
    return samples


def read_pyzbar(gray: np.ndarray) -> list[str]:
    return [
        s.data.decode("utf-8", errors="replace")
        for s in pyzbar_decode(gray, symbols=[ZBarSymbol.QRCODE])
    ]


def read_zxing(gray: np.ndarray) -> list[str]:
    found = zxingcpp.read_barcodes(
        gray,
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
        text_mode=zxingcpp.TextMode.Plain,
    )
    return [b.text for b in found]


def run(corpus: Path) -> int:
    samples = find_samples(corpus)
    if not samples:
        print(f"no N.png/N.jpg with N.txt under {corpus}", file=sys.stderr)
        return 2
    stock: dict[str, Callable[[np.ndarray], list[str]]] = {
        "pyzbar": read_pyzbar,
        "zxing-cpp": read_zxing,
    }
    names = ["project", *stock]
    hits = dict.fromkeys(names, 0)
    times: dict[str, list[float]] = {name: [] for name in names}
    stages: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    unreadable = 0
    for path, expected in samples:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            unreadable += 1
            continue
        for turns in range(4):
            gray = np.ascontiguousarray(np.rot90(image, turns))
            start = time.perf_counter()
            found = project_decode(gray)
            times["project"].append(time.perf_counter() - start)
            match = next((d for d in found if fold(d.text) == expected), None)
            if match is not None:
                hits["project"] += 1
                stages[match.stage] += 1
                try:
                    validate_payload(match.raw)
                    verdicts["accepted"] += 1
                except InputRejected as exc:
                    verdicts[exc.code] += 1
            for name, read in stock.items():
                start = time.perf_counter()
                texts = read(gray)
                times[name].append(time.perf_counter() - start)
                hits[name] += expected in (fold(t) for t in texts)
    total = len(times["project"])
    print(
        f"corpus: {corpus} ({total // 4} images x 4 rotations; {unreadable} unreadable files skipped)"
    )
    print("project decodes by stage: " + ", ".join(f"{k} {v}" for k, v in stages.most_common()))
    print(
        "project decodes the kiosk's payload rules would accept: "
        + ", ".join(f"{k} {v}" for k, v in verdicts.most_common())
    )
    for name in names:
        median_ms = statistics.median(times[name]) * 1000
        print(f"{name}: {hits[name]}/{total} decoded, median {median_ms:.2f} ms")
    return 0


# --- synthetic corpus: rendered codes degraded the way camera photos are ---------------------------

_WORDS = [
    "扫码",
    "打印",
    "信用",
    "报告",
    "企业",
    "统一社会信用代码",
    "政务",
    "服务",
    "大厅",
    "kiosk",
    "report",
    "print",
    "credit",
]


def _payload(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        tail = "".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(8, 60)))
        return "https://xy.example.gov.cn/r/" + tail
    if kind == 1:
        return "".join(rng.choices(string.digits, k=rng.randint(10, 120)))
    if kind == 2:
        return " ".join(rng.choices(_WORDS, k=rng.randint(2, 14)))
    return "".join(
        rng.choices(string.ascii_letters + string.digits + ' ,.-:/{}"\n', k=rng.randint(20, 300))
    )


def _background(rng: random.Random, height: int, width: int) -> np.ndarray:
    """A surface: a base level, a light gradient and low-frequency blotches."""
    bg = np.full((height, width), rng.uniform(60, 230), np.float32)
    gy, gx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    bg += rng.uniform(0, 60) * (
        (gx * math.cos(angle) + gy * math.sin(angle)) / max(height, width) - 0.5
    )
    noise = np.random.default_rng(rng.randrange(2**32))
    blotches = noise.normal(0, rng.uniform(0, 25), (height // 16 + 1, width // 16 + 1)).astype(
        np.float32
    )
    return bg + cv2.resize(blotches, (width, height), interpolation=cv2.INTER_CUBIC)


def degrade(code: np.ndarray, rng: random.Random) -> np.ndarray:
    """A 'photo' of `code`: ink contrast, perspective, light, glare, moire, blur, noise, scale."""
    noise = np.random.default_rng(rng.randrange(2**32))
    lo, hi = rng.uniform(0, 90), rng.uniform(150, 255)
    if rng.random() < 0.2:  # faded print or a dim screen
        lo, hi = rng.uniform(70, 110), rng.uniform(140, 190)
    src_img = lo + (code.astype(np.float32) / 255.0) * (hi - lo)
    ch, cw = src_img.shape
    side = max(ch, cw) * rng.uniform(0.35, 1.6)
    angle = rng.uniform(0, 2 * math.pi) if rng.random() < 0.5 else rng.uniform(-0.3, 0.3)
    jitter = rng.uniform(0, 0.2)  # perspective: each corner moves independently
    quad = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        px = sx * side / 2 * (1 + rng.uniform(-jitter, jitter))
        py = sy * side / 2 * (1 + rng.uniform(-jitter, jitter))
        quad.append(
            (
                px * math.cos(angle) - py * math.sin(angle),
                px * math.sin(angle) + py * math.cos(angle),
            )
        )
    q = np.array(quad, np.float32)
    span = q.max(0) - q.min(0)
    width = max(64, int(span[0] + 2 * rng.uniform(0.05, 0.6) * side))
    height = max(64, int(span[1] + 2 * rng.uniform(0.05, 0.6) * side))
    dst = q - q.min(0) + np.array([(width - span[0]) / 2, (height - span[1]) / 2], np.float32)
    matrix = cv2.getPerspectiveTransform(
        np.array([(0, 0), (cw, 0), (cw, ch), (0, ch)], np.float32), dst
    )
    mask = cv2.warpPerspective(np.ones_like(src_img), matrix, (width, height))
    warped = cv2.warpPerspective(src_img, matrix, (width, height))
    img: np.ndarray = _background(rng, height, width) * (1 - mask) + warped * mask
    gy, gx = np.mgrid[0:height, 0:width].astype(np.float32)
    if rng.random() < 0.5:  # uneven light
        a = rng.uniform(0, 2 * math.pi)
        img *= 1 + rng.uniform(0, 0.6) * (
            (gx * math.cos(a) + gy * math.sin(a)) / max(height, width) - 0.5
        )
    if rng.random() < 0.25:  # glare spot
        x0, y0 = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
        r = rng.uniform(0.05, 0.25) * max(width, height)
        img += rng.uniform(60, 200) * np.exp(-((gx - x0) ** 2 + (gy - y0) ** 2) / (2 * r * r))
    if rng.random() < 0.2:  # moire of a photographed screen
        f, a = rng.uniform(0.25, 0.9), rng.uniform(0, math.pi)
        wave = 0.5 + 0.5 * np.sin(2 * math.pi * f * (gx * math.cos(a) + gy * math.sin(a)))
        img *= 1 - rng.uniform(0.1, 0.35) * wave
    pick = rng.random()
    if pick < 0.35:  # defocus
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.8))
    elif pick < 0.5:  # motion
        n = rng.randint(3, 9)
        kernel: np.ndarray = np.zeros((n, n), np.float32)
        kernel[n // 2, :] = 1
        turn = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1)
        kernel = cv2.warpAffine(kernel, turn, (n, n))
        img = cv2.filter2D(img, -1, kernel / kernel.sum())
    img += noise.normal(0, rng.uniform(0, 12), img.shape).astype(np.float32)
    out: np.ndarray = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.25:  # far from the camera
        f = rng.uniform(0.4, 0.8)
        out = cv2.resize(out, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return out


def make_corpus(out: Path, count: int, seed: int) -> None:
    """`count` synthetic photos as N.png / N.jpg (JPEG quality 25-90) with N.txt, reproducible by seed."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    for index in range(1, count + 1):
        text = _payload(rng)
        code = render_qr(
            text.encode("utf-8"),
            module_px=rng.randint(3, 8),
            border=rng.choice([0, 1, 2, 4, 4]),
            ec=rng.choice("LMQH"),
            invert=rng.random() < 0.15,  # dark-mode screen
        )
        image = degrade(code, rng)
        if rng.random() < 0.5:
            cv2.imwrite(
                str(out / f"{index}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(25, 90)]
            )
        else:
            cv2.imwrite(str(out / f"{index}.png"), image)
        (out / f"{index}.txt").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--corpus", type=Path, help="folder of N.png/N.jpg + N.txt, searched recursively"
    )
    action.add_argument(
        "--make-corpus", type=Path, metavar="DIR", help="write a synthetic corpus here"
    )
    parser.add_argument("--count", type=int, default=200, help="images for --make-corpus")
    parser.add_argument("--seed", type=int, default=2, help="random seed for --make-corpus")
    action.add_argument(
        "--quick", action="store_true", help="a few seconds' check: 12 synthetic photos, decoded"
    )
    args = parser.parse_args(argv)
    if args.quick:
        print(QUICK_BANNER, flush=True)
        with tempfile.TemporaryDirectory(prefix="qr-quick-") as folder:
            make_corpus(Path(folder), 12, args.seed)
            return run(Path(folder))
    if args.make_corpus is not None:
        make_corpus(args.make_corpus, args.count, args.seed)
        print(f"wrote {args.count} synthetic photos to {args.make_corpus} (seed {args.seed})")
        return 0
    if not args.corpus.is_dir():
        parser.error(f"--corpus {args.corpus} is not a folder")
    return run(args.corpus)


if __name__ == "__main__":
    sys.exit(main())
