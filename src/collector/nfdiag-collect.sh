#!/bin/sh
# nfdiag-collect.sh - read-only support-bundle collector for Linux netfilter problems.
#
# Runs on the customer's host (POSIX sh: dash, busybox ash, bash 3+; no Node, no Python, no jq).
# It never loads a kernel module, never changes a setting and never hangs:
#  * a command that could make the kernel load a module (iptables-save, nft, conntrack, ipset,
#    iptables -V on the nft backend) runs only when that module is already loaded or built in,
#    judged from /proc/modules, modules.builtin, the kernel config (=y) and /sys/module/<name>;
#    every skipped command is recorded in manifest.json with its reason;
#  * never `iptables -L`, never `-t TABLE`, never modprobe / insmod / sysctl -w;
#  * every command runs under a timeout, every output is size-capped, the whole run has a budget.
# Tarball layout: docs/collector-layout.md.  Manifest schema: src/parsers/collector-manifest.ts.
#
# shellcheck disable=SC2016   # single-quoted awk/sed programs are intended

NFDIAG_COLLECTOR_VERSION=0.2.0

LC_ALL=C
export LC_ALL
umask 077
# Non-root users often lack the sbin directories; appended so that PATH order (test stubs) wins.
PATH=${PATH:-/usr/bin:/bin}:/usr/sbin:/sbin:/usr/local/sbin
export PATH
SYSTEMD_PAGER="cat"
PAGER="cat"
SYSTEMD_COLORS=0
export SYSTEMD_PAGER PAGER SYSTEMD_COLORS

usage() {
	cat <<'EOF'
Usage: sh nfdiag-collect.sh [options]

Collects a read-only netfilter support bundle (iptables, nftables, ipset, nf_conntrack) and writes
OUTDIR/nfdiag-<host>-<UTC yyyymmddThhmmssZ>.tar.gz; the path is printed as the last stdout line,
progress goes to stderr. Run it as root for a complete bundle; as another user it collects what it
can and records what permissions prevented. It never loads a kernel module: commands that would
(iptables-save, nft, conntrack, ipset) run only when their module is already loaded or built in.

Options:
  -o OUTDIR                where to write the tarball (default: $TMPDIR or /tmp)
  --root DIR               read every file below DIR (a mounted image, tests); commands still
                           come from PATH
  --sample-seconds N       seconds between the two counter samples (default 3)
  --max-file-bytes N       cap for each copied file and command output (default 33554432)
  --no-conntrack-table     do not copy the conntrack table (/proc/net/nf_conntrack, conntrack -L)
  --netns all|NAME|none    network namespaces (from `ip netns list`) to collect (default all)
  --timeout N              per-command timeout in seconds (default 20)
  --max-seconds N          budget for the whole run in seconds (default 180)
  -h, --help               this help

Environment (tests): NFDIAG_TIMEOUT_METHOD=watcher forces the built-in background-kill timeout.
EOF
}

log() { printf 'nfdiag-collect: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 2
}

# ---------------------------------------------------------------- arguments
OUTDIR=${TMPDIR:-/tmp}
ROOT=
SAMPLE_SECONDS=3
MAXB=33554432
CT_TABLE=1
NETNS_MODE=all
CMD_TIMEOUT=20
MAX_SECONDS=180

need_num() {
	case $2 in
	'' | *[!0-9]*) die "$1 needs a non-negative integer, got '$2'" ;;
	esac
}

# The original argv is kept (as lines of a temp file later) for the manifest.
ARGV_SAVE=
for _a in "$@"; do
	ARGV_SAVE="$ARGV_SAVE$_a
"
done

while [ $# -gt 0 ]; do
	case $1 in
	-o | --output)
		[ $# -ge 2 ] || die "$1 needs a directory"
		OUTDIR=$2
		shift 2
		;;
	-o?*) OUTDIR=${1#-o} && shift ;;
	--output=*) OUTDIR=${1#*=} && shift ;;
	--root)
		[ $# -ge 2 ] || die "--root needs a directory"
		ROOT=$2
		shift 2
		;;
	--root=*) ROOT=${1#*=} && shift ;;
	--sample-seconds)
		need_num "$1" "${2:-}"
		SAMPLE_SECONDS=$2
		shift 2
		;;
	--sample-seconds=*) SAMPLE_SECONDS=${1#*=} && need_num --sample-seconds "$SAMPLE_SECONDS" && shift ;;
	--max-file-bytes)
		need_num "$1" "${2:-}"
		MAXB=$2
		shift 2
		;;
	--max-file-bytes=*) MAXB=${1#*=} && need_num --max-file-bytes "$MAXB" && shift ;;
	--no-conntrack-table) CT_TABLE=0 && shift ;;
	--netns)
		[ $# -ge 2 ] || die "--netns needs all, none or a name"
		NETNS_MODE=$2
		shift 2
		;;
	--netns=*) NETNS_MODE=${1#*=} && shift ;;
	--timeout)
		need_num "$1" "${2:-}"
		CMD_TIMEOUT=$2
		shift 2
		;;
	--timeout=*) CMD_TIMEOUT=${1#*=} && need_num --timeout "$CMD_TIMEOUT" && shift ;;
	--max-seconds)
		need_num "$1" "${2:-}"
		MAX_SECONDS=$2
		shift 2
		;;
	--max-seconds=*) MAX_SECONDS=${1#*=} && need_num --max-seconds "$MAX_SECONDS" && shift ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		die "unknown argument: $1"
		;;
	esac
done
[ "$MAXB" -gt 0 ] || die "--max-file-bytes must be > 0"
[ "$CMD_TIMEOUT" -gt 0 ] || CMD_TIMEOUT=1
[ -n "$NETNS_MODE" ] || NETNS_MODE=all
case $ROOT in
/) ROOT= ;;
*/) ROOT=${ROOT%/} ;;
esac
if [ -n "$ROOT" ]; then
	[ -d "$ROOT" ] || die "--root $ROOT is not a directory"
fi
R=$ROOT

# ---------------------------------------------------------------- tools
for _t in head wc gzip tar awk; do
	command -v "$_t" >/dev/null 2>&1 || die "required tool '$_t' not found in PATH"
done
[ "$(printf abc | head -c 1 2>/dev/null)" = a ] || die "'head -c' is not supported here"

_t=$(date +%s%N 2>/dev/null)
HAVE_NS=0
case $_t in
'' | *[!0-9]*) ;;
*) [ ${#_t} -ge 16 ] && HAVE_NS=1 ;;
esac
NOW_MS=0
now_ms() {
	if [ "$HAVE_NS" = 1 ]; then
		_nm=$(date +%s%N)
		NOW_MS=${_nm%??????}
	else
		_nm=$(date +%s)
		NOW_MS=$((_nm * 1000))
	fi
}

# Timeout method: GNU timeout kills the whole process group; otherwise a background watcher that
# kills the command's process group (setsid makes the command a group leader) after N seconds.
# busybox timeout only kills the direct child, so the watcher is preferred over it.
SETSID=
command -v setsid >/dev/null 2>&1 && SETSID=setsid
if [ "${NFDIAG_TIMEOUT_METHOD:-}" != watcher ] &&
	timeout --version 2>/dev/null | head -n 1 | grep -q 'GNU coreutils'; then
	TMETHOD=gnu-timeout
elif [ -n "$SETSID" ]; then
	TMETHOD=watcher+setsid
else
	TMETHOD=watcher
fi

# ---------------------------------------------------------------- JSON helpers
AWK_ESC='BEGIN { for (i = 1; i < 32; i++) r[sprintf("%c", i)] = sprintf("\\u%04x", i)
  r["\t"] = "\\t"; r["\r"] = "\\r"; r["\\"] = "\\\\"; r["\""] = "\\\"" }
{ s = $0; o = ""; n = length(s)
  for (i = 1; i <= n; i++) { c = substr(s, i, 1); if (c in r) o = o r[c]; else o = o c }
  printf "%s%s", (NR > 1 ? "\\n" : ""), o }'

# jstr STRING: sets JS to the JSON string literal (quotes included).
JS=
jstr() {
	case $1 in
	*[\"\\]* | *[![:print:]]*)
		JS=$(printf '%s.' "$1" | awk "$AWK_ESC")
		JS="\"${JS%.}\""
		;;
	*) JS="\"$1\"" ;;
	esac
}
# jstr_or_null STRING: like jstr, but an empty string gives null.
jstr_or_null() {
	if [ -n "$1" ]; then jstr "$1"; else JS=null; fi
}
# jfile FILE MAXBYTES: JS = JSON string of the first MAXBYTES bytes of FILE.
jfile() {
	JS=$({
		head -c "$2" "$1" 2>/dev/null
		printf .
	} | awk "$AWK_ESC")
	JS="\"${JS%.}\""
}
# jarr ARGS...: JA = JSON array of strings.
JA=
jarr() {
	JA=
	for _ja in "$@"; do
		jstr "$_ja"
		JA="$JA${JA:+,}$JS"
	done
	JA="[$JA]"
}
# jarr_lines FILE: JA = JSON array of the lines of FILE.
jarr_lines() {
	JA=
	if [ -f "$1" ]; then
		while IFS= read -r _jl || [ -n "$_jl" ]; do
			jstr "$_jl"
			JA="$JA${JA:+,}$JS"
		done <"$1"
	fi
	JA="[$JA]"
}
num() {
	_nv=$1
	while :; do
		case $_nv in
		[[:space:]]*) _nv=${_nv#?} ;;
		*[[:space:]]) _nv=${_nv%?} ;;
		*) break ;;
		esac
	done
	case $_nv in
	'' | *[!0-9]*) NUM=0 ;;
	*) NUM=$_nv ;;
	esac
}
# sub_all STRING FROM TO: SUB = STRING with every character FROM replaced by TO.
sub_all() {
	_ss=$1
	SUB=
	while :; do
		case $_ss in
		*"$2"*)
			SUB="$SUB${_ss%%"$2"*}$3"
			_ss=${_ss#*"$2"}
			;;
		*)
			SUB="$SUB$_ss"
			break
			;;
		esac
	done
}

# ---------------------------------------------------------------- identity and staging
now_ms
START_MS=$NOW_MS
DEADLINE_MS=$((START_MS + MAX_SECONDS * 1000))
START_EPOCH=$((START_MS / 1000))
START_DATE_U=$(date -u 2>/dev/null)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
START_ISO=$(date -u +%Y-%m-%dT%H:%M:%SZ)

read_first_line() { # FILE -> RL (empty when unreadable)
	RL=
	if [ -r "$1" ]; then
		IFS= read -r RL <"$1" 2>/dev/null || :
	fi
}

read_first_line "$R/proc/sys/kernel/osrelease"
KREL=$RL
[ -n "$KREL" ] || KREL=$(uname -r 2>/dev/null)
read_first_line "$R/proc/sys/kernel/hostname"
HOST=$RL
[ -n "$HOST" ] || HOST=$(uname -n 2>/dev/null)
[ -n "$HOST" ] || HOST=unknown
SAFE_HOST=$(printf '%s' "$HOST" | tr -c 'A-Za-z0-9._-' '_')
USER_ID=$(id -u 2>/dev/null)
num "$USER_ID"
USER_ID=$NUM
USER_NAME=$(id -un 2>/dev/null)
IS_ROOT=false
[ "$USER_ID" = 0 ] && IS_ROOT=true

[ -d "$OUTDIR" ] || mkdir -p "$OUTDIR" 2>/dev/null || die "cannot create output directory $OUTDIR"
[ -w "$OUTDIR" ] || die "output directory $OUTDIR is not writable (use -o DIR)"
STAGE=$(mktemp -d "$OUTDIR/.nfdiag-collect.XXXXXX" 2>/dev/null) || STAGE=
if [ -z "$STAGE" ]; then
	STAGE=$OUTDIR/.nfdiag-collect.$$
	mkdir "$STAGE" || die "cannot create a staging directory in $OUTDIR"
fi
cleanup() {
	[ -n "$STAGE" ] && [ -d "$STAGE" ] && rm -rf "$STAGE"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM HUP

TOPNAME=nfdiag-$SAFE_HOST-$STAMP
TOP=$STAGE/$TOPNAME
T=$STAGE/.work
mkdir -p "$TOP" "$T" || die "cannot write to $STAGE"
: >"$T/cmds"
: >"$T/files"
: >"$T/warn"
: >"$T/perm"
: >"$T/samples"
: >"$T/netns"
TMO_FLAG=$T/timed_out
printf '%s' "$ARGV_SAVE" >"$T/argv"

log "collector $NFDIAG_COLLECTOR_VERSION on $HOST (kernel $KREL, uid $USER_ID), timeouts: $TMETHOD"
[ "$IS_ROOT" = true ] || log "not running as root: some sources will be unreadable (recorded in the manifest)"

warn() {
	log "WARNING: $*"
	jstr "$*"
	printf '%s\n' "$JS" >>"$T/warn"
}
perm() {
	jstr "$*"
	printf '%s\n' "$JS" >>"$T/perm"
}

# ---------------------------------------------------------------- bounded execution
# bounded SECS ARGV...: run ARGV with stdin from /dev/null, killed after SECS seconds.
# On timeout the file $TMO_FLAG exists afterwards (watcher) or the status is 124 (GNU timeout).
bounded() {
	_bs=$1
	shift
	if [ "$TMETHOD" = gnu-timeout ]; then
		timeout -k 2 "$_bs" "$@" </dev/null
		return $?
	fi
	if [ -n "$SETSID" ]; then
		setsid "$@" </dev/null &
	else
		"$@" </dev/null &
	fi
	_bp=$!
	(
		_bi=0
		while [ "$_bi" -lt "$_bs" ]; do
			sleep 1
			kill -0 "$_bp" 2>/dev/null || exit 0
			_bi=$((_bi + 1))
		done
		: >"$TMO_FLAG"
		kill -TERM -"$_bp" 2>/dev/null || kill -TERM "$_bp" 2>/dev/null
		sleep 2
		kill -KILL -"$_bp" 2>/dev/null || kill -KILL "$_bp" 2>/dev/null
	) </dev/null >/dev/null 2>&1 &
	_bw=$!
	wait "$_bp"
	_brc=$?
	kill "$_bw" 2>/dev/null
	wait "$_bw" 2>/dev/null
	return "$_brc"
}

# Seconds left for one command: min(--timeout, what remains of --max-seconds); 0 = budget spent.
cmd_secs() {
	now_ms
	_left=$(((DEADLINE_MS - NOW_MS) / 1000))
	if [ "$_left" -le 0 ]; then
		SECS=0
	elif [ "$_left" -lt "$CMD_TIMEOUT" ]; then
		SECS=$_left
	else
		SECS=$CMD_TIMEOUT
	fi
}

MARK_END='[nfdiag-collect: truncated at %s bytes]'

# ---------------------------------------------------------------- command records
cmd_reset() {
	C_OUT=
	C_ARGV='[]'
	C_NS=
	C_DERIVED=false
	C_SKIP=false
	C_REASON=
	C_RC=null
	C_TMO=false
	C_DUR=0
	C_BYTES=0
	C_SBYTES=0
	C_TRUNC=false
	C_GZ=false
	C_STORED=false
	C_ERR=null
}
emit_cmd() {
	jstr "$C_OUT"
	_eo=$JS
	jstr_or_null "$C_NS"
	_en=$JS
	jstr_or_null "$C_REASON"
	_er=$JS
	printf '{"output":%s,"argv":%s,"netns":%s,"derived":%s,"skipped":%s,"skip_reason":%s,"exit_code":%s,"timed_out":%s,"duration_ms":%s,"bytes":%s,"stored_bytes":%s,"truncated":%s,"compressed":%s,"stored":%s,"stderr":%s}\n' \
		"$_eo" "$C_ARGV" "$_en" "$C_DERIVED" "$C_SKIP" "$_er" "$C_RC" "$C_TMO" "$C_DUR" \
		"$C_BYTES" "$C_SBYTES" "$C_TRUNC" "$C_GZ" "$C_STORED" "$C_ERR" >>"$T/cmds"
}

# out_name ARGV...: NAME = argv joined by "_" with "/" replaced by "%".
out_name() {
	NAME=
	for _on in "$@"; do
		NAME="$NAME${NAME:+_}$_on"
	done
	sub_all "$NAME" / %
	NAME=$SUB
}

# skip_cmd OUT NETNS REASON ARGV...
skip_cmd() {
	cmd_reset
	C_OUT=$1
	C_NS=$2
	C_REASON=$3
	shift 3
	if [ -n "$C_NS" ]; then jarr ip netns exec "$C_NS" "$@"; else jarr "$@"; fi
	C_ARGV=$JA
	C_SKIP=true
	emit_cmd
}

# capture_stderr: C_ERR from $T/err (first 2000 bytes) and permission bookkeeping.
capture_stderr() {
	if [ -s "$T/err" ]; then
		jfile "$T/err" 2000
		C_ERR=$JS
		if [ "$IS_ROOT" != true ] &&
			grep -q -i -e 'permission denied' -e 'operation not permitted' -e 'must be root' \
				-e 'you need to be root' -e 'are you root' "$T/err" 2>/dev/null; then
			perm "$1: permission denied ($(head -n 1 "$T/err" | head -c 200))"
		fi
	fi
}

# run_cmd OUT GZ NETNS ARGV...: OUT is the path inside the bundle (".gz" added when GZ=1;
# GZ=tail keeps the LAST bytes when the output is over the cap: for logs, whose newest lines
# matter most); with NETNS the command runs as `ip netns exec NETNS ARGV...`.
# Sets LAST_FILE (empty when nothing was stored).
run_cmd() {
	_ro=$1
	_rg=$2
	_rn=$3
	shift 3
	LAST_FILE=
	[ "$_rg" = 1 ] && _ro=$_ro.gz
	cmd_secs
	if [ "$SECS" -le 0 ]; then
		skip_cmd "$_ro" "$_rn" "time budget of --max-seconds $MAX_SECONDS exhausted" "$@"
		return 0
	fi
	if ! command -v "$1" >/dev/null 2>&1; then
		skip_cmd "$_ro" "$_rn" "$1 not found in PATH" "$@"
		return 0
	fi
	cmd_reset
	C_OUT=$_ro
	C_NS=$_rn
	if [ -n "$_rn" ]; then
		set -- ip netns exec "$_rn" "$@"
	fi
	jarr "$@"
	C_ARGV=$JA
	_rd=$TOP/$_ro
	mkdir -p "${_rd%/*}"
	rm -f "$TMO_FLAG" "$T/rc" "$T/err"
	now_ms
	_rt0=$NOW_MS
	if [ "$_rg" = 1 ]; then
		{
			bounded "$SECS" "$@" 2>"$T/err"
			echo $? >"$T/rc"
		} | head -c "$MAXB" | gzip -c >"$_rd"
		C_GZ=true
		num "$(gzip -dc <"$_rd" | wc -c)"
	elif [ "$_rg" = tail ]; then
		# The whole output goes to a temporary file (a kernel ring buffer: a few MiB at most).
		bounded "$SECS" "$@" >"$T/tailed" 2>"$T/err"
		echo $? >"$T/rc"
		num "$(wc -c <"$T/tailed")"
		if [ "$NUM" -gt "$MAXB" ]; then
			{
				printf '[nfdiag-collect: truncated: the first %s bytes were omitted, the last %s bytes kept]\n' \
					"$((NUM - MAXB))" "$MAXB"
				tail -c "$MAXB" "$T/tailed"
			} >"$_rd"
			C_TRUNC=true
			NUM=$MAXB
		else
			mv "$T/tailed" "$_rd"
		fi
		rm -f "$T/tailed"
	else
		{
			bounded "$SECS" "$@" 2>"$T/err"
			echo $? >"$T/rc"
		} | head -c "$MAXB" >"$_rd"
		num "$(wc -c <"$_rd")"
	fi
	C_BYTES=$NUM
	now_ms
	C_DUR=$((NOW_MS - _rt0))
	_rrc=
	[ -f "$T/rc" ] && read -r _rrc <"$T/rc"
	num "$_rrc"
	C_RC=$NUM
	if [ -f "$TMO_FLAG" ] || [ "$C_RC" = 124 ] ||
		{ [ "$C_RC" = 137 ] && [ "$C_DUR" -ge $((SECS * 1000)) ]; }; then
		C_TMO=true
		warn "command timed out after ${SECS}s: $* (output kept: $C_BYTES bytes)"
	fi
	if [ "$C_BYTES" -ge "$MAXB" ] && [ "$_rg" != tail ]; then
		C_TRUNC=true
		# shellcheck disable=SC2059
		if [ "$_rg" = 1 ]; then
			printf "\n$MARK_END\n" "$MAXB" | gzip -c >>"$_rd"
		else
			printf "\n$MARK_END\n" "$MAXB" >>"$_rd"
		fi
	fi
	capture_stderr "$*"
	if [ "$C_BYTES" -eq 0 ] && { [ "$C_RC" != 0 ] || [ "$C_TMO" = true ]; }; then
		# A failed command with no output leaves no file: absence + manifest, never "empty".
		rm -f "$_rd"
	else
		C_STORED=true
		num "$(wc -c <"$_rd")"
		C_SBYTES=$NUM
		LAST_FILE=$_rd
	fi
	emit_cmd
	return 0
}

# derived OUT RC DURATION_MS ARGV...: record a listing the collector produced itself.
derived() {
	cmd_reset
	C_OUT=$1
	C_RC=$2
	C_DUR=$3
	shift 3
	jarr "$@"
	C_ARGV=$JA
	C_DERIVED=true
	if [ -f "$TOP/$C_OUT" ]; then
		num "$(wc -c <"$TOP/$C_OUT")"
		C_BYTES=$NUM
		C_SBYTES=$NUM
		C_STORED=true
		if [ "$C_BYTES" -gt "$MAXB" ]; then
			head -c "$MAXB" "$TOP/$C_OUT" >"$T/cut"
			# shellcheck disable=SC2059
			printf "\n$MARK_END\n" "$MAXB" >>"$T/cut"
			mv "$T/cut" "$TOP/$C_OUT"
			C_BYTES=$MAXB
			C_TRUNC=true
			num "$(wc -c <"$TOP/$C_OUT")"
			C_SBYTES=$NUM
		fi
	fi
	emit_cmd
}

# ---------------------------------------------------------------- file records
# copy_to SRC DEST MODE RECORD_ABSENT
#   SRC: absolute path on the target (read below --root); DEST: path inside the bundle;
#   MODE: head (first bytes), tail (last bytes, for logs), gz (gzip-streamed, ".gz" added),
#         gzb (gz, read under the command timeout: huge /proc tables).
copy_to() {
	_cs=$1
	_cd=$2
	_cm=$3
	_ca=$4
	_cp=$R$_cs
	case $_cm in gz | gzb) _cd=$_cd.gz ;; esac
	_cst=copied
	_cerr=
	_cb=0
	_csb=0
	_ctr=false
	_ctm=false
	_cgz=false
	cmd_secs
	if [ ! -e "$_cp" ]; then
		[ "$_ca" = 1 ] || return 1
		_cst=absent
	elif [ "$SECS" -le 0 ] && [ ! -d "$_cp" ]; then
		# --max-seconds bounds the whole run: once spent, files are recorded, not read.
		_cst=skipped
		_cerr="time budget of --max-seconds $MAX_SECONDS exhausted"
	elif [ -d "$_cp" ]; then
		return 1
	elif [ ! -r "$_cp" ]; then
		_cst=unreadable
		_cerr="permission denied"
		[ "$IS_ROOT" = true ] || perm "$_cs: permission denied"
	else
		mkdir -p "$TOP/${_cd%/*}"
		rm -f "$T/ferr" "$TMO_FLAG"
		case $_cm in
		tail)
			num "$(wc -c <"$_cp" 2>/dev/null)"
			if [ "$NUM" -gt "$MAXB" ]; then
				{
					printf '[nfdiag-collect: truncated: the first %s bytes were omitted, the last %s bytes kept]\n' \
						"$((NUM - MAXB))" "$MAXB"
					tail -c "$MAXB" "$_cp" 2>"$T/ferr"
				} >"$TOP/$_cd"
				_cb=$MAXB
				_ctr=true
			else
				head -c "$MAXB" "$_cp" >"$TOP/$_cd" 2>"$T/ferr"
				num "$(wc -c <"$TOP/$_cd")"
				_cb=$NUM
			fi
			;;
		gz | gzb)
			_cgz=true
			if [ "$_cm" = gzb ]; then
				cmd_secs
				[ "$SECS" -gt 0 ] || SECS=1
				bounded "$SECS" cat "$_cp" 2>"$T/ferr" | head -c "$MAXB" | gzip -c >"$TOP/$_cd"
				if [ -f "$TMO_FLAG" ]; then _ctm=true; fi
			else
				head -c "$MAXB" "$_cp" 2>"$T/ferr" | gzip -c >"$TOP/$_cd"
			fi
			num "$(gzip -dc <"$TOP/$_cd" | wc -c)"
			_cb=$NUM
			if [ "$_cb" -ge "$MAXB" ]; then
				_ctr=true
				# shellcheck disable=SC2059
				printf "\n$MARK_END\n" "$MAXB" | gzip -c >>"$TOP/$_cd"
			fi
			;;
		*)
			head -c "$MAXB" "$_cp" >"$TOP/$_cd" 2>"$T/ferr"
			num "$(wc -c <"$TOP/$_cd")"
			_cb=$NUM
			if [ "$_cb" -ge "$MAXB" ]; then
				_ctr=true
				# shellcheck disable=SC2059
				printf "\n$MARK_END\n" "$MAXB" >>"$TOP/$_cd"
			fi
			;;
		esac
		if [ -s "$T/ferr" ]; then
			_cerr=$(head -n 1 "$T/ferr" | head -c 300)
			if [ "$_cb" -eq 0 ]; then
				_cst=error
				rm -f "$TOP/$_cd"
				case $_cerr in
				*[Pp]ermission* | *[Oo]peration\ not\ permitted*)
					_cst=unreadable
					[ "$IS_ROOT" = true ] || perm "$_cs: $_cerr"
					;;
				esac
			fi
		fi
		if [ "$_ctm" = true ]; then
			warn "reading $_cs timed out (kept $_cb bytes)"
		fi
		if [ -f "$TOP/$_cd" ]; then
			num "$(wc -c <"$TOP/$_cd")"
			_csb=$NUM
		fi
	fi
	jstr "$_cs"
	_cjp=$JS
	if [ "$_cst" = copied ]; then jstr "$_cd"; else JS=null; fi
	_cjd=$JS
	jstr_or_null "$_cerr"
	printf '{"path":%s,"stored":%s,"status":"%s","bytes":%s,"stored_bytes":%s,"truncated":%s,"compressed":%s,"timed_out":%s,"error":%s}\n' \
		"$_cjp" "$_cjd" "$_cst" "$_cb" "$_csb" "$_ctr" "$_cgz" "$_ctm" "$JS" >>"$T/files"
	[ "$_cst" = copied ]
}
# copy_file SRC [MODE] [RECORD_ABSENT]: copy to files/<SRC minus "/">.
copy_file() {
	copy_to "$1" "files$1" "${2:-head}" "${3:-1}"
}
# copy_dir DIR: regular files directly in DIR (symlinks followed), absence not recorded.
copy_dir() {
	[ -d "$R$1" ] || return 0
	for _df in "$R$1"/*; do
		[ -f "$_df" ] || continue
		copy_file "${_df#"$R"}" head 0
	done
}
# copy_tree DIR: every regular file below DIR.
copy_tree() {
	[ -d "$R$1" ] || return 0
	find "$R$1" -type f 2>/dev/null | sort >"$T/tree"
	while IFS= read -r _tf; do
		copy_file "${_tf#"$R"}" head 0
	done <"$T/tree"
}

# ---------------------------------------------------------------- module state and gating
# Names of modules whose gate state is recorded; the CONFIG_ symbol that builds each in.
GATE_MODULES="ip_tables ip6_tables nf_tables nfnetlink nf_conntrack nf_conntrack_netlink ip_set x_tables nf_nat nf_defrag_ipv4 nf_defrag_ipv6 iptable_filter iptable_nat"
cfg_sym() {
	case $1 in
	ip_tables) CFG=CONFIG_IP_NF_IPTABLES ;;
	ip6_tables) CFG=CONFIG_IP6_NF_IPTABLES ;;
	nf_tables) CFG=CONFIG_NF_TABLES ;;
	nfnetlink) CFG=CONFIG_NETFILTER_NETLINK ;;
	nf_conntrack) CFG=CONFIG_NF_CONNTRACK ;;
	nf_conntrack_netlink) CFG=CONFIG_NF_CT_NETLINK ;;
	ip_set) CFG=CONFIG_IP_SET ;;
	x_tables) CFG=CONFIG_NETFILTER_XTABLES ;;
	nf_nat) CFG=CONFIG_NF_NAT ;;
	nf_defrag_ipv4) CFG=CONFIG_NF_DEFRAG_IPV4 ;;
	nf_defrag_ipv6) CFG=CONFIG_NF_DEFRAG_IPV6 ;;
	iptable_filter) CFG=CONFIG_IP_NF_FILTER ;;
	iptable_nat) CFG=CONFIG_IP_NF_NAT ;;
	*) CFG= ;;
	esac
}

modules_snapshot() { # FILE: sorted names from /proc/modules
	if [ -r "$R/proc/modules" ]; then
		awk '{ print $1 }' "$R/proc/modules" 2>/dev/null | sort >"$1"
	else
		: >"$1"
	fi
}

LOADED=" "
BUILTIN=" "
CONFIG_Y=" "
MOD_SUPPORT=unknown
MOD_SUPPORT_REASON=
CONFIG_SRC=
modules_snapshot "$T/modules_before"
while IFS= read -r _m; do LOADED="$LOADED$_m "; done <"$T/modules_before"
for _mb in "$R/lib/modules/$KREL/modules.builtin" "$R/usr/lib/modules/$KREL/modules.builtin"; do
	if [ -r "$_mb" ]; then
		MODULES_BUILTIN=${_mb#"$R"}
		BUILTIN=" $(awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n); printf "%s ", n }' "$_mb")"
		break
	fi
done
if [ -r "$R/proc/config.gz" ] && gzip -dc <"$R/proc/config.gz" >"$T/config" 2>/dev/null; then
	CONFIG_SRC=/proc/config.gz
elif [ -r "$R/boot/config-$KREL" ]; then
	cp "$R/boot/config-$KREL" "$T/config"
	CONFIG_SRC=/boot/config-$KREL
fi
CONFIG_MODULES=
if [ -n "$CONFIG_SRC" ]; then
	CONFIG_Y=" $(awk -F= '/^CONFIG_[A-Za-z0-9_]+=y$/ { printf "%s ", $1 }' "$T/config") "
	case $CONFIG_Y in *" CONFIG_MODULES "*) CONFIG_MODULES=y ;; *) CONFIG_MODULES=n ;; esac
fi
read_first_line "$R/proc/sys/kernel/modules_disabled"
MODULES_DISABLED=$RL

if [ -e "$R/proc/modules" ]; then
	if [ -r "$R/proc/modules" ]; then
		MOD_SUPPORT=loadable
		MOD_SUPPORT_REASON="/proc/modules present: modules can be loaded on demand"
	else
		MOD_SUPPORT=unknown
		MOD_SUPPORT_REASON="/proc/modules is not readable: loaded modules unknown"
	fi
	if [ "$MODULES_DISABLED" = 1 ]; then
		MOD_SUPPORT=disabled
		MOD_SUPPORT_REASON="kernel.modules_disabled=1: no module can be loaded"
	fi
elif [ "$CONFIG_MODULES" = y ]; then
	MOD_SUPPORT=unknown
	MOD_SUPPORT_REASON="no /proc/modules although $CONFIG_SRC has CONFIG_MODULES=y"
elif [ -e "$R/proc/version" ] || [ -e "$R/proc/uptime" ] || [ -e "$R/proc/self" ]; then
	MOD_SUPPORT=none
	MOD_SUPPORT_REASON="no /proc/modules: the kernel has no module support, nothing can be loaded"
else
	MOD_SUPPORT=unknown
	MOD_SUPPORT_REASON="/proc is not available: loaded modules unknown"
fi

# is_loaded NAME: true when loaded or built in; WHY says how it was judged.
is_loaded() {
	case $LOADED in *" $1 "*)
		WHY="listed in /proc/modules"
		return 0
		;;
	esac
	case $BUILTIN in *" $1 "*)
		WHY="built in ($MODULES_BUILTIN)"
		return 0
		;;
	esac
	cfg_sym "$1"
	if [ -n "$CFG" ]; then
		case $CONFIG_Y in *" $CFG "*)
			WHY="built in ($CFG=y in $CONFIG_SRC)"
			return 0
			;;
		esac
	fi
	if [ -d "$R/sys/module/$1" ]; then
		WHY="present in /sys/module/$1"
		return 0
	fi
	WHY="not loaded"
	return 1
}

# gate MODULES: true when running a command needing MODULES cannot load anything.
# Otherwise MISSING lists the modules that are not loaded.
gate() {
	MISSING=
	case $MOD_SUPPORT in none | disabled) return 0 ;; esac
	for _gm in $1; do
		is_loaded "$_gm" || MISSING="$MISSING${MISSING:+, }$_gm"
	done
	[ -z "$MISSING" ]
}

# gated_cmd OUT GZ NETNS MODULES ARGV...
gated_cmd() {
	_go=$1
	_gz=$2
	_gn=$3
	_gmods=$4
	shift 4
	if gate "$_gmods"; then
		run_cmd "$_go" "$_gz" "$_gn" "$@"
	else
		[ "$_gz" = 1 ] && _go=$_go.gz
		case $MISSING in
		*,*) _gw="it would load the modules" ;;
		*) _gw="it would load the module" ;;
		esac
		if [ "$MOD_SUPPORT" = unknown ]; then
			_gr="$MISSING not known to be loaded ($MOD_SUPPORT_REASON): $1 not run, $_gw"
		else
			_gr="$MISSING not loaded: $1 not run, $_gw"
		fi
		skip_cmd "$_go" "$_gn" "$_gr" "$@"
	fi
}

{
	for _gm in $GATE_MODULES; do
		if is_loaded "$_gm"; then _gl=true; else _gl=false; fi
		jstr "$WHY"
		printf '"%s":{"loaded":%s,"evidence":%s}\n' "$_gm" "$_gl" "$JS"
	done
} >"$T/gates"
log "module support: $MOD_SUPPORT ($MOD_SUPPORT_REASON)"

# iptables backend, judged from where the `iptables` command resolves (no kernel contact).
IPT_PATH=$(command -v iptables 2>/dev/null)
IPT_REAL=
IPT_BACKEND=absent
if [ -n "$IPT_PATH" ]; then
	IPT_REAL=$(readlink -f "$IPT_PATH" 2>/dev/null)
	[ -n "$IPT_REAL" ] || IPT_REAL=$IPT_PATH
	case ${IPT_REAL##*/} in
	xtables-nft-multi | xtables-compat-multi | iptables-nft) IPT_BACKEND=nft ;;
	xtables-legacy-multi | xtables-multi | iptables-multi | iptables-legacy) IPT_BACKEND=legacy ;;
	*) IPT_BACKEND=unknown ;;
	esac
fi

# ---------------------------------------------------------------- samples
sample() {
	_sn=$1
	now_ms
	_se=$((NOW_MS / 1000))
	mkdir -p "$TOP/samples/$_sn"
	printf '%s\n' "$_se" >"$TOP/samples/$_sn/epoch"
	printf '{"n":%s,"epoch":%s,"epoch_ms":%s,"dir":"samples/%s"}\n' "$_sn" "$_se" "$NOW_MS" "$_sn" >>"$T/samples"
	copy_to /proc/sys/net/netfilter/nf_conntrack_count "samples/$_sn/nf_conntrack_count" head 1
	copy_to /proc/net/stat/nf_conntrack "samples/$_sn/stat_nf_conntrack" head 1
	gated_cmd "samples/$_sn/conntrack_-S" 0 "" nf_conntrack_netlink conntrack -S
}

log "sample 1 of the conntrack counters"
sample 1
SAMPLE1_MS=$NOW_MS

# ---------------------------------------------------------------- kernel and system identity
log "kernel and system state"
run_cmd commands/date_-u 0 "" date -u
run_cmd commands/uname_-a 0 "" uname -a
for _f in /proc/modules /proc/cmdline /proc/version /proc/uptime /proc/stat /proc/meminfo \
	/proc/slabinfo /proc/loadavg /proc/sys/kernel/random/boot_id /proc/sys/kernel/tainted \
	/proc/sys/kernel/modules_disabled /proc/sys/kernel/osrelease /proc/sys/kernel/hostname; do
	copy_file "$_f"
done
if [ -e "$R/etc/os-release" ]; then copy_file /etc/os-release; else copy_file /usr/lib/os-release; fi
copy_file /etc/timezone head 0
if [ -n "${MODULES_BUILTIN:-}" ]; then
	copy_file "$MODULES_BUILTIN"
else
	copy_file "/lib/modules/$KREL/modules.builtin"
fi
copy_file /proc/config.gz head 0
copy_file "/boot/config-$KREL"

# modules present on disk for the running kernel (derived listing)
now_ms
_t0=$NOW_MS
_md=
for _d in "/lib/modules/$KREL" "/usr/lib/modules/$KREL"; do
	if [ -d "$R$_d" ]; then
		_md=$_d
		break
	fi
done
if [ -n "$_md" ]; then
	find "$R$_md" -path '*/netfilter/*' -name '*.ko*' 2>/dev/null |
		sed "s|^$R$_md/||" | sort >"$TOP/commands/modules_on_disk"
	now_ms
	derived commands/modules_on_disk 0 $((NOW_MS - _t0)) find "$_md" -path '*/netfilter/*' -name '*.ko*'
else
	skip_cmd commands/modules_on_disk "" "neither /lib/modules/$KREL nor /usr/lib/modules/$KREL exists" \
		find "/lib/modules/$KREL" -path '*/netfilter/*' -name '*.ko*'
fi

# timezone: /etc/timezone, /etc/localtime link, TZ, and the abbreviation/offset in use
TZ_NAME=
read_first_line "$R/etc/timezone"
TZ_NAME=$RL
if [ -z "$TZ_NAME" ] && [ -L "$R/etc/localtime" ]; then
	TZ_NAME=$(readlink "$R/etc/localtime" 2>/dev/null)
	case $TZ_NAME in *zoneinfo/*) TZ_NAME=${TZ_NAME#*zoneinfo/} ;; esac
fi
[ -n "$TZ_NAME" ] || TZ_NAME=${TZ:-}
TZ_ABBR=$(date +%Z 2>/dev/null)
TZ_OFF=$(date +%z 2>/dev/null)

# ---------------------------------------------------------------- kernel logs
log "kernel logs"
run_cmd commands/dmesg tail "" dmesg
if command -v dmesg >/dev/null 2>&1 && dmesg --help 2>&1 | grep -q -e '--ctime'; then
	run_cmd commands/dmesg_-T tail "" dmesg -T
else
	skip_cmd commands/dmesg_-T "" "this dmesg has no -T (--ctime) option" dmesg -T
fi
if [ -d "$R/run/systemd/system" ]; then
	# -n keeps the newest kernel lines of this boot; a head cut would keep only the boot messages.
	run_cmd commands/journalctl_-k_--no-pager_-n_50000 0 "" journalctl -k --no-pager -n 50000
	for _u in iptables.service ip6tables.service nftables.service firewalld.service \
		netfilter-persistent.service ipset.service kubelet.service kube-proxy.service; do
		run_cmd "commands/journalctl_--no-pager_-o_short-iso_-n_5000_-u_$_u" 0 "" \
			journalctl --no-pager -o short-iso -n 5000 -u "$_u"
	done
	run_cmd commands/systemctl_--no-pager_--all_list-units 0 "" systemctl --no-pager --all list-units \
		iptables.service ip6tables.service nftables.service firewalld.service \
		netfilter-persistent.service ipset.service kubelet.service kube-proxy.service ufw.service
else
	skip_cmd commands/journalctl_-k_--no-pager_-n_50000 "" "systemd is not running (no /run/systemd/system)" \
		journalctl -k --no-pager -n 50000
fi
for _f in /var/log/kern.log /var/log/kern.log.1 /var/log/messages /var/log/messages.1 \
	/var/log/syslog /var/log/syslog.1 /var/log/dmesg /var/log/dmesg.0; do
	copy_file "$_f" tail 0
done
# RHEL rotates messages to messages-YYYYMMDD: the newest uncompressed one
_last=
for _f in "$R"/var/log/messages-*; do
	case $_f in *.gz | *.xz | *.bz2 | *.zst | *"*"*) continue ;; esac
	[ -f "$_f" ] && _last=$_f
done
[ -n "$_last" ] && copy_file "${_last#"$R"}" tail 0

# ---------------------------------------------------------------- sysctl and netfilter state
log "sysctl and netfilter state"
sysctl_walk() { # key = value for every readable file below /proc/sys/net (first line only)
	find "$R/proc/sys/net" -type f 2>/dev/null | sort | while IFS= read -r _wf; do
		_wv=
		{ IFS= read -r _wv <"$_wf"; } 2>/dev/null || [ -n "$_wv" ] || continue
		sub_all "${_wf#"$R"/proc/sys/}" / .
		printf '%s = %s\n' "$SUB" "$_wv"
	done
}
run_cmd commands/sysctl_-a 0 "" sysctl -a
if [ -z "$LAST_FILE" ] || [ -n "$R" ]; then
	now_ms
	_t0=$NOW_MS
	sysctl_walk >"$TOP/commands/sysctl_walk_proc_sys_net" 2>/dev/null
	now_ms
	derived commands/sysctl_walk_proc_sys_net 0 $((NOW_MS - _t0)) "(walk of /proc/sys/net)"
fi
copy_tree /proc/sys/net/netfilter
copy_file /proc/sys/net/nf_conntrack_max head 0
copy_dir /sys/module/nf_conntrack/parameters
copy_file /proc/net/stat/nf_conntrack
copy_file /proc/net/stat/nf_conntrack_expect head 0 >/dev/null || :
for _f in /proc/net/ip_tables_names /proc/net/ip_tables_matches /proc/net/ip_tables_targets \
	/proc/net/ip6_tables_names /proc/net/ip6_tables_matches /proc/net/ip6_tables_targets \
	/proc/net/nf_conntrack_expect /proc/net/netfilter/nf_log /proc/net/sockstat /proc/net/sockstat6; do
	copy_file "$_f"
done
if [ "$CT_TABLE" = 1 ]; then
	if copy_file /proc/net/nf_conntrack gzb; then
		CT_FILE_OK=1
	else
		CT_FILE_OK=0
	fi
else
	CT_FILE_OK=0
fi

# ---------------------------------------------------------------- configuration on disk
log "configuration files"
for _d in /etc/modprobe.d /lib/modprobe.d /usr/lib/modprobe.d /run/modprobe.d /usr/local/lib/modprobe.d \
	/etc/modules-load.d /run/modules-load.d /usr/lib/modules-load.d /lib/modules-load.d \
	/usr/local/lib/modules-load.d /etc/sysconfig/modules \
	/etc/sysctl.d /run/sysctl.d /usr/lib/sysctl.d /lib/sysctl.d /usr/local/lib/sysctl.d \
	/etc/nftables /etc/sysconfig/nftables.d; do
	copy_dir "$_d"
done
for _f in /etc/modprobe.conf /etc/modules /etc/sysctl.conf \
	/etc/sysconfig/iptables /etc/sysconfig/ip6tables /etc/sysconfig/iptables-config \
	/etc/sysconfig/ip6tables-config /etc/sysconfig/nftables.conf /etc/sysconfig/ipset \
	/etc/iptables/rules.v4 /etc/iptables/rules.v6 /etc/iptables/ipsets /etc/nftables.conf \
	/etc/default/netfilter-persistent /etc/firewalld/firewalld.conf \
	/etc/ufw/ufw.conf /etc/ufw/sysctl.conf /etc/default/ufw /etc/docker/daemon.json; do
	copy_file "$_f"
done

# ---------------------------------------------------------------- userspace tools
log "userspace tools and packages"
case $IPT_BACKEND in
legacy) run_cmd commands/iptables_-V 0 "" iptables -V ;;
absent) skip_cmd commands/iptables_-V "" "iptables not found in PATH" iptables -V ;;
*) gated_cmd commands/iptables_-V 0 "" "nf_tables nfnetlink" iptables -V ;;
esac
if command -v update-alternatives >/dev/null 2>&1; then
	run_cmd commands/update-alternatives_--display_iptables 0 "" update-alternatives --display iptables
	run_cmd commands/update-alternatives_--display_ip6tables 0 "" update-alternatives --display ip6tables
elif command -v alternatives >/dev/null 2>&1; then
	run_cmd commands/alternatives_--display_iptables 0 "" alternatives --display iptables
fi
if [ -d "$R/var/lib/dpkg" ] && command -v dpkg-query >/dev/null 2>&1; then
	run_cmd commands/packages 0 "" dpkg-query -W -f '${db:Status-Abbrev} ${Package} ${Version} ${Architecture}\n' \
		iptables nftables conntrack ipset kmod firewalld ufw 'libnftnl*' 'libnetfilter-conntrack*' \
		'libxtables*' 'libip4tc*' 'linux-image-*'
elif { [ -d "$R/var/lib/rpm" ] || [ -d "$R/usr/lib/sysimage/rpm" ]; } && command -v rpm >/dev/null 2>&1; then
	run_cmd commands/packages 0 "" rpm -qa --qf '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n' \
		'iptables*' 'nftables*' 'conntrack-tools*' 'ipset*' 'kernel' 'kernel-core' 'kernel-default' \
		'firewalld*' 'libnftnl*' 'libnetfilter_conntrack*' 'kmod'
elif [ -d "$R/lib/apk/db" ] && command -v apk >/dev/null 2>&1; then
	run_cmd commands/packages 0 "" apk info -v
else
	skip_cmd commands/packages "" "no dpkg, rpm or apk package database found" dpkg-query -W
fi

# ---------------------------------------------------------------- rules
log "rules (only where the kernel modules are already present)"
if command -v iptables-legacy-save >/dev/null 2>&1; then
	gated_cmd commands/iptables-legacy-save 0 "" ip_tables iptables-legacy-save
elif [ "$IPT_BACKEND" = legacy ] && command -v iptables-save >/dev/null 2>&1; then
	gated_cmd commands/iptables-save 0 "" ip_tables iptables-save
else
	skip_cmd commands/iptables-legacy-save "" "iptables-legacy-save not found in PATH" iptables-legacy-save
fi
if command -v ip6tables-legacy-save >/dev/null 2>&1; then
	gated_cmd commands/ip6tables-legacy-save 0 "" ip6_tables ip6tables-legacy-save
elif [ "$IPT_BACKEND" = legacy ] && command -v ip6tables-save >/dev/null 2>&1; then
	gated_cmd commands/ip6tables-save 0 "" ip6_tables ip6tables-save
else
	skip_cmd commands/ip6tables-legacy-save "" "ip6tables-legacy-save not found in PATH" ip6tables-legacy-save
fi
gated_cmd commands/iptables-nft-save 0 "" "nf_tables nfnetlink" iptables-nft-save
gated_cmd commands/ip6tables-nft-save 0 "" "nf_tables nfnetlink" ip6tables-nft-save
gated_cmd commands/nft_list_ruleset 0 "" "nf_tables nfnetlink" nft list ruleset
gated_cmd commands/nft_-j_list_ruleset 0 "" "nf_tables nfnetlink" nft -j list ruleset
gated_cmd commands/ipset_save 0 "" ip_set ipset save
gated_cmd commands/ipset_list_-t 0 "" ip_set ipset list -t

# ---------------------------------------------------------------- conntrack
log "conntrack"
gated_cmd commands/conntrack_-S 0 "" nf_conntrack_netlink conntrack -S
if [ -r "$R/proc/sys/net/netfilter/nf_conntrack_count" ]; then
	skip_cmd commands/conntrack_-C "" \
		"replaced by /proc/sys/net/netfilter/nf_conntrack_count (same data, no netlink)" conntrack -C
else
	gated_cmd commands/conntrack_-C 0 "" nf_conntrack_netlink conntrack -C
fi
if [ "$CT_TABLE" != 1 ]; then
	skip_cmd commands/conntrack_-L_-o_extended.gz "" "--no-conntrack-table given" conntrack -L -o extended
elif [ "$CT_FILE_OK" = 1 ]; then
	skip_cmd commands/conntrack_-L_-o_extended.gz "" \
		"replaced by /proc/net/nf_conntrack (same data, no netlink)" conntrack -L -o extended
else
	gated_cmd commands/conntrack_-L_-o_extended 1 "" nf_conntrack_netlink conntrack -L -o extended
fi

# ---------------------------------------------------------------- kube-proxy
KP_PID=
for _p in "$R"/proc/[0-9]*; do
	[ -r "$_p/comm" ] || continue
	_c=
	{ IFS= read -r _c <"$_p/comm"; } 2>/dev/null || :
	if [ "$_c" = kube-proxy ]; then
		KP_PID=${_p##*/}
		break
	fi
done
if [ -n "$KP_PID" ]; then
	log "kube-proxy (pid $KP_PID)"
	tr '\000' ' ' <"$R/proc/$KP_PID/cmdline" >"$TOP/commands/kube-proxy_cmdline" 2>/dev/null
	printf '\n' >>"$TOP/commands/kube-proxy_cmdline"
	derived commands/kube-proxy_cmdline 0 0 "(/proc/$KP_PID/cmdline of kube-proxy)"
	_kc=$(awk '{ for (i = 1; i <= NF; i++) { if ($i ~ /^--config=/) { sub(/^--config=/, "", $i); print $i; exit }
		if ($i == "--config" && i < NF) { print $(i + 1); exit } } }' "$TOP/commands/kube-proxy_cmdline")
	if [ -n "$_kc" ]; then
		case $_kc in
		/*) copy_file "/proc/$KP_PID/root$_kc" ;;
		*) warn "kube-proxy --config $_kc is relative: not copied" ;;
		esac
	fi
fi
for _f in /var/lib/kube-proxy/config.conf /etc/kubernetes/kube-proxy-config.yaml \
	/etc/kubernetes/manifests/kube-proxy.yaml /etc/sysconfig/kube-proxy /etc/default/kube-proxy \
	/etc/kubernetes/proxy; do
	copy_file "$_f" head 0
done

# ---------------------------------------------------------------- network namespaces
NETNS_NAMES=
netns_collect() {
	_nn=$1
	sub_all "$_nn" / %
	_nb=netns/$SUB
	jstr "$_nn"
	printf '%s\n' "$JS" >>"$T/netns"
	if command -v iptables-legacy-save >/dev/null 2>&1; then
		gated_cmd "$_nb/commands/iptables-legacy-save" 0 "$_nn" ip_tables iptables-legacy-save
		gated_cmd "$_nb/commands/ip6tables-legacy-save" 0 "$_nn" ip6_tables ip6tables-legacy-save
	elif [ "$IPT_BACKEND" = legacy ]; then
		gated_cmd "$_nb/commands/iptables-save" 0 "$_nn" ip_tables iptables-save
		gated_cmd "$_nb/commands/ip6tables-save" 0 "$_nn" ip6_tables ip6tables-save
	fi
	gated_cmd "$_nb/commands/iptables-nft-save" 0 "$_nn" "nf_tables nfnetlink" iptables-nft-save
	gated_cmd "$_nb/commands/ip6tables-nft-save" 0 "$_nn" "nf_tables nfnetlink" ip6tables-nft-save
	gated_cmd "$_nb/commands/nft_list_ruleset" 0 "$_nn" "nf_tables nfnetlink" nft list ruleset
	gated_cmd "$_nb/commands/ipset_save" 0 "$_nn" ip_set ipset save
	for _nf in /proc/sys/net/netfilter/nf_conntrack_count /proc/net/stat/nf_conntrack \
		/proc/net/ip_tables_names /proc/net/ip6_tables_names; do
		run_cmd "$_nb/files$_nf" 0 "$_nn" cat "$_nf"
	done
	if [ "$CT_TABLE" = 1 ]; then
		run_cmd "$_nb/files/proc/net/nf_conntrack" 1 "$_nn" cat /proc/net/nf_conntrack
	fi
}
if [ "$NETNS_MODE" = none ]; then
	log "network namespaces: not collected (--netns none)"
elif ! command -v ip >/dev/null 2>&1; then
	skip_cmd commands/ip_netns_list "" "ip (iproute2) not found in PATH" ip netns list
else
	log "network namespaces"
	run_cmd commands/ip_netns_list 0 "" ip netns list
	if [ -n "$LAST_FILE" ]; then
		while read -r _nn _rest; do
			[ -n "$_nn" ] && NETNS_NAMES="$NETNS_NAMES$_nn
"
		done <"$LAST_FILE"
	fi
	if [ "$NETNS_MODE" != all ]; then
		case "
$NETNS_NAMES" in
		*"
$NETNS_MODE
"*) NETNS_NAMES="$NETNS_MODE
" ;;
		*)
			warn "network namespace '$NETNS_MODE' (--netns) is not in ip netns list"
			NETNS_NAMES=
			;;
		esac
	fi
	if [ -n "$NETNS_NAMES" ] && [ "$IS_ROOT" != true ]; then
		perm "network namespaces: ip netns exec needs root, namespaces not collected"
		printf '%s' "$NETNS_NAMES" | while IFS= read -r _nn; do
			skip_cmd "netns/$_nn/commands/nft_list_ruleset" "$_nn" "not root: ip netns exec needs root" nft list ruleset
		done
	elif [ -n "$NETNS_NAMES" ]; then
		printf '%s' "$NETNS_NAMES" >"$T/netns_names"
		while IFS= read -r _nn; do
			[ -n "$_nn" ] && netns_collect "$_nn"
		done <"$T/netns_names"
	fi
fi

# ---------------------------------------------------------------- sample 2, modules after
now_ms
_wait=$((SAMPLE1_MS + SAMPLE_SECONDS * 1000 - NOW_MS))
if [ "$_wait" -gt $((DEADLINE_MS - NOW_MS)) ]; then
	_wait=$((DEADLINE_MS - NOW_MS))
	warn "--sample-seconds $SAMPLE_SECONDS shortened to fit --max-seconds $MAX_SECONDS"
fi
if [ "$_wait" -gt 0 ]; then
	_ws=$(((_wait + 999) / 1000))
	log "waiting ${_ws}s for sample 2 (--sample-seconds $SAMPLE_SECONDS)"
	sleep "$_ws"
fi
log "sample 2 of the conntrack counters"
sample 2

modules_snapshot "$T/modules_after"
MODULES_CHANGED=false
if ! cmp -s "$T/modules_before" "$T/modules_after" 2>/dev/null; then
	MODULES_CHANGED=true
	awk 'NR == FNR { b[$1] = 1; next } !($1 in b)' "$T/modules_before" "$T/modules_after" >"$T/modules_added"
	awk 'NR == FNR { a[$1] = 1; next } !($1 in a)' "$T/modules_after" "$T/modules_before" >"$T/modules_removed"
	warn "KERNEL MODULES CHANGED DURING COLLECTION: added [$(tr '\n' ' ' <"$T/modules_added")] removed [$(tr '\n' ' ' <"$T/modules_removed")]; something on this host loaded or unloaded modules while nfdiag-collect ran"
else
	: >"$T/modules_added"
	: >"$T/modules_removed"
fi

# ---------------------------------------------------------------- manifest
now_ms
END_MS=$NOW_MS
END_EPOCH=$((END_MS / 1000))
END_DATE_U=$(date -u 2>/dev/null)
END_ISO=$(date -u +%Y-%m-%dT%H:%M:%SZ)

UPTIME=null
if [ -r "$R/proc/uptime" ]; then
	read -r _up _rest <"$R/proc/uptime" || :
	case $_up in [0-9]*) UPTIME=$_up ;; esac
fi
BTIME=null
if [ -r "$R/proc/stat" ]; then
	_bt=$(awk '$1 == "btime" { print $2; exit }' "$R/proc/stat" 2>/dev/null)
	case $_bt in '' | *[!0-9]*) ;; *) BTIME=$_bt ;; esac
fi
read_first_line "$R/proc/sys/kernel/random/boot_id"
BOOT_ID=$RL
UNAME_A=
[ -f "$TOP/commands/uname_-a" ] && IFS= read -r UNAME_A <"$TOP/commands/uname_-a"

join_lines() { # FILE INDENT: JSON lines joined with commas
	[ -s "$1" ] || return 0
	sed -e "s/^/$2/" -e '$!s/$/,/' "$1"
}
jlines_inline() { # FILE: comma-joined on one line
	[ -s "$1" ] || return 0
	awk 'NR > 1 { printf "," } { printf "%s", $0 }' "$1"
}

{
	printf '{\n'
	printf '  "collector": "nfdiag-collect",\n'
	printf '  "collector_version": "%s",\n' "$NFDIAG_COLLECTOR_VERSION"
	printf '  "manifest_version": 1,\n'
	jarr_lines "$T/argv"
	printf '  "args": %s,\n' "$JA"
	jstr "$ROOT"
	_jroot=$JS
	jstr "$OUTDIR"
	if [ "$CT_TABLE" = 1 ]; then _jct=true; else _jct=false; fi
	_jo=$JS
	jstr "$NETNS_MODE"
	printf '  "options": {"root": %s, "outdir": %s, "sample_seconds": %s, "max_file_bytes": %s, "timeout_seconds": %s, "max_seconds": %s, "conntrack_table": %s, "netns": %s},\n' \
		"$_jroot" "$_jo" "$SAMPLE_SECONDS" "$MAXB" "$CMD_TIMEOUT" "$MAX_SECONDS" "$_jct" "$JS"
	jstr "$START_DATE_U"
	printf '  "start": {"date_u": %s, "utc": "%s", "epoch": %s, "epoch_ms": %s},\n' "$JS" "$START_ISO" "$START_EPOCH" "$START_MS"
	jstr "$END_DATE_U"
	printf '  "end": {"date_u": %s, "utc": "%s", "epoch": %s, "epoch_ms": %s},\n' "$JS" "$END_ISO" "$END_EPOCH" "$END_MS"
	printf '  "duration_ms": %s,\n' $((END_MS - START_MS))
	jstr "$HOST"
	printf '  "host": %s,\n' "$JS"
	jstr "$KREL"
	printf '  "kernel": %s,\n' "$JS"
	jstr "$UNAME_A"
	printf '  "uname": %s,\n' "$JS"
	jstr "$USER_NAME"
	printf '  "uid": %s,\n  "user": %s,\n  "is_root": %s,\n' "$USER_ID" "$JS" "$IS_ROOT"
	printf '  "uptime_seconds": %s,\n  "btime": %s,\n' "$UPTIME" "$BTIME"
	jstr_or_null "$BOOT_ID"
	printf '  "boot_id": %s,\n' "$JS"
	jstr_or_null "$TZ_NAME"
	_jtn=$JS
	jstr_or_null "$TZ_ABBR"
	_jta=$JS
	jstr_or_null "$TZ_OFF"
	printf '  "timezone": {"name": %s, "abbrev": %s, "utc_offset": %s},\n' "$_jtn" "$_jta" "$JS"
	printf '  "timeout_method": "%s",\n' "$TMETHOD"
	jstr_or_null "$IPT_PATH"
	_jip=$JS
	jstr_or_null "$IPT_REAL"
	printf '  "iptables": {"path": %s, "resolved": %s, "backend": "%s"},\n' "$_jip" "$JS" "$IPT_BACKEND"
	jstr "$MOD_SUPPORT_REASON"
	_jmr=$JS
	jstr_or_null "$CONFIG_SRC"
	_jcs=$JS
	jstr_or_null "${MODULES_BUILTIN:-}"
	printf '  "modules": {\n    "support": "%s",\n    "support_reason": %s,\n    "config_source": %s,\n    "builtin_source": %s,\n' \
		"$MOD_SUPPORT" "$_jmr" "$_jcs" "$JS"
	printf '    "state": {'
	jlines_inline "$T/gates"
	printf '},\n'
	jarr_lines "$T/modules_before"
	printf '    "before": %s,\n' "$JA"
	jarr_lines "$T/modules_after"
	printf '    "after": %s,\n' "$JA"
	jarr_lines "$T/modules_added"
	printf '    "added": %s,\n' "$JA"
	jarr_lines "$T/modules_removed"
	printf '    "removed": %s,\n' "$JA"
	printf '    "changed": %s\n  },\n' "$MODULES_CHANGED"
	printf '  "samples": [\n'
	join_lines "$T/samples" '    '
	printf '  ],\n'
	jstr "$NETNS_MODE"
	printf '  "netns": {"mode": %s, "names": [' "$JS"
	jlines_inline "$T/netns"
	printf ']},\n'
	printf '  "commands": [\n'
	join_lines "$T/cmds" '    '
	printf '  ],\n'
	printf '  "files": [\n'
	join_lines "$T/files" '    '
	printf '  ],\n'
	printf '  "permission_denied": ['
	jlines_inline "$T/perm"
	printf '],\n'
	printf '  "warnings": ['
	jlines_inline "$T/warn"
	printf ']\n'
	printf '}\n'
} >"$TOP/manifest.json"

# ---------------------------------------------------------------- tarball
OUT=$OUTDIR/$TOPNAME.tar.gz
if ! (cd "$STAGE" && tar -cf - "$TOPNAME") | gzip -c >"$OUT.part"; then
	rm -f "$OUT.part"
	die "could not write $OUT"
fi
mv "$OUT.part" "$OUT" || die "could not write $OUT"
now_ms
log "done in $(((NOW_MS - START_MS) / 1000))s: $(wc -l <"$T/cmds" | tr -d ' ') commands, $(wc -l <"$T/files" | tr -d ' ') files"
[ "$MODULES_CHANGED" = true ] && log "WARNING: kernel modules changed during the run, see manifest.json warnings"
case $OUT in /*) ;; *) OUT=$(pwd)/$OUT ;; esac
printf '%s\n' "$OUT"
