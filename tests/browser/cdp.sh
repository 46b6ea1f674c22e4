# A tiny Chrome DevTools Protocol client in bash, for the browser tests: it
# talks to a headless Chromium over --remote-debugging-pipe (JSON messages
# ended by a NUL byte, commands on the browser's fd 3, replies on its fd 4),
# so no WebSocket library or npm package is needed. Sourced.
#
#   cdp_start URL DIR     start Chromium on URL (DIR: a new empty directory)
#   cdp_eval EXPR         evaluate EXPR in the page; CDP_VALUE is its value,
#                         as JSON (strings quoted)
#   cdp_click X Y         a real left click at page coordinates (X, Y)
#   cdp_wait EXPR [SECS]  wait until EXPR is true
#   cdp_stop

CDP_ID=0
CDP_PID=
CDP_SESSION=
CDP_REPLY=
CDP_VALUE=

# chromium_bin: Debian's chromium, or another Chromium-based browser.
chromium_bin() {
	command -v chromium || command -v chromium-browser || command -v google-chrome || true
}

# The flags every headless run needs here: root, no GPU, no network of its
# own, no first-run or sync machinery.
chromium_flags() {
	echo --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-dev-shm-usage --hide-scrollbars --user-data-dir="$1"
}

# cdp_send METHOD PARAMS-JSON [SESSION]: one command; its reply in CDP_REPLY.
cdp_send() {
	local id=$((++CDP_ID)) msg reply
	msg="{\"id\":$id,\"method\":\"$1\",\"params\":${2:-{\}}${3:+,\"sessionId\":\"$3\"}}"
	printf '%s\0' "$msg" >&"$CDP_IN" || return 1
	# Events arrive between replies; skip them. A reply starts with its id.
	while IFS= read -r -d '' -t 20 reply <&"$CDP_OUT"; do
		case $reply in
		"{\"id\":$id,"*) CDP_REPLY=$reply; break ;;
		esac
	done
	[ "${CDP_REPLY#\{\"id\":$id,}" != "$CDP_REPLY" ] || { echo "cdp: no reply to $1" >&2; return 1; }
	case $CDP_REPLY in *'"error":'*) echo "cdp: $1: $CDP_REPLY" >&2; return 1 ;; esac
}

cdp_start() {
	local url=$1 dir=$2 bin target
	bin=$(chromium_bin)
	[ -n "$bin" ] || { echo "cdp: chromium is not installed" >&2; return 1; }
	mkfifo "$dir/cdp-in" "$dir/cdp-out"
	# shellcheck disable=SC2046
	"$bin" $(chromium_flags "$dir/profile") --remote-debugging-pipe --window-size=1200,800 \
		"$url" 3<"$dir/cdp-in" 4>"$dir/cdp-out" 2>"$dir/chromium.log" &
	CDP_PID=$!
	exec {CDP_IN}>"$dir/cdp-in" {CDP_OUT}<"$dir/cdp-out"
	cdp_send Target.getTargets || return 1
	target=$(printf '%s' "$CDP_REPLY" | grep -o '"targetId":"[0-9A-F]*","type":"page"' | head -1 |
		cut -d'"' -f4)
	[ -n "$target" ] || { echo "cdp: no page target: $CDP_REPLY" >&2; return 1; }
	cdp_send Target.attachToTarget "{\"targetId\":\"$target\",\"flatten\":true}" || return 1
	CDP_SESSION=$(printf '%s' "$CDP_REPLY" | grep -o '"sessionId":"[0-9A-F]*"' | head -1 | cut -d'"' -f4)
	[ -n "$CDP_SESSION" ]
}

cdp_eval() {
	local expr=${1//\\/\\\\}
	expr=${expr//\"/\\\"}
	cdp_send Runtime.evaluate "{\"expression\":\"$expr\",\"returnByValue\":true}" "$CDP_SESSION" ||
		return 1
	CDP_VALUE=$(printf '%s' "$CDP_REPLY" | sed -n 's/.*"result":{"result":{"type":"[a-z]*",\("subtype":"[a-z]*",\)\{0,1\}"value":\(.*\)}}.*/\2/p')
}

cdp_wait() {
	local i
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		cdp_eval "!!($1)" && [ "$CDP_VALUE" = true ] && return 0
		sleep 0.1
	done
	echo "cdp: timed out waiting for $1" >&2
	return 1
}

cdp_click() {
	local type
	for type in mouseMoved mousePressed mouseReleased; do
		cdp_send Input.dispatchMouseEvent \
			"{\"type\":\"$type\",\"x\":$1,\"y\":$2,\"button\":\"left\",\"clickCount\":1}" \
			"$CDP_SESSION" || return 1
	done
}

cdp_stop() {
	[ -n "${CDP_IN:-}" ] && exec {CDP_IN}>&-
	[ -n "${CDP_OUT:-}" ] && exec {CDP_OUT}<&-
	if [ -n "$CDP_PID" ]; then
		kill "$CDP_PID" 2>/dev/null || true
		wait "$CDP_PID" 2>/dev/null || true
	fi
	CDP_PID=
}
