"""The claims of both papers and the one path from a record to a page: `checks` (code checks
and ImageNet-scale claims), `scorecard` (every claim's row: ours, the regime gate, THE verdict)
and `evidence` (what a chapter reads: `evidence(claim_id)`, `rows(*ids)`)."""
from __future__ import annotations

from .evidence import Evidence, evidence, marked, rows

__all__ = ["Evidence", "evidence", "marked", "rows"]
