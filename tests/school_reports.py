"""Two school reports that state the same kinds of facts with different figures (the document filter's tests)."""

from pathlib import Path

SCHOOL_REPORTS = {
    "school-a.md": "# 甲校质量年报\n\n## 1 办学规模\n\n甲校2024年全日制在校生12000人，开设专业45个。\n\n"
    "## 2 就业质量\n\n甲校2024届毕业生就业率为96.2%。\n",
    "school-b.md": "# 乙校质量年报\n\n## 1 办学规模\n\n乙校2024年全日制在校生8600人，开设专业31个。\n\n"
    "## 2 就业质量\n\n乙校2024届毕业生就业率为93.5%。\n",
}


def write_corpus(corpus: Path, documents: dict[str, str]) -> Path:
    corpus.mkdir(parents=True)
    for name, text in documents.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return corpus
