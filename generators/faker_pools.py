"""The vocabulary pools drawn from Faker: developers (display name, email, username) and repository name stems.

Faker is called only here, once per dataset, while the vocabularies are built: `build_faker_pools(seed)` seeds
one `Faker("en_US")` instance with a seed from the dataset spec's random stream and draws fixed-size pools,
returned as tuples; the per-row generator only indexes them. Faker's word and name lists change between
releases, so `FAKER_VERSION` is part of the dataset fingerprint (`DatasetSpec.fingerprint`): a dataset
generated with another Faker release counts as a different dataset and is reloaded, never mixed.

Faker's lorem sentences are not used for commit messages or assistant text: random English words read less
like a developer's log than the templates in vocabulary.py; what Faker adds is people and names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import faker

FAKER_VERSION: str = faker.VERSION
LOCALE = "en_US"
PEOPLE = 240
REPO_STEMS = 120
# Of the repository stems, this many are company-style words ("robinson", "tran-reed"), the rest nouns.
COMPANY_REPO_STEMS = 40
COMPANY_DOMAINS = 12

# Instances created by build_faker_pools in this process; tests check that a dataset builds its pools once.
faker_instances = 0

_NOT_IN_USERNAME = re.compile(r"[^a-z]")


@dataclass(frozen=True)
class Person:
    name: str  # "Melanie Pearson"
    email: str  # a work, personal or GitHub no-reply address
    username: str  # unique in the pool; also the home directory name


@dataclass(frozen=True)
class FakerPools:
    people: tuple[Person, ...]
    repo_stems: tuple[str, ...]  # distinct


def build_faker_pools(seed: int) -> FakerPools:
    """The pools of one dataset; the same seed and Faker release give the same pools."""
    global faker_instances
    faker_instances += 1
    fake = faker.Faker(LOCALE)
    fake.seed_instance(seed)
    return FakerPools(people=_people(fake, PEOPLE), repo_stems=_repo_stems(fake, REPO_STEMS))


def _people(fake: faker.Faker, count: int) -> tuple[Person, ...]:
    domains = [fake.domain_name() for _ in range(COMPANY_DOMAINS)]
    taken: set[str] = set()
    people = []
    for _ in range(count):
        first, last = fake.first_name(), fake.last_name()
        given, family = _NOT_IN_USERNAME.sub("", first.lower()), _NOT_IN_USERNAME.sub("", last.lower())
        # The usual account-name conventions: jsmith, john.smith, johnsmith, smithj, john.
        style = fake.random.random()
        if style < 0.35:
            username = given[0] + family
        elif style < 0.55:
            username = f"{given}.{family}"
        elif style < 0.75:
            username = given + family
        elif style < 0.85:
            username = family + given[0]
        else:
            username = given
        base, n = username, 1
        while username in taken:
            n += 1
            username = f"{base}{n}"
        taken.add(username)
        where = fake.random.random()
        if where < 0.6:
            email = f"{given}.{family}@{fake.random.choice(domains)}"
        elif where < 0.8:
            email = f"{username}@{fake.free_email_domain()}"
        else:
            email = f"{fake.random_int(10_000, 99_999_999)}+{username}@users.noreply.github.com"
        people.append(Person(name=f"{first} {last}", email=email, username=username))
    return tuple(people)


def _repo_stems(fake: faker.Faker, count: int) -> tuple[str, ...]:
    stems: dict[str, None] = {}
    while len(stems) < COMPANY_REPO_STEMS:
        stems[fake.domain_word()] = None
    while len(stems) < count:
        noun = fake.word(part_of_speech="noun")
        if len(noun) >= 4 and noun.isalpha():
            stems[noun.lower()] = None
    return tuple(stems)
