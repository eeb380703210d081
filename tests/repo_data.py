"""Where the repo's own data is, found from this folder (not from the package, which may be installed anywhere)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
INDEX = REPO / "index"
REPORT = CORPUS / "cq-vet-quality-report-2024.txt"
# shared/ lies beside the repo (a CI clone) or beside its worktree folder.
DEV_SETS = [REPO.parent / "shared" / "eval" / "dev.jsonl", REPO.parents[1] / "shared" / "eval" / "dev.jsonl"]
