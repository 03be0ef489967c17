"""Sourced profile fields: a value and where it comes from (profiles/README.md, "How a field is
sourced").

A field either quotes its region's seed (`source` holds the seed's words, verbatim) or is a
deployment default (`source` is the literal "deployment default" and `reason` says why the value
was chosen). `seed_says` quotes what the region's own seed does say on the subject without stating
the value; `borrowed` quotes another seed the default was taken from. Every quote can be checked
against the seed files in `profiles/seeds/` (`quote_problems`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

DEPLOYMENT_DEFAULT = "deployment default"
_SPACE = re.compile(r"\s+")


class ProfileDataError(ValueError):
    """A profile file breaks the sourcing rules (a programming error in the data, at load)."""


@dataclass(frozen=True)
class Quote:
    seed_file: str
    text: str


@dataclass(frozen=True)
class Sourced:
    """Where one profile value comes from."""

    value: Any
    quotes: tuple[str, ...]  # the region's seed's words stating the value; () for a default
    reason: str  # why: required for a deployment default, an optional note otherwise
    seed_says: str | None = None  # the own seed's words on the subject, for a default
    borrowed: Quote | None = None  # another seed's words a default was taken from

    @property
    def is_default(self) -> bool:
        return not self.quotes

    @property
    def source_text(self) -> str:
        """One line for people: the seed's words, or "deployment default: reason"."""
        if self.is_default:
            return f"{DEPLOYMENT_DEFAULT}: {self.reason}"
        return " / ".join(f"“{q}”" for q in self.quotes)


def parse_sourced(name: str, raw: Any, *, has_value: bool = True) -> Sourced:
    """A `{value, source, reason?, seed_says?, borrowed?, note?}` object of a profile file."""
    if not isinstance(raw, Mapping):
        raise ProfileDataError(f"{name}: must be an object with a 'source'")
    if has_value and "value" not in raw:
        raise ProfileDataError(f"{name}: no 'value'")
    source = raw.get("source")
    reason = str(raw.get("reason") or raw.get("note") or "")
    if source == DEPLOYMENT_DEFAULT:
        if not reason.strip():  # a default without its reason is a value passed off as policy
            raise ProfileDataError(f"{name}: a deployment default needs its 'reason'")
        quotes: tuple[str, ...] = ()
    elif isinstance(source, str) and source.strip():
        quotes = (source,)
    elif isinstance(source, list) and source and all(isinstance(q, str) and q for q in source):
        quotes = tuple(source)
    else:
        raise ProfileDataError(
            f"{name}: 'source' must be the seed's words or {DEPLOYMENT_DEFAULT!r}"
        )
    borrowed = raw.get("borrowed")
    return Sourced(
        value=raw.get("value"),
        quotes=quotes,
        reason=reason,
        seed_says=raw.get("seed_says"),
        borrowed=Quote(borrowed["seed_file"], borrowed["quote"]) if borrowed else None,
    )


def squeeze(text: str) -> str:
    """Text without whitespace: the seeds break lines and pad numbers (“涉及 16 个领域”)."""
    return _SPACE.sub("", text)


@functools.cache
def seed_text(seed_file: str) -> str | None:
    """A seed's text, whitespace removed; None when the file is not shipped."""
    entry = resources.files("report_service").joinpath("profiles", "seeds", seed_file)
    if not entry.is_file():
        return None
    return squeeze(entry.read_text(encoding="utf-8"))


def quote_problems(own_seed: str, name: str, field: Sourced) -> Iterator[str]:
    """Each quote of `field` that is not in its seed, as a sentence."""
    own = seed_text(own_seed)
    checks = [(own_seed, own, q) for q in field.quotes]
    if field.seed_says:
        checks.append((own_seed, own, field.seed_says))
    if field.borrowed:
        b = field.borrowed
        checks.append((b.seed_file, seed_text(b.seed_file), b.text))
    for seed_file, text, quote in checks:
        if text is None:
            yield f"{name}: seed file {seed_file} is not in profiles/seeds/"
        elif squeeze(quote) not in text:
            yield f"{name}: “{quote}” is not in {seed_file}"
