"""A text file's bytes as text: UTF-8 when they are, else the encoding they were written in.

Chinese documents are often saved as GB18030/GBK (or by Windows tools as UTF-16 with a BOM);
refusing them as "not UTF-8" skipped them. A BOM decides; else strict UTF-8; else
charset-normalizer's detection (GBK and GB2312 are read as GB18030, their superset). The
encoding used is returned so that the build can say which it was.
"""

from __future__ import annotations

import codecs

UTF8 = "utf-8"
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # UTF-32 LE starts like UTF-16 LE
_SUPERSETS = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030"}


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name); ValueError when the bytes are no text in any encoding detected."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _strict(data, name), name.removesuffix("-sig")
    try:
        return data.decode(UTF8), UTF8
    except UnicodeDecodeError as exc:
        utf8_error = f"{exc.reason} at byte {exc.start}"
    from charset_normalizer import from_bytes  # only for files that are not UTF-8

    best = from_bytes(data).best()
    if best is None:
        raise ValueError(f"not UTF-8 text ({utf8_error}), and no other text encoding fits it")
    name = _SUPERSETS.get(best.encoding.replace("_", "").lower(), best.encoding.replace("_", "-"))
    return _strict(data, name), name


def _strict(data: bytes, name: str) -> str:
    try:
        return data.decode(name)
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid {name} text ({exc.reason} at byte {exc.start})") from exc
