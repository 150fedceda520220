"""Generated French-like people living in households, with duplicates and the truth.

The hard cases of people data are here on purpose: a third of the people share a household
(two to five people with one surname, street, city, postcode and phone), some of them twins
(same household and birth date, different given names), and common surnames recur across
households. Some people have extra records, written by hand elsewhere: names typed
differently (case, accents, hyphens, typos, given name and surname swapped, a compound
given name shortened), missing values, another email, a new address after a move, a
mistyped birth date, a phone written another way.
"""

import unicodedata
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import pandas as pd

from dataplatform.entities.people import LIGATURES, fold_name

RECORD_COLUMNS = (
    "record_id",
    "given_name",
    "surname",
    "date_of_birth",
    "email",
    "street",
    "city",
    "postcode",
    "phone",
)
TRUTH_COLUMNS = ("entity_id", "household_id", "is_copy")
ADDRESS_COLUMNS = ("street", "city", "postcode", "phone")

# A third of the people live with others, in households of two to five.
SHARED_HOUSEHOLD_SHARE = 1 / 3
HOUSEHOLD_SIZES = np.array([2, 3, 4, 5])
HOUSEHOLD_SIZE_WEIGHTS = np.array([0.4, 0.3, 0.2, 0.1])
# Of the households with two children or more, the share whose two eldest are twins.
TWIN_SHARE = 0.3
# The share of people with extra records, and how many (1, 2 or 3) they have.
DUPLICATED_SHARE = 0.3
EXTRA_RECORD_WEIGHTS = np.array([0.6, 0.3, 0.1])
# Missing values of the original records, per column.
ORIGINAL_MISSING_RATE = 0.02
# Of the people born after this year, none has an email.
LAST_EMAIL_BIRTH_YEAR = 2008
EMAIL_MISSING_RATE = 0.1
# Per extra record, the chance of each kind of error.
COPY_ERRORS = {
    "given_name_typo": 0.12,
    "surname_typo": 0.12,
    "compound_shortened": 0.3,  # of the compound given names
    "names_swapped": 0.03,
    "date_typo": 0.08,
    "email_changed": 0.15,
    "moved": 0.1,
    "street_abbreviated": 0.1,
}
COPY_MISSING_RATES = {
    "given_name": 0.02,
    "surname": 0.02,
    "date_of_birth": 0.08,
    "email": 0.1,
    "street": 0.05,
    "city": 0.03,
    "postcode": 0.03,
    "phone": 0.1,
}
# How often a record writes a value another way than the person's usual one (names in
# capitals or without accents, a compound name without its hyphen, a phone as
# "+33 6 12 34 56 78" or "0612345678"): originals rarely, extra records often.
ORIGINAL_STYLE_RATE = 0.1
COPY_STYLE_RATE = 0.3

SURNAMES = (
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel"
    " Lefèvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine"
    " Rousseau Vincent Muller Faure André Mercier Blanc Guérin Boyer Garnier Chevalier"
    " François Legrand Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel"
    " Mathieu Gautier Masson Marchand Duval Denis Dumont Marie Lemaire Noël Meyer Dufour"
    " Meunier Brun Blanchard Giraud Joly Rivière Lucas Brunet Gaillard Barbier Arnaud Martinez"
    " Gérard Roche Renard Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert"
    " Lemoine Renaud Dumas Lacroix Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet"
    " Rolland Leclercq Guillaume Lecomte Lopez Jean Dupuy Guillot Hubert Berger Carpentier"
    " Sanchez Dupuis Moulin Louis Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein"
    " Jacquet Adam Paris Poirier Marty Aubry Guyot Carré Charles Renault Charpentier Ménard"
    " Maillard Baron Bertin Bailly Hervé Schneider Fernandez Le_Gall Collet Léger Bouvier"
    " Julien Prévost Millet Perrot Daniel Le_Roux Cousin Germain Breton Besson Langlois Rémy"
    " Le_Goff Pelletier Lévêque Perrier Leblanc Barré Lebrun Marchal Weber Mallet Hamon"
    " Boulanger Jacob Monnier Michaud Rodriguez Guichard Gillet Étienne Grondin Poulain"
    " Tessier Chevallier Collin Chauvin Da_Silva Bouchet Gay Lemaître Bénard Maréchal Humbert"
    " Reynaud Antoine Hoarau Perret Barthélemy Cordier Pichon Lejeune Gilbert Lamy Delaunay"
    " Pasquier Carlier Laporte D'Almeida Saint-Martin N'Diaye"
)
FEMALE_NAMES = (
    "Marie Nathalie Isabelle Sylvie Catherine Françoise Christine Monique Valérie Sandrine"
    " Véronique Sophie Nicole Céline Stéphanie Jacqueline Chantal Anne Martine Christiane Julie"
    " Aurélie Émilie Camille Laura Léa Manon Chloé Emma Inès Jade Louise Alice Lina Rose Anna"
    " Mila Ambre Julia Zoé Lucie Sarah Clara Pauline Marine Mathilde Élodie Caroline Hélène"
    " Laurence Brigitte Danielle Josiane Annie Patricia Corinne Karine Virginie Audrey Mélanie"
    " Lætitia Delphine Nadia Océane Charlotte Juliette Margaux Anaïs Eva Agathe Romane Louna"
    " Héloïse Adèle Victoire Capucine Margot Élise Jeanne Madeleine Simone Suzanne Yvette"
    " Odette Geneviève Marguerite Denise Colette Ginette Paulette Éliane Évelyne Marie-Claude"
    " Marie-Christine Anne-Marie Marie-Thérèse Marie-France Emmanuelle Florence Agnès Claire"
    " Béatrice Pascale Murielle Fabienne Myriam Gaëlle Solène Maëlle Lou Nina Léna Romy Iris"
    " Valentine Yasmine Fatima Amandine Justine Morgane Coralie Noémie"
)
MALE_NAMES = (
    "Jean Pierre Michel André Philippe Alain Bernard Jacques Daniel Christian Patrick Nicolas"
    " Christophe Frédéric Laurent Stéphane David Julien Sébastien Thomas Alexandre Olivier Éric"
    " Pascal Thierry Didier Gérard Claude Marcel Louis Paul Lucas Hugo Nathan Léo Gabriel"
    " Raphaël Arthur Jules Adam Maël Noah Ethan Tom Théo Mathis Enzo Maxime Antoine Romain"
    " Kévin Guillaume Vincent François Jérôme Franck Yves Henri Roger René Robert Georges Marc"
    " Bruno Dominique Serge Gilles Jean-Pierre Jean-Claude Jean-Luc Jean-François Jean-Marc"
    " Jean-Paul Jean-Michel Matthieu Benjamin Clément Florian Adrien Quentin Damien Cédric"
    " Fabrice Jérémy Anthony Mickaël Samuel Baptiste Victor Martin Sacha Timéo Axel Valentin"
    " Bastien Aurélien Benoît Emmanuel Hervé Joël Lionel Xavier Rémi Loïc Yannick Arnaud Cyril"
    " Guy Lucien Maurice Raymond Fernand Émile Gaston Joseph Noël Albert Gabin Eliott Aaron"
    " Nolan Mohamed Karim Yanis Rayan Mehdi Killian"
)
STREETS = (
    "rue de la République|rue Victor Hugo|avenue Jean Jaurès|rue Pasteur|rue de l'Église"
    "|place de la Mairie|rue du Moulin|grande rue|rue de la Gare|rue des Écoles"
    "|chemin des Vignes|rue du Château|avenue de la Libération|rue Jules Ferry"
    "|boulevard Gambetta|rue Nationale|rue du Stade|impasse des Lilas|rue des Tilleuls"
    "|allée des Acacias|rue Voltaire|avenue du Général de Gaulle|rue Carnot|rue Émile Zola"
    "|rue de Verdun|rue du Commerce|place du Marché|rue des Roses|rue de la Paix"
    "|boulevard Saint-Michel|rue Saint-Jacques|rue de Paris|route de Lyon|rue Jean Moulin"
    "|rue de la Fontaine|chemin du Bois|rue des Jardins|avenue Foch|rue Anatole France"
    "|rue Louis Pasteur|rue de Bretagne|rue des Prés|rue du Four|rue Marcel Pagnol"
    "|rue de la Forêt|rue des Peupliers|rue Principale|avenue des Champs|rue du Pont"
)
STREET_ABBREVIATIONS = {"rue ": "r. ", "avenue ": "av. ", "boulevard ": "bd ", "place ": "pl. "}
# City, postcode and a weight (roughly its population, in thousands).
CITIES = (
    ("Paris", "75011", 400),
    ("Paris", "75015", 450),
    ("Paris", "75018", 380),
    ("Paris", "75020", 360),
    ("Marseille", "13008", 300),
    ("Marseille", "13013", 280),
    ("Lyon", "69003", 260),
    ("Lyon", "69007", 240),
    ("Toulouse", "31000", 480),
    ("Nice", "06000", 340),
    ("Nantes", "44000", 310),
    ("Montpellier", "34000", 290),
    ("Strasbourg", "67000", 280),
    ("Bordeaux", "33000", 260),
    ("Lille", "59000", 230),
    ("Rennes", "35000", 220),
    ("Reims", "51100", 180),
    ("Toulon", "83000", 170),
    ("Saint-Étienne", "42000", 170),
    ("Le Havre", "76600", 170),
    ("Grenoble", "38000", 160),
    ("Dijon", "21000", 160),
    ("Angers", "49000", 150),
    ("Nîmes", "30000", 150),
    ("Villeurbanne", "69100", 150),
    ("Clermont-Ferrand", "63000", 145),
    ("Le Mans", "72000", 145),
    ("Aix-en-Provence", "13100", 145),
    ("Brest", "29200", 140),
    ("Tours", "37000", 135),
    ("Amiens", "80000", 135),
    ("Limoges", "87000", 130),
    ("Annecy", "74000", 130),
    ("Perpignan", "66000", 120),
    ("Metz", "57000", 120),
    ("Besançon", "25000", 115),
    ("Orléans", "45000", 115),
    ("Rouen", "76000", 110),
    ("Mulhouse", "68100", 110),
    ("Caen", "14000", 105),
    ("Nancy", "54000", 105),
    ("Argenteuil", "95100", 110),
    ("Montreuil", "93100", 110),
    ("Roubaix", "59100", 98),
    ("Tourcoing", "59200", 98),
    ("Avignon", "84000", 92),
    ("Poitiers", "86000", 90),
    ("Pau", "64000", 77),
    ("La Rochelle", "17000", 77),
    ("Quimper", "29000", 63),
    ("Vannes", "56000", 54),
    ("Chartres", "28000", 39),
    ("Auxerre", "89000", 35),
    ("Millau", "12100", 22),
    ("Lannion", "22300", 20),
    ("Sarlat-la-Canéda", "24200", 9),
    ("Cluny", "71250", 5),
)
EMAIL_DOMAINS = np.array(
    [
        "gmail.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "hotmail.fr",
        "sfr.fr",
        "yahoo.fr",
        "outlook.fr",
        "wanadoo.fr",
    ]
)
EMAIL_DOMAIN_WEIGHTS = np.array([0.35, 0.15, 0.1, 0.08, 0.1, 0.07, 0.06, 0.05, 0.04])
# Names are drawn with weights 1 / (rank + ZIPF_OFFSET): the first of a list is about 20
# times likelier than the last of 200.
ZIPF_OFFSET = 10
# "06 12 34 56 78" written "+33 6 12 34 56 78", "0612345678" or "06.12.34.56.78".
PHONE_STYLES: tuple[Callable[[str], str], ...] = (
    lambda phone: "+33 " + phone[1:],
    lambda phone: phone.replace(" ", ""),
    lambda phone: phone.replace(" ", "."),
)
LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


def people_in_households(n_people: int = 3_000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records of `n_people` people (`RECORD_COLUMNS`, shuffled, indexed by `record_id`)
    and their truth (`TRUTH_COLUMNS`, same index): each record's person (`entity_id`), the
    person's household (`household_id`; people living alone have one of their own), and
    whether the record is an extra one (`is_copy`) or the person's original record."""
    rng = np.random.default_rng(seed)
    people = _people(rng, n_people)
    copied = _extra_records(rng, n_people)
    originals = _blanked(rng, people, dict.fromkeys(RECORD_COLUMNS[1:], ORIGINAL_MISSING_RATE))
    copies = _with_errors(rng, people.iloc[copied].reset_index(drop=True))
    copies = _blanked(rng, copies, COPY_MISSING_RATES)
    records = pd.concat(
        [_written(rng, originals, ORIGINAL_STYLE_RATE), _written(rng, copies, COPY_STYLE_RATE)],
        ignore_index=True,
    )
    person = np.concatenate([np.arange(n_people), copied])
    truth = pd.DataFrame(
        {
            "entity_id": person,
            "household_id": people["household_id"].to_numpy()[person],
            "is_copy": np.arange(len(records)) >= n_people,
        }
    )
    order = rng.permutation(len(records))
    record_ids = pd.Index(np.arange(1, len(records) + 1), name="record_id")
    records = records.iloc[order].set_axis(record_ids)
    records.insert(0, "record_id", record_ids.to_numpy())
    return cast(pd.DataFrame, records[list(RECORD_COLUMNS)]), truth.iloc[order].set_axis(record_ids)


def _extra_records(rng: np.random.Generator, n_people: int) -> np.ndarray:
    """The person of each extra record."""
    duplicated = np.flatnonzero(rng.random(n_people) < DUPLICATED_SHARE)
    counts = rng.choice([1, 2, 3], len(duplicated), p=EXTRA_RECORD_WEIGHTS)
    return np.repeat(duplicated, counts)


def _people(rng: np.random.Generator, n_people: int) -> pd.DataFrame:
    """One row per person, with the person's usual values (dates as datetime64)."""
    sizes = _household_sizes(rng, n_people)
    household = np.repeat(np.arange(len(sizes)), sizes)
    rank = np.arange(n_people) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    births = _birth_dates(rng, sizes, rank)
    female = _female(rng, np.repeat(sizes, sizes), rank)
    given_names = _given_names(rng, household, female)
    surnames = _zipf_sample(rng, _words(SURNAMES), len(sizes))[household]
    street, city, postcode = _addresses(rng, len(sizes))
    phones = _phones(rng, mobile=sizes == 1)
    return pd.DataFrame(
        {
            "household_id": household,
            "given_name": given_names,
            "surname": surnames,
            "date_of_birth": births,
            "email": _emails(rng, given_names, surnames, births),
            "street": street[household],
            "city": city[household],
            "postcode": postcode[household],
            "phone": phones[household],
        }
    )


def _household_sizes(rng: np.random.Generator, n_people: int) -> np.ndarray:
    """Shared households of 2 to 5 for about `SHARED_HOUSEHOLD_SHARE` of the people, then
    people living alone."""
    shared_people = round(n_people * SHARED_HOUSEHOLD_SHARE)
    drawn = rng.choice(HOUSEHOLD_SIZES, shared_people, p=HOUSEHOLD_SIZE_WEIGHTS)
    shared = drawn[np.cumsum(drawn) <= shared_people]
    return np.concatenate([shared, np.ones(n_people - shared.sum(), dtype=np.int64)])


def _birth_dates(rng: np.random.Generator, sizes: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """People living alone are born 1935-2004; in a shared household the first two are a
    couple born within a few years, the others their children born 22 to 38 years later;
    in `TWIN_SHARE` of the households with two children or more, the two eldest are twins."""
    size = np.repeat(sizes, sizes)
    first_of_household = np.repeat(np.cumsum(sizes) - sizes, sizes)
    year = np.repeat(rng.integers(1945, 1989, len(sizes)), sizes)
    partner = rank == 1
    year[partner] += np.rint(rng.normal(0, 3, partner.sum())).astype(np.int64)
    children = rank >= 2
    year[children] += rng.integers(22, 39, children.sum())
    year = np.where(size == 1, rng.integers(1935, 2005, len(rank)), np.minimum(year, 2022))
    days = rng.integers(0, 365, len(rank)).astype("timedelta64[D]")
    births = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + days
    twins_household = (sizes >= 4) & (rng.random(len(sizes)) < TWIN_SHARE)
    second_child = np.flatnonzero(np.repeat(twins_household, sizes) & (rank == 3))
    births[second_child] = births[first_of_household[second_child] + 2]
    return births


def _female(rng: np.random.Generator, size: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Couples are mostly a man and a woman; anyone else is either."""
    chance = np.where(size == 1, 0.5, np.select([rank == 0, rank == 1], [0.1, 0.9], 0.5))
    return rng.random(len(rank)) < chance


def _given_names(rng: np.random.Generator, household: np.ndarray, female: np.ndarray) -> np.ndarray:
    """Given names by sex, drawn again until no two people of a household share one."""
    names = np.empty(len(household), dtype=object)
    redraw = np.ones(len(household), dtype=bool)
    while redraw.any():
        for is_female, pool in ((True, FEMALE_NAMES), (False, MALE_NAMES)):
            chosen = redraw & (female == is_female)
            names[chosen] = _zipf_sample(rng, _words(pool), int(chosen.sum()))
        redraw = pd.DataFrame({"household": household, "name": names}).duplicated().to_numpy()
    return names


def _addresses(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Street (number and name), city and postcode of `count` homes."""
    streets = np.array(STREETS.split("|"), dtype=object)
    numbers = rng.integers(1, 151, count).astype(str).astype(object)
    street = numbers + " " + streets[rng.integers(0, len(streets), count)]
    weights = np.array([weight for _, _, weight in CITIES], dtype=np.float64)
    city = rng.choice(len(CITIES), count, p=weights / weights.sum())
    names = np.array([name for name, _, _ in CITIES], dtype=object)
    postcodes = np.array([postcode for _, postcode, _ in CITIES], dtype=object)
    return street, names[city], postcodes[city]


def _phones(rng: np.random.Generator, mobile: np.ndarray) -> np.ndarray:
    """French numbers written "0X XX XX XX XX": a mobile (06, 07) or a landline (01 to 05)."""
    prefix = np.where(mobile, rng.integers(6, 8, len(mobile)), rng.integers(1, 6, len(mobile)))
    pairs = rng.integers(0, 100, (len(mobile), 4))
    return np.array(
        [
            f"0{first} " + " ".join(f"{pair:02d}" for pair in rest)
            for first, rest in zip(prefix, pairs, strict=True)
        ],
        dtype=object,
    )


def _emails(
    rng: np.random.Generator, given_names: np.ndarray, surnames: np.ndarray, births: np.ndarray
) -> np.ndarray:
    """Addresses made of the names as people make them (jean.dupont, jdupont, dupont.jean,
    jeandupont, sometimes with a number); children have none and some adults give none."""
    given, surname = _email_part(given_names), _email_part(surnames)
    patterns = [given + "." + surname, given.str[0] + surname, surname + "." + given]
    patterns.append(given + surname)
    pattern = rng.integers(0, len(patterns), len(given))
    local = pd.Series(np.choose(pattern, [each.to_numpy() for each in patterns]))
    number = pd.Series(rng.integers(1, 100, len(given)).astype(str))
    local = local.where(rng.random(len(given)) >= 0.4, local + number)
    domain = pd.Series(rng.choice(EMAIL_DOMAINS, len(given), p=EMAIL_DOMAIN_WEIGHTS))
    emails = local + "@" + domain
    taken = emails.duplicated()
    emails[taken] = local[taken] + "_" + taken.index[taken].astype(str) + "@" + domain[taken]
    year = births.astype("datetime64[Y]").astype(np.int64) + 1970
    without = (year > LAST_EMAIL_BIRTH_YEAR) | (rng.random(len(given)) < EMAIL_MISSING_RATE)
    return emails.where(~without, None).to_numpy(dtype=object)


def _email_part(names: np.ndarray) -> pd.Series:
    return fold_name(pd.Series(names)).str.replace(" ", "-").astype(object)


def _with_errors(rng: np.random.Generator, copies: pd.DataFrame) -> pd.DataFrame:
    """The extra records' errors (see `COPY_ERRORS`), on the people's usual values."""
    has = {kind: rng.random(len(copies)) < rate for kind, rate in COPY_ERRORS.items()}
    given = copies["given_name"].to_numpy(dtype=object).copy()
    shortened = np.array(["-" in name for name in given], dtype=bool) & has["compound_shortened"]
    given[shortened] = [name.split("-")[0] for name in given[shortened]]
    given = _with_typos(rng, given, has["given_name_typo"])
    surname = _with_typos(rng, copies["surname"].to_numpy(dtype=object), has["surname_typo"])
    copies["given_name"] = np.where(has["names_swapped"], surname, given)
    copies["surname"] = np.where(has["names_swapped"], given, surname)
    copies["date_of_birth"] = _with_date_typos(
        rng, copies["date_of_birth"].to_numpy(), has["date_typo"]
    )
    emails = copies["email"].to_numpy(dtype=object).copy()
    changed = has["email_changed"] & pd.notna(emails)
    emails[changed] = _changed_emails(rng, emails[changed])
    copies["email"] = emails
    streets = copies["street"].to_numpy(dtype=object).copy()
    abbreviated = has["street_abbreviated"]
    streets[abbreviated] = [_abbreviated(street) for street in streets[abbreviated]]
    copies["street"] = streets
    return _moved(rng, copies, has["moved"])


def _with_typos(rng: np.random.Generator, names: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """One edit (a letter substituted, dropped, added, or two swapped) in the chosen names."""
    names = names.copy()
    for position in np.flatnonzero(chosen):
        names[position] = _typo(rng, names[position])
    return names


def _typo(rng: np.random.Generator, word: str) -> str:
    """`word` with one edit after its first letter (people rarely mistype the first)."""
    at = int(rng.integers(1, len(word))) if len(word) > 1 else 0
    letter = str(rng.choice(LETTERS))
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return word[:at] + letter + word[at + 1 :]
    if kind == 1 and len(word) > 2:
        return word[:at] + word[at + 1 :]
    if kind == 2 and at >= 1:
        return word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
    return word[:at] + letter + word[at:]


def _with_date_typos(
    rng: np.random.Generator, births: np.ndarray, chosen: np.ndarray
) -> np.ndarray:
    """In the chosen dates, day and month swapped, or the day or the year 1 or 10 off (one
    digit mistyped), a valid date either way."""
    births = births.copy()
    for position in np.flatnonzero(chosen):
        births[position] = _mistyped_date(rng, cast(pd.Timestamp, pd.Timestamp(births[position])))
    return births


def _mistyped_date(rng: np.random.Generator, date: pd.Timestamp) -> np.datetime64:
    kind = int(rng.integers(0, 3))
    if kind == 0 and date.day <= 12 and date.day != date.month:
        mistyped = date.replace(month=date.day, day=date.month)
    elif kind == 1:
        day = date.day + int(rng.choice([-10, -1, 1, 10]))
        mistyped = date.replace(day=day if 1 <= day <= 28 else (date.day % 28) + 1)
    else:
        mistyped = date.replace(year=date.year + int(rng.choice([-10, -1, 1, 10])))
    return np.datetime64(mistyped.date(), "D")


def _changed_emails(rng: np.random.Generator, emails: np.ndarray) -> np.ndarray:
    """Another address of the same person: the same name, a number added, another domain."""
    numbers = rng.integers(1, 100, len(emails))
    domains = rng.choice(EMAIL_DOMAINS, len(emails), p=EMAIL_DOMAIN_WEIGHTS)
    changed = [
        f"{email.split('@')[0]}{number}@{domain}"
        for email, number, domain in zip(emails, numbers, domains, strict=True)
    ]
    return np.array(changed, dtype=object)


def _abbreviated(street: str) -> str:
    """ "rue de la Gare" as "r. de la Gare" (and avenue, boulevard, place likewise)."""
    for word, abbreviation in STREET_ABBREVIATIONS.items():
        if word in street:
            return street.replace(word, abbreviation, 1)
    return street


def _moved(rng: np.random.Generator, copies: pd.DataFrame, moved: np.ndarray) -> pd.DataFrame:
    """The chosen records give a new home after a move: street, city, postcode and phone."""
    street, city, postcode = _addresses(rng, int(moved.sum()))
    phone = _phones(rng, mobile=rng.random(int(moved.sum())) < 0.5)
    for column, values in zip(ADDRESS_COLUMNS, (street, city, postcode, phone), strict=True):
        copies.loc[moved, column] = values
    return copies


def _blanked(
    rng: np.random.Generator, frame: pd.DataFrame, rates: dict[str, float]
) -> pd.DataFrame:
    """The frame with each column's values missing at its rate."""
    frame = frame.copy()
    for column, rate in rates.items():
        values = frame[column].to_numpy(copy=True)
        values[rng.random(len(values)) < rate] = (
            np.datetime64("NaT") if values.dtype.kind == "M" else None
        )
        frame[column] = values
    return frame


def _written(rng: np.random.Generator, people: pd.DataFrame, rate: float) -> pd.DataFrame:
    """Records as text, each value written another way than usual at `rate`: names in
    capitals, without accents or without hyphens; phones with the country code, without
    spaces or with dots; emails capitalised. Dates are written YYYY-MM-DD."""
    records = people.drop(columns="household_id")
    for column in ("given_name", "surname"):
        names = cast(pd.Series, records[column])
        for restyle in (str.upper, _accents_dropped, lambda name: name.replace("-", " ")):
            names = _restyled(rng, names, rate, (restyle,))
        records[column] = names
    records["phone"] = _restyled(rng, cast(pd.Series, records["phone"]), rate, PHONE_STYLES)
    records["email"] = _restyled(rng, cast(pd.Series, records["email"]), rate / 3, (str.title,))
    dates = pd.to_datetime(records["date_of_birth"])
    records["date_of_birth"] = (
        dates.dt.strftime("%Y-%m-%d").astype(object).where(dates.notna(), None)
    )
    return records


def _restyled(
    rng: np.random.Generator,
    values: pd.Series,
    rate: float,
    restyles: Sequence[Callable[[str], str]],
) -> pd.Series:
    """The values, a `rate` share of the present ones rewritten by one of `restyles`."""
    chosen = np.flatnonzero((rng.random(len(values)) < rate) & values.notna().to_numpy())
    styles = rng.integers(0, len(restyles), len(chosen))
    restyled = values.to_numpy(dtype=object, copy=True)
    restyled[chosen] = [
        restyles[style](value) for value, style in zip(restyled[chosen], styles, strict=True)
    ]
    return pd.Series(restyled, index=values.index)


def _accents_dropped(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.translate(LIGATURES))
    return plain.encode("ascii", "ignore").decode("ascii")


def _zipf_sample(rng: np.random.Generator, pool: np.ndarray, count: int) -> np.ndarray:
    """`count` values of `pool`, the first ones much likelier (weights 1 / (rank + 10)):
    a few names are common, most are rare."""
    weights = 1 / (np.arange(len(pool)) + ZIPF_OFFSET)
    return rng.choice(pool, count, p=weights / weights.sum())


def _words(text: str) -> np.ndarray:
    """The distinct words of a list, "_" standing for a space within a name."""
    words = [word.replace("_", " ") for word in text.split()]
    return np.array(list(dict.fromkeys(words)), dtype=object)
