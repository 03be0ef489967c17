"""Regions are data: the region list comes from the profile files, `seed` from the geography files,
and the synthetic data of a seed stays the same bytes whatever the refactoring."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from report_service.profiles import load_profile, regions
from report_service.synth import generate_region
from report_service.synth_data import load_geography

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "report_service" / "profiles"

# sha256 of what `report-service seed --region R --entities N --seed S --out F` writes to F
PINNED = {
    ("gansu", 200, 1): "c4ca077ac3189bcbeebf07cbe3d886d8d58fbcceb496545b20dbfd3e3eb5ef7b",
    ("heihe", 30, 3): "a3e0f7d8d4660fc17e33241235a1d5ea08d1778602bb9aa71d2e2f95e47ff494",
}


def out_file_text(region: str, entities: int, seed: int) -> str:
    """The `--out` file's text, as cli.cmd_seed writes it."""
    objs = generate_region(region, entities, seed)
    return "\n".join(json.dumps(o, ensure_ascii=False) for o in objs) + "\n"


@pytest.mark.parametrize(("region", "entities", "seed"), sorted(PINNED))
def test_a_seed_gives_the_same_bytes_as_before(region: str, entities: int, seed: int) -> None:
    text = out_file_text(region, entities, seed)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert digest == PINNED[(region, entities, seed)]


def test_the_regions_are_the_profile_files_present() -> None:
    files = {p.stem for p in PROFILES.glob("*.json") if p.stem != "holidays_cn"}
    assert regions() == tuple(sorted(files)) == ("gansu", "heihe", "huzhou", "lanzhou", "wuhai")
    for region in regions():
        assert load_profile(region).region == region
        assert load_geography(region).cities  # every region can be seeded
        assert (PROFILES / "geography" / f"{region}.json").is_file()
    assert {p.stem for p in (PROFILES / "geography").glob("*.json")} == set(regions())


def test_an_unknown_region_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown region 'beijing'"):
        load_geography("beijing")


def test_adding_a_region_is_adding_files(tmp_path: Path) -> None:
    """A copy of the package with one more profile and geography file seeds the new region."""
    package = tmp_path / "pkg" / "report_service"
    shutil.copytree(ROOT / "report_service", package, ignore=shutil.ignore_patterns("__pycache__"))
    profile = json.loads((PROFILES / "wuhai.json").read_text(encoding="utf-8"))
    profile |= {"region": "testland", "region_name": "测试市"}
    (package / "profiles" / "testland.json").write_text(
        json.dumps(profile, ensure_ascii=False), encoding="utf-8"
    )
    geography = json.loads((PROFILES / "geography" / "wuhai.json").read_text(encoding="utf-8"))
    (package / "profiles" / "geography" / "testland.json").write_text(
        json.dumps(geography | {"region": "testland"}, ensure_ascii=False), encoding="utf-8"
    )
    out = tmp_path / "testland.jsonl"
    db = tmp_path / "testland.db"
    env = {**os.environ, "PYTHONPATH": str(package.parent)}
    run = subprocess.run(
        [sys.executable, "-m", "report_service", "seed", "--db", str(db), "--region", "testland",
         "--entities", "12", "--seed", "1", "--out", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    entities = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {e["region"] for e in entities if e["type"] == "entity"} == {"testland"}
    assert json.loads(run.stdout)["entities"] == 12
