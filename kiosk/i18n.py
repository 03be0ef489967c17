"""Screen text from the gettext catalogs in kiosk/locale (zh_CN default, English).

Message ids are keys ("summary.print"); `make i18n` compiles each kiosk.po into the kiosk.mo read here.
A message that counts something has plural forms (`msgid_plural`, English "1 record", "2 records"):
it is looked up by the number given as `count`.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib import resources
from pathlib import Path

DOMAIN = "kiosk"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"


def locale_dir() -> Path:
    return Path(str(resources.files("kiosk").joinpath("locale")))


@cache
def _catalog(language: str) -> gettext.GNUTranslations:
    return gettext.translation(DOMAIN, localedir=locale_dir(), languages=[language])


class Translator:
    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}; choose one of {LANGUAGES}")
        self.language = language
        self._catalog = _catalog(language)

    def __call__(self, message_id: str, **args: object) -> str:
        text = self._catalog.gettext(message_id)
        count = args.get("count")
        if isinstance(count, str) and count.isdigit():  # from a Snapshot's message_args
            count = int(count)
        if isinstance(count, int):  # an entry with plural forms gives the one for `count`
            counted = self._catalog.ngettext(message_id, message_id, count)
            text = text if counted == message_id else counted
        if args:
            try:
                return text.format(**args)
            except (KeyError, IndexError, ValueError):  # a catalog typo must not crash a screen
                return text
        return text

    def has(self, message_id: str) -> bool:
        return self._catalog.gettext(message_id) != message_id  # plural entries: their singular
