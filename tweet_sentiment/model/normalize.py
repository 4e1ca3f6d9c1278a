"""Tweet text normalisation, the same for training and scoring: handles, URLs, escapes, entities, emoji."""

import html
import re
import unicodedata

_USER = re.compile(r"(?<![\w@])@\w{1,30}")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "..."})
# Zero-width joiner, variation selectors and skin-tone modifiers carry no sentiment of their own.
_EMOJI_NOISE = {0x200D, 0xFE0E, 0xFE0F, *range(0x1F3FB, 0x1F400)}


def _is_emoji(char: str) -> bool:
    code = ord(char)
    return (0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or 0x2190 <= code <= 0x21FF
            or 0x2B00 <= code <= 0x2BFF or code in (0x2764, 0x2122, 0x00A9, 0x00AE))


def _emoji_words(text: str) -> str:
    """Spell emoji as words ("face with tears of joy"), so an uncased WordPiece vocabulary can read them."""
    out: list[str] = []
    previous = ""
    for char in text:
        if ord(char) in _EMOJI_NOISE:
            continue
        if _is_emoji(char):
            if char != previous:  # a run of the same emoji reads once
                name = unicodedata.name(char, "").lower()
                out.append(f" {name} " if name else " ")
            previous = char
            continue
        previous = char
        out.append(char)
    return "".join(out)


def normalize_tweet(text: str | None) -> str:
    """Normalise one tweet: decode `\\uXXXX` escapes and HTML entities, @handles -> @user, URLs -> http, emoji ->
    words."""
    if not text:
        return ""
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = html.unescape(html.unescape(text)).translate(_QUOTES)
    text = _URL.sub("http", text)
    text = _USER.sub("@user", text)
    text = _emoji_words(text)
    return _SPACE.sub(" ", text).strip()
