from agent.reader import normalise_uid


def test_card_bytes_become_upper_case_hex_without_separators():
    assert normalise_uid([0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6]) == "04A1B2C3D4E5F6"
    assert normalise_uid(b"\x01\x02\x03\x04") == "01020304"


def test_typed_uids_lose_case_and_separators():
    assert normalise_uid("04:a1:b2:c3") == "04A1B2C3"
    assert normalise_uid(" 04-a1 b2c3\r") == "04A1B2C3"


def test_text_that_is_not_a_whole_number_of_hex_bytes_is_not_a_uid():
    assert normalise_uid("XYZ") is None
    assert normalise_uid("04A1B") is None
    assert normalise_uid("") is None
    assert normalise_uid([]) is None


def test_a_uid_longer_than_32_bytes_is_refused():
    assert normalise_uid(bytes(32)) == "00" * 32
    assert normalise_uid(bytes(33)) is None
