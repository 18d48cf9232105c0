#!/bin/sh
# Fails when a public function (declared EVL_API in include/evl/*.h) is never called in
# tests/unit/test_badinput.c: every public function needs a bad-input case there.
# Usage: scripts/check-badinput.sh [source dir]   (ctest: unit.badinput_covers_every_public_function)
set -eu
root=${1:-$(dirname "$0")/..}
test_file="$root/tests/unit/test_badinput.c"
public=$(grep -h 'EVL_API' "$root"/include/evl/*.h | grep -v '#' |
    sed -E 's/\(.*//; s/.*[ *]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*$/\1/' | sort -u)
called=$(grep -oE '\bevl_[a-z0-9_]+\(' "$test_file" | tr -d '(' | sort -u)
missing=$(printf '%s\n' "$public" | while read -r name; do
    printf '%s\n' "$called" | grep -qx "$name" || printf '%s\n' "$name"
done)
count=$(printf '%s\n' "$public" | wc -l)
if [ -n "$missing" ]; then
    echo "check-badinput: public functions without a case in tests/unit/test_badinput.c:" >&2
    printf '  %s\n' $missing >&2
    exit 1
fi
echo "check-badinput: all $count public functions have a bad-input case"
