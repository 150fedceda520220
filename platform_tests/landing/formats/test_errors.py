"""A file error reads as one line with its reason, format and location."""

from dataplatform.landing.formats import LandingFileError


def test_error_message_is_one_line_with_reason_format_and_location() -> None:
    error = LandingFileError("unterminated quoted field", format="csv", location="line 3")

    assert str(error) == "unterminated quoted field (csv file, at line 3)"
