#!/usr/bin/env python3
"""containerd, dockerd and podman running their containers through swrunc.

Usage: run.py SWRUNC [--only containerd|docker|podman|podman-rootless|swctr|swctr-containers|swctr-build|swctr-compose|swctr-rootless]...

Every daemon is a throwaway: its own root, state and socket under a temp dir, cgroupfs, stopped by
PID and cleaned up (mounts, cgroups, network devices) even when a scenario fails. Prints TAP and the
swrunc command lines each client sent.
"""
import argparse
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TAP, Cleanup, build_image_archive, mkdtemp, rmtree  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("swrunc")
    ap.add_argument("--only", action="append")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("integration: must run as root")
    swrunc = os.path.abspath(a.swrunc)
    tap = TAP()
    cleanup = Cleanup()
    tmp = mkdtemp("swrunc-it-")
    cleanup.add("tmp", lambda: rmtree(tmp))
    archive = os.path.join(tmp, "busybox.tar")
    image = build_image_archive(archive)
    # A suite that cannot be imported is a failure, not a silent skip.
    from containerd_tests import Containerd
    from docker_tests import Docker
    from podman_tests import Podman
    from podman_rootless_tests import PodmanRootless
    from swctr_tests import Swctr
    from swctr_container_tests import SwctrContainers
    from swctr_build_tests import SwctrBuild
    from swctr_compose_tests import SwctrCompose
    from swctr_rootless_tests import SwctrRootless
    suites = [("containerd", lambda c: Containerd(tap, c, swrunc, archive, image)),
              ("docker", lambda c: Docker(tap, c, swrunc, archive, image)),
              ("podman", lambda c: Podman(tap, c, swrunc, archive, image)),
              ("podman-rootless", lambda c: PodmanRootless(tap, c, swrunc, archive, image)),
              ("swctr", lambda c: Swctr(tap, c, swrunc, archive, image)),
              ("swctr-containers", lambda c: SwctrContainers(tap, c, swrunc, archive, image)),
              ("swctr-build", lambda c: SwctrBuild(tap, c, swrunc, archive, image)),
              ("swctr-compose", lambda c: SwctrCompose(tap, c, swrunc, archive, image)),
              ("swctr-rootless", lambda c: SwctrRootless(tap, c, swrunc, archive, image))]
    try:
        for name, make in suites:
            if a.only and name not in a.only:
                continue
            client = None
            own = Cleanup()  # each daemon and what it made goes before the next one starts
            try:
                client = make(own)
                client.tests()
            except Exception:
                tap.check(False, f"{name}: scenarios ran to completion", traceback.format_exc())
            finally:
                # The rootless suite runs swrunc unwrapped (the wrapper would choose its --root).
                if client is not None and hasattr(client, "rec"):
                    tap.note(f"swrunc command lines sent by {name} (ids and paths folded):")
                    for line in client.rec.distinct():
                        tap.note(f"  swrunc {line}")
                own.run()
    finally:
        cleanup.run()
    tap.summary()
    sys.exit(1 if tap.failed else 0)


if __name__ == "__main__":
    main()
