"""Join codes: short enough to read off a projector and type on a phone, too many to guess.

A code is ``CODE_LENGTH`` characters from ``ALPHABET``: the digits 2-9 and the letters without I
and O (32 symbols, nothing to confuse with 0 or 1), 5 bits each, 40 bits in all. It is shown as
two groups of four (``K7QM-3XWD``); what people type is read leniently (case, spaces and dashes do
not matter). Guessing is slowed further by a limit on failed attempts per network address
(``throttle``).
"""

import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
GROUP = 4
assert len(set(ALPHABET)) == 32


def code_generate() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_normalize(text: str) -> str | None:
    """The code as stored, from what someone typed; None if it cannot be a code."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def code_display(code: str) -> str:
    """``K7QM3XWD`` -> ``K7QM-3XWD``: two groups of four, to read aloud."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))
