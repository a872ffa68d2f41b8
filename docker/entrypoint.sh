#!/bin/sh
# The container's entrypoint: runs a process type of the Procfile (web, worker, release), so the
# container, a Procfile platform and `./swatch up` run the very same commands.
#   entrypoint.sh web | worker | release     run that process type
#   entrypoint.sh --print TYPE               print its command instead (the deployment test)
#   entrypoint.sh manage ARGS…               python manage.py ARGS… (one-off commands)
#   entrypoint.sh ANYTHING ELSE              run it as it is
set -eu
cd "$(dirname "$0")/.."

print=""
if [ "${1:-}" = "--print" ]; then
  print=1
  shift
fi
type=${1:-web}

command_of() {
  # The Procfile line `TYPE: COMMAND`, its command.
  sed -n "s/^$1:[[:space:]]*//p" Procfile
}

case "$type" in
  web|worker|release)
    command=$(command_of "$type")
    if [ -z "$command" ]; then
      echo "entrypoint: no '$type' in the Procfile" >&2
      exit 2
    fi
    if [ -n "$print" ]; then
      echo "$command"
      exit 0
    fi
    # shellcheck disable=SC2086 # the Procfile's command is split into words, as a shell would
    exec $command
    ;;
  manage)
    shift
    exec python manage.py "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
