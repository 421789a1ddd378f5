"""Query parameter types shared by the routes: whole numbers as ASP.NET's binder reads them."""

import re

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

# .NET's integer parsing (NumberStyles.Integer): white space and a sign around ASCII digits.
# pydantic also takes `1_0` (as Python's int() does) and `10.0`, which Altinn refuses.
_WHOLE = re.compile(r"\s*[+-]?[0-9]+\s*")


def _whole(value: object) -> object:
    if isinstance(value, str) and not _WHOLE.fullmatch(value):
        raise PydanticCustomError(
            "int_parsing", "Input should be a valid integer: digits, with an optional sign"
        )
    return value


WholeNumber = BeforeValidator(_whole)
