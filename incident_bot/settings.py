"""Settings, read once from an injected mapping (the environment, plus an optional ``.env``)
into a frozen object. Secrets are ``SecretStr``: hidden in repr and logs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from incident_bot.errors import ConfigError

SLACK_API_DEFAULT = "https://slack.com/api/"
TWILIO_API_DEFAULT = "https://api.twilio.com"
TIMEZONE_DEFAULT = "Europe/London"


def default_database_url(base: Path) -> str:
    return f"sqlite:///{(base / 'var' / 'incident-bot.db').as_posix()}"


class Settings(BaseModel):
    """Every setting the bot reads; the README's configuration table documents each one."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(SLACK_API_DEFAULT, alias="SLACK_API_URL")
    twilio_account_sid: str | None = Field(None, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr | None = Field(None, alias="TWILIO_AUTH_TOKEN")
    twilio_from_number: str | None = Field(None, alias="TWILIO_FROM_NUMBER")
    twilio_messaging_service_sid: str | None = Field(None, alias="TWILIO_MESSAGING_SERVICE_SID")
    twilio_api_url: str = Field(TWILIO_API_DEFAULT, alias="TWILIO_API_URL")
    twilio_http_timeout: float = Field(10.0, gt=0, alias="TWILIO_HTTP_TIMEOUT")  # seconds
    twilio_send_rate: float = Field(10.0, gt=0, alias="TWILIO_SEND_RATE")  # SMS/s per sender
    twilio_call_rate: float = Field(1.0, gt=0, alias="TWILIO_CALL_RATE")  # calls/s
    public_base_url: str | None = Field(None, alias="PUBLIC_BASE_URL")
    # seconds between ticks (fire due timers, send what is due): a due timer waits at most this
    # long, and the SMS pace is handed out in slices this long
    tick_seconds: float = Field(0.25, ge=0.02, le=10, alias="INCIDENT_BOT_TICK_SECONDS")
    database_url: SecretStr = Field(alias="DATABASE_URL")  # may embed a password
    playbooks_dir: Path = Field(alias="INCIDENT_BOT_PLAYBOOKS")
    templates_dir: Path = Field(alias="INCIDENT_BOT_TEMPLATES")
    log_level: str = Field("INFO", alias="INCIDENT_BOT_LOG_LEVEL")
    # the partnership's time zone (an IANA name): typed clock times are read in it, and a new
    # incident's notices show times in it
    timezone: str = Field(TIMEZONE_DEFAULT, alias="INCIDENT_BOT_TIMEZONE")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a time zone name") from None
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def slack_configured(self) -> bool:
        """Enough to serve Slack: a bot token and either Socket Mode or a signing secret."""
        return self.slack_bot_token is not None and (
            self.slack_app_token is not None or self.slack_signing_secret is not None
        )

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token) and bool(
            self.twilio_from_number or self.twilio_messaging_service_sid
        )

    @property
    def twilio_from_numbers(self) -> tuple[str, ...]:
        """TWILIO_FROM_NUMBER may list a pool of numbers, comma-separated."""
        raw = self.twilio_from_number or ""
        return tuple(n.strip() for n in raw.split(",") if n.strip())

    @property
    def sms_per_second(self) -> float:
        """The bot's own SMS pace: TWILIO_SEND_RATE per sender number (one Messaging Service
        counts as one sender unless TWILIO_SEND_RATE is raised for its pool)."""
        senders = 1 if self.twilio_messaging_service_sid else len(self.twilio_from_numbers)
        return self.twilio_send_rate * max(senders, 1)

    def require(self, *names: str) -> None:
        """Raise ConfigError naming every listed setting (by env name) that is unset."""
        missing = [
            field.alias or name
            for name, field in type(self).model_fields.items()
            if (field.alias in names or name in names) and getattr(self, name) in (None, "")
        ]
        if missing:
            raise ConfigError(f"missing setting(s): {', '.join(missing)}")


def read_dotenv(path: Path) -> dict[str, str]:
    """A minimal ``.env`` reader: KEY=VALUE lines, # comments, optional quotes."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def load_settings(environ: Mapping[str, str], base: Path | None = None) -> Settings:
    """Build Settings from ``environ`` over ``base/.env``; environment wins over the file."""
    base = base or Path.cwd()
    merged: dict[str, str] = {**read_dotenv(base / ".env"), **environ}
    merged = {k: v for k, v in merged.items() if v != ""}
    merged.setdefault("DATABASE_URL", default_database_url(base))
    merged.setdefault("INCIDENT_BOT_PLAYBOOKS", str(base / "playbooks"))
    merged.setdefault("INCIDENT_BOT_TEMPLATES", str(base / "message_templates"))
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        names = ", ".join(str(e["loc"][0]) for e in exc.errors())
        raise ConfigError(f"invalid setting(s): {names}") from None
