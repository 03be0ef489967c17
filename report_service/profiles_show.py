"""`report-service profiles show REGION`: every rule of a region's profile with where it comes from
— the seed's words, or a deployment default and why — so that a province deploying the platform
sees what is its policy and what is ours, and can change the latter (profiles/README.md)."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from .entities import ENTITY_KINDS
from .profile_fields import DEPLOYMENT_DEFAULT, Sourced, quote_problems
from .profiles import KIND_LABELS, RULE_KEYS, SOURCED_KEYS, Profile

WIDTH = 100


def field_names() -> tuple[str, ...]:
    """The sourced fields in the order shown."""
    return (*SOURCED_KEYS, *(f"rules.{k}" for k in RULE_KEYS), "domain_scope")


def _value_text(name: str, value: Any, profile: Profile) -> str:
    if name == "entity_kinds":
        return "、".join(ENTITY_KINDS.get(k, k) for k in value)
    if name == "domain_scope":
        kinds = "、".join(KIND_LABELS[k] for k in sorted(profile.kinds_shown))
        sections = f", sections {len(profile.sections)}" if profile.sections else ""
        return f"data_scope and lists of {len(profile.domains)} domains{sections} ({kinds})"
    if value is None:
        return "none"
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def _wrapped(label: str, text: str) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=f"    {label}",
        subsequent_indent="      ",
        break_on_hyphens=False,
    )


def _field_lines(name: str, field: Sourced, profile: Profile) -> list[str]:
    lines = [f"  {name} = {_value_text(name, field.value, profile)}"]
    if field.is_default:
        lines += _wrapped(f"{DEPLOYMENT_DEFAULT}: ", field.reason)
    else:
        lines += [line for q in field.quotes for line in _wrapped("seed: ", f"“{q}”")]
        if field.reason:
            lines += _wrapped("note: ", field.reason)
    if field.seed_says:
        lines += _wrapped("the seed says: ", f"“{field.seed_says}”")
    if field.borrowed:
        b = field.borrowed
        lines += _wrapped(f"borrowed from {b.seed_file}: ", f"“{b.text}”")
    return lines


def problems(profile: Profile) -> list[str]:
    """Quotes of the profile that are not in their seed file."""
    found: list[str] = []
    for name in field_names():
        found += quote_problems(profile.seed_file, name, profile.sources[name])
    for section in profile.sections:
        if section.source:
            quoted = Sourced(None, (section.source,), "")
            found += quote_problems(profile.seed_file, f"sections.{section.code}", quoted)
    return found


def show_text(profile: Profile) -> str:
    out = [
        f"{profile.region_name} ({profile.region}): {profile.source_document}",
        f"seed: {profile.seed_file}",
        "",
    ]
    for name in field_names():
        out += _field_lines(name, profile.sources[name], profile)
    for section in profile.sections:
        scope = "、".join(KIND_LABELS[k] for k in section.data_scope)
        out.append(f"  sections.{section.code} = {section.name} ({scope}; in every report)")
        out += _wrapped("seed: ", f"“{section.source}”")
    defaults = [n for n in field_names() if profile.sources[n].is_default]
    out += ["", f"deployment defaults ({len(defaults)}): {', '.join(defaults) or 'none'}"]
    bad = problems(profile)
    if bad:
        out += ["", "quotes not found in the seed:", *(f"  - {p}" for p in bad)]
    return "\n".join(out)


def show_json(profile: Profile) -> str:
    fields = {}
    for name in field_names():
        f = profile.sources[name]
        fields[name] = {
            "value": f.value,
            "source": DEPLOYMENT_DEFAULT if f.is_default else list(f.quotes),
            "reason": f.reason or None,
            "seed_says": f.seed_says,
            "borrowed": None if f.borrowed is None else vars(f.borrowed),
        }
    body = {
        "region": profile.region,
        "seed_file": profile.seed_file,
        "fields": fields,
        "sections": [
            {"code": s.code, "name": s.name, "source": s.source} for s in profile.sections
        ],
        "deployment_defaults": [n for n in field_names() if profile.sources[n].is_default],
        "quote_problems": problems(profile),
    }
    return json.dumps(body, ensure_ascii=False, indent=2)
