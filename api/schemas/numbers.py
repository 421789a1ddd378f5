"""Whole numbers as ASP.NET reads them, Altinn's way: in a query (its binder) and in a JSON
string (its web defaults)."""

import re

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

# .NET's integer parsing (NumberStyles.Integer): ASCII white space (U+0009-000D, U+0020) and a
# sign around ASCII digits. pydantic also takes `1_0` (as Python's int() does), `10.0` and
# other white space, which Altinn refuses.
_WHOLE = re.compile(r"[\t\n\v\f\r ]*[+-]?[0-9]+[\t\n\v\f\r ]*")


def _whole(value: object) -> object:
    if isinstance(value, str) and not _WHOLE.fullmatch(value):
        raise PydanticCustomError(
            "int_parsing", "Input should be a valid integer: digits, with an optional sign"
        )
    return value


WholeNumber = BeforeValidator(_whole)


# ASP.NET's web defaults (JsonNumberHandling.AllowReadingFromString) read a number from a JSON
# string holding only its digits and sign: `"300"` is 300, `" 300"` and `"300.0"` are not
# numbers. At most 18 digits: longer than any number a field takes, and Python's int() refuses
# past 4 300.
_IN_STRING = re.compile(r"[+-]?[0-9]{1,18}")


def _from_string(value: object) -> object:
    if isinstance(value, str) and _IN_STRING.fullmatch(value):
        return int(value)
    return value


NumberInString = BeforeValidator(_from_string)
