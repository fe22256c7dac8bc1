"""BIO tags where entities overlap or nest: the longest entity that starts first is tagged,
the others keep their place in `entities` and are reported; later entities are still tagged
(mutation-testing survivors of `release/tokens.py`, issue 10 point 16)."""

from __future__ import annotations

from corpus_tools.model import EntitySpan, Finding
from corpus_tools.release.tokens import align

TEXT = "New York City Hall and Paris."


def span(needle: str, label: str, rid: str) -> EntitySpan:
    start = TEXT.index(needle)
    return EntitySpan(start, start + len(needle), label, needle, region_id=rid)


def overlap_finding(ent: EntitySpan) -> Finding:
    return Finding(
        slug="entity-overlap-bio",
        severity="warning",
        message=(
            f"{ent.label} [{ent.start}:{ent.end}] {ent.text!r} overlaps an earlier entity; "
            "it stays in `entities` but has no BIO tags"
        ),
        task_id="art-1",
        region_id=ent.region_id,
        hint="Nested entities are kept in the span column only.",
    )


def test_nested_and_overlapping_entities_are_reported_and_later_ones_tagged() -> None:
    nyc = span("New York City", "GPE", "r-nyc")
    ny = span("New York", "GPE", "r-ny")  # nested, same start: the longer one wins
    hall = span("City Hall", "LOC", "r-hall")  # crosses the end of "New York City"
    paris = span("Paris", "GPE", "r-paris")
    for order in ([ny, nyc, hall, paris], [paris, hall, nyc, ny]):
        tok, findings = align(TEXT, order, article_id="art-1")
        assert list(zip(tok.tokens, tok.tags, strict=True)) == [
            ("New", "B-GPE"),
            ("York", "I-GPE"),
            ("City", "I-GPE"),
            ("Hall", "O"),
            ("and", "O"),
            ("Paris", "B-GPE"),
            (".", "O"),
        ]
        assert findings == [overlap_finding(ny), overlap_finding(hall)]


def test_entity_starting_where_the_previous_one_ends_is_not_an_overlap() -> None:
    text = "NewYork"
    a = EntitySpan(0, 3, "GPE", "New")
    b = EntitySpan(3, 7, "GPE", "York")
    tok, findings = align(text, [b, a], article_id="x")
    assert list(zip(tok.tokens, tok.tags, strict=True)) == [("New", "B-GPE"), ("York", "B-GPE")]
    assert [f.slug for f in findings] == ["span-splits-token", "span-splits-token"]
