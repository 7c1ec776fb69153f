"""The open model in one worker: each arrival goes out at its intended time, come what may.

A closed-model user waits for its response before sending again, so a frozen
backend silently slows the load (coordinated omission). Here a scheduler
greenlet walks this worker's share of the arrival schedule and hands each
arrival to an idle user instance; if none is idle (``in_flight_cap`` reached)
the arrival is recorded as ``dropped``, never silently skipped.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import gevent
from gevent.pool import Group
from locust import User
from locust.exception import InterruptTaskSet, RescheduleTask, StopUser

from harness.load.recorder import INTENDED_ATTR, Recorder

log = logging.getLogger(__name__)


def task_table(user_class: type[User]) -> list[Callable[[User], Any]]:
    """The plain task functions of a user class (weights already expanded by Locust)."""
    tasks: list[Callable[[User], Any]] = []
    for task in user_class.tasks:
        if isinstance(task, type):
            raise TypeError(
                f"{user_class.__name__} uses a TaskSet ({task.__name__}); the open model runs "
                "one task per arrival and needs plain @task methods on the User class"
            )
        tasks.append(task)  # type: ignore[arg-type]  # TaskSets were rejected above
    if not tasks:
        raise TypeError(f"{user_class.__name__} has no @task methods")
    return tasks


class OpenModelScheduler:
    """Runs one worker's arrivals against instances of the workload's user classes."""

    def __init__(
        self,
        environment: Any,
        user_classes: Sequence[type[User]],
        recorder: Recorder,
        cap: int,
        seed: int,
    ) -> None:
        self.environment = environment
        self.recorder = recorder
        self.cap = cap
        self.rng = random.Random(seed)
        self.classes = list(user_classes)
        self.weights = [max(getattr(c, "weight", 1), 0) or 1 for c in self.classes]
        self.tasks = {c: task_table(c) for c in self.classes}
        self.idle: dict[type[User], list[User]] = {c: [] for c in self.classes}
        self.in_flight = 0
        self.sent = 0
        self.dropped = 0
        self.group = Group()

    def _instance(self, cls: type[User]) -> User:
        pool = self.idle[cls]
        if pool:
            return pool.pop()
        user = cls(self.environment)
        user.on_start()
        return user

    def _one(self, cls: type[User], user: User, intended_us: int, token: int) -> None:
        setattr(gevent.getcurrent(), INTENDED_ATTR, intended_us)
        try:
            self.rng.choice(self.tasks[cls])(user)
        except (RescheduleTask, InterruptTaskSet, StopUser):
            pass
        except Exception:
            log.exception("hachaos: task of %s failed", cls.__name__)
        finally:
            self.in_flight -= 1
            self.idle[cls].append(user)
            self.recorder.in_flight.end(token)

    def run(self, intended: Iterable[float], stop_at: float) -> None:
        """Send every arrival (epoch seconds) in order; returns when the schedule ends."""
        for when in intended:
            if when >= stop_at:
                break
            delay = when - time.time()
            if delay > 0:
                gevent.sleep(delay)
            cls = self.rng.choices(self.classes, self.weights)[0]
            intended_us = int(when * 1e6)
            if self.in_flight >= self.cap:
                self.dropped += 1
                self.recorder.record_dropped(intended_us, cls.__name__)
                continue
            self.in_flight += 1
            self.sent += 1
            # in flight from its intended time on: the worker's watermark waits for it
            token = self.recorder.in_flight.begin(intended_us)
            self.group.spawn(self._one, cls, self._instance(cls), intended_us, token)
        self.group.join(timeout=max(stop_at - time.time(), 0) + 1.0)
