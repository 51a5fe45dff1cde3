"""The house's import rules (issue 17): no import loop inside ``portal/`` or ``integrations/`` (lazy imports inside
functions count too), and ``portal/core`` is a foundation that imports no domain app."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOUNDATION_MAY_IMPORT = ("portal.core", "portal.settings", "portal.celery_app")


def modules() -> dict[str, Path]:
    found = {}
    for base in ("portal", "integrations"):
        for path in (ROOT / base).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against this module's package
                    parts = name.split(".")
                    package = ".".join(parts[: len(parts) - node.level + (1 if path.name == "__init__.py" else 0)])
                    base = f"{package}.{node.module}" if node.module else package
                else:
                    base = node.module or ""
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            else:
                continue
            graph[name] |= {target for target in targets if target in known and target != name}
    return graph


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_there_is_no_import_loop():
    assert loops(import_graph()) == []


def test_the_loop_finder_finds_a_loop():
    assert loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_core_imports_no_domain_app():
    graph = import_graph()
    offending = {
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.startswith("portal.core")
        for target in targets
        if target.startswith("portal.") and not target.startswith(FOUNDATION_MAY_IMPORT)
    }

    assert offending == set()


def test_the_reconciliation_changes_invoices_only_through_the_owning_apps_services():
    """Its fixes call incoming and outgoing services; they do not create, update or move invoice rows themselves."""
    writes = ("IncomingInvoice.objects", "OutgoingInvoice.objects", "lifecycle.transition", "lifecycle.enqueue")
    offending = [
        f"{path.relative_to(ROOT)}: {write}"
        for path in (ROOT / "portal" / "reconciliation").glob("*.py")
        for write in writes
        if write in path.read_text(encoding="utf-8") and path.name in ("fixes.py", "services.py")
    ]

    assert offending == []
