from marketplace.identifiers import (is_valid_patent_number, is_valid_uscc, normalise_patent_number,
                                     patent_check_character, patent_type_of, uscc_check_character)


def test_known_valid_credit_codes():
    assert is_valid_uscc("91350100M000100Y43")
    assert is_valid_uscc("91110108551385082Q")
    assert is_valid_uscc(" 91110108551385082q ")  # normalised


def test_credit_code_with_wrong_check_character_is_rejected():
    assert not is_valid_uscc("91350100M000100Y44")
    assert not is_valid_uscc("91110108551385082A")


def test_credit_code_shape_is_checked():
    assert not is_valid_uscc("")
    assert not is_valid_uscc("9135010")
    assert not is_valid_uscc("91350100M000100YI3")  # I is not in the GB 32100 alphabet


def test_check_character_computation_round_trips():
    body = "91110108MA01ABCDE"
    assert is_valid_uscc(body + uscc_check_character(body))


def test_patent_numbers():
    assert is_valid_patent_number("200410018477.9")
    assert is_valid_patent_number("ZL200410018477.9".replace("ZL", ""))
    assert is_valid_patent_number("CN200410018477.9")
    assert not is_valid_patent_number("200410018477.8")
    assert not is_valid_patent_number("202050123456.1")  # 5 is not a patent type digit
    digits = "202010123456"
    number = f"{digits}.{patent_check_character(digits)}"
    assert is_valid_patent_number(number)
    assert normalise_patent_number(number.replace(".", "")) == number
    assert patent_type_of(number) == "invention"


def test_check_character_x():
    # find a 12-digit number whose check is X and verify it is accepted with X only
    for serial in range(1000):
        digits = f"20201{serial:07d}"
        if patent_check_character(digits) == "X":
            assert is_valid_patent_number(digits + ".X")
            assert is_valid_patent_number(digits + "x")
            assert not is_valid_patent_number(digits + ".0")
            break
    else:
        raise AssertionError("no X check character found")
