"""release.tokens.mask_regions: the per-token mask published beside `ner_tags` (issue 10.1).

A token is masked exactly when one of its code points lies inside an open dispute's
[start, end): checked against a per-code-point oracle, on text with emoji, a non-BMP letter,
CRLF and a combining mark."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from corpus_tools.release.tokens import mask_regions, tokenize

TEXT = "😀 Breaking 𝔸lpha: NATO\r\nsaid Zürich (Zu\u0308rich) moved."


def oracle(offsets: list[tuple[int, int]], regions: list[tuple[int, int]]) -> list[bool]:
    inside = {i for start, end in regions for i in range(start, end)}
    return [not any(i in inside for i in range(a, b)) for a, b in offsets]


def test_tokens_touching_a_region_are_masked_and_only_those() -> None:
    offsets = tokenize(TEXT)
    words = [TEXT[a:b] for a, b in offsets]
    nato = TEXT.index("NATO")
    region = (nato + 1, nato + 6)  # "ATO\r\n": NATO partly, the CR LF, not "said"
    mask = mask_regions(offsets, [region])
    masked = [w for w, keep in zip(words, mask, strict=True) if not keep]
    assert masked == ["NATO"]
    # CR LF and the "s" of "said": "said" is masked, NATO (ending where the region starts) not
    assert mask_regions(offsets, [(nato + 4, nato + 7)]) == [w != "said" for w in words]
    assert mask == oracle(offsets, [region])


def test_a_region_ending_where_a_token_starts_leaves_it_unmasked() -> None:
    offsets = tokenize(TEXT)
    alpha = TEXT.index("𝔸")
    mask = mask_regions(offsets, [(0, alpha)])  # the emoji, "Breaking" and the space before 𝔸
    words = [TEXT[a:b] for (a, b), keep in zip(offsets, mask, strict=True) if not keep]
    assert words == ["😀", "Breaking"]
    assert TEXT[offsets[len(words)][0] :].startswith("𝔸lpha")


def test_no_regions_masks_nothing_and_an_empty_region_masks_nothing() -> None:
    offsets = tokenize(TEXT)
    assert mask_regions(offsets, []) == [True] * len(offsets)
    assert mask_regions(offsets, [(5, 5)]) == [True] * len(offsets)


def test_the_combining_mark_stays_with_its_letter() -> None:
    offsets = tokenize(TEXT)
    u = TEXT.index("u\u0308")
    mask = mask_regions(offsets, [(u + 1, u + 2)])  # only the combining diaeresis
    masked = [TEXT[a:b] for (a, b), keep in zip(offsets, mask, strict=True) if not keep]
    assert masked == ["Zu\u0308rich"]


@settings(derandomize=True, max_examples=200)
@given(
    st.lists(
        st.tuples(st.integers(0, len(TEXT)), st.integers(0, len(TEXT))).map(sorted),
        max_size=4,
    )
)
@example([(0, 1)])
@example([(len(TEXT) - 1, len(TEXT))])
def test_mask_agrees_with_the_code_point_oracle(regions: list[list[int]]) -> None:
    offsets = tokenize(TEXT)
    spans = [(a, b) for a, b in regions]
    assert mask_regions(offsets, spans) == oracle(offsets, spans)
