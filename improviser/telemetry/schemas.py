"""One JSON Schema per payload, generated from the payload models and the controls.

The files in ``improviser/telemetry/schemas/`` are these, checked in (a test keeps them
equal to the code); regenerate them with ``python -m improviser.telemetry.schemas``.
``set.json`` holds one schema per control key under ``$defs``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from improviser.live.engine.controls import CONTROLS, control_schemas
from improviser.live.engine.model_swap import ModelControl
from improviser.live.session.recordings import RecordControl
from improviser.telemetry.payloads import (
    ControlReply,
    EventPayload,
    NotePayload,
    Payload,
    StatsPayload,
    StatusPayload,
)

__all__ = ["SCHEMA_DIR", "TOPIC_MODELS", "schemas", "write_schemas"]

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
TOPIC_MODELS: dict[str, type[Payload]] = {
    "status": StatusPayload,
    "notes": NotePayload,
    "stats": StatsPayload,
    "events": EventPayload,
    "ack": ControlReply,
    "error": ControlReply,
}
"""The payload model of each topic (``set/<key>``: see ``set.json``)."""
SESSION_CONTROLS = (RecordControl, ModelControl)


def _set_schema() -> dict[str, Any]:
    specs = (*CONTROLS, *(handler.spec for handler in SESSION_CONTROLS))
    handlers = {handler.spec.key: handler for handler in SESSION_CONTROLS}
    return {
        "title": "set/<key>",
        "description": "The JSON value of each control, under $defs by key.",
        "$defs": control_schemas(specs, handlers),
    }


def schemas() -> dict[str, dict[str, Any]]:
    """Topic name (``set`` for ``set/<key>``) -> its JSON Schema."""
    out = {topic: model.model_json_schema() for topic, model in TOPIC_MODELS.items()}
    out["set"] = _set_schema()
    return {
        topic: {"$schema": DIALECT, "$id": f"improviser/{topic}.json", **schema}
        for topic, schema in out.items()
    }


def write_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema as ``<topic>.json`` in ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for topic, schema in schemas().items():
        path = folder / f"{topic}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_schemas():
        print(written_path)
