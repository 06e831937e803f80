"""The raw-text nesting scan that bounds every YAML read, whatever the installed parser does
with deep nesting: it finds pathological depth in any style, and it does not count brackets,
quotes or indents that are text."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from incident_bot.adapters.located_yaml import MAX_DEPTH, parse_yaml
from incident_bot.adapters.yaml_depth import TooDeep, first_too_deep
from incident_bot.errors import InputError

HUNDRED_THOUSAND = 100_000

BOMBS = {
    "flow lists": "[" * HUNDRED_THOUSAND,
    "flow mappings": "{" * HUNDRED_THOUSAND,
    "flow mappings with keys": "{a: " * HUNDRED_THOUSAND,
    "compact block lists": "- " * HUNDRED_THOUSAND + "x\n",
    "complex keys": "? " * HUNDRED_THOUSAND + "x\n",
    "indented block mappings": "".join(" " * i + f"k{i}:\n" for i in range(1_400)),
    "indentless lists under keys": "".join("  " * i + f"- k{i}:\n" for i in range(700)),
    "block then flow": "a:\n  - b: " + "[{x: " * HUNDRED_THOUSAND,
    "flow over many lines": "[\n" * HUNDRED_THOUSAND,
    "mixed brackets": "[{" * HUNDRED_THOUSAND,
}


@pytest.mark.parametrize("text", BOMBS.values(), ids=BOMBS.keys())
def test_a_nesting_bomb_is_found_within_the_limit(text: str):
    found = first_too_deep(text, MAX_DEPTH)
    assert found is not None
    assert found.line <= MAX_DEPTH + 2
    assert found.column <= 5 * (MAX_DEPTH + 2)


@pytest.mark.parametrize("text", BOMBS.values(), ids=BOMBS.keys())
def test_a_nesting_bomb_is_refused_with_its_line_and_column(text: str):
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "bomb.yaml")
    (problem,) = caught.value.problems
    found = first_too_deep(text, MAX_DEPTH)
    assert found is not None
    assert str(problem) == (f"bomb.yaml:{found.line}: <root>: nested more than {MAX_DEPTH} "
                            f"levels deep (column {found.column})")


def test_the_column_is_the_first_bracket_past_the_limit():
    assert first_too_deep("a: " + "[" * 10, 5) == TooDeep(line=1, column=8)


@pytest.mark.parametrize("text", [
    "note: 'it''s [[[[[[[[[[[[[['\n",
    'note: "say \\" [[[[[[[[[[[[[[["\n',
    "note: don't [[[[[[[[[[[[[[[[\n",
    "note: a [[[[[[[[[[[[[[[[[[[[\n",
    "note: 1  # [[[[[[[[[[[[[[[[[\n",
    "# [[[[[[[[[[[[[[[[[[[[[[[[[[\n",
    "note: |\n  [[[[[[[[[[[[[[[[[[[[\n    - - - - - - - - - - - -\nnext: 1\n",
    "note: >-\n" + "".join(" " * (i + 2) + "text\n" for i in range(20)),
    "note: 'a multi-line\n  [[[[[[[[[[[[[[[[[[[[ quoted\n  text'\n",
    "list: ['[[[[[[[[[[[[[[[[[[', \"{{{{{{{{{{{{{{{{{{\"]\n",
    "url: http://example.invalid/[[[[[[[[[[[[[[[[[[\n",
], ids=lambda text: text[:24])
def test_brackets_and_indents_that_are_text_are_not_counted(text: str):
    assert first_too_deep(text, 4) is None
    parse_yaml(text, "f.yaml")  # and it really is valid YAML


def test_a_list_after_a_quoted_key_is_counted():
    assert first_too_deep('"key": ' + "[" * 10, 5) is not None


def test_the_shipped_playbooks_are_far_from_the_limit():
    shipped = sorted((Path(__file__).parents[2] / "playbooks").glob("*.yaml"))
    assert shipped
    for path in shipped:
        assert first_too_deep(path.read_text(encoding="utf-8"), 12) is None, path


# ---- against PyYAML's own idea of depth, for documents it writes in every style ------------

SCALARS = st.one_of(
    st.integers(), st.booleans(), st.none(),
    st.text(alphabet="ab []{}'\"#:-?|>!&,\\\n", max_size=8),
)


def nested(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet="ab []'\"#:-", min_size=1, max_size=4), inner,
                          max_size=3),
        max_leaves=20,
    )


def composed_depth(text: str) -> int:
    def depth(node: yaml.Node) -> int:
        if isinstance(node, yaml.SequenceNode):
            return 1 + max((depth(item) for item in node.value), default=0)
        if isinstance(node, yaml.MappingNode):
            return 1 + max((max(depth(k), depth(v)) for k, v in node.value), default=0)
        return 1

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    return depth(root) if root is not None else 0


@settings(max_examples=300, deadline=None)
@given(document=nested(SCALARS), flow=st.sampled_from([True, False, None]),
       width=st.sampled_from([8, 80]))
def test_the_scan_is_within_one_level_of_the_composed_depth(document: Any, flow: bool | None,
                                                             width: int):
    text = yaml.safe_dump(document, default_flow_style=flow, width=width, allow_unicode=True)
    depth = composed_depth(text)
    assert first_too_deep(text, depth) is None  # never refuses what the parser would accept
    if depth >= 3:
        assert first_too_deep(text, depth - 2) is not None  # never misses more than a level
