"""Offline exercise mode: rehearse a playbook with simulated people and a simulated clock on a
database of its own, and get a readiness report.

``prepare`` + ``run_exercise`` (in ``session``) are the API; ``runner`` is the discrete-event
loop, ``participants`` and ``community`` the simulated people, ``people`` their fixed
dispositions per seed, ``calling`` the callers' retry policy, ``transport`` the captured
deliveries, ``live`` the live view and transcript lines, ``report`` the report's rendering.
``manual`` simulates the same people's manual ring-round (no bot, no database); ``reach`` holds
the reach figures both modes give, and ``reach_report`` their tables.
"""

from incident_bot.entrypoints.exercise.acting import Behaviour
from incident_bot.entrypoints.exercise.runner import ExerciseConfig, ExerciseResult
from incident_bot.entrypoints.exercise.session import (
    SAMPLE_DIRECTORY,
    Prepared,
    database_file,
    database_url,
    default_t0,
    exercise_settings,
    prepare,
    run_exercise,
)

__all__ = [
    "SAMPLE_DIRECTORY",
    "Behaviour",
    "ExerciseConfig",
    "ExerciseResult",
    "Prepared",
    "database_file",
    "database_url",
    "default_t0",
    "exercise_settings",
    "prepare",
    "run_exercise",
]
