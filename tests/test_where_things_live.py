"""book/where-things-live.md names one file and one symbol per paper concept: each exists."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "where-things-live.md"
CONCEPTS = ("LRN", "pooling", "two-column", "crops", "PCA", "Ten-crop", "Dropout", "update rule",
            "Initialisation", "dense evaluation", "Run records", "verdict", "Presets")


def rows() -> list[dict]:
    """The page's table as dicts keyed by its header (backticks stripped)."""
    lines = [line.strip() for line in PAGE.read_text().splitlines() if line.strip().startswith("|")]
    cells = [[c.strip().strip("`") for c in line.strip("|").split("|")] for line in lines]
    header, body = cells[0], [c for c in cells[1:] if not set("".join(c)) <= set("-: ")]
    return [dict(zip(header, c)) for c in body]


def defined(path: Path) -> set[str]:
    """Names a module defines at its top level: functions, classes, assignments."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_the_table_has_path_and_symbol_columns_and_every_concept():
    table = rows()
    assert table and {"path", "symbol"} <= set(table[0])
    text = " ".join(r["concept"] for r in table)
    missing = [c for c in CONCEPTS if c.lower() not in text.lower()]
    assert not missing, f"concepts without a row: {missing}"
    assert len({(r["path"], r["symbol"]) for r in table}) == len(table)


@pytest.mark.parametrize("row", rows(), ids=lambda r: r["symbol"])
def test_each_file_exists_and_defines_its_symbol(row):
    path = ROOT / row["path"]
    assert path.is_file(), f"{row['path']} does not exist"
    assert row["symbol"] in defined(path), f"{row['path']} defines no {row['symbol']}"
