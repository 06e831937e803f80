"""Check a playbook's key messages against the template files: every listed language exists,
stays inside the template sandbox, and (for SMS) renders with the playbook's sample values and
fits the segment budget."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from incident_bot.adapters.playbook.build import Draft
from incident_bot.adapters.playbook.cursor import At
from incident_bot.adapters.templates import TemplateStore
from incident_bot.domain.playbook import Channel, KeyMessage
from incident_bot.domain.sms import count_for_sending
from incident_bot.errors import TemplateError


def check_templates(draft: Draft, templates_dir: Path) -> None:
    store = TemplateStore(templates_dir)
    for message, at in draft.messages.built:
        for language in message.languages:
            if not _present(store, message, language, at, templates_dir):
                continue
            if not _in_sandbox(store, message, language, at):
                continue
            if Channel.SMS in message.channels:
                budget = message.sms_segment_budget or draft.header.sms_segment_budget
                _check_sms(store, message, language, at, draft.header.variables, budget)


def _present(store: TemplateStore, message: KeyMessage, language: str, at: At,
             templates_dir: Path) -> bool:
    """Whether the file is there; reports it when it is not, or when its name is refused."""
    try:
        if store.exists(message.template, language):
            return True
    except TemplateError as exc:  # a name the store refuses; the loader's own checks allow it
        at.key("template").error(str(exc))
        return False
    expected = templates_dir / f"{message.template}.{language}.j2"
    at.key("template").error(
        f"message '{message.id}' has no '{language}' version of template "
        f"'{message.template}': expected {expected}"
    )
    return False


def _in_sandbox(store: TemplateStore, message: KeyMessage, language: str, at: At) -> bool:
    try:
        store.check_sandbox(message.template, language)
    except TemplateError as exc:
        at.key("template").error(
            f"template '{message.template}' ({language}) is refused: {exc}"
        )
        return False
    return True


def _check_sms(store: TemplateStore, message: KeyMessage, language: str, at: At,
               variables: Mapping[str, str], budget: int) -> None:
    try:
        text = store.render_sample(message.template, language, variables)
    except TemplateError as exc:
        at.key("template").error(
            f"template '{message.template}' ({language}) does not render: {exc}"
        )
        return
    info = count_for_sending(text)  # as sent: smart encoding is on
    if info.segments > budget:
        at.key("template").warning(
            f"'{language}' SMS of message '{message.id}' is {info.segments} segments "
            f"({info.encoding}, {info.units} units) with sample values; the budget is {budget}"
        )
