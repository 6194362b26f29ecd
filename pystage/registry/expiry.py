"""The periodic sweep that discards staged versions past their policy's expiry.

Every stage endpoint also expires what is due before it reads (``Registry.expire_due``),
so a client never sees an expired version; the sweep makes the discarding (its
history event, its notification, freeing the tarball) happen on time even when
nobody is looking. Expiry and approval both run in a ``BEGIN IMMEDIATE``
transaction that re-reads the staged row, so whichever comes second finds the
other's outcome.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("pystage.registry.expiry")


class Sweeper:
    def __init__(self, registry, interval: float) -> None:
        self.registry = registry
        self.interval = interval
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="expiry sweep", daemon=True)

    def start(self) -> Sweeper:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.registry.expire_due()
            except Exception:  # a locked or failing database: try again next round
                log.exception("expiry sweep failed")
