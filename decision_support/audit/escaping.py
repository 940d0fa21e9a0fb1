r"""Escaping of logged values, so that a value can neither forge a log line nor hide itself.

CR and LF could start a fake entry in any text export of the log, ESC sequences recolour or erase
a terminal, NUL truncates C strings (and PostgreSQL refuses it). Each such character becomes a
visible escape; the backslash itself is doubled, so a typed ``\n`` (two characters) stays
distinguishable from an escaped newline.
"""

_NAMED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}

# C0 controls, DEL and C1 controls (OWASP ASVS V16 log injection).
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
# Also escaped: Unicode line and paragraph separators, bidirectional overrides and isolates
# (they reorder what a reader sees, "Trojan Source"), and lone surrogates (not encodable in UTF-8).
_INVISIBLE = [0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F),
              *range(0x2066, 0x206A), *range(0xD800, 0xE000)]


def _escape(code: int) -> str:
    char = chr(code)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_TABLE = {code: _escape(code) for code in [ord("\\"), *_CONTROLS, *_INVISIBLE]}


def escape_controls(value: str) -> str:
    r"""``value`` with every control character replaced by a visible escape.

    >>> print(escape_controls("ok\r\nFAKE ENTRY\x1b[31m\x00 C:\\temp"))
    ok\r\nFAKE ENTRY\x1b[31m\x00 C:\\temp
    """
    return value.translate(_TABLE)
