#!/usr/bin/env bash
# Drive the real terminal app in tmux as a person would: build a store from
# data/sample, launch `satchel tui` in a 120x40 tmux pane, type the sample question,
# wait for the streamed answer and its sources, open source 1, and print what the
# screen showed at each step (tmux capture-pane).
#
#   scripts/tmux_demo.sh                 # a fresh store in a temporary folder
#   SATCHEL_HOME=~/demo scripts/tmux_demo.sh
#   QUESTION="Who brings the board games?" scripts/tmux_demo.sh
#
# Needs tmux (apt-get install -y tmux). Exit status 0 when the answer arrived with
# cited sources and the document viewer opened; 1 otherwise (the screen is printed).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SATCHEL=${SATCHEL:-$REPO/.venv/bin/satchel}
QUESTION=${QUESTION:-"When is the cabin check-in and what is the door code?"}
TIMEOUT=${TIMEOUT:-300}  # seconds to wait for the model, and then for the answer
WIDTH=${WIDTH:-120}
HEIGHT=${HEIGHT:-40}

if ! command -v tmux >/dev/null 2>&1; then
    echo "tmux_demo: tmux is not installed (apt-get install -y tmux)" >&2
    exit 2
fi

CLEAN_HOME=""
if [[ -z "${SATCHEL_HOME:-}" ]]; then
    SATCHEL_HOME=$(mktemp -d -t satchel-tmux-demo.XXXXXX)
    CLEAN_HOME=$SATCHEL_HOME
fi
export SATCHEL_HOME HF_HUB_OFFLINE=1

# A private tmux server: nothing of the user's tmux sessions is touched.
SOCKET="satchel-demo-$$"
SESSION="satchel"
tmux_() { tmux -L "$SOCKET" -f /dev/null "$@"; }
cleanup() {
    tmux_ kill-server >/dev/null 2>&1 || true
    if [[ -n "$CLEAN_HOME" ]]; then rm -rf "$CLEAN_HOME"; fi
}
trap cleanup EXIT

echo "== building the store in $SATCHEL_HOME from data/sample" >&2
"$SATCHEL" add "$REPO/data/sample" >&2
status=0
"$SATCHEL" index --quiet >&2 || status=$?
if [[ $status -ne 0 && $status -ne 10 ]]; then  # 10: some items unreadable, the rest indexed
    echo "tmux_demo: satchel index failed ($status)" >&2
    exit 1
fi

screen() { tmux_ capture-pane -p -t "$SESSION"; }

# wait_for SECONDS PATTERN...: until one of the fixed strings shows on the screen
wait_for() {
    local seconds=$1 deadline
    shift
    deadline=$((SECONDS + seconds))
    while ((SECONDS < deadline)); do
        local now
        now=$(screen 2>/dev/null || true)
        for pattern in "$@"; do
            if grep -qF -- "$pattern" <<<"$now"; then
                return 0
            fi
        done
        sleep 0.5
    done
    return 1
}

fail() {
    echo "tmux_demo: $1" >&2
    echo "== the screen" >&2
    screen >&2 || true
    exit 1
}

command_line=$(printf 'cd %q && exec env SATCHEL_HOME=%q HF_HUB_OFFLINE=1 %q tui' "$REPO" "$SATCHEL_HOME" "$SATCHEL")
tmux_ new-session -d -s "$SESSION" -x "$WIDTH" -y "$HEIGHT" "$command_line"
tmux_ set-option -t "$SESSION" remain-on-exit on >/dev/null  # keep a crash's traceback

echo "== launched satchel tui; waiting for the model" >&2
wait_for "$TIMEOUT" "model ready" "no model" || fail "the app did not get ready in ${TIMEOUT}s"
if screen | grep -qF "no model"; then
    fail "the model could not be loaded"
fi

echo "== asking: $QUESTION" >&2
tmux_ send-keys -t "$SESSION" -l "$QUESTION"
tmux_ send-keys -t "$SESSION" Enter
wait_for "$TIMEOUT" "sources cited" "not found in your data" "nothing relevant" "failed:" \
    || fail "no answer in ${TIMEOUT}s"
echo "== the chat screen after the answer"
screen
screen | grep -qF "sources cited" || fail "the answer has no cited sources"

echo "== opening source 1 (Tab to the sources list, then 1)" >&2
tmux_ send-keys -t "$SESSION" Tab
sleep 0.5
tmux_ send-keys -t "$SESSION" 1
wait_for 30 "source 1" || fail "the document viewer did not open"
echo "== the document viewer at source 1"
screen

tmux_ send-keys -t "$SESSION" Escape
sleep 0.5
tmux_ send-keys -t "$SESSION" C-q
for _ in $(seq 1 20); do
    dead=$(tmux_ display-message -p -t "$SESSION" '#{pane_dead}' 2>/dev/null || echo 1)
    [[ "$dead" == "1" ]] && break
    sleep 0.5
done
echo "== done" >&2
