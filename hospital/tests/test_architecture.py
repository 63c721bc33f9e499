"""The dependency picture holds: people (staff) know nothing of time (appointments)."""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_module_of_staff_imports_appointments():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] == "appointments"
        )
        for path in (ROOT / "staff").rglob("*.py")
        if "tests" not in path.relative_to(ROOT).parts
    }

    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_lazy_imports_inside_functions(tmp_path):
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from appointments.services import x\n    import appointments.models\n")

    assert imported_modules(module) == {"appointments.services", "appointments.models"}
