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


def split_finding(text: str, ent: EntitySpan, token: tuple[int, int]) -> Finding:
    a, b = token
    return Finding(
        slug="span-splits-token",
        severity="warning",
        message=(
            f"{ent.label} [{ent.start}:{ent.end}] {ent.text!r} does not fall on token "
            f"boundaries: token {text[a:b]!r} [{a}:{b}] was split at the span boundary"
        ),
        task_id="art-2",
        region_id=ent.region_id,
        hint="Check the span's ends in Label Studio; a split token is kept.",
    )


def test_only_the_span_that_cuts_a_token_is_reported() -> None:
    """Entities that end where the token starts, or start where it ends, do not split it."""
    text = "x,NewYork,"
    before = EntitySpan(1, 2, "GPE", ",", region_id="r1")
    new = EntitySpan(2, 5, "GPE", "New", region_id="r2")
    after = EntitySpan(9, 10, "GPE", ",", region_id="r3")
    tok, findings = align(text, [after, new, before], article_id="art-2")
    assert list(zip(tok.tokens, tok.tags, strict=True)) == [
        ("x", "O"),
        (",", "B-GPE"),
        ("New", "B-GPE"),
        ("York", "O"),
        (",", "B-GPE"),
    ]
    assert findings == [split_finding(text, new, (2, 9))]


def test_a_span_of_whitespace_after_the_last_token_covers_no_token() -> None:
    text = "Paris. \n"
    blank = EntitySpan(6, 8, "GPE", " \n", region_id="r-blank")
    paris = EntitySpan(0, 5, "GPE", "Paris", region_id="r-paris")
    tok, findings = align(text, [paris, blank], article_id="art-3")
    assert list(zip(tok.tokens, tok.tags, strict=True)) == [("Paris", "B-GPE"), (".", "O")]
    assert findings == [
        Finding(
            slug="entity-without-tokens",
            severity="warning",
            message="GPE [6:8] ' \\n' covers no token",
            task_id="art-3",
            region_id="r-blank",
            hint="A span of only whitespace has no tokens; fix or remove it.",
        )
    ]
