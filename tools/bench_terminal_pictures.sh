#!/usr/bin/env bash
# Keypress -> picture on screen in real terminals (README, Performance): runs
# `hatscope-dev explore --bench-render` in xterm -ti vt340 (sixel) and kitty (software OpenGL)
# under a private Xvfb, configurations alternating round by round, and prints each run's median
# and the median over runs. Needs xvfb, xterm, kitty (./dev.sh test installs them).
#   tools/bench_terminal_pictures.sh ROUNDS CONFIG...
# CONFIG = BINARY,TERMINAL,TRANSMISSION,GRAPHICS with TERMINAL xterm | kitty | kitty-tuned (kitty
# with -o input_delay=0 -o repaint_delay=2 -o sync_to_monitor=no), TRANSMISSION file|shm|rgb|png or
# empty, GRAPHICS auto|blocks or empty. Example (two builds side by side):
#   tools/bench_terminal_pictures.sh 7 old/hatscope-dev,xterm,, .build/release/hatscope-dev,xterm,, \
#       .build/release/hatscope-dev,kitty,file, .build/release/hatscope-dev,kitty,,blocks
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=$1; shift
out=$(mktemp -d /tmp/hatscope-bench-XXXXXX)
n=$((300 + RANDOM % 100))
while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n + 1)); done
display=:$n
Xvfb "$display" -screen 0 1920x1200x24 -nolisten tcp -noreset >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null; rm -rf "$out"' EXIT
sleep 2
export DISPLAY=$display LIBGL_ALWAYS_SOFTWARE=1 HATSCOPE_ASSETS="$PWD/assets"
kitty=(kitty -o font_size=7 -o remember_window_size=no -o initial_window_width=200c -o initial_window_height=60c)
for r in $(seq 1 "$rounds"); do
    for c in "$@"; do
        IFS=, read -r bin term transmission graphics <<< "$c"
        args="--graphics ${graphics:-auto}"
        [ -n "$transmission" ] && args="$args --kitty-transmission $transmission"
        log="$out/$(echo "$c" | tr '/,' '__').$r"
        cmd="$(realpath "$bin") explore --bench-render $args 2>'$log'"
        case $term in
            xterm) TERM=xterm xterm -ti vt340 -geometry 200x60 -e sh -c "$cmd" ;;
            kitty) "${kitty[@]}" sh -c "$cmd" ;;
            kitty-tuned) "${kitty[@]}" -o input_delay=0 -o repaint_delay=2 -o sync_to_monitor=no sh -c "$cmd" ;;
            *) echo "unknown terminal: $term" >&2; exit 1 ;;
        esac >/dev/null 2>&1
        ms=$(grep -o 'until the terminal answers.*' "$log" | grep -o 'median [0-9.]* ms' | head -1 | grep -o '[0-9.]*' || true)
        echo "$c round $r: ${ms:-failed} ms | $(grep -o 'of which drawing.*' "$log" || cat "$log")"
        echo "$c ${ms:-nan}" >> "$out/summary"
    done
done
echo "median over runs:"
awk '{ v[$1] = v[$1] " " $2 } END { for (k in v) print k v[k] }' "$out/summary" | while read -r k vals; do
    printf '  %s: %s ms\n' "$k" "$(echo "$vals" | tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }')"
done
