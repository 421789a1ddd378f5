"""Query parameter types shared by the routes: whole numbers as ASP.NET's binder reads them."""

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
