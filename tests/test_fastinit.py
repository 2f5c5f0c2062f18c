"""direct_init: the faster __init__ builds the very value the dataclass's own __init__ builds."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ukws.errors import Location
from ukws.listing import ProjectRow
from ukws.manifest.fastinit import direct_init
from ukws.manifest.model import AppSpec, Project, Requirement, Role

DIRECT = [Project, ProjectRow]
"""The classes that carry it."""


def twin(cls: type[Any]) -> type[Any]:
    """The same class as the dataclass decorator alone makes it: same name, fields and defaults."""
    spec = [(f.name, f.type, dataclasses.field(default=f.default, compare=f.compare, repr=f.repr, hash=f.hash))
            if f.default is not dataclasses.MISSING else (f.name, f.type) for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, spec, frozen=True, slots=True, kw_only=True)


@pytest.mark.parametrize("cls", DIRECT)
def test_signature_is_the_dataclass_one(cls: type[Any]) -> None:
    assert inspect.signature(cls.__init__) == inspect.signature(twin(cls).__init__)
    assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"
    assert cls.__dataclass_params__.frozen and "__slots__" in cls.__dict__
    assert dataclasses.is_dataclass(cls)


VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
                   st.tuples(st.text(max_size=3)), st.just(Location(file="f", line=2)))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DIRECT), st.data())
def test_builds_what_the_dataclass_init_builds(cls: type[Any], data: st.DataObject) -> None:
    fields = dataclasses.fields(cls)
    given_names = [f.name for f in fields if f.default is dataclasses.MISSING or data.draw(st.booleans())]
    kwargs = {name: data.draw(VALUES) for name in given_names}
    value, reference = cls(**kwargs), twin(cls)(**kwargs)
    assert repr(value) == repr(reference)
    for f in fields:
        assert getattr(value, f.name) == getattr(reference, f.name)
    assert value == cls(**kwargs) and hash(value) == hash(cls(**kwargs))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, fields[0].name, "changed")
    assert pickle.loads(pickle.dumps(value)) == value
    assert dataclasses.replace(value, **{fields[0].name: "x"}) == cls(**{**kwargs, fields[0].name: "x"})


def test_a_real_project_round_trips() -> None:
    p = Project(name="n", path="p", remote="r", revision="v", fetch_url="u", role=Role.CORE,
                requires=(Requirement(project="q", specifier=">=1"),), app=AppSpec(subdir="s"),
                loc=Location(file="m.xml", line=3))
    assert p.tag_pattern == "RELEASE-{version}" and p.groups == () and p.sync_tags is True
    assert p.loc == Location(file="m.xml", line=3)


@pytest.mark.parametrize("cls", DIRECT)
def test_wrong_calls_fail_as_with_the_dataclass_init(cls: type[Any]) -> None:
    messages = []
    for target in (cls, twin(cls)):
        with pytest.raises(TypeError) as missing:
            target()
        with pytest.raises(TypeError) as unknown:
            target(**{f.name: None for f in dataclasses.fields(cls)}, nonsense=1)
        with pytest.raises(TypeError) as positional:
            target(1)
        messages.append([str(missing.value), str(unknown.value), str(positional.value)])
    assert messages[0] == messages[1]


def test_refuses_classes_whose_init_does_more() -> None:
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Post:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Factory:
        a: list[int] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True, slots=True)
    class Positional:
        a: int

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(slots=True, kw_only=True)
    class NotFrozen:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Hidden:
        a: int = dataclasses.field(default=0, init=False)

    for cls in (Post, Factory, Positional, NoSlots, NotFrozen, Hidden):
        with pytest.raises(TypeError):
            direct_init(cls)


def test_a_class_without_fields() -> None:
    @direct_init
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Empty:
        pass

    assert Empty() == Empty()
