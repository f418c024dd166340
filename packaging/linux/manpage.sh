#!/usr/bin/env bash
# packaging/linux/manpage.sh BINARY VERSION DATE writes lanyard(1) in roff to
# stdout from the program's own help: `lanyard help` gives the synopsis and
# command list, `lanyard COMMAND -h` each command's flags. So the manual
# cannot drift from the binary it ships with. DATE is YYYY-MM-DD.
set -euo pipefail
bin=${1:?usage: manpage.sh BINARY VERSION DATE}
version=${2:?usage: manpage.sh BINARY VERSION DATE}
date=${3:?usage: manpage.sh BINARY VERSION DATE}

# Help must not read or create anyone's configuration.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
help() { HOME=$scratch XDG_CONFIG_HOME=$scratch LANYARD_CONFIG_DIR=$scratch LANG=C.UTF-8 LC_ALL=C.UTF-8 "$bin" "$@" 2>&1 </dev/null || true; }

# roff: a backslash is \e, a minus is \-, and a line starting with . or ' is
# text only behind \&.
roff() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

overview=$(help help)
commands=$(sed -n 's/^  \([a-z][a-z0-9-]*\)  *\(.*\)$/\1\t\2/p' <<<"$overview")
[ -n "$commands" ] || { echo "manpage.sh: '$bin help' lists no commands" >&2; exit 1; }

cat <<ROFF
.TH LANYARD 1 "$date" "lanyard $version" "User Commands"
.SH NAME
lanyard \- short\-lived AWS access from your hardware security key
.SH SYNOPSIS
.B lanyard
[\fB\-\-config\fR \fIDIR\fR] [\fICOMMAND\fR] [\fIFLAGS\fR]
.SH DESCRIPTION
Lanyard signs in to IAM Roles Anywhere with the certificate on a PKCS #11
token (a YubiKey, smart card or similar), then reaches many AWS accounts with
short\-lived credentials kept in memory.
.PP
$(sed -n '/^With no command/,/^$/p' <<<"$overview" | sed '/^$/d' | roff)
.SH COMMANDS
ROFF
# usage_block ARGS…: `lanyard ARGS -h` as a preformatted block, if it prints
# a usage (demo, for one, needs the tray app), from its Usage line on and
# without timestamped log lines (the GUI toolkit's), so the page is the same
# on every build.
usage_block() {
  local out
  out=$(help "$@" -h | sed -n '/^Usage: /,$p' | grep -vE '^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]{8} ' || true)
  grep -q '^Usage: ' <<<"$out" && printf '.PP\n.nf\n.RS 4\n%s\n.RE\n.fi\n' "$(roff <<<"$out")"
  return 0
}
while IFS=$'\t' read -r name summary; do
  printf '.SS %s\n%s\n' "$name" "$(roff <<<"$summary")"
  # A command with sub-commands answers -h with the list of them.
  subs=$(help "$name" -h | sed -n "s/^lanyard $name: unknown $name command .*: want //p" | tr -d ',')
  if [ -n "$subs" ]; then
    for sub in $subs; do usage_block "$name" "$sub"; done
  else
    usage_block "$name"
  fi
done <<<"$commands"
cat <<ROFF
.SH FILES
.TP
.I \$XDG_CONFIG_HOME/lanyard
The configuration: identities and connected accounts (override with
\fB\-\-config\fR or \fBLANYARD_CONFIG_DIR\fR). PINs and credentials are never
written there.
.SH SEE ALSO
.BR aws (1),
.BR p11\-kit (8)
.PP
https://github.com/lanyard\-app/lanyard
ROFF
