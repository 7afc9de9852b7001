# Every running user manager rereads its unit files (best effort, never fatal). Nothing is
# enabled, started, stopped or restarted for anyone: that is each user's `systemctl --user`.
# A user manager listens on /run/user/UID/systemd/private; --machine UID@ reaches it as root.
if [ -d /run/systemd/system ]; then
    for dir in /run/user/*; do
        [ -S "$dir/systemd/private" ] || continue
        timeout 10 systemctl --user --machine="${dir##*/}@" daemon-reload >/dev/null 2>&1 || true
    done
fi
