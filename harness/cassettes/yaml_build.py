"""Turning libyaml's parse of a cassette into Python data, to exactly what PyYAML's safe loader builds, faster.

`yaml.CSafeLoader` parses in C (libyaml) but builds the data in Python, one generator and half a dozen calls
per node, and on the way asks Python for every scalar's tag and every node's path. A cassette is almost all
text in mappings and lists, so `CassetteLoader` builds those directly and leaves everything else to PyYAML:

- a text scalar (`tag:yaml.org,2002:str`) is its value; a list is its items; a mapping whose keys are all
  text scalars (no `<<` merge, no `=` value key) is a dict filled in document order (a repeated key keeps
  the first one's place and the last one's value, as PyYAML's does); any other node (numbers, booleans,
  dates, binary, sets, tagged values, mappings with other keys) is built by PyYAML's own `construct_object`;
- the work is a loop over an explicit stack, so a deeply nested document costs no recursion;
- a plain scalar's tag depends only on its text (the safe loader has no path resolvers), so it is looked up
  once per distinct short text; quoted and block scalars are text without looking.

The result is the same data PyYAML builds from the same text (a property test holds it to that, errors
included); the parse itself is still libyaml's.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_OWN = {_STR: SafeConstructor.construct_yaml_str, _SEQ: SafeConstructor.construct_yaml_seq,
        _MAP: SafeConstructor.construct_yaml_map}
# Tags of plain scalars remembered per text: up to this many texts of up to this many characters.
_TAG_MEMO_SIZE = 4096
_TAG_MEMO_TEXT = 64


class CassetteLoader(yaml.CSafeLoader):
    """libyaml's safe loader, building text, lists and mappings of text keys without PyYAML's machinery."""

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self._tags: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _check(cls)

    # -- the composer's questions, answered as the safe loader's resolver answers them ---------------------

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if not implicit[0]:
                return _STR  # quoted or block: text (no implicit resolver applies, no path resolver exists)
            tag = self._tags.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                if len(value) <= _TAG_MEMO_TEXT and len(self._tags) < _TAG_MEMO_SIZE:
                    self._tags[value] = tag
            return tag
        return _SEQ if kind is SequenceNode else _MAP  # the only other kinds libyaml composes

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None  # path resolvers only (there are none)

    def ascend_resolver(self) -> None:
        return None

    # -- building ------------------------------------------------------------------------------------------

    def construct_document(self, node: Node) -> Any:
        out: list[Any] = [None]
        # (node, where its value goes, under which key or index), in document order as they are popped.
        stack: list[tuple[Node, Any, Any]] = [(node, out, 0)]
        pop, push = stack.pop, stack.append
        while stack:
            item, parent, slot = pop()
            tag = item.tag
            kind = type(item)
            if tag == _STR and kind is ScalarNode:
                parent[slot] = item.value
            elif tag == _SEQ and kind is SequenceNode:
                children = item.value
                items: list[Any] = [None] * len(children)
                parent[slot] = items
                for n in range(len(children) - 1, -1, -1):
                    push((children[n], items, n))
            elif tag == _MAP and kind is MappingNode:
                mapping: dict[str, Any] = {}
                pairs = item.value
                for key_node, _ in pairs:
                    if key_node.tag != _STR or type(key_node) is not ScalarNode:
                        break  # a merge `<<`, a `=`, a number, a list...: PyYAML's own rules
                    mapping[key_node.value] = None  # each key's place is its first appearance
                else:
                    parent[slot] = mapping
                    for key_node, value_node in reversed(pairs):  # popped first to last: the last value stays
                        push((value_node, mapping, key_node.value))
                    continue
                parent[slot] = self.construct_object(item, deep=True)
            else:
                parent[slot] = self.construct_object(item, deep=True)
        self.constructed_objects = {}
        self.recursive_objects = {}
        self.deep_construct = False
        return out[0]


def _check(cls: type[Any]) -> None:
    """The shortcuts hold only for the safe loader's own resolvers and constructors."""
    if cls.yaml_path_resolvers:
        raise TypeError(f"{cls.__name__}: CassetteLoader cannot take path resolvers")
    for tag, constructor in _OWN.items():
        if cls.yaml_constructors.get(tag) is not constructor:
            raise TypeError(f"{cls.__name__}: CassetteLoader builds {tag} itself")


_check(CassetteLoader)
