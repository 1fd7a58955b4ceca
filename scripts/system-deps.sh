#!/usr/bin/env sh
# System packages from Debian, installed when missing and we may (root with apt-get).
#
# Default / --required: PortAudio, the one system library the workbench uses (playback via
# sounddevice). With --required a failure is an error (the tests play through a real
# PortAudio stream), otherwise only a warning (the app runs without sound and says so).
#
# --browser: chromium and fonts-noto-cjk for the real-browser test of `wuwb serve`
# (tests/web/test_browser.py drives Debian's chromium with playwright; the fonts make the
# Chinese in its screenshots readable). Never an error: without them that test skips and
# says why.
mode=${1:-}

apt_install() {
    command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] || return 1
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

if [ "$mode" = "--browser" ]; then
    missing=""
    command -v chromium >/dev/null 2>&1 || missing=" chromium"
    dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing="$missing fonts-noto-cjk"
    [ -z "$missing" ] && exit 0
    # shellcheck disable=SC2086
    apt_install $missing && exit 0
    echo "warning: could not install$missing (needs root and apt-get): the browser test of" \
        "wuwb serve will be skipped" >&2
    exit 0
fi

if ldconfig -p 2>/dev/null | grep -q 'libportaudio\.so'; then
    exit 0
fi
apt_install libportaudio2 && exit 0
if [ "$mode" = "--required" ]; then
    echo "error: PortAudio (Debian package libportaudio2) is missing and could not be installed" >&2
    exit 1
fi
echo "warning: PortAudio (libportaudio2) is missing: the workbench will run without sound" >&2
exit 0
