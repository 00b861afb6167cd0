#!/bin/sh
# ExecStartPre of containerd in the node image. Lowering an oom_score_adj needs CAP_SYS_RESOURCE;
# on a host whose bounding set lacks it the node lacks it too, and runc fails every pod sandbox
# that CRI gives a negative score ("can't get final child's PID from pipe"). There, containerd
# is told to never go below its own score, as kind's entrypoint does under user namespaces.
set -eu
bounding="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
if [ $(((0x$bounding >> 24) & 1)) -eq 0 ]; then # 24 = CAP_SYS_RESOURCE
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' /etc/containerd/config.toml
fi
