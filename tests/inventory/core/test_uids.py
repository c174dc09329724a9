import pytest
from django.core.exceptions import ValidationError

from inventory.core.uids import normalize_uid


@pytest.mark.parametrize(
    "spelling",
    [
        "04A1B2C3D4E5F6",
        "04a1b2c3d4e5f6",
        "04:A1:B2:C3:D4:E5:F6",
        "04:a1:b2:c3:d4:e5:f6",
        "04 A1 B2 C3 D4 E5 F6",
        "04-a1-b2-c3-d4-e5-f6",
        "  04A1B2C3D4E5F6\n",
        "04A1 b2:C3-d4e5f6",
    ],
)
def test_every_spelling_of_a_uid_normalises_to_one(spelling):
    assert normalize_uid(spelling) == "04A1B2C3D4E5F6"


@pytest.mark.parametrize(
    "garbage",
    ["", "   ", "hello", "04A1B2G3", "04A1B2C", "04A1B2", "0x04A1B2C3", "04_A1_B2_C3", "00" * 11],
)
def test_rejects_what_is_not_a_uid_with_a_clear_error(garbage):
    with pytest.raises(ValidationError) as caught:
        normalize_uid(garbage)
    assert caught.value.code == "invalid_uid"
    assert "04A1B2C3D4E5F6" in caught.value.messages[0]


@pytest.mark.parametrize("uid", ["01020304", "0102030405060708090A"])
def test_accepts_four_to_ten_bytes(uid):
    assert normalize_uid(uid) == uid
