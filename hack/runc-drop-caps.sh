#!/usr/bin/env bash
# OCI runtime wrapper for dockerd on hosts whose capability bounding set lacks some capability
# (seen: CAP_SYS_RESOURCE). Docker 20.10 gives a --privileged container every capability
# whatever --cap-drop says, and runc then fails with "unable to apply caps". This strips the
# capabilities the host cannot grant from the OCI spec (the bundle's config.json for
# create/run, the --process file for exec) and runs runc unchanged otherwise.
set -euo pipefail

names=(CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID
  CAP_SETUID CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_ADMIN
  CAP_NET_RAW CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_CHROOT CAP_SYS_PTRACE
  CAP_SYS_PACCT CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_NICE CAP_SYS_RESOURCE CAP_SYS_TIME
  CAP_SYS_TTY_CONFIG CAP_MKNOD CAP_LEASE CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP
  CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_AUDIT_READ
  CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE)
bounding=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
missing=()
for i in "${!names[@]}"; do
  ((bounding >> i & 1)) || missing+=("\"${names[i]}\"")
done

# Removes the missing capabilities from every capability set of the process object at jq path
# $2 ("" for the top level) in JSON file $1.
strip() {
  local file="$1" path="$2" drop tmp
  drop="[$(IFS=,; echo "${missing[*]}")]"
  tmp="$(mktemp "${file}.XXXXXX")"
  jq --argjson drop "$drop" \
    "if ${path}.capabilities then ${path}.capabilities |= map_values(. - \$drop) else . end" \
    "$file" >"$tmp"
  chmod --reference="$file" "$tmp"
  mv "$tmp" "$file"
}

if ((${#missing[@]} > 0)); then
  cmd="" bundle="$PWD" process=""
  args=("$@")
  for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
      create | run | exec) [[ -n $cmd ]] || cmd="${args[i]}" ;;
      --bundle | -b) bundle="${args[i + 1]}" ;;
      --bundle=*) bundle="${args[i]#--bundle=}" ;;
      --process | -p) process="${args[i + 1]}" ;;
      --process=*) process="${args[i]#--process=}" ;;
    esac
  done
  case "$cmd" in
    create | run) strip "${bundle}/config.json" .process ;;
    exec) [[ -z $process ]] || strip "$process" "" ;;
  esac
fi
exec runc "$@"
