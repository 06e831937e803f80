"""`incident-bot templates render` and `list`, through Typer's CliRunner."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from incident_bot.entrypoints.cli import app

SHIPPED = Path(__file__).parents[2] / "message_templates"
WIDE = {"COLUMNS": "200"}


def front(title: str, kind: str = "sms", reviewed: bool = True, source: str | None = None) -> str:
    lines = [f"title: {title}", f"kind: {kind}", f"reviewed: {'true' if reviewed else 'false'}"]
    lines += [f"translated_from: {source}"] if source else []
    return "---\n" + "\n".join(lines) + "\n---\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    files = {
        "note.en.j2": front("Note") + "Hello {{ area }}, reply {{ confirm_code }}.\n",
        "note.ur.j2": front("Note (Urdu)", reviewed=False, source="en")
        + "{{ area }} میں پولیس۔ تصدیق کے لیے {{ confirm_code }} بھیجیں۔\n",
        "note.pl.j2": front("Note (Polish)", reviewed=True, source="en")
        + "Cześć {{ area }}, odpisz {{ confirm_code }}.\n",
        "letter.en.j2": front("Letter", kind="statement") + "Dear {{ recipient_title }}\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def run(folder: Path, *args: str):
    env = {**WIDE, "INCIDENT_BOT_TEMPLATES": str(folder)}
    return CliRunner().invoke(app, ["templates", *args], env=env)


# ---- render --------------------------------------------------------------------------------


def test_render_prints_the_text_with_sample_values(folder: Path):
    result = run(folder, "render", "note")
    assert result.stdout.splitlines()[0] == "Hello Northbridge, reply K7QM."


def test_render_exits_0(folder: Path):
    assert run(folder, "render", "note").exit_code == 0


def test_render_shows_gsm7_septets_and_segments(folder: Path):
    result = run(folder, "render", "note")
    assert "SMS: GSM-7, 30 septets, 1 segment (after smart encoding)" in result.stdout


def test_render_shows_ucs2_code_units_for_urdu(folder: Path):
    result = run(folder, "render", "note", "--lang", "ur")
    assert "SMS: UCS-2, 48 UTF-16 code units, 1 segment (after smart encoding)" in result.stdout


def test_render_counts_after_smart_encoding(folder: Path):
    result = run(folder, "render", "note", "--var", "area=“Northbridge”")
    assert "SMS: GSM-7, 32 septets" in result.stdout


def test_render_names_the_few_characters_that_force_ucs2(folder: Path):
    result = run(folder, "render", "note", "--lang", "pl")
    assert "UCS-2 because of: 'ś'" in result.stdout


def test_render_says_an_original_is_reviewed(folder: Path):
    assert "Reviewed: yes" in run(folder, "render", "note").stdout.splitlines()


def test_render_warns_that_a_translation_is_not_reviewed(folder: Path):
    result = run(folder, "render", "note", "--lang", "ur")
    assert "Reviewed: NO (translation from en not yet checked by a native speaker)" in \
        result.stdout.splitlines()


def test_render_says_a_translation_has_been_reviewed(folder: Path):
    result = run(folder, "render", "note", "--lang", "pl")
    assert "Reviewed: yes (translation from en)" in result.stdout.splitlines()


def test_render_var_overrides_a_sample_value(folder: Path):
    result = run(folder, "render", "note", "--var", "area=Eastham", "--var", "confirm_code=X9")
    assert result.stdout.splitlines()[0] == "Hello Eastham, reply X9."


def test_render_var_value_may_contain_equals_signs(folder: Path):
    result = run(folder, "render", "note", "--var", "area=a=b")
    assert result.stdout.splitlines()[0] == "Hello a=b, reply K7QM."


def test_render_notes_a_var_the_template_does_not_use(folder: Path):
    result = run(folder, "render", "note", "--var", "helpline=0300")
    assert "note: --var helpline is not used by this template" in result.stderr


def test_render_refuses_a_var_without_equals_sign(folder: Path):
    result = run(folder, "render", "note", "--var", "area")
    assert result.exit_code == 2


def test_render_of_a_missing_language_exits_1_naming_the_file(folder: Path):
    result = run(folder, "render", "note", "--lang", "bn")
    assert (result.exit_code, "note.bn.j2" in result.stderr.replace("\n", "")) == (1, True)


def test_render_of_a_missing_variable_exits_1_naming_it(folder: Path):
    result = run(folder, "render", "letter")
    assert (result.exit_code, "recipient_title" in result.stderr) == (1, True)


def test_render_fills_a_missing_variable_given_with_var(folder: Path):
    result = run(folder, "render", "letter", "--var", "recipient_title=Councillor")
    assert result.stdout.splitlines()[0] == "Dear Councillor"


def test_render_errors_are_one_line_not_a_traceback(folder: Path):
    result = run(folder, "render", "note", "--lang", "bn")
    assert "Traceback" not in result.output


def test_render_works_on_the_shipped_urdu_ring_round_sms():
    result = run(SHIPPED, "render", "ring-round-sms", "--lang", "ur")
    assert (result.exit_code, "K7QM" in result.stdout, "SMS: UCS-2" in result.stdout) == \
        (0, True, True)


# ---- render: the sandbox --------------------------------------------------------------------

PAYLOAD_LINE = 6  # after five front-matter lines


def with_payload(folder: Path, payload: str) -> Path:
    path = folder / "bad.en.j2"
    path.write_text(front("Bad") + payload + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("payload", [
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ request }}",
    "{% for x in range(10**9) %}{% endfor %}",
    "{{ 'a' * 10**9 }}",
], ids=["popen", "self-globals", "request", "huge-range", "huge-repeat"])
def test_render_refuses_an_injection_payload_naming_file_and_line(folder: Path, payload: str):
    path = with_payload(folder, payload)
    result = run(folder, "render", "bad")
    assert (result.exit_code, f"{path}:{PAYLOAD_LINE}: not allowed in a message template" in
            result.stderr.replace("\n", "")) == (1, True)


def test_render_of_a_command_payload_prints_no_command_output(folder: Path):
    with_payload(folder, "{{ cycler.__init__.__globals__.os.popen('id').read() }}")
    result = run(folder, "render", "bad")
    assert ("uid=" in result.output, "Traceback" in result.output) == (False, False)


def test_render_refuses_an_include_outside_the_folder_without_printing_it(folder: Path):
    path = with_payload(folder, "{% include '/etc/hostname' %}")
    hostname = Path("/etc/hostname").read_text(encoding="utf-8").strip()
    result = run(folder, "render", "bad")
    assert (result.exit_code, f"{path}:{PAYLOAD_LINE}: " in result.stderr.replace("\n", ""),
            hostname in result.stdout) == (1, True, False)


def test_render_refuses_output_over_the_maximum(folder: Path):
    with_payload(folder, "x" * 10_001)
    result = run(folder, "render", "bad")
    assert (result.exit_code, "renders to more than 10,000 characters" in
            result.stderr.replace("\n", "")) == (1, True)


# ---- list ----------------------------------------------------------------------------------


def table_row(output: str, template: str) -> list[str]:
    """The row of ``template`` in the tab-separated lines ``list`` prints in a pipe."""
    return next(cells for line in output.splitlines() if (cells := line.split("\t"))[0] == template)


def test_list_puts_english_first_then_other_languages(folder: Path):
    header = run(folder, "list").stdout.splitlines()[0]
    assert header.split("\t") == ["template", "kind", "en", "pl", "ur"]


def test_list_shows_reviewed_flags_per_language(folder: Path):
    row = table_row(run(folder, "list").stdout, "note")
    assert row == ["note", "sms", "reviewed", "reviewed", "unreviewed"]


def test_list_marks_a_missing_language_with_a_dash(folder: Path):
    row = table_row(run(folder, "list").stdout, "letter")
    assert row == ["letter", "statement", "reviewed", "-", "-"]


def test_list_of_a_missing_folder_exits_1(tmp_path: Path):
    result = run(tmp_path / "absent", "list")
    assert (result.exit_code, "does not exist" in result.stderr) == (1, True)


def test_list_shows_every_shipped_template():
    result = run(SHIPPED, "list")
    assert sum(1 for line in result.stdout.splitlines() if "reviewed" in line) >= 13
