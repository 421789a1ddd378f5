"""The magic recipients: which outcome each test address or number produces."""

from dataclasses import dataclass

AT_EXPIRY = -1.0  # a report delay meaning "when the validity period runs out"


@dataclass(frozen=True)
class Outcome:
    refuse: str | None = None
    unavailable: bool = False
    slow: bool = False
    hang: bool = False
    # (delay in units of the report delay, or AT_EXPIRY; provider state)
    reports: tuple[tuple[float, str], ...] = ()


def _delivered(state: str) -> Outcome:
    return Outcome(reports=((1.0, state),))


_SMS: dict[str, Outcome] = {
    "+4799990001": Outcome(refuse="Invalid RCV: not a reachable number", reports=()),
    "+4799990002": _delivered("FAILED"),
    "+4799990003": _delivered("BARRED"),
    "+4799990004": Outcome(reports=((AT_EXPIRY, "EXPIRED"),)),
    "+4799990005": _delivered("UNDELIV"),
    "+4799990006": _delivered("REJECTD"),
    "+4799990007": _delivered("DELETED"),
    "+4799990008": Outcome(reports=()),
    "+4799990009": Outcome(unavailable=True, reports=()),
    "+4799990010": Outcome(reports=((1.0, "DELIVRD"), (2.0, "DELIVRD"))),
    "+4799990011": Outcome(reports=((1.0, "DELIVRD"), (2.0, "FAILED"))),
    "+4799990012": Outcome(slow=True, reports=((1.0, "DELIVRD"),)),
    "+4799990013": Outcome(hang=True, reports=()),
}

_EMAIL: dict[str, Outcome] = {
    "invalid": Outcome(refuse="553 5.1.3 mailbox name not allowed", reports=()),
    "failed": _delivered("Failed"),
    "bounced": _delivered("Bounced"),
    "suppressed": _delivered("Suppressed"),
    "spam": _delivered("FilteredSpam"),
    "quarantined": _delivered("Quarantined"),
    "silent": Outcome(reports=()),
    "unavailable": Outcome(unavailable=True, reports=()),
    "duplicate": Outcome(reports=((1.0, "Delivered"), (2.0, "Delivered"))),
    "flip": Outcome(reports=((1.0, "Delivered"), (2.0, "Failed"))),
    "slow": Outcome(slow=True, reports=((1.0, "Delivered"),)),
    "hang": Outcome(hang=True, reports=()),
}


def normalize_phone(number: str) -> str:
    return "+" + number[2:] if number.startswith("00") else number


def sms_outcome(number: str) -> Outcome:
    return _SMS.get(normalize_phone(number), _delivered("DELIVRD"))


def email_outcome(address: str) -> Outcome:
    return _EMAIL.get(address.partition("@")[0].lower(), _delivered("Delivered"))
