# Run as: dbus-run-session -- bash secret_service_session.sh OUT_DIR
# (see tests/e2e/test_e2e_secret_service.py). Writes each command's output and exit code to OUT_DIR.
set -u
out="$1"
db="$CRM_TUI_DATA_DIR/crm.db"

printf '%s' "$KEYRING_PW" | gnome-keyring-daemon --foreground --unlock --components=secrets >"$out/daemon.log" 2>&1 &
daemon=$!
trap 'kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null' EXIT
"$PY" -m tests.helpers.secret_service wait || exit 3

run() {  # run NAME STDIN ARGS...: crm-tui with its output and exit code kept under NAME
  local name="$1" input="$2"; shift 2
  printf '%s' "$input" | "$PY" -m crm_tui "$@" >"$out/$name.out" 2>"$out/$name.err"
  echo $? >"$out/$name.rc"
}
files() { find "$CRM_TUI_DATA_DIR" -type f -exec sha256sum {} + | sort; }

run init "$CRM_PASSWORD
$CRM_PASSWORD
" --password-stdin init
run doctor "" doctor
"$PY" -m tests.helpers.secret_service lookup "$db" >"$out/lookup.out"
files >"$out/files.before"
"$PY" -m tests.helpers.secret_service lock >"$out/lock.out"
run doctor2 "" doctor
run open "$CRM_PASSWORD
" --user admin --password-stdin audit verify
files >"$out/files.after"
exit 0
