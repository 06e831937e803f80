"""Check a playbook's key messages against the template files: every listed language exists,
renders with the playbook's sample values, and (for SMS) fits the segment budget."""

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
            if not _exists(store, message.template, language, at):
                expected = templates_dir / f"{message.template}.{language}.j2"
                at.key("template").error(
                    f"message '{message.id}' has no '{language}' version of template "
                    f"'{message.template}': expected {expected}"
                )
            elif Channel.SMS in message.channels:
                budget = message.sms_segment_budget or draft.header.sms_segment_budget
                _check_sms(store, message, language, at, draft.header.variables, budget)


def _exists(store: TemplateStore, template: str, language: str, at: At) -> bool:
    try:
        return store.exists(template, language)
    except TemplateError as exc:  # a name the store refuses; the loader's own checks allow it
        at.key("template").error(str(exc))
        return True  # reported here; not also as missing


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
