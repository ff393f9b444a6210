"""Golden prompts of a fixed hand-built scene: they change only on purpose.

Regenerate with ``ROBOSTRESS_UPDATE_GOLDEN=1 python -m pytest tests/questions/test_golden.py``
after bumping ``PROMPT_VERSION`` (any change to the text a model sees is a new prompt version).
"""

from __future__ import annotations

import os
from pathlib import Path

from robostress.questions import PROMPT_VERSION, generate_items
from tests.questions.fakes import fake_render, handbuilt

GOLDEN = Path(__file__).parent / "golden" / "handbuilt_prompts.txt"


def test_prompt_snapshot() -> None:
    plan = handbuilt()
    frame, arrays = fake_render(plan)
    items, _ = generate_items(plan, frame, [(plan, frame, arrays)], seed=0)
    text = f"prompt_version={PROMPT_VERSION}\n" + "\n----\n".join(
        f"[{i.key}]\n{i.prompt}" for i in items) + "\n"
    if os.environ.get("ROBOSTRESS_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text)
    assert GOLDEN.exists(), f"no golden file; create it with ROBOSTRESS_UPDATE_GOLDEN=1 ({GOLDEN})"
    assert text == GOLDEN.read_text(), ("prompts changed: bump PROMPT_VERSION and regenerate the golden "
                                        "file with ROBOSTRESS_UPDATE_GOLDEN=1")
