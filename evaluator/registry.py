"""One registry idiom for every extension point, and the plugins that fill them.

Judges, annotators, transcript readers, corpus readers, targets and chat-model providers each
live in a `Registry`: `register` (also a decorator), `get` (a clear error naming the known
names), `find` (None on a miss, for callers with a fallback such as PROVIDER:MODEL ids),
`names`, `values` and `unregister` (tests register, then unregister in `finally`).

Third-party code registers through plugins, which import modules that call `register_*`:

* the `plugins = ["pkg.module", ...]` config key, imported when the settings are loaded
  (a module beside the config file is found);
* entry points of the `mheval.plugins` group in installed packages, e.g.
  `[project.entry-points."mheval.plugins"] theirs = "their_pkg.judge"`: a module, or a
  callable that is called, loaded once, the first time a lookup misses or names are listed
  (so `mheval --help` imports none).

A plugin that fails to import is a `ConfigError` naming it and where it was declared.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, TypeVar

from evaluator.errors import ConfigError, EvaluatorError

__all__ = ["Registry", "ENTRY_POINT_GROUP", "import_plugins", "load_entry_points"]

T = TypeVar("T")

ENTRY_POINT_GROUP = "mheval.plugins"

_MISSING: Any = object()


class Registry(Generic[T]):
    """Named extensions of one kind. `key` orders `names`/`values` (insertion order without)."""

    def __init__(
        self,
        kind: str,
        *,
        error: type[EvaluatorError] = ConfigError,
        field: str | None = None,
        key: Callable[[T], Any] | None = None,
        also: Iterable[str] = (),
    ) -> None:
        self.kind = kind
        self._error = error
        self._field = field
        self._key = key
        self._also = list(also)  # names the caller accepts besides registered ones, e.g. `auto`
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T = _MISSING):
        """Add `item` as `name` (replacing an earlier one); without `item`, a decorator."""
        if item is _MISSING:
            return lambda obj: self.register(name, obj)
        self._items[name] = item
        return item

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    def find(self, name: str) -> T | None:
        """The item named `name`, or None; a miss first loads the installed plugins."""
        if name not in self._items:
            load_entry_points()
        return self._items.get(name)

    def get(self, name: str) -> T:
        """The item named `name`; an unknown name raises the registry's error, listing the
        known names."""
        item = self.find(name)
        if item is None:
            known = ", ".join([*self._also, *self.names()])
            raise self._error(f"unknown {self.kind} {name!r}; known: {known}", field=self._field)
        return item

    def values(self) -> list[T]:
        return [item for _, item in self._ordered()]

    def names(self) -> list[str]:
        return [name for name, _ in self._ordered()]

    def _ordered(self) -> list[tuple[str, T]]:
        load_entry_points()
        pairs = list(self._items.items())
        if self._key is not None:
            pairs.sort(key=lambda pair: self._key(pair[1]))
        return pairs


_loaded_entry_points: set[str] = set()
_scanned = False
_lock = threading.RLock()  # model calls look up chat models from several threads


def load_entry_points() -> None:
    """Load each `mheval.plugins` entry point once per process; a failure is raised again on
    the next lookup rather than silently leaving the plugin out."""
    global _scanned
    if _scanned:
        return
    from importlib.metadata import entry_points

    with _lock:
        for point in entry_points(group=ENTRY_POINT_GROUP):
            ident = f"{point.name} = {point.value}"
            if ident in _loaded_entry_points:
                continue  # loaded, or being loaded by a lookup inside this plugin
            package = getattr(point.dist, "name", None) or "an installed package"
            what = f"{ident!r} (entry point of {package} in group {ENTRY_POINT_GROUP})"
            _loaded_entry_points.add(ident)
            try:
                _run_plugin(point.load, what=what)
            except ConfigError:
                _loaded_entry_points.discard(ident)
                raise
        _scanned = True


def import_plugins(modules: Iterable[str], *, source: Path | None = None) -> None:
    """Import the modules of a `plugins` config key; `source` is the config file, whose folder
    is searched too (after the installed packages)."""
    if source is not None and str(source.parent) not in sys.path:
        sys.path.append(str(source.parent))
    for module in modules:
        load = lambda m=module: importlib.import_module(m)  # noqa: E731
        _run_plugin(load, what=repr(module), file=source, field="plugins")


def _run_plugin(
    load: Callable[[], Any], *, what: str, file: Path | None = None, field: str | None = None
) -> None:
    """Import a plugin (and call it, when it is a callable rather than a module)."""
    try:
        loaded = load()
        if callable(loaded) and not isinstance(loaded, ModuleType):
            loaded()
    except (Exception, SystemExit) as exc:  # a plugin's own bug or sys.exit() must not end mheval
        message = f"cannot load plugin {what}: {type(exc).__name__}: {exc}"
        raise ConfigError(message, file=file, field=field) from None
