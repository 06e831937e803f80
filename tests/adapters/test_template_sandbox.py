"""The template sandbox, through TemplateStore: server-side template injection refused with file
and line, nothing read outside the folder, bounded output, shipped templates unchanged."""

from pathlib import Path

import pytest
from jinja2 import Environment, StrictUndefined

from incident_bot.adapters.template_sandbox import MAX_RENDERED_CHARS, MAX_TEMPLATE_LOADS
from incident_bot.adapters.templates import SAMPLE_VALUES, TemplateStore, _FrontMatterLoader
from incident_bot.errors import TemplateError

SHIPPED = Path(__file__).parents[2] / "message_templates"
FRONT = "---\ntitle: T\nkind: sms\nreviewed: true\n---\n"
LINE = FRONT.count("\n") + 2  # the payload goes on the second line of the body
MARKER = "sandbox-escaped"

SSTI = {
    "popen-through-cycler": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "include-absolute": "{% include '/etc/hostname' %}",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "self-globals": "{{ self.__init__.__globals__ }}",
    "config": "{{ config }}",
    "request": "{{ request }}",
    "lipsum-globals": "{{ lipsum.__globals__ }}",
    "huge-range": "{% for x in range(10**9) %}{{ x }}{% endfor %}",
    "huge-repeat": "{{ 'a' * 10**9 }}",
    "format-width": "{{ '%0999999999d' % 1 }}",
    "method-call": "{{ area.center(1000000000) }}",
    "growing-filter": "{{ area|center(1000000000) }}",
    "item-access": "{{ area['__class__'] }}",
    "underscore-name": "{{ __builtins__ }}",
    "namespace": "{% set ns = namespace(a=1) %}",
    "macro-recursion": "{% macro f() %}{{ f() }}{% endmacro %}",
    "dynamic-include": "{% include area %}",
    "include-parent": "{% include '../secret.txt' %}",
    "import-as": "{% import 'other.en.j2' as other %}",
    "block-set": "{% set a %}{{ area }}{% endset %}",
}


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(FRONT + "Hello {{ area }}.\n" + body + "\n", encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    inside = tmp_path / "templates"
    inside.mkdir()
    (tmp_path / "secret.txt").write_text(MARKER, encoding="utf-8")
    return inside


@pytest.fixture
def store(folder: Path) -> TemplateStore:
    return TemplateStore(folder)


# ---- refused when parsed, with file and line ----------------------------------------------


@pytest.mark.parametrize("payload", SSTI.values(), ids=SSTI.keys())
def test_an_injection_payload_is_refused_at_render_with_file_and_line(
        folder: Path, store: TemplateStore, payload: str):
    path = write(folder, "bad.en.j2", payload)
    with pytest.raises(TemplateError, match=rf"^{path}:{LINE}: not allowed in a message template"):
        store.render_sample("bad", "en")


@pytest.mark.parametrize("payload", SSTI.values(), ids=SSTI.keys())
def test_an_injection_payload_is_refused_by_the_sandbox_check_with_file_and_line(
        folder: Path, store: TemplateStore, payload: str):
    path = write(folder, "bad.en.j2", payload)
    with pytest.raises(TemplateError, match=rf"^{path}:{LINE}: not allowed in a message template"):
        store.check_sandbox("bad", "en")


def test_a_refused_template_runs_none_of_its_code(folder: Path, store: TemplateStore,
                                                  tmp_path: Path):
    touched = tmp_path / "touched"
    write(folder, "bad.en.j2",
          f"{{{{ cycler.__init__.__globals__.os.popen('touch {touched}').read() }}}}")
    with pytest.raises(TemplateError):
        store.render_sample("bad", "en")
    assert not touched.exists()


def test_the_variables_of_a_refused_template_are_refused_with_file_and_line(
        folder: Path, store: TemplateStore):
    path = write(folder, "bad.en.j2", SSTI["config"])
    with pytest.raises(TemplateError, match=rf"^{path}:{LINE}: "):
        store.variables("bad", "en")


def test_a_refusal_says_which_filters_are_allowed(folder: Path, store: TemplateStore):
    write(folder, "bad.en.j2", "{{ area|replace('', 'xx') }}")
    with pytest.raises(TemplateError, match=r"the filter 'replace' \(allowed: capitalize, "):
        store.render_sample("bad", "en")


def test_a_refusal_in_an_included_template_names_that_file_and_line(folder: Path,
                                                                     store: TemplateStore):
    write(folder, "outer.en.j2", "{% include 'part.j2' %}")
    part = write(folder, "part.j2", SSTI["self-globals"])
    with pytest.raises(TemplateError, match=rf"^{part}:{LINE}: not allowed"):
        store.render_sample("outer", "en")


def test_the_sandbox_check_follows_includes(folder: Path, store: TemplateStore):
    write(folder, "outer.en.j2", "{% include 'part.j2' %}")
    part = write(folder, "part.j2", SSTI["lipsum-globals"])
    with pytest.raises(TemplateError, match=rf"^{part}:{LINE}: not allowed"):
        store.check_sandbox("outer", "en")


def test_the_sandbox_check_leaves_a_plain_syntax_error_to_rendering(folder: Path,
                                                                   store: TemplateStore):
    write(folder, "broken.en.j2", "{{ area ")
    assert store.check_sandbox("broken", "en") is None


# ---- nothing outside the folder ------------------------------------------------------------


def test_a_symbolic_link_included_from_inside_the_folder_is_refused(folder: Path,
                                                                  store: TemplateStore):
    (folder / "link.j2").symlink_to(folder.parent / "secret.txt")
    path = write(folder, "outer.en.j2", "{% include 'link.j2' %}")
    with pytest.raises(TemplateError, match=rf"^{path}:{LINE}: .*leads outside the templates"):
        store.render_sample("outer", "en")


def test_a_template_file_that_links_outside_the_folder_is_not_rendered(folder: Path,
                                                                       store: TemplateStore):
    (folder / "leak.en.j2").symlink_to(folder.parent / "secret.txt")
    with pytest.raises(TemplateError, match="leads outside the templates folder") as raised:
        store.render_sample("leak", "en")
    assert MARKER not in str(raised.value)


def test_the_front_matter_of_a_file_linked_outside_the_folder_is_not_read(folder: Path,
                                                                          store: TemplateStore):
    (folder / "leak.en.j2").symlink_to(folder.parent / "secret.txt")
    with pytest.raises(TemplateError, match="leads outside the templates folder"):
        store.meta("leak", "en")


def test_a_file_linked_outside_the_folder_does_not_count_as_existing(folder: Path,
                                                                     store: TemplateStore):
    (folder / "leak.en.j2").symlink_to(folder.parent / "secret.txt")
    with pytest.raises(TemplateError, match="leads outside the templates folder"):
        store.exists("leak", "en")


def test_a_link_that_stays_inside_the_folder_is_followed(folder: Path, store: TemplateStore):
    write(folder, "real.en.j2", "")
    (folder / "alias.en.j2").symlink_to(folder / "real.en.j2")
    assert store.render_sample("alias", "en") == "Hello Northbridge."


def test_a_template_includes_a_file_of_the_folder(folder: Path, store: TemplateStore):
    (folder / "footer.j2").write_text("Call {{ helpline }}.", encoding="utf-8")
    write(folder, "outer.en.j2", "{% include 'footer.j2' %}")
    assert store.render_sample("outer", "en") == "Hello Northbridge.\nCall 0300 123 4567."


def test_a_template_includes_a_file_of_a_subfolder(folder: Path, store: TemplateStore):
    (folder / "parts").mkdir()
    (folder / "parts" / "footer.j2").write_text("Bye.", encoding="utf-8")
    write(folder, "outer.en.j2", "{% include 'parts/footer.j2' %}")
    assert store.render_sample("outer", "en") == "Hello Northbridge.\nBye."


def test_a_template_extends_a_layout_of_the_folder(folder: Path, store: TemplateStore):
    (folder / "layout.j2").write_text("[{% block body %}{% endblock %}]", encoding="utf-8")
    (folder / "child.en.j2").write_text(
        "{% extends 'layout.j2' %}{% block body %}{{ area }}{% endblock %}", encoding="utf-8")
    assert store.render_sample("child", "en") == "[Northbridge]"


def test_a_template_imports_a_value_set_in_another(folder: Path, store: TemplateStore):
    (folder / "shared.j2").write_text("{% set sign_off = 'Thank you.' %}", encoding="utf-8")
    write(folder, "outer.en.j2", "{% from 'shared.j2' import sign_off %}{{ sign_off }}")
    assert store.render_sample("outer", "en") == "Hello Northbridge.\nThank you."


# ---- bounded -------------------------------------------------------------------------------


def test_output_over_the_maximum_is_refused_naming_the_file(folder: Path, store: TemplateStore):
    path = write(folder, "long.en.j2", "x" * MAX_RENDERED_CHARS)
    with pytest.raises(TemplateError, match=rf"^{path}: renders to more than 10,000 characters"):
        store.render_sample("long", "en")


def test_output_of_exactly_the_maximum_renders(folder: Path, store: TemplateStore):
    (folder / "full.en.j2").write_text("x" * MAX_RENDERED_CHARS, encoding="utf-8")
    assert len(store.render_sample("full", "en")) == MAX_RENDERED_CHARS


def test_text_doubled_by_repeated_joins_stops_at_the_maximum(folder: Path,
                                                             store: TemplateStore):
    path = write(folder, "doubling.en.j2",
                 "{% set a = area ~ area %}" + "{% set a = a ~ a %}" * 60 + "{{ a|length }}")
    with pytest.raises(TemplateError, match=rf"^{path}:{LINE}: joined text longer than 10,000"):
        store.render_sample("doubling", "en")


def test_a_template_that_includes_itself_is_refused_by_the_check_with_file_and_line(
        folder: Path, store: TemplateStore):
    path = write(folder, "loop.en.j2", "{% include 'loop.en.j2' %}")
    with pytest.raises(TemplateError,
                       match=rf"^{path}:{LINE}: includes itself \(loop.en.j2 -> loop.en.j2\)"):
        store.check_sandbox("loop", "en")


def test_a_template_that_includes_itself_stops_at_the_load_budget(folder: Path,
                                                                  store: TemplateStore):
    path = write(folder, "loop.en.j2", "{% include 'loop.en.j2' %}")
    with pytest.raises(TemplateError, match=rf"^{path}:{LINE}: more than "
                                            rf"{MAX_TEMPLATE_LOADS} templates loaded"):
        store.render_sample("loop", "en")


def test_includes_that_fan_out_stop_at_the_load_budget(folder: Path, store: TemplateStore):
    for depth in range(12):  # 2**12 loads if nothing stopped them
        twice = "{% include 'l" + str(depth + 1) + ".j2' %}"
        (folder / f"l{depth}.j2").write_text(twice * 2, encoding="utf-8")
    (folder / "l12.j2").write_text("", encoding="utf-8")
    write(folder, "fan.en.j2", "{% include 'l0.j2' %}")
    with pytest.raises(TemplateError, match="templates loaded in one render"):
        store.render_sample("fan", "en")


def test_comparing_text_with_a_number_is_a_template_error_with_file_and_line(
        folder: Path, store: TemplateStore):
    path = write(folder, "cmp.en.j2", "{{ 'many' if arrest_count > 1 else 'one' }}")
    with pytest.raises(TemplateError, match=rf"^{path}:{LINE}: '>' not supported"):
        store.render_sample("cmp", "en")


def test_a_missing_variable_error_names_the_line(folder: Path, store: TemplateStore):
    path = write(folder, "gap.en.j2", "{{ nobody_gave_this }}")
    with pytest.raises(TemplateError, match=rf"nobody_gave_this .*: {path}:{LINE}$"):
        store.render_sample("gap", "en")


def test_a_missing_include_names_the_file_and_line(folder: Path, store: TemplateStore):
    path = write(folder, "outer.en.j2", "{% include 'absent.j2' %}")
    with pytest.raises(TemplateError, match=rf"^{path}:{LINE}: no template 'absent.j2'"):
        store.render_sample("outer", "en")


# ---- what stays allowed --------------------------------------------------------------------


def test_allowed_filters_and_tests_still_work(folder: Path, store: TemplateStore):
    write(folder, "ok.en.j2",
          "{{ area|upper }} {{ (summary|truncate(19, true, '')) }} "
          "{{ 'set' if helpline is defined and helpline is string else 'unset' }}")
    assert store.render_sample("ok", "en").splitlines()[1] == \
        "NORTHBRIDGE Searches are taking set"


def test_every_shipped_template_renders_as_it_did_without_the_sandbox():
    store = TemplateStore(SHIPPED)
    plain = Environment(loader=_FrontMatterLoader(SHIPPED), undefined=StrictUndefined,
                        autoescape=False)
    pairs = [(t, lang) for t in store.templates() for lang in store.languages(t)]
    assert {pair: store.render_sample(*pair) for pair in pairs} == {
        (t, lang): plain.get_template(f"{t}.{lang}.j2").render(dict(SAMPLE_VALUES)).strip()
        for t, lang in pairs}


def test_every_shipped_template_passes_the_sandbox_check():
    store = TemplateStore(SHIPPED)
    for template in store.templates():
        for language in store.languages(template):
            store.check_sandbox(template, language)
