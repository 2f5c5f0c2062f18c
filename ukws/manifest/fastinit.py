"""A faster ``__init__`` for the frozen, slotted, keyword-only dataclasses built by the thousand.

The ``__init__`` that :func:`dataclasses.dataclass` writes for a frozen class stores every field
with ``object.__setattr__(self, name, value)``, a generic attribute lookup per field. For a class of
twenty fields built once per project of a 10,000-project manifest, that is most of the cost of the
value. :func:`direct_init` gives such a class an ``__init__`` with the very same signature (names,
order, defaults, annotations) that stores each field through its slot's descriptor instead, more
than twice as fast. Nothing else changes: the class stays the same frozen dataclass, with the same
fields, equality, hash, ``repr``, pickling and ``dataclasses.replace``, and assigning to a field
after construction still raises :class:`dataclasses.FrozenInstanceError`.

Only classes whose generated ``__init__`` does nothing but store its arguments qualify: no
``__post_init__``, no ``default_factory``, no ``InitVar`` and no field left out of ``__init__``;
anything else is refused when the class is defined.
"""

from __future__ import annotations

import dataclasses
import keyword
from typing import Any, TypeVar, cast

T = TypeVar("T")


def direct_init(cls: type[T]) -> type[T]:
    """Give the frozen, slotted, keyword-only dataclass ``cls`` the faster ``__init__`` (use it
    above ``@dataclass``)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__qualname__}: direct_init needs a frozen dataclass with slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__qualname__}: direct_init cannot run __post_init__")
    fields = dataclasses.fields(cast(Any, cls))
    all_fields = getattr(cls, "__dataclass_fields__", {})
    if len(all_fields) != len(fields):
        raise TypeError(f"{cls.__qualname__}: direct_init cannot take InitVar or ClassVar pseudo-fields")
    names: list[str] = []
    namespace: dict[str, Any] = {}
    for f in fields:
        if not f.init or not f.kw_only or f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__qualname__}.{f.name}: direct_init needs keyword-only init fields "
                            "without default_factory")
        if not f.name.isidentifier() or keyword.iskeyword(f.name) or f.name.startswith("_") or f.name == "self":
            raise TypeError(f"{cls.__qualname__}.{f.name}: direct_init needs plain field names")
        names.append(f.name)
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
    params = ["self", "*"] if names else ["self"]
    params += [n if f"_default_{n}" not in namespace else f"{n}=_default_{n}" for n in names]
    body = "".join(f"    _set_{n}(self, {n})\n" for n in names) or "    pass\n"
    # The source holds nothing but the field names, checked above to be plain identifiers.
    exec(f"def __init__({', '.join(params)}):\n{body}", namespace)
    init = namespace["__init__"]
    generated = cls.__dict__["__init__"]
    init.__qualname__ = generated.__qualname__
    init.__module__ = generated.__module__
    init.__annotations__ = dict(generated.__annotations__)
    init.__doc__ = generated.__doc__
    type.__setattr__(cls, "__init__", init)
    return cls
