"""Every refusal the platform documents (docs/api.md, "Errors") has a decided screen message on
the kiosk: its own, with a next step in both languages, or the generic one on purpose."""

from __future__ import annotations

import re
from pathlib import Path

from kiosk.i18n import LANGUAGES, Translator
from kiosk.messages import GENERIC_ON_PURPOSE, message_id_for

API_DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def documented_codes() -> set[str]:
    rows = [line for line in API_DOC.read_text(encoding="utf-8").splitlines()]
    table = [line for line in rows if re.match(r"^\| \d{3} \|", line)]
    return {code for line in table for code in re.findall(r"`([a-z_]+)`", line)}


def test_each_documented_refusal_has_a_message_decided_for_it() -> None:
    codes = documented_codes()
    assert {"objection_exists", "report_revoked", "database_busy"} <= codes
    undecided = sorted(
        code
        for code in codes
        if message_id_for(code) == "error.request_refused" and code not in GENERIC_ON_PURPOSE
    )
    # database_busy is a 503: the kiosk retries it and then treats the platform as away
    assert undecided == ["database_busy"], undecided


def test_the_newer_refusals_say_what_happened_and_what_to_do_in_both_languages() -> None:
    for code in (
        "objection_exists",
        "report_revoked",
        "unprintable_character",
        "entity_kind_not_eligible",
        "too_many_attempts",
    ):
        message_id = message_id_for(code)
        assert message_id != "error.request_refused", code
        for language in LANGUAGES:
            t = Translator(language)
            assert t.has(message_id) and t.has(f"next.{message_id}"), (language, code)
    assert "异议" in Translator()(message_id_for("objection_exists"))
    assert "信用窗口" in Translator()(f"next.{message_id_for('unprintable_character')}")
