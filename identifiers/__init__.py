"""The national identifiers, once (DESIGN §2): stdlib only, importable from every package.

- `id_numbers`: GB 11643-1999 citizen ID numbers (check digit, birth date) and the card kinds that
  carry them;
- `credit_codes`: GB 32100-2015 unified social credit codes (the mod-31 check character);
- `phones`: mainland mobile and landline numbers as people write them;
- `in_text`: each of those numbers' shape inside free text, for the scrubbers;
- `masking`: what screens, receipts and logs may show of a name or a number.

Checks return a problem code (an enum) rather than a sentence: the kiosk, the device layer and the
platform each word it for their own readers.
"""

from .credit_codes import (
    USCC_CHARSET,
    USCC_IN_TEXT,
    USCC_LENGTH,
    UsccProblem,
    normalize_uscc,
    uscc_check_char,
    uscc_problem,
)
from .id_numbers import (
    CARD_KINDS,
    EARLIEST_BIRTH,
    ID_NUMBER_IN_TEXT,
    LONG_TERM,
    OLD_FOREIGN_NUMBER_IN_TEXT,
    OLD_ID_NUMBER_IN_TEXT,
    CardKind,
    IdProblem,
    card_number_problem,
    contains_id_number,
    id_birth_date,
    id_check_digit,
    id_number_problem,
    old_foreign_number_problem,
)
from .in_text import ANY_NUMBER_IN_TEXT, NUMBERS_IN_TEXT
from .masking import COMPOUND_SURNAMES, mask_id_number, mask_name, mask_uscc
from .phones import MOBILE_NUMBER_IN_TEXT, is_phone_number

__all__ = [
    "ANY_NUMBER_IN_TEXT",
    "CARD_KINDS",
    "COMPOUND_SURNAMES",
    "EARLIEST_BIRTH",
    "ID_NUMBER_IN_TEXT",
    "LONG_TERM",
    "MOBILE_NUMBER_IN_TEXT",
    "NUMBERS_IN_TEXT",
    "OLD_FOREIGN_NUMBER_IN_TEXT",
    "OLD_ID_NUMBER_IN_TEXT",
    "USCC_CHARSET",
    "USCC_IN_TEXT",
    "USCC_LENGTH",
    "CardKind",
    "IdProblem",
    "UsccProblem",
    "card_number_problem",
    "contains_id_number",
    "id_birth_date",
    "id_check_digit",
    "id_number_problem",
    "is_phone_number",
    "mask_id_number",
    "mask_name",
    "mask_uscc",
    "normalize_uscc",
    "old_foreign_number_problem",
    "uscc_check_char",
    "uscc_problem",
]
