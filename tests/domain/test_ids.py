"""Workflow IDs: one per tenant and key, and short enough for Temporal's SQL schemas."""

from domain.ids import MAX_ORG_LENGTH, MAX_WORKFLOW_ID_LENGTH, workflow_id

ORG = "o" * MAX_ORG_LENGTH


def test_a_key_that_fits_is_the_id_as_it_is() -> None:
    assert workflow_id("ttd", "login-4711") == "instant/ttd/login-4711"


def test_long_keys_that_begin_alike_stay_two_ids_within_the_schemas_width() -> None:
    first, second = "k" * 250 + "a", "k" * 250 + "b"

    ids = {workflow_id(ORG, first), workflow_id(ORG, second)}

    assert len(ids) == 2
    assert all(len(found) == MAX_WORKFLOW_ID_LENGTH for found in ids)
    assert all(found.startswith(f"instant/{ORG}/kkkk") for found in ids)
    assert workflow_id(ORG, first) == workflow_id(ORG, first)
