"""Order fingerprints: keyed where payloads are encrypted, so the store's copy cannot be
tested against guessed codes; still compared across a key rotation."""

import hashlib
import itertools

from core.codec import new_key, parse_keyring
from core.fingerprints import Fingerprints
from store.models import Shipment

ORDER = b'{"sms": {"body": "Your code is 482913", "phone_number": "+4791234567"}}'
OTHER = b'{"sms": {"body": "Your code is 482914", "phone_number": "+4791234567"}}'


def ring(*ids: str) -> dict[str, bytes]:
    return parse_keyring(",".join(new_key(i) for i in ids))


def test_a_keyed_fingerprint_tells_a_repeat_from_another_order() -> None:
    fingerprints = Fingerprints(ring("k1"))
    made = fingerprints.of(ORDER)

    assert made == fingerprints.of(ORDER)
    assert not fingerprints.differ(made, ORDER)
    assert fingerprints.differ(made, OTHER)
    assert len(made) <= Shipment.model_fields["fingerprint"].metadata[0].max_length


def test_the_store_alone_cannot_test_a_guessed_code() -> None:
    """With the row's other fields, a plain hash would give the code away to a million
    guesses; without the key no guess matches."""
    made = Fingerprints(ring("k1")).of(ORDER)
    guesses = (ORDER.replace(b"482913", f"{n:06d}".encode()) for n in range(482_900, 482_930))
    plain = {hashlib.sha256(guess).hexdigest() for guess in guesses}
    assert hashlib.sha256(ORDER).hexdigest() in plain
    assert made not in plain
    assert Fingerprints(ring("k1")).of(ORDER) != made  # another key under the same name


def test_fingerprints_made_before_a_rotation_are_compared_while_their_key_is_listed() -> None:
    old, new = new_key("k1"), new_key("k2")
    before = Fingerprints(parse_keyring(old)).of(ORDER)
    rotated = Fingerprints(parse_keyring(f"{new},{old}"))

    assert rotated.of(ORDER) != before
    assert (rotated.differ(before, ORDER), rotated.differ(before, OTHER)) == (False, True)
    dropped = Fingerprints(parse_keyring(new))
    assert (dropped.differ(before, ORDER), dropped.differ(before, OTHER)) == (False, False)


def test_plain_fingerprints_are_compared_as_before() -> None:
    """Rows written before fingerprints were keyed, and a deployment without a keyring."""
    plain = hashlib.sha256(ORDER).hexdigest()
    for fingerprints in (Fingerprints({}), Fingerprints(ring("k1"))):
        assert (fingerprints.differ(plain, ORDER), fingerprints.differ(plain, OTHER)) == (
            False,
            True,
        )
    assert Fingerprints({}).of(ORDER) == plain


def test_tags_name_keys_apart() -> None:
    tags = {Fingerprints(ring(i)).of(ORDER).partition(":")[0] for i in itertools.repeat("k", 20)}
    assert len(tags) == 20
