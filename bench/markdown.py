"""The reports' Markdown: templates under bench/templates/ (string.Template) and table rows to fill them."""

from collections.abc import Iterable
from pathlib import Path
from string import Template

TEMPLATES = Path(__file__).resolve().parent / "templates"


def render(template: str, **values: object) -> str:
    """bench/templates/<template> with every $name replaced; a name without a value raises KeyError."""
    return Template((TEMPLATES / template).read_text()).substitute(values)


def rows(table: Iterable[Iterable[object]]) -> str:
    """Markdown table rows, one line each, for a template to place under its table's header."""
    return "\n".join("| " + " | ".join(str(cell) for cell in cells) + " |" for cells in table)


def bullets(items: Iterable[object]) -> str:
    return "\n".join(f"- {item}" for item in items)
