"""Person-data helpers: names folded, phonetic codes, phones and emails normalised, prepare."""

import pandas as pd
import pytest

from dataplatform.entities.people import (
    fold_name,
    normalise_email,
    normalise_phone,
    person_prepare,
    sound,
)


def test_names_fold_to_lower_case_ascii_words() -> None:
    names = pd.Series(
        ["Jean-Pierre", " jean  pierre", "JÉRÔME", "D'Artagnan", "Lætitia", "CŒUR", "Zoë"],
        index=list("abcdefg"),
    )

    folded = fold_name(names)

    expected = ["jean pierre", "jean pierre", "jerome", "d artagnan", "laetitia", "coeur", "zoe"]
    assert folded.tolist() == expected
    assert folded.index.equals(names.index)


def test_missing_and_empty_names_are_missing() -> None:
    folded = fold_name(pd.Series(["Anne", None, "", " - ", float("nan")]))

    assert folded.isna().tolist() == [False, True, True, True, True]


def test_names_that_sound_alike_share_a_code_and_missing_names_have_none() -> None:
    names = pd.Series(["martin", "marten", "bernard", "martin", None])

    codes = sound(names).tolist()

    assert codes[0] == codes[1] == codes[3] != codes[2]
    assert pd.isna(codes[4])
    assert sound(names, "nysiis").tolist()[0] != codes[0]


def test_an_unknown_phonetic_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown phonetic method"):
        sound(pd.Series(["martin"]), "double_metaphone")


def test_phones_become_national_digits() -> None:
    phones = pd.Series(
        [
            "06 12 34 56 78",
            "+33 6 12 34 56 78",
            "0033612345678",
            "+33 (0)6 12 34 56 78",
            "06.12.34.56.78",
            "+44 20 7946 0958",
            "n/a",
            None,
        ]
    )

    normalised = normalise_phone(phones).tolist()

    assert normalised[:5] == ["0612345678"] * 5
    assert normalised[5] == "00442079460958"
    assert pd.isna(normalised[6]) and pd.isna(normalised[7])


def test_phones_fold_the_given_country_code() -> None:
    phones = pd.Series(["+44 20 7946 0958", "+33 6 12 34 56 78"])

    assert normalise_phone(phones, country_code="44").tolist() == [
        "02079460958",
        "0033612345678",
    ]


def test_emails_are_lower_case_and_stripped() -> None:
    emails = pd.Series([" Jean.Dupont@Gmail.COM ", "   ", None])

    normalised = normalise_email(emails).tolist()

    assert normalised[0] == "jean.dupont@gmail.com"
    assert pd.isna(normalised[1]) and pd.isna(normalised[2])


def test_person_prepare_folds_names_and_derives_keys() -> None:
    records = pd.DataFrame(
        {
            "first": ["Hélène", "HELENE"],
            "last": ["Le Gall", "le-gall"],
            "born": pd.to_datetime(["1980-03-01", None]),
            "tel": ["+33 1 23 45 67 89", "01 23 45 67 89"],
            "mail": ["H.LeGall@free.fr", None],
        }
    )
    prepare = person_prepare(("first", "last"), "born", ("tel",), ("mail",))

    prepared = prepare(records)

    assert prepared["first"].tolist() == ["helene", "helene"]
    assert prepared["last"].tolist() == ["le gall", "le gall"]
    assert prepared["first_sound"].nunique() == prepared["last_sound"].nunique() == 1
    assert prepared["birth_year"].tolist()[0] == 1980
    assert prepared["birth_year"].isna().tolist() == [False, True]
    assert prepared["tel"].tolist() == ["0123456789", "0123456789"]
    assert prepared["mail"].tolist()[0] == "h.legall@free.fr"
    assert prepared["mail"].isna().tolist() == [False, True]
