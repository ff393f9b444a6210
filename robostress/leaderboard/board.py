"""Submit a verified bundle to a board and build the board's README table and static index.html.

An accepted entry is a folder ``entries/<slug>/`` with the bundle's ``run.json`` and
``model_card.json``, the predictions (gzip'd when over ``GZIP_OVER`` bytes) and ``entry.json``:
the recomputed scores and any flags. ``build`` reads only ``entry.json`` files, so a board is
rebuilt in a second; every string that came from a submitter is escaped (HTML and Markdown).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

from robostress.benchmark.load import Benchmark
from robostress.catalog import catalog_dir
from robostress.errors import ConfigError, DataError
from robostress.leaderboard.bundle import write_gzip
from robostress.leaderboard.verify import Board, Verdict, verify
from robostress.metrics import Headline, HeadlineCell
from robostress.render.io import write_atomic

ENTRY_SCHEMA_VERSION = 1
GZIP_OVER = 2_000_000
MAX_CELL = 120


def slug(name: str) -> str:
    """A folder name for an entry: lower-case letters, digits, '.', '_', '+' and '-'."""
    s = re.sub(r"[^a-z0-9._+-]+", "-", name.lower()).strip("-.")[:64]
    if not s:
        raise DataError(f"model name {name[:40]!r} gives no usable entry name")
    return s


def submit(bundle: Path, board: Board, bench: Benchmark, *, replace: bool = False,
           resamples: int = 2000) -> tuple[Verdict, Path | None]:
    """Verify ``bundle`` and, if accepted, store it as an entry and rebuild the board."""
    v = verify(bundle, board, bench, resamples)
    if not v.ok:
        return v, None
    dest = board.entries_dir / slug(v.card["name"])
    if dest.exists() and not replace:
        raise DataError(f"board {board.name!r} already has an entry {dest.name!r}; pass replace=true to replace it")
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write_atomic(tmp / "run.json", json.dumps(portable_run(v.run), indent=2, sort_keys=True).encode())
    shutil.copyfile(Path(bundle) / "model_card.json", tmp / "model_card.json")
    blob = "".join(json.dumps(p.model_dump(mode="json"), sort_keys=True) + "\n" for p in v.predictions).encode()
    if len(blob) > GZIP_OVER:
        write_gzip(tmp / "predictions.jsonl.gz", blob)
    else:
        write_atomic(tmp / "predictions.jsonl", blob)
    assert v.scores is not None  # an accepted verdict carries its recomputed scores
    entry = {"schema_version": ENTRY_SCHEMA_VERSION, "name": v.card["name"], "card": v.card,
             "scores": v.scores.to_dict(), "flags": v.flags, "n_items": len(v.predictions),
             "benchmark_hash": board.benchmark_hash, "benchmark_identity": board.benchmark_identity,
             "run_fingerprint": v.run.get("fingerprint"),
             "git_revision": v.run.get("git_revision")}
    write_atomic(tmp / "entry.json", json.dumps(entry, indent=1, sort_keys=True, allow_nan=False).encode())
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    build(board)
    return v, dest


def portable_run(run: dict[str, Any]) -> dict[str, Any]:
    """``run`` with every absolute path made relative (to the working directory where it lies
    below it, else its last component): what is shipped names no machine's folders."""
    def fix(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: fix(v) for k, v in x.items()}
        if isinstance(x, list):
            return [fix(v) for v in x]
        if isinstance(x, str) and (x.startswith("/") or re.match(r"[A-Za-z]:[\\/]", x)) and "\n" not in x:
            p = Path(x)
            try:
                return p.relative_to(Path.cwd()).as_posix()
            except ValueError:
                return p.name
        return x

    return fix(run)


def entries(board: Board) -> list[dict[str, Any]]:
    """Accepted entries (entry.json, its ``scores`` read as a typed Headline), best stressed
    accuracy first (ties by name)."""
    out = []
    for p in sorted(board.entries_dir.glob("*/entry.json")):
        e = json.loads(p.read_text())
        same = (e.get("benchmark_identity") == board.benchmark_identity if board.benchmark_identity is not None
                else e.get("benchmark_hash") == board.benchmark_hash)
        if e.get("schema_version") != ENTRY_SCHEMA_VERSION or not same:
            raise DataError(f"{p}: entry of another schema or benchmark; resubmit it")
        e["slug"] = p.parent.name
        e["scores"] = Headline.from_dict(e.get("scores"), f"{p}: scores")
        out.append(e)
    return sorted(out, key=lambda e: (-(e["scores"].stressed.accuracy or 0), e["name"]))


def _ident(board: Board) -> str:
    if board.benchmark_identity is None:
        return f"content hash `{board.benchmark_hash}`"
    return f"identity `{board.benchmark_identity}`, content hash of the board's build `{board.benchmark_hash[:12]}`"


def _dims(es: list[dict[str, Any]]) -> list[str]:
    return sorted({d for e in es for d in e["scores"].by_dimension})


def _pc(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _est(c: HeadlineCell | None) -> str:
    if c is None or c.accuracy is None:
        return "–"
    return f"{_pc(c.accuracy)} [{_pc(c.ci95[0])}, {_pc(c.ci95[1])}]"


def _md(text: str) -> str:
    """Submitter text inside a Markdown table cell: no markup, links, HTML or row breaks."""
    text = re.sub(r"\s+", " ", str(text))[:MAX_CELL]
    return re.sub(r"([\\`*_\[\]|~])", r"\\\1", html.escape(text, quote=False))


def table_rows(board: Board) -> tuple[list[str], list[list[str]], list[dict[str, Any]]]:
    """Header, rows (display text) and the entries, in rank order."""
    es = entries(board)
    dims = _dims(es)
    header = ["rank", "model", "stressed % [95% CI]", "clean % [95% CI]"] + dims + ["worst dimension", "flags"]
    rows = []
    for i, e in enumerate(es, 1):
        s: Headline = e["scores"]
        w = s.worst_dimension
        rows.append([str(i), e["name"], _est(s.stressed), _est(s.clean)]
                    + [_est(s.by_dimension.get(d)) for d in dims]
                    + [f"{w.dimension if w else '–'} ({_pc(w.accuracy if w else None)})", "; ".join(e["flags"]) or ""])
    return header, rows, es


def build(board: Board) -> dict[str, Path]:
    """Write the board's README.md (table) and index.html (static, sortable)."""
    header, rows, es = table_rows(board)
    md = [f"# {_md(board.title)}", "",
          f"Benchmark `{board.benchmark_name}` ({_ident(board)}). Scores are recomputed "
          "from each entry's raw answers; intervals are 95% two-stage cluster bootstraps (scenes, then "
          "clean-twin families); the worst dimension is the lowest stressed accuracy. Submit with "
          f"`robostress leaderboard submit board={board.name} bundle=PATH` (see docs/leaderboard.md).", "",
          "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(_md(c) if j in (1, len(r) - 1) else c for j, c in enumerate(r)) + " |" for r in rows]
    files = {"md": board.root / "README.md", "html": board.root / "index.html"}
    write_atomic(files["md"], ("\n".join(md) + "\n").encode())
    write_atomic(files["html"], index_html(board, header, rows, es).encode())
    return files


SORT_JS = ("document.querySelectorAll('th').forEach((th,i)=>th.onclick=()=>{const t=th.closest('table'),"
           "b=t.tBodies[0],d=th.dataset.dir==='asc'?'desc':'asc';th.dataset.dir=d;[...b.rows].sort((x,y)=>{"
           "const p=x.cells[i].dataset.v,q=y.cells[i].dataset.v,a=p===undefined?x.cells[i].textContent:+p,"
           "c=q===undefined?y.cells[i].textContent:+q;return (a<c?-1:a>c?1:0)*(d==='asc'?1:-1)})"
           ".forEach(r=>b.appendChild(r))});")


def _num(c: HeadlineCell | None) -> str:
    return "" if c is None or c.accuracy is None else f" data-v='{c.accuracy:.6f}'"


def index_html(board: Board, header: list[str], rows: list[list[str]], es: list[dict[str, Any]]) -> str:
    """A self-contained page: the table sorts by any column on a click (a few lines of inline script,
    no external resources); every cell's text is escaped."""
    esc = html.escape
    dims = _dims(es)
    body = []
    for r, e in zip(rows, es, strict=True):
        s: Headline = e["scores"]
        card = e["card"]
        url = card.get("url", "")
        name = esc(r[1][:MAX_CELL])
        if re.fullmatch(r"https?://[^\s\"'<>]{1,300}", url):
            name = f"<a href='{esc(url)}' rel='nofollow noopener'>{name}</a>"
        extra = esc(" · ".join(str(card[k])[:MAX_CELL] for k in ("organisation", "parameters", "license") if k in card))
        cells = [f"<td data-v='{r[0]}'>{r[0]}</td>", f"<td>{name}<br><small>{extra}</small></td>",
                 f"<td{_num(s.stressed)}>{esc(r[2])}</td>", f"<td{_num(s.clean)}>{esc(r[3])}</td>"]
        cells += [f"<td{_num(s.by_dimension.get(d))}>{esc(c)}</td>" for d, c in zip(dims, r[4:4 + len(dims)], strict=True)]
        cells += [f"<td>{esc(r[-2])}</td>", f"<td class=flag>{esc(r[-1][:500])}</td>"]
        body.append("<tr>" + "".join(cells) + "</tr>")
    css = ("body{font-family:system-ui,sans-serif;max-width:1300px;margin:auto;padding:1em;color:#222}"
           "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 7px;font-size:13px;"
           "text-align:right}td:nth-child(2),th:nth-child(2){text-align:left}th{background:#f3f3f3;cursor:pointer}"
           ".flag{color:#b00;text-align:left}")
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(board.title)}</title>"
            f"<style>{css}</style></head><body><h1>{esc(board.title)}</h1>"
            f"<p>Benchmark <code>{esc(board.benchmark_name)}</code> ({esc(_ident(board).replace('`', ''))}). Scores recomputed "
            "from raw answers; 95% scene-bootstrap intervals; click a column to sort.</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<script>{SORT_JS}</script></body></html>\n")


def board_dir(name: str, root: Path | None = None) -> Path:
    """The folder of board ``name`` under ``root`` (default: the leaderboards catalog)."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name) or name.startswith("."):
        raise ConfigError(f"invalid board name {name[:40]!r}")
    base = Path(root) if root else catalog_dir("leaderboards")
    path = base / name
    if not (path / "board.yaml").is_file():
        have = sorted(p.parent.name for p in base.glob("*/board.yaml"))
        raise ConfigError(f"unknown board {name!r}; boards: {', '.join(have) or 'none'}")
    return path


def pack(run_dir: Path, out: Path, card: dict[str, Any]) -> Path:
    """Make a submission bundle from a run folder: its run.json, its predictions (gzip'd when
    large) and ``card`` as model_card.json (schema_version added)."""
    run_dir, out = Path(run_dir), Path(out)
    for need in ("run.json", "predictions.jsonl"):
        if not (run_dir / need).is_file():
            raise DataError(f"{run_dir} has no {need}; pack a folder written by robostress eval")
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out} exists and is not empty; choose a new bundle folder")
    out.mkdir(parents=True, exist_ok=True)
    run = json.loads((run_dir / "run.json").read_bytes())
    write_atomic(out / "run.json", json.dumps(portable_run(run), indent=2, sort_keys=True).encode())
    blob = (run_dir / "predictions.jsonl").read_bytes()
    if len(blob) > GZIP_OVER:
        write_gzip(out / "predictions.jsonl.gz", blob)
    else:
        write_atomic(out / "predictions.jsonl", blob)
    card = {"schema_version": 1, **{k: str(v) for k, v in card.items() if v is not None}}
    write_atomic(out / "model_card.json", json.dumps(card, indent=1, sort_keys=True).encode())
    return out
