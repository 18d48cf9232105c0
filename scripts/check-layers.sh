#!/usr/bin/env bash
# The layering check: includes point down the floors of scripts/layers.txt, no include cycles,
# every source file on a floor, struct evl_loop's members used only by their owners.
# The check itself is scripts/check-layers.js (node, which the test suite needs anyway).
# usage: scripts/check-layers.sh [--root DIR] [--table FILE]
set -euo pipefail
exec node "$(dirname "$0")/check-layers.js" "$@"
