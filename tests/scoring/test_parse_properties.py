"""Property tests (hypothesis): any reply gives a parse result or a reason, never an exception."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from robostress.scoring import MAX_BYTES, parse_box, parse_choice, parse_point

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OPTS = ("the red mug", "the blue can", "the table", "the green cone")
# replies: arbitrary bytes decoded as a server might, and text made of the parser's own tokens
replies = st.one_of(
    st.binary(max_size=400).map(lambda b: b.decode("utf-8", "replace")),
    st.text(max_size=400),
    st.lists(st.sampled_from(["A", "B", "a", "(", ")", "[", "]", ",", " ", "answer:", "the table", "nan", "inf",
                              "1e308", "1e309", "-0", "500", "1000.0", ".5", "x=", "y=", "\n", "**", "<box>"]),
             max_size=30).map("".join),
)


def check(p: object, ok_value: object) -> None:
    value, error = p.value, p.error  # type: ignore[attr-defined]
    assert (value is None) != (error is None), p  # exactly one of an answer and a reason
    if error is not None:
        assert isinstance(error, str) and error
    else:
        assert ok_value(value)  # type: ignore[operator]


@SETTINGS
@given(replies, st.integers(min_value=1, max_value=8))
@example("A" * (MAX_BYTES * 2), 4)
def test_parse_choice_never_raises(text: str, n: int) -> None:
    opts = tuple(f"option {i}" for i in range(n)) if n != 4 else OPTS
    check(parse_choice(text, opts), lambda v: v in "ABCDEFGH"[:n])


@SETTINGS
@given(replies)
@example("[1e309, 0, 2, 3]")
@example("[NaN, 1, 2, 3]")
def test_parse_box_never_raises(text: str) -> None:
    check(parse_box(text), lambda v: len(v) == 4 and all(math.isfinite(x) and 0 <= x <= 1000 for x in v)
          and v[0] < v[2] and v[1] < v[3])


@SETTINGS
@given(replies)
def test_parse_point_never_raises(text: str) -> None:
    check(parse_point(text), lambda v: len(v) == 2 and all(math.isfinite(x) and 0 <= x <= 1000 for x in v))


@SETTINGS
@given(st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), min_size=2, max_size=2),
       st.sampled_from(["({}, {})", "[{}, {}]", "x={}, y={}", "{} {}"]))
def test_a_written_point_parses_back(xy: list[float], fmt: str) -> None:
    p = parse_point(fmt.format(*(repr(v) for v in xy)))
    assert p.error is None and p.value == xy
