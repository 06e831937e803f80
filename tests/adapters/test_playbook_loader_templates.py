"""Template checks: every language has its file, templates render with the playbook's sample
values, and SMS messages over their segment budget are warned about (not refused)."""

from pathlib import Path

import pytest
from test_playbook_loader_support import BASE_LINES, write_playbook
from typer.testing import CliRunner

from incident_bot.adapters.playbook_loader import load_playbooks
from incident_bot.entrypoints.cli import app

N = BASE_LINES
SMS_MESSAGE = """\
variables:
  helpline: "0300 123 4567"
messages:
  - id: text
    title: Text
    template: text
    audiences: {public: true}
    channels: [sms]
    approvers: [bcu_commander]
    languages: [en, ur]
"""
MESSAGE_LINE = N + 4
FRONT = "---\ntitle: Text\nkind: sms\nreviewed: true\n---\n"


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "text.en.j2").write_text(FRONT + "Police in {{ area }}. Call {{ helpline }}.\n",
                                       "utf-8")
    (folder / "text.ur.j2").write_text(FRONT + "پولیس {{ area }}۔ {{ helpline }}\n", "utf-8")
    return folder


def load(tmp_path: Path, templates: Path, extra: str = SMS_MESSAGE):
    path = write_playbook(tmp_path, extra)
    return path, load_playbooks([path], templates)


def test_short_sms_in_every_language_loads_without_problems(tmp_path: Path, templates: Path):
    _, result = load(tmp_path, templates)
    assert (list(result.playbooks), result.problems) == (["test"], [])


def test_an_sms_over_the_playbook_budget_is_a_warning(tmp_path: Path, templates: Path):
    (templates / "text.ur.j2").write_text(FRONT + "پولیس کی کارروائی جاری ہے۔ " * 12, "utf-8")
    path, result = load(tmp_path, templates)
    assert [str(p) for p in result.problems] == [
        f"{path}:{MESSAGE_LINE + 2}: messages[text].template: warning: 'ur' SMS of message "
        f"'text' is 5 segments (UCS-2, 323 units) with sample values; the budget is 3"
    ]


def test_an_sms_over_budget_still_loads(tmp_path: Path, templates: Path):
    (templates / "text.ur.j2").write_text(FRONT + "پولیس کی کارروائی جاری ہے۔ " * 12, "utf-8")
    _, result = load(tmp_path, templates)
    assert list(result.playbooks) == ["test"]


def test_a_message_budget_overrides_the_playbook_budget(tmp_path: Path, templates: Path):
    (templates / "text.ur.j2").write_text(FRONT + "پولیس کی کارروائی جاری ہے۔ " * 12, "utf-8")
    _, result = load(tmp_path, templates, SMS_MESSAGE + "    sms_segment_budget: 5\n")
    assert result.problems == []


def test_a_template_that_does_not_render_is_a_located_error(tmp_path: Path, templates: Path):
    (templates / "text.en.j2").write_text(FRONT + "Police in {{ area \n", "utf-8")
    _, result = load(tmp_path, templates)
    assert [(p.line, p.path, p.severity) for p in result.problems] == [
        (MESSAGE_LINE + 2, "messages[text].template", "error")
    ]


def test_a_template_that_does_not_render_names_template_and_language(
        tmp_path: Path, templates: Path):
    (templates / "text.en.j2").write_text(FRONT + "Police in {{ area \n", "utf-8")
    _, result = load(tmp_path, templates)
    assert result.problems[0].message.startswith("template 'text' (en) does not render: ")


def test_messages_not_sent_by_sms_are_not_rendered(tmp_path: Path, templates: Path):
    (templates / "text.en.j2").write_text(FRONT + "Police in {{ area \n", "utf-8")
    _, result = load(tmp_path, templates, SMS_MESSAGE.replace("[sms]", "[web]"))
    assert result.problems == []


def test_validate_exits_0_when_there_are_only_warnings(tmp_path: Path, templates: Path):
    (templates / "text.ur.j2").write_text(FRONT + "پولیس کی کارروائی جاری ہے۔ " * 12, "utf-8")
    path = write_playbook(tmp_path, SMS_MESSAGE)
    result = CliRunner().invoke(app, ["playbooks", "validate", str(path), "--templates",
                                      str(templates)])
    assert (result.exit_code, result.output.splitlines()[-1]) == (
        0, "1 of 1 playbook file(s) loaded; 0 errors, 1 warning",
    )


# ---- the sandbox ---------------------------------------------------------------------------

SSTI_LINE = FRONT.count("\n") + 2  # the payload's line in the template file
POPEN = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"


def with_payload(templates: Path, payload: str, language: str = "en") -> Path:
    path = templates / f"text.{language}.j2"
    path.write_text(FRONT + "Police in {{ area }}.\n" + payload + "\n", "utf-8")
    return path


def test_an_injection_payload_in_an_sms_template_is_a_located_error(tmp_path: Path,
                                                                     templates: Path):
    template = with_payload(templates, POPEN)
    path, result = load(tmp_path, templates)
    assert [str(p) for p in result.problems] == [
        f"{path}:{MESSAGE_LINE + 2}: messages[text].template: template 'text' (en) is refused: "
        f"{template}:{SSTI_LINE}: not allowed in a message template: calling a function or method"
    ]


def test_an_injection_payload_in_a_template_not_sent_by_sms_is_refused_too(tmp_path: Path,
                                                                           templates: Path):
    template = with_payload(templates, "{{ config }}", "ur")
    _, result = load(tmp_path, templates, SMS_MESSAGE.replace("[sms]", "[web]"))
    assert [(p.line, p.severity, f"{template}:{SSTI_LINE}: " in p.message)
            for p in result.problems] == [(MESSAGE_LINE + 2, "error", True)]


def test_a_playbook_with_a_refused_template_does_not_load(tmp_path: Path, templates: Path):
    with_payload(templates, "{% include '/etc/hostname' %}")
    _, result = load(tmp_path, templates)
    assert list(result.playbooks) == []


def test_a_template_linked_outside_the_folder_is_a_located_error(tmp_path: Path,
                                                                 templates: Path):
    (tmp_path / "outside.txt").write_text("secret", "utf-8")
    (templates / "text.ur.j2").unlink()
    (templates / "text.ur.j2").symlink_to(tmp_path / "outside.txt")
    _, result = load(tmp_path, templates)
    assert [(p.line, "leads outside the templates folder" in p.message)
            for p in result.problems] == [(MESSAGE_LINE + 2, True)]


def test_validate_refuses_an_injection_payload_naming_the_template_file_and_line(
        tmp_path: Path, templates: Path):
    template = with_payload(templates, "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    path = write_playbook(tmp_path, SMS_MESSAGE)
    result = CliRunner().invoke(app, ["playbooks", "validate", str(path), "--templates",
                                      str(templates)], env={"COLUMNS": "400"})
    assert (result.exit_code, f"{template}:{SSTI_LINE}: not allowed" in result.output,
            "Traceback" in result.output) == (1, True, False)
