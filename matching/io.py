"""JSON-lines input / output with errors that name the file and line."""

from __future__ import annotations

import json
from pathlib import Path

from .records import record_id


class InputError(ValueError):
    """Bad input data; ``str(err)`` names the file and line number."""

    def __init__(self, path, line: int | None, message: str):
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


def read_jsonl(path, require_id: bool = True) -> list[dict]:
    """Records of a JSON-lines file (blank lines skipped); ids normalised to ``str``."""
    records = []
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - opened here to report a clean error, closed below
    except OSError as err:
        raise InputError(path, None, f"cannot read file ({err.strerror})") from None
    with handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(path, line_number, f"malformed JSON ({err.msg})") from None
            if not isinstance(record, dict):
                raise InputError(path, line_number, "expected a JSON object")
            if require_id:
                try:
                    record["id"] = record_id(record)
                except ValueError:
                    raise InputError(path, line_number, "record has no 'id'") from None
            record["_line"] = line_number
            records.append(record)
    return records


def read_edges(path, offer_ids: set[str], need_ids: set[str] | None) -> list[dict]:
    """Edges of a JSON-lines file, checked: ``offer:X`` / ``need:X`` must name a known record.

    ``need_ids`` None skips the need check (needs not known yet).
    """
    edges = []
    for record in read_jsonl(path, require_id=False):
        line = record.pop("_line")
        for end in ("source", "target"):
            node = record.get(end)
            if not isinstance(node, (str, int)) or str(node).strip() == "":
                raise InputError(path, line, f"edge has no '{end}'")
            node = str(node)
            record[end] = node
            if node.startswith("offer:") and node[6:] not in offer_ids:
                raise InputError(path, line, f"unknown edge end {node!r}: no offer with id {node[6:]!r}")
            if need_ids is not None and node.startswith("need:") and node[5:] not in need_ids:
                raise InputError(path, line, f"unknown edge end {node!r}: no need with id {node[5:]!r}")
        edges.append(record)
    return edges


def check_unique(records: list[dict], path) -> None:
    """Duplicate ids are an error (they would silently shadow each other)."""
    seen: dict[str, int] = {}
    for record in records:
        if record["id"] in seen:
            raise InputError(
                path,
                record.get("_line"),
                f"duplicate id {record['id']!r} (first on line {seen[record['id']]})",
            )
        seen[record["id"]] = record.get("_line")


def write_jsonl(path, rows) -> None:
    """Write one JSON object per line (UTF-8, Chinese kept readable)."""
    with open(Path(path), "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
