"""Belgian national numbers (rijksregisternummers), including the test persons of the government's
identity platforms, whose birth month is raised by 60 (61-72) so they can never be a real person.

python-stdnum validates real numbers and bis numbers but refuses test persons, so those are checked
here by the same modulo-97 rule.
"""

from __future__ import annotations

from datetime import date

from stdnum.be import bis, nn


def compact(value: str) -> str:
    return "".join(character for character in value if character.isdigit())


def is_test_person(number: str) -> bool:
    return len(number) == 11 and 61 <= int(number[2:4]) <= 72


def is_valid(value: str) -> bool:
    number = compact(value)
    if len(number) != 11:
        return False
    if is_test_person(number):
        check = int(number[9:])
        return check in (97 - int(number[:9]) % 97, 97 - int("2" + number[:9]) % 97)
    return nn.is_valid(number) or bis.is_valid(number)


def birth_date(number: str) -> date | None:
    """The birth date a valid national number carries (a test person's month less 60); None when it
    carries none (a bis number, or a date left unknown). The check digits tell the century."""
    year, month, day = int(number[:2]), int(number[2:4]), int(number[4:6])
    month -= 60 if is_test_person(number) else 0
    century = 2000 if int(number[9:]) == 97 - int("2" + number[:9]) % 97 else 1900
    try:
        return date(century + year, month, day)
    except ValueError:
        return None
