"""The error for a landed file that cannot be converted as a whole: what is wrong and where."""


class LandingFileError(Exception):
    """The file as a whole cannot be converted; says what is wrong and where."""

    def __init__(
        self,
        reason: str,
        *,
        format: str | None = None,
        location: str | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.reason = reason
        self.format = format
        self.location = location
        self.expected = expected
        self.found = found
        super().__init__(reason)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "reason": self.reason,
            "format": self.format,
            "location": self.location,
            "expected": self.expected,
            "found": self.found,
        }

    def __str__(self) -> str:
        details = [
            f"{self.format} file" if self.format else None,
            f"at {self.location}" if self.location else None,
            f"expected {self.expected}" if self.expected else None,
            f"found {self.found}" if self.found else None,
        ]
        present = [detail for detail in details if detail]
        message = f"{self.reason} ({', '.join(present)})" if present else self.reason
        return " ".join(message.split())
