"""The GA/T 467 ID card reader: frame codec, card text decoding, serial driver and simulator.

Importing this package loads no driver library: `reader` (pyserial) is imported by the registry
when the backend is built. `IdCard` is the record the kiosk core consumes.
"""

from __future__ import annotations

from .card import CARD_TYPES, CardType, IdCard

__all__ = ["CARD_TYPES", "CardType", "IdCard"]
