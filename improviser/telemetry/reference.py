"""The MQTT reference page of the manual (``docs/reference/mqtt.md``), written from the code.

The topics come from :class:`~improviser.telemetry.topics.Topics` (their names and
docstrings), every payload's fields and JSON Schema from
:func:`improviser.telemetry.schemas.schemas` (the pydantic payload models and the controls'
schema), so the page can only say what the code does; a test keeps the committed page
equal to :func:`mqtt_reference`.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from typing import Any

from improviser.telemetry.schemas import TOPIC_MODELS, schemas
from improviser.telemetry.topics import Topics

__all__ = ["mqtt_reference"]

SCHEMA_LINK = "../../improviser/telemetry/schemas/{topic}.json"
"""Where a topic's checked-in schema is, from ``docs/reference/``."""
INSTANCE = "<instance>"


def _md(text: str) -> str:
    """Docstring markup as Markdown: RST's double backticks and roles become code."""
    text = re.sub(r":(?:class|func|meth|attr):`~?([^`]+)`", r"`\1`", text)
    return re.sub(r"``([^`]+)``", r"`\1`", " ".join(text.split()))


def _cell(text: str) -> str:
    return _md(text).replace("|", "\\|")


def _topic_rows() -> list[tuple[str, str]]:
    """(topic, what) for every topic and filter of ``Topics``, in the class's order."""
    topics = Topics(INSTANCE)
    rows = []
    for name, member in vars(Topics).items():
        if name.startswith("_") or name in {"base", "control_key"}:
            continue
        if isinstance(member, property) and member.fget is not None:
            topic = member.fget(topics)
            doc = inspect.getdoc(member) or ""
        elif inspect.isfunction(member):
            function: Callable[[Topics, str], str] = member
            topic = function(topics, "<key>")
            doc = inspect.getdoc(member) or ""
        else:
            continue
        rows.append((topic, doc))
    return rows


def _type(schema: dict[str, Any]) -> str:
    """A JSON Schema's type in a few words (``integer [1, 16]``, ``"a", "b"``, ...)."""
    if "anyOf" in schema:
        return " or ".join(_type(option) for option in schema["anyOf"])
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    values = schema.get("enum", [schema["const"]] if "const" in schema else None)
    if values is not None:
        return ", ".join(f"`{json.dumps(value)}`" for value in values)
    kind = schema.get("type")
    if kind is None:
        return "any JSON value"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_type(schema['additionalProperties'])}"
    return " ".join([str(kind), *_bounds(schema)])


def _bounds(schema: dict[str, Any]) -> list[str]:
    """A scalar schema's range, lengths and pattern, in words."""
    words = []
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None or high is not None:
        left = "(" if "exclusiveMinimum" in schema else "["
        right = ")" if "exclusiveMaximum" in schema else "]"
        low_text = "…" if low is None else f"{low:g}"
        high_text = "…" if high is None else f"{high:g}"
        words.append(f"{left}{low_text}, {high_text}{right}")
    if "minLength" in schema or "maxLength" in schema:
        words.append(f"length {schema.get('minLength', 0)}..{schema.get('maxLength', '')}")
    if "pattern" in schema:
        words.append("matching the schema's pattern")
    return words


def _fields(schema: dict[str, Any]) -> list[str]:
    """A table of an object schema's fields."""
    required = set(schema.get("required", []))
    lines = ["| field | type | required | what |", "| --- | --- | --- | --- |"]
    for name, field in schema.get("properties", {}).items():
        default = f" (default `{json.dumps(field['default'])}`)" if "default" in field else ""
        lines.append(
            f"| `{name}` | {_cell(_type(field))} | {'yes' if name in required else 'no'} "
            f"| {_cell(field.get('description', ''))}{default} |"
        )
    return lines


def _schema_block(schema: dict[str, Any]) -> list[str]:
    """The whole schema, folded away."""
    return [
        '<details markdown="1">',
        "<summary>JSON Schema</summary>",
        "",
        "```json",
        json.dumps(schema, indent=2),
        "```",
        "",
        "</details>",
    ]


def _payload(topic: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### `{topic}`", ""]
    lines += [_md(schema.get("description", "")), ""]
    lines += [*_fields(schema), ""]
    for name, sub in schema.get("$defs", {}).items():
        lines += [f"`{name}`: {_md(sub.get('description', ''))}", "", *_fields(sub), ""]
    link = SCHEMA_LINK.format(topic=topic)
    lines += [f"Schema file: [`{topic}.json`]({link}).", ""]
    return [*lines, *_schema_block(schema), ""]


def _controls(schema: dict[str, Any]) -> list[str]:
    lines = [
        "## Controls: `set/<key>`",
        "",
        _md(schema.get("description", "")),
        "Each control is answered on `ack` (done; the value now in force) or `error`",
        "(refused; nothing changed), with the payload of the `ack` schema.",
        "",
        "| key | value | what |",
        "| --- | --- | --- |",
    ]
    objects: list[str] = []
    for key, control in sorted(schema.get("$defs", {}).items()):
        what = _cell(control.get("description", ""))
        lines.append(f"| `{key}` | {_cell(_type(control))} | {what} |")
        for option in control.get("anyOf", []):
            if "properties" in option:
                objects += ["", f"`{key}` as an object: {_md(option.get('description', ''))}"]
                objects += ["", *_fields(option)]
    link = SCHEMA_LINK.format(topic="set")
    lines += [
        *objects,
        "",
        f"Schema file: [`set.json`]({link}) (one schema per key under `$defs`).",
        "",
    ]
    return [*lines, *_schema_block(schema), ""]


def mqtt_reference() -> str:
    """The page: topics, every payload's fields and schema, the controls."""
    every = schemas()
    lines = [
        "# MQTT topics and payloads",
        "",
        "<!-- Generated by `python -m improviser.cli.docs` from improviser/telemetry "
        "(topics.py, payloads.py, the controls' schema); edit the code, not this page. -->",
        "",
        "This page is written from the code (`improviser/telemetry/topics.py`,",
        "`payloads.py` and the controls' schema) by `python -m improviser.cli.docs`, and a",
        "test keeps it equal to the code. How to use the topics: "
        "[Watching and steering over MQTT](../mqtt.md).",
        "",
        "Every payload is JSON. Times (`at`) are seconds since the session started.",
        "",
        "## Topics",
        "",
        f"Every topic is under `improviser/{INSTANCE}/`, one `{INSTANCE}` a session "
        "(`--mqtt-instance`).",
        "",
        "| topic | what | schema |",
        "| --- | --- | --- |",
    ]
    for topic, doc in _topic_rows():
        name = topic.removeprefix(f"improviser/{INSTANCE}/")
        key = "set" if name.startswith("set/") else name
        schema = f"`{key}.json`" if key in every else ""
        lines.append(f"| `{name}` | {_cell(doc)} | {schema} |")
    lines += ["", "## Payloads", ""]
    for topic in TOPIC_MODELS:
        lines += _payload(topic, every[topic])
    lines += _controls(every["set"])
    return "\n".join(lines).rstrip("\n") + "\n"
