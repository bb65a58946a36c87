"""A replica id of this host whose process is gone is known dead at once; anything else is left to the
heartbeat. And the settings give each process its own default id."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from bot.replicas import local_process_gone
from bot.settings import Settings


def test_a_process_of_this_host_that_exited_is_gone_and_a_live_one_is_not() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    host = socket.gethostname()
    assert local_process_gone(f"{host}-{child.pid}")
    assert not local_process_gone(f"{host}-{os.getppid()}")  # alive
    assert not local_process_gone(f"{host}-{os.getpid()}")  # this very process


def test_ids_of_other_hosts_or_set_by_hand_are_never_taken_for_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not local_process_gone(f"not-{socket.gethostname()}-{child.pid}")
    assert not local_process_gone("tikv-chatops-7d9f8c-abcde")  # a pod's name
    assert not local_process_gone("r1")


def test_the_default_replica_id_is_this_hosts_name_and_pid_and_replica_id_overrides_it() -> None:
    assert Settings.load({}).replica == f"{socket.gethostname()}-{os.getpid()}"
    settings = Settings.load({"REPLICA_ID": "pod-a", "LEASE_TTL_SECONDS": "5"})
    assert (settings.replica, settings.lease_ttl_seconds) == ("pod-a", 5.0)
