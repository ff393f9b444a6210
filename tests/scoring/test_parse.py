"""Strict answer parsing: a table of ordinary, sloppy and adversarial replies."""

from __future__ import annotations

import time

import pytest

from robostress.scoring import MAX_BYTES, bound, parse_box, parse_choice, parse_point

OPTS = ("the red mug", "the blue can", "the table", "the green cone")
CHOICES = [
    # the letter alone, in any wrapping
    ("B", "B"), ("(B)", "B"), ("b", "B"), ("(c)", "C"), (" A ", "A"), ("A.", "A"), ("'D'", "D"),
    ("**C**", "C"), ("[D]", "D"), ("Answer: C", "C"), ("Answer: (C)", "C"), ("**Answer:** (C).", "C"),
    ("the answer is D.", "D"), ("The correct answer is B", "B"), ("Final answer: B", "B"),
    ("option A", "A"), ("Choice: d", "D"), ("<answer>C</answer>", "C"),
    # option text, or letter with its own text
    ("the table", "C"), ("The Table", "C"), ("  the   green cone ", "D"), ("B. the blue can", "B"),
    ("A) the red mug", "A"), ("C: the table", "C"),
    # one standalone capital letter in a sentence
    ("I think it's A because the mug is red", "A"), ("It is B, the blue can.", "B"),
    ("A red mug is on the left, so B", "B"), ("A is correct", "A"),
    # unparsable: articles, ambiguity, contradictions, not an option, garbage
    ("a cup", None), ("A cup", None), ("a", "A"), ("A or B", None), ("A, B", None), ("A\nB", None),
    ("B) the red mug", None), ("AB", None), ("E", None), ("the answer is F", None), ("", None),
    ("   ", None), ("the mug", None), ("1", None), ("Optional", None), ("no idea", None),
    ("<script>alert(1)</script>", None), ("<img src=x onerror=alert(1)>", None),
    ("x" * 10_000, None), ("x" * 9000 + " B", None), ("\x00\x01B\x02", "B"), ("Ｂ", None),
]


@pytest.mark.parametrize("text,want", CHOICES)
def test_parse_choice(text: str, want: str | None) -> None:
    p = parse_choice(text, OPTS)
    assert p.value == want, p
    assert (p.error is None) == (want is not None)
    if want is None:
        assert p.error  # every failure says why


def test_choice_errors_name_the_problem() -> None:
    assert "several letters (A, B)" in str(parse_choice("A or B", OPTS).error)
    assert "E is not an option" in str(parse_choice("E", OPTS).error)
    assert "disagree" in str(parse_choice("B) the red mug", OPTS).error)
    assert parse_choice("A", ("same", "same")).value == "A"
    assert "several identical" in str(parse_choice("same", ("same", "same")).error)
    assert parse_choice("H", tuple("abcdefgh")).value == "H"  # eight options use A..H


@pytest.mark.parametrize("text,want", [
    ("[10, 20, 300, 400]", [10, 20, 300, 400]), ("(10,20),(300,400)", [10, 20, 300, 400]),
    ("<box>1 2 3 4</box>", [1, 2, 3, 4]), ("<box>(1,2),(3,4)</box>", [1, 2, 3, 4]),
    ("10.5 20 30 40", [10.5, 20, 30, 40]), ("x1=5, y1=6, x2=70, y2=80", [5, 6, 70, 80]),
    ("The box is [0, 0, 1000, 1000].", [0, 0, 1000, 1000]), ("[1e2, 2e2, 3e2, 4e2]", [100, 200, 300, 400]),
    ("[300, 20, 10, 400]", None), ("[10, 20, 10, 400]", None), ("[1, 2, 3]", None), ("[1, 2, 3, 4, 5]", None),
    ("[nan, 1, 2, 3]", None), ("[NaN, NaN, NaN, NaN]", None), ("[inf, 0, 5, 5]", None), ("[-inf, 0, 5, 5]", None),
    ("[-1, 2, 3, 4]", None), ("[0, 0, 1001, 5]", None), ("[0, 0, 1e400, 5]", None), ("no box", None),
    ("[10px, 20px, 30px, 40px]", None), ("", None), ("1" * 9000, None),
])
def test_parse_box(text: str, want: list[float] | None) -> None:
    p = parse_box(text)
    assert p.value == want, p
    assert (p.error is None) == (want is not None)


@pytest.mark.parametrize("text,want", [
    ("(500, 600)", [500, 600]), ("[1,2]", [1, 2]), ("x=12, y=40", [12, 40]), ("x=12.5,y=0", [12.5, 0]),
    ("Point: (0, 1000).", [0, 1000]), ("(1001, 5)", None), ("(-3, 5)", None), ("(1, 2, 3)", None),
    ("(nan, 1)", None), ("(inf, 1)", None), ("", None), ("banana (5, 6)", [5, 6]), ("x1 y2", None),
])
def test_parse_point(text: str, want: list[float] | None) -> None:
    p = parse_point(text)
    assert p.value == want, p
    assert (p.error is None) == (want is not None)


def test_input_is_bounded_and_fast() -> None:
    assert len(bound("é" * 10_000).encode()) <= MAX_BYTES
    assert bound("short") == "short"
    # text after the first 8 KB never changes the answer
    assert parse_choice("x " * 5000 + "B", OPTS).value is None
    assert parse_box("[1, 2, 3, 4]" + " 5" * 5000).error == f"expected 4 numbers, found {4 + (MAX_BYTES - 12) // 2}"
    t = time.perf_counter()
    for junk in ("(" * 100_000, "1." * 100_000, "A " * 100_000, "[" + "9," * 100_000):
        parse_choice(junk, OPTS)
        parse_box(junk)
        parse_point(junk)
    assert time.perf_counter() - t < 1.0
