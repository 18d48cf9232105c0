#!/usr/bin/env bash
# Soak: runs the evljs churn script (tests/soak/soak.js) and the C churn program
# (tests/soak/soak_churn.c) side by side for SOAK_SECONDS, samples each one's resident set
# (VmRSS in /proc/PID/status) and open fds (/proc/PID/fd) about once a second, and after the
# warm-up fits a least-squares line to the RSS samples. A program fails when it fails its
# own checks, when its RSS grows (the slope exceeds SOAK_RSS_SLOPE_KIB_MIN and the mean of
# its last five samples is more than SOAK_RSS_MARGIN_KIB above the warm-up's maximum: a
# leak does both, a garbage collector's swings or an allocator reaching its high-water mark
# only the first), or when more fds are open after the warm-up than during it. Prints the
# figures either way.
#
#   scripts/soak.sh [BUILD_DIR]          (make soak; make soak SOAK_SECONDS=60)
#
# Environment: SOAK_SECONDS (default 600), SOAK_WARMUP (seconds; default a fifth of the run,
# at least 10), SOAK_RSS_SLOPE_KIB_MIN (default 512 for runs under 5 minutes, 128 for
# longer ones), SOAK_RSS_MARGIN_KIB (default 1024), SOAK_OUT (directory for the samples;
# default BUILD_DIR/soak).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${SOAK_SECONDS:-600}
warmup=${SOAK_WARMUP:-$(( seconds / 5 > 10 ? seconds / 5 : 10 ))}
bound=${SOAK_RSS_SLOPE_KIB_MIN:-$(( seconds >= 300 ? 128 : 512 ))}
margin=${SOAK_RSS_MARGIN_KIB:-1024}
out=${SOAK_OUT:-$build/soak}
evljs=$build/cli/evljs
churn=$build/tests/soak/soak_churn
for f in "$evljs" "$churn"; do
  [ -x "$f" ] || { echo "soak: $f not built (make build)" >&2; exit 2; }
done
if [ "$warmup" -ge "$seconds" ]; then
  echo "soak: SOAK_WARMUP ($warmup s) must be shorter than SOAK_SECONDS ($seconds s)" >&2
  exit 2
fi
mkdir -p "$out"

names=(evljs soak_churn)
"$evljs" tests/soak/soak.js "$seconds" >"$out/evljs.log" 2>&1 &
pids[0]=$!
"$churn" "$seconds" >"$out/soak_churn.log" 2>&1 &
pids[1]=$!
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM
echo "soak: ${names[*]} for $seconds s (warm-up $warmup s; RSS growth: slope > $bound KiB/min" \
     "and end > warm-up max + $margin KiB)"

# One line per sample: seconds since start, VmRSS in KiB, open fds.
: >"$out/evljs.samples"
: >"$out/soak_churn.samples"
start=$(date +%s.%N)
while :; do
  alive=0
  now=$(date +%s.%N)
  t=$(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.2f", b - a }')
  for i in 0 1; do
    pid=${pids[$i]}
    [ -r "/proc/$pid/status" ] || continue
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l || true)
    # A process that just exited (a zombie) has no VmRSS: not a sample.
    if [ -n "$rss" ] && [ "$fds" -gt 0 ]; then
      echo "$t $rss $fds" >>"$out/${names[$i]}.samples"
      alive=1
    fi
  done
  [ "$alive" -eq 1 ] || break
  sleep 1
done

status=0
for i in 0 1; do
  rc=0
  wait "${pids[$i]}" || rc=$?
  name=${names[$i]}
  grep -v ": tick " "$out/$name.log" | tail -n 3 | sed "s/^/soak: $name: /"
  if [ "$rc" -ne 0 ]; then
    echo "soak: FAIL $name exited with status $rc (log: $out/$name.log)"
    status=1
  fi
  # The last few seconds are the program's own teardown: the fit stops before them.
  if ! awk -v w="$warmup" -v end="$((seconds - 2))" -v bound="$bound" -v margin="$margin" -v name="$name" '
    { t = $1; r = $2; f = $3 }
    t < w { if (f > wfd) wfd = f; if (r > wrss) wrss = r; next }
    t > end { next }
    { n++; st += t; sr += r; stt += t * t; str += t * r
      if (n == 1 || f < fmin) fmin = f; if (f > fmax) fmax = f
      if (n == 1) first = r; last = r; if (r > rmax) rmax = r; tail[n % 5] = r }
    END {
      if (n < 5) { printf "soak: FAIL %s: only %d samples after the warm-up\n", name, n; exit 1 }
      slope = (n * str - st * sr) / (n * stt - st * st) * 60
      endr = (tail[0] + tail[1] + tail[2] + tail[3] + tail[4]) / 5
      printf "soak: %s: %d samples after %d s warm-up: RSS %d -> %d KiB (max %d, end %.0f, warm-up max %d), slope %.1f KiB/min (bound %d); fds %d..%d (warm-up max %d)\n", name, n, w, first, last, rmax, endr, wrss, slope, bound, fmin, fmax, wfd
      bad = 0
      if (slope > bound && endr > wrss + margin) {
        printf "soak: FAIL %s: RSS grows %.1f KiB/min and ends %.0f KiB above the warm-up maximum\n", name, slope, endr - wrss
        bad = 1
      }
      if (fmax > wfd) { printf "soak: FAIL %s: %d fds open after the warm-up, %d during it\n", name, fmax, wfd; bad = 1 }
      exit bad
    }' "$out/$name.samples"; then
    status=1
  fi
done
trap - EXIT INT TERM
[ "$status" -eq 0 ] && echo "soak: PASS" || echo "soak: FAILED (samples in $out)"
exit "$status"
