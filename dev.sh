#!/usr/bin/env bash
# hatscope's two set-up commands (see README):
#   ./dev.sh run [ARGS...]   install missing Debian packages, build release, run hatscope (explorer on the demo)
#   ./dev.sh test            install missing Debian packages, run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

# Build and test needs: C libraries with headers, pkg-config for them, tmux for the terminal end-to-end
# tests, ncurses-term for the xterm-direct (24-bit colour) terminfo entry, libsixel-dev for sixel
# pictures.
PACKAGES=(libncursesw5-dev libopenblas-dev libpng-dev libjpeg62-turbo-dev libsixel-dev pkg-config tmux ncurses-term)
# Only for `test`: real terminals under a virtual X server for the picture end-to-end tests
# (xterm for sixel, kitty for the kitty graphics protocol, ImageMagick for screenshots and sixel
# decoding, xdotool for keys).
TEST_PACKAGES=(xvfb xterm kitty imagemagick xdotool)

say() { printf 'dev.sh: %s\n' "$*" >&2; }

missing_packages() {
    local p
    for p in "$@"; do
        if command -v dpkg-query >/dev/null 2>&1; then
            dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
        else
            echo "$p"
        fi
    done
}

ensure_packages() {
    local missing
    missing=$(missing_packages "$@" | tr '\n' ' ')
    [ -z "${missing// /}" ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        say "missing system packages: $missing- and apt-get is not available here; install them with your package manager, then run this again."
        exit 1
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            say "missing system packages: $missing- run as root or install sudo, or: apt-get install $missing"
            exit 1
        fi
    fi
    say "installing: $missing"
    # shellcheck disable=SC2086
    if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null; }; then
        say "apt-get could not install: $missing- install them by hand, then run this again."
        exit 1
    fi
}

if ! command -v swift >/dev/null 2>&1; then
    say "the Swift toolchain (swift) is not on PATH; install Swift 6 first."
    exit 1
fi

verb="${1:-}"
[ $# -gt 0 ] && shift
case "$verb" in
    run)
        ensure_packages "${PACKAGES[@]}"
        swift build -c release --product hatscope
        exec .build/release/hatscope "$@"
        ;;
    test)
        ensure_packages "${PACKAGES[@]}" "${TEST_PACKAGES[@]}"
        # Release build with testable imports: the parity tests run real forward passes.
        swift build -c release -Xswiftc -enable-testing --build-tests
        exec swift test -c release -Xswiftc -enable-testing --skip-build --disable-swift-testing "$@"
        ;;
    *)
        echo "usage: ./dev.sh run [hatscope arguments...] | ./dev.sh test [swift test arguments...]" >&2
        exit 2
        ;;
esac
