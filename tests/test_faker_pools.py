"""The Faker vocabulary pools: seeded and reproducible, built once per dataset, visible in the generated
payloads, and tied to the Faker release through the dataset fingerprint."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from faker.providers.person.en_US import Provider as EnglishNames

from generators import faker_pools
from generators.events import EventBatch, generate_batches
from generators.faker_pools import build_faker_pools
from generators.shape import DatasetSpec
from generators.vocabulary import USER_COUNT, build_dataset_faker_pools

SPEC = DatasetSpec(rows=20_000, seed=7)
FIRST_ROWS = 2_000


def collect(spec: DatasetSpec, batch_rows: int = 5_000) -> EventBatch:
    return EventBatch.concat(list(generate_batches(spec, batch_rows)))


@pytest.fixture(scope="module")
def events() -> EventBatch:
    return collect(SPEC)


def test_same_seed_gives_identical_pools_and_another_seed_does_not() -> None:
    first, again, other = build_faker_pools(123), build_faker_pools(123), build_faker_pools(124)
    assert first == again
    assert len(first.people) == faker_pools.PEOPLE >= USER_COUNT
    assert len(first.repo_stems) == faker_pools.REPO_STEMS
    assert first.people != other.people
    assert first.repo_stems != other.repo_stems


def test_pools_are_seeded_from_the_spec() -> None:
    assert build_dataset_faker_pools(SPEC) == build_dataset_faker_pools(replace(SPEC, rows=50_000))
    assert build_dataset_faker_pools(SPEC) != build_dataset_faker_pools(replace(SPEC, seed=8))


def test_people_are_well_formed_and_usernames_unique() -> None:
    people = build_faker_pools(5).people
    assert len({person.username for person in people}) == len(people)
    for person in people:
        assert re.fullmatch(r"[a-z]+(\.[a-z]+)?\d*", person.username), person
        assert re.fullmatch(r"[^\s@<>]+@[a-z0-9.-]+\.[a-z]+", person.email), person
        assert person.name.isascii() and " " in person.name


def test_same_spec_gives_identical_first_rows_and_another_seed_other_people(events: EventBatch) -> None:
    again = collect(SPEC, batch_rows=3_333)
    for column in ("id", "context", "data"):
        assert getattr(events, column)[:FIRST_ROWS].tolist() == getattr(again, column)[:FIRST_ROWS].tolist()
    other = collect(replace(SPEC, seed=8))
    directories = {json.loads(text)["workingDirectory"] for text in events.context.tolist()}
    other_directories = {json.loads(text)["workingDirectory"] for text in other.context.tolist()}
    assert not directories & other_directories


def test_faker_people_and_repositories_appear_in_the_payloads(events: EventBatch) -> None:
    pools = build_dataset_faker_pools(SPEC)
    usernames = {person.username for person in pools.people}
    directories = [json.loads(text)["workingDirectory"] for text in set(events.context.tolist())]
    homes = {re.split(r"[/\\]", directory)[2] for directory in directories}
    assert homes and homes <= usernames
    repos = {re.split(r"[/\\]", directory)[-1] for directory in directories}
    assert all(any(repo.startswith(f"{stem}-") for stem in pools.repo_stems) for repo in repos)

    commits = [json.loads(text)["message"] for text in events.data[events.event_type == "commit_created"].tolist()]
    trailers = [re.search(r"(?:Co-authored-by|Signed-off-by): (.+) <(.+)>", message) for message in commits]
    credited = {(match[1], match[2]) for match in trailers if match}
    assert credited and credited <= {(person.name, person.email) for person in pools.people}
    # The names are Faker's en_US names, not a hand-written list.
    assert all(name.split(" ")[0] in EnglishNames.first_names for name, _ in credited)
    assert any(message.startswith("Merge pull request #") for message in commits)


def test_pools_are_built_once_per_dataset() -> None:
    before = faker_pools.faker_instances
    batches = list(generate_batches(SPEC, batch_rows=2_000))
    assert len(batches) == 10
    assert faker_pools.faker_instances == before + 1


def test_fingerprint_changes_with_the_faker_version(monkeypatch: pytest.MonkeyPatch) -> None:
    current = SPEC.fingerprint()
    monkeypatch.setattr(faker_pools, "FAKER_VERSION", "0.0.1")
    assert SPEC.fingerprint() != current
    assert SPEC.fingerprint() == DatasetSpec(rows=20_000, seed=7).fingerprint()
    monkeypatch.setattr(faker_pools, "FAKER_VERSION", faker_pools.faker.VERSION)
    assert SPEC.fingerprint() == current
