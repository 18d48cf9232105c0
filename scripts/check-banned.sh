#!/usr/bin/env bash
# Fails if project sources use a banned function. Raw malloc/free are allowed only in the
# allocator file, which is the one seam every allocation goes through.
set -euo pipefail
root=${1:-.}
cd "$root"
status=0
files=$(git ls-files 'src/*.c' 'src/*.h' 'cli/*.c' 'include/*.h' 2>/dev/null || find src cli include -name '*.[ch]')
for f in $files; do
  [ -f "$f" ] || continue
  # Comments do not count: drop // comments, one-line /* */ comments and comment-block lines.
  stripped=$(sed -e 's://.*$::' -e 's:/\*.*\*/::g' -e 's:^[[:space:]]*/\*.*$::' -e 's:^[[:space:]]*\*.*$::' "$f")
  if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)\s*\(' <<<"$stripped" >/tmp/banned.$$; then
    sed "s|^|$f:|" /tmp/banned.$$; status=1
  fi
  if [ "$f" != "src/alloc/alloc.c" ] && grep -nE '(^|[^_a-z])(malloc|calloc|realloc|free)\s*\(' <<<"$stripped" \
      | grep -vE 'evl_(malloc|calloc|realloc|free)|_fn\(|\.free\(|->free\(' >/tmp/banned.$$; then
    sed "s|^|$f: raw allocation: |" /tmp/banned.$$; status=1
  fi
done
rm -f /tmp/banned.$$
[ $status -eq 0 ] && echo "banned-function check: clean"
exit $status
