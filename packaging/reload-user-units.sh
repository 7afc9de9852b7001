# Every running user manager rereads its unit files (best effort, never fatal). Nothing is
# enabled, started, stopped or restarted for anyone: that is each user's `systemctl --user`.
# A user manager listens on /run/user/UID/systemd/private; --machine UID@ reaches it as root.
if [ -d /run/systemd/system ]; then
    for socket in /run/user/*/systemd/private; do
        [ -S "$socket" ] || continue
        uid=${socket#/run/user/}
        uid=${uid%%/*}
        timeout 10 systemctl --user --machine="$uid@" daemon-reload >/dev/null 2>&1 || true
    done
fi
