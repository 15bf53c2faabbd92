"""Name -> component registries that reject duplicates and list the known names on a miss."""

from collections.abc import Callable, Iterator
from typing import Any

from disentax.errors import UserError


class Registry:
    """A mapping from names to components of one kind (models, objectives, datasets, metrics).

    >>> MODELS = Registry("model")
    >>> @MODELS.register("tiny")
    ... def tiny(): ...
    >>> MODELS.get("tiny") is tiny
    True
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Any] = {}

    def register(self, name: str, obj: Any = None) -> Any:
        """Registers `obj` under `name`; used bare or as a decorator. A name is taken only once."""
        if obj is None:
            return lambda o: self.register(name, o)
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = obj
        return obj

    def get(self, name: str) -> Any:
        if name not in self._entries:
            raise UserError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}")
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)


def call_registered(registry: Registry, name: str, **kwargs: Any) -> Any:
    """`registry.get(name)(**kwargs)`, turning a bad keyword into a one-line `UserError`."""
    factory: Callable[..., Any] = registry.get(name)
    try:
        return factory(**kwargs)
    except TypeError as e:
        raise UserError(f"bad options for {registry.kind} {name!r}: {e}") from None
