"""Who holds which role in one incident (domain.md §2, §4). Standard library only.

Roles are functions, not people: one person may hold several and a role may have several
holders. A role's deputies are the holders of its deputy role. The commander is anyone holding
one of the playbook's ``started_by`` roles, and may always act.

Before T0 only the holders of need-to-know roles are in the incident (the confidential
pre-brief). Anyone else added before T0 is *admitted early*: a logged decision, recorded here so
they stay in when T0 has not yet come.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Level, Playbook


@dataclass
class RoleBook:
    """Role code → holders (person keys, in the order they were given the role)."""

    holders: dict[str, list[str]] = field(default_factory=dict)
    admitted_early: list[str] = field(default_factory=list)  # let in before T0 by a decision

    @classmethod
    def from_people(cls, playbook: Playbook, people: Iterable[Person]) -> RoleBook:
        """A person holds each playbook role listed in their directory entry."""
        book = cls({role.code: [] for role in playbook.roles})
        for person in sorted(people, key=lambda p: p.key):
            for code in person.roles:
                if code in book.holders and person.key not in book.holders[code]:
                    book.holders[code].append(person.key)
        return book

    # ---- questions ------------------------------------------------------------------------

    def holders_of(self, role: str | None) -> list[str]:
        return list(self.holders.get(role, ())) if role else []

    def holders_of_any(self, roles: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(key for role in roles for key in self.holders_of(role)))

    def roles_of(self, person: str) -> list[str]:
        return [role for role, keys in self.holders.items() if person in keys]

    def holds_any(self, person: str, roles: Iterable[str]) -> bool:
        return any(person in self.holders.get(role, ()) for role in roles)

    def members(self) -> list[str]:
        """Everyone holding at least one role."""
        return list(dict.fromkeys(key for keys in self.holders.values() for key in keys))

    def deputies_of(self, playbook: Playbook, role: str) -> list[str]:
        return self.holders_of(playbook.role(role).deputy) if _defined(playbook, role) else []

    def commanders(self, playbook: Playbook) -> list[str]:
        return self.holders_of_any(playbook.started_by)

    def may(self, playbook: Playbook, person: str, roles: Iterable[str]) -> bool:
        """Whether ``person`` holds one of ``roles``, or is a commander (who may always act)."""
        return self.holds_any(person, [*roles, *playbook.started_by])

    # ---- the pre-brief --------------------------------------------------------------------

    def is_visible(self, playbook: Playbook, person: str, prebrief: bool) -> bool:
        """Whether ``person`` is in the incident now (before T0: need to know, or admitted)."""
        if not prebrief:
            return person in self.members()
        return person in self.admitted_early or self.holds_any(person, need_to_know(playbook))

    def visible_holders(self, playbook: Playbook, prebrief: bool) -> dict[str, list[str]]:
        """Role → the holders who are in the incident now: what tasks and notices may use."""
        return {role: [k for k in keys if self.is_visible(playbook, k, prebrief)]
                for role, keys in self.holders.items()}

    def visible_members(self, playbook: Playbook, prebrief: bool) -> list[str]:
        return [k for k in self.members() if self.is_visible(playbook, k, prebrief)]

    # ---- changes (the orchestrator checks who may, and logs them) -------------------------

    def assign(self, role: str, person: str) -> bool:
        """Give ``person`` the role; False when they hold it already."""
        keys = self.holders.setdefault(role, [])
        if person in keys:
            return False
        keys.append(person)
        return True

    def unassign(self, role: str, person: str) -> bool:
        """Take the role from ``person``; False when they did not hold it."""
        keys = self.holders.get(role, [])
        if person not in keys:
            return False
        keys.remove(person)
        return True

    def admit_early(self, person: str) -> None:
        if person not in self.admitted_early:
            self.admitted_early.append(person)

    # ---- snapshot -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"holders": {role: list(keys) for role, keys in self.holders.items()},
                "admitted_early": list(self.admitted_early)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoleBook:
        return cls({role: list(keys) for role, keys in data["holders"].items()},
                   list(data["admitted_early"]))


def need_to_know(playbook: Playbook) -> list[str]:
    return [role.code for role in playbook.roles if role.need_to_know]


def roles_at_level(playbook: Playbook, level: Level) -> list[str]:
    return [role.code for role in playbook.roles if role.level is level]


def deputy_roles(playbook: Playbook) -> dict[str, str]:
    """Role code → its deputy role code, for roles that have one."""
    return {role.code: role.deputy for role in playbook.roles if role.deputy}


def describe_holders(book: RoleBook, names: Mapping[str, str], roles: Sequence[str]) -> str:
    """``bcu_commander: Alice Smith; police_silver: (nobody)`` for decision-log entries."""
    def who(role: str) -> str:
        keys = book.holders_of(role)
        return ", ".join(names.get(k, k) for k in keys) or "(nobody)"
    return "; ".join(f"{role}: {who(role)}" for role in roles)


def _defined(playbook: Playbook, role: str) -> bool:
    return any(r.code == role for r in playbook.roles)
