"""`incident-bot templates ...`: preview key-message templates and what they cost as SMS."""

from __future__ import annotations

from typing import Annotated

import typer

from incident_bot.adapters.templates import TemplateMeta, TemplateStore
from incident_bot.domain.sms import (
    GSM7,
    SmsInfo,
    count_for_sending,
    non_gsm_characters,
    smart_encode,
)
from incident_bot.entrypoints.cli import _common
from incident_bot.entrypoints.tables import Column, Listing, print_listings, print_note
from incident_bot.errors import ConfigError

app = typer.Typer(help="Preview key-message templates and their SMS cost.", no_args_is_help=True)

# Listing a handful of stray characters helps an author fix them; listing a whole script does not.
MAX_STRAY_CHARACTERS = 5

TemplateArg = Annotated[str, typer.Argument(metavar="ID", help="Template id, e.g. ring-round-sms.")]
LangOpt = Annotated[str, typer.Option("--lang", help="Language code, e.g. en, ur, pl.")]
VarOpt = Annotated[list[str] | None, typer.Option(
    "--var", help="Set a variable instead of its sample value: name=value (repeatable).")]


@app.command("render")
def render(template: TemplateArg, lang: LangOpt = "en", var: VarOpt = None) -> None:
    """Render a template with sample values; show its SMS encoding, size and review status."""
    overrides = parse_vars(var or [])
    with _common.exits_on_error():
        store = open_store()
        text = store.render_sample(template, lang, overrides)
        template_meta = store.meta(template, lang)
        unused = sorted(set(overrides) - store.variables(template, lang))
    typer.echo(text)
    typer.echo("")
    for line in [*sms_lines(text), *review_lines(template_meta)]:
        typer.echo(line)
    for name in unused:
        typer.echo(f"note: --var {name} is not used by this template", err=True)


@app.command("list")
def list_templates() -> None:
    """Every template id with its languages and whether each translation has been reviewed."""
    with _common.exits_on_error():
        store = open_store()
        rows = {t: {lang: store.meta(t, lang) for lang in store.languages(t)}
                for t in store.templates()}
    languages = sorted({lang for by_lang in rows.values() for lang in by_lang},
                       key=lambda lang: (lang != "en", lang))
    columns = (Column("template", whole=True), Column("kind", whole=True, drop=1),
               *(Column(lang, whole=True) for lang in languages))
    table = Listing(f"Templates in {store.root}", columns)
    for template, by_lang in rows.items():
        kind = next(iter(by_lang.values())).kind
        table.add(template, kind, *(_cell(by_lang.get(lang)) for lang in languages))
    print_listings(table)
    print_note("reviewed = checked by a native speaker; "
               "unreviewed = machine translation, check before use")


def parse_vars(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected name=value, got {pair!r}", param_hint="--var")
        values[name.strip()] = value
    return values


def sms_lines(text: str) -> list[str]:
    """What the text costs as an SMS, counted as the bot sends it (smart encoding on)."""
    info = count_for_sending(text)
    lines = [f"SMS: {info.encoding}, {info.units} {_unit_name(info)}, "
             f"{info.segments} segment{'s' if info.segments != 1 else ''} (after smart encoding)"]
    stray = non_gsm_characters(smart_encode(text))
    if info.encoding != GSM7 and len(stray) <= MAX_STRAY_CHARACTERS:
        lines.append("UCS-2 because of: " + " ".join(repr(ch) for ch in stray))
    return lines


def review_lines(template_meta: TemplateMeta) -> list[str]:
    lines = [f"Template: {template_meta.title} ({template_meta.kind})"]
    source = template_meta.translated_from
    if template_meta.reviewed:
        lines.append("Reviewed: yes" + (f" (translation from {source})" if source else ""))
    else:
        what = f"translation from {source}" if source else "text"
        lines.append(f"Reviewed: NO ({what} not yet checked by a native speaker)")
    return lines


def open_store() -> TemplateStore:
    root = _common.settings().templates_dir
    if not root.is_dir():
        raise ConfigError(f"templates directory {root} does not exist (INCIDENT_BOT_TEMPLATES)")
    return TemplateStore(root)


def _unit_name(info: SmsInfo) -> str:
    return "septets" if info.encoding == GSM7 else "UTF-16 code units"


def _cell(template_meta: TemplateMeta | None) -> str:
    if template_meta is None:
        return "-"
    return "reviewed" if template_meta.reviewed else "unreviewed"
