"""The password policy, after NIST SP 800-63B section 5.1.1: long enough, not common, not about us or the
user, not one of their last few. No composition rules ("one capital, one digit"), which make passwords
harder to remember without making them harder to guess.

The common passwords are the 30,000 most used ones that ship inside the ``zxcvbn`` package (no network at
run time); ``zxcvbn``'s guess estimate also refuses what is built like them: repeats (``aaaaaaaaaaaa``),
sequences (``123456789012``), keyboard walks and a common word padded out (``passwordpass``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 1024  # scrypt of a megabyte-long "password" is a cheap denial of service
# zxcvbn's estimate grows with length; beyond this many characters it is not needed and only costs time.
_ESTIMATE_CHARACTERS = 72
# zxcvbn scores 0-4; 3 means about 10^8 guesses or more, out of reach of online guessing with throttling.
MIN_SCORE = 3
HISTORY = 5  # a new password may not be any of the user's last five
# The unit's own names: the first words an attacker who knows where the account is will try.
UNIT_NAMES = ("SEROCU", "ROCU", "Regional Organised Crime Unit", "Organised Crime")
# Parts of an e-mail address shorter than this are too common to refuse ("jo" in "jobs").
_MIN_EMAIL_PART = 4
# Look-alike characters people use to disguise a word (s3r0cu).
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})


@functools.cache
def common_passwords() -> frozenset[str]:
    """The common passwords, lower-case, as a set (built once per process)."""
    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def normalise(password: str) -> str:
    """NFKC, as 800-63B asks, so the same password typed on two keyboards is the same password."""
    return unicodedata.normalize("NFKC", password)


def _squash(text: str) -> str:
    """Lower-case letters and digits only: "Jane.Smith" and "jane smith" both become "janesmith"."""
    return re.sub(r"[\W_]+", "", text.lower())


def _email_parts(email: str) -> list[str]:
    local = email.partition("@")[0].lower()
    parts = {_squash(local), *(_squash(p) for p in re.split(r"[._+\-]+", local))}
    return sorted((p for p in parts if len(p) >= _MIN_EMAIL_PART), key=len, reverse=True)


def problem(password: str, *, email: str = "", unit_names: Iterable[str] = UNIT_NAMES) -> str | None:
    """Say why ``password`` may not be used, in a sentence for the person choosing it, or None if it may.

    The history check needs the stored hashes and lives in ``users``; everything else is here.
    """
    password = normalise(password)
    if len(password) < MIN_LENGTH:
        return f"The password must be at least {MIN_LENGTH} characters long."
    if len(password) > MAX_LENGTH:
        return f"The password must be at most {MAX_LENGTH} characters long."
    squashed = _squash(password)
    if not password.strip() or len(set(password)) < 3:
        return "The password repeats the same few characters: use a few unrelated words instead."
    if password.lower() in common_passwords() or squashed in common_passwords():
        return "This is one of the most common passwords, which attackers try first: choose another."
    disguised = squashed.translate(_LEET)
    for part in _email_parts(email):
        if part in squashed or part in disguised:
            return "The password must not contain your e-mail address or part of it."
    for name in unit_names:
        name = _squash(name)
        if name and (name in squashed or name in disguised):
            return "The password must not contain the unit's name: it is among the first things tried."
    estimate = zxcvbn(password[:_ESTIMATE_CHARACTERS], max_length=_ESTIMATE_CHARACTERS)
    if estimate["score"] < MIN_SCORE:
        why = estimate["feedback"].get("warning") or "It follows a pattern that is quick to guess."
        return (
            f"The password is too easy to guess. {why.rstrip('.')}. "
            "A few unrelated words make a strong password that is easy to remember."
        )
    return None
