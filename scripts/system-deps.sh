#!/usr/bin/env sh
# PortAudio is the one system library the workbench uses (audio playback via sounddevice).
# Installs Debian's libportaudio2 when it is missing and we may; with --required a failure
# is an error (the tests play through a real PortAudio stream), otherwise only a warning
# (the app runs without sound and says so).
required=0
[ "${1:-}" = "--required" ] && required=1
if ldconfig -p 2>/dev/null | grep -q 'libportaudio\.so'; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libportaudio2 >/dev/null 2>&1 && exit 0
fi
if [ "$required" = 1 ]; then
    echo "error: PortAudio (Debian package libportaudio2) is missing and could not be installed" >&2
    exit 1
fi
echo "warning: PortAudio (libportaudio2) is missing: the workbench will run without sound" >&2
exit 0
