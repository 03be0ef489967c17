"""Screen-text catalogs: both languages complete, compiled catalogs current, every id the core uses exists."""

from __future__ import annotations

import ast
import gettext
import re
import subprocess
from pathlib import Path

import pytest

from kiosk.i18n import LANGUAGES, Translator, locale_dir

KIOSK = Path(__file__).resolve().parents[1] / "kiosk"
_ID = re.compile(
    r"^(error|attract|verify|scope|period|objection|staff|progress|summary|print_failed|offline_mode|uscc"
    r"|pickup|queued|queuing)\.[a-z_.]+$"
)


def po_ids(language: str) -> set[str]:
    text = (locale_dir() / language / "LC_MESSAGES" / "kiosk.po").read_text(encoding="utf-8")
    return set(re.findall(r'^msgid "(.+)"$', text, flags=re.M))


def ids_used_by_the_core() -> set[str]:
    found: set[str] = set()
    for path in KIOSK.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _ID.match(node.value)
            ):
                found.add(node.value)
    return found


def test_both_languages_have_the_same_messages() -> None:
    assert po_ids("zh_CN") == po_ids("en")
    assert len(po_ids("zh_CN")) > 80


def test_every_message_id_the_core_uses_is_translated() -> None:
    used = ids_used_by_the_core()
    assert "error.platform_unavailable" in used and "objection.bad_phone" in used
    for language in LANGUAGES:
        t = Translator(language)
        missing = sorted(i for i in used if not t.has(i))
        assert not missing, f"{language} lacks {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogs_match_their_sources(language: str, tmp_path: Path) -> None:
    po = locale_dir() / language / "LC_MESSAGES" / "kiosk.po"
    fresh = tmp_path / "kiosk.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(po)], check=True)
    with open(fresh, "rb") as f_new:
        expected = gettext.GNUTranslations(f_new)
    shipped = Translator(language)
    stale = [i for i in po_ids(language) if shipped(i) != expected.gettext(i)]
    assert not stale, f"run `make i18n`: {stale[:5]}"


def test_placeholders_are_filled_in_each_language() -> None:
    zh, en = Translator(), Translator("en")
    assert zh("summary.records", count=3, domains=zh("count.domains", count=2)) == (
        "共3条记录，涉及2个领域"
    )
    # English counts in the singular and the plural
    assert en("summary.records", count=1, domains=en("count.domains", count=1)) == (
        "1 record in 1 domain"
    )
    assert en("summary.records", count=3, domains=en("count.domains", count=2)) == (
        "3 records in 2 domains"
    )
    assert en("scope.selected", count=1) == "1 domain chosen"
    assert en("summary.others_clean", count="37").endswith("other 37 domains")  # from a Snapshot
    assert en.has("summary.clean") and not en.has("summary.nothing")
    assert Translator("en")("countdown", seconds=7).startswith("Returning to the start in 7 s")
    assert (
        Translator()("objection_done.due", nope=1) == "信用平台将在{due}前答复您。"
    )  # a typo never crashes


def test_every_error_names_its_next_step_in_both_languages() -> None:
    """Whom to ask, where, what to bring: every message an error screen can show has a next step
    (`next.<id>`), and no message a card that was read can get says to place it again."""
    ids = po_ids("zh_CN")
    errors = {i for i in ids if i.startswith(("error.", "pickup.not", "pickup.refused"))}
    errors |= {"verify.unknown", "verify.revoked", "verify.expired", "pickup.platform_unavailable"}
    assert len(errors) > 25
    for language in LANGUAGES:
        t = Translator(language)
        missing = sorted(i for i in errors if not t.has(f"next.{i}"))
        assert not missing, f"{language}: no next step for {missing}"
    for message_id in ("error.card_not_accepted", "next.error.card_not_accepted"):
        assert "重新放置" not in Translator()(message_id)
    assert "登录二维码" in Translator()("error.card_not_accepted")
