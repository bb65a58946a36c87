"""The catalog is the only list of actions: no module of actions/ keeps a table keyed by action kinds."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from types import ModuleType

import actions
from actions.catalog import CATALOG
from actions.models import ActionType

CATALOG_PACKAGE = "actions.catalog"


def _modules() -> Iterator[ModuleType]:
    for info in pkgutil.walk_packages(actions.__path__, prefix="actions."):
        yield importlib.import_module(info.name)


def _action_tables(module: ModuleType) -> list[str]:
    """Module-level names holding a mapping keyed by action kinds, or a collection of action kinds."""
    found = []
    for name, value in vars(module).items():
        if isinstance(value, type) or value is CATALOG:
            continue  # ActionType itself, classes, and the catalog wherever it is imported
        if isinstance(value, Mapping):
            items: object = list(value.keys())
        elif isinstance(value, set | frozenset | list | tuple):
            items = list(value)
        else:
            continue
        if isinstance(items, list) and any(isinstance(item, ActionType) for item in items):
            found.append(f"{module.__name__}.{name}")
    return found


def test_no_module_outside_the_catalog_keeps_a_table_of_actions() -> None:
    """Verification, operator names, subjects, risk inputs and drains live in each ``ActionSpec``."""
    modules = list(_modules())
    assert {"actions.verify", "actions.operators", "actions.edits", "actions.risk"} <= {
        m.__name__ for m in modules
    }
    offenders = [
        table
        for module in modules
        if not module.__name__.startswith(CATALOG_PACKAGE)
        for table in _action_tables(module)
    ]
    assert offenders == []


def test_the_walk_sees_a_table_when_there_is_one() -> None:
    """A mapping keyed by action kinds, or a set of them, is reported; other module values are not."""
    module = ModuleType("actions.example")
    module.DESC = {ActionType.ADD_PEER: "admin-add-peer"}
    module.DRAINS = frozenset({ActionType.OFFLINE_STORE})
    module.NAMES = {"add-peer": 1}
    module.LIMIT = 3
    assert _action_tables(module) == ["actions.example.DESC", "actions.example.DRAINS"]


def test_each_entry_carries_what_the_executor_and_reconciler_read() -> None:
    """An operator action names its operator and the region to follow; only store drains are drains."""
    for action, spec in CATALOG.items():
        assert spec.action is action
        assert callable(spec.verify_fn), action
        assert spec.subject and set(spec.subject) <= {p.name for p in spec.params}, action
        if spec.creates_operator:
            assert spec.operator and spec.operator_region in {p.name for p in spec.params}, action
    assert [a for a, s in CATALOG.items() if s.drains] == [ActionType.OFFLINE_STORE]
    assert CATALOG[ActionType.MERGE_REGION].operator_region == "target_region_id"
