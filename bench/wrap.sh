#!/bin/sh
# Runs a runtime the way this machine needs crun run: in a private mount namespace without
# /sys/fs/cgroup/unified (crun 1.8 refuses the hybrid layout). Every runtime gets the same wrapper
# so the comparison stays fair.
exec unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' sh "$@"
