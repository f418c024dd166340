# shellcheck shell=bash
# packaging/version.sh is sourced (never run) by the scripts that name
# artefacts, from the repository root, so the Linux, Windows and macOS
# builds and the release agree on one version:
#   toml_value KEY      a [Details] value of FyneApp.toml
#   pkg_version VERSION a `git describe` VERSION made orderable by dpkg and rpm
# and sets app_version, app_build and app_id from FyneApp.toml.

# toml_value KEY reads a [Details] value from FyneApp.toml.
toml_value() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\{0,1\}\([^\"]*\)\"\{0,1\}[[:space:]]*$/\1/p" FyneApp.toml | head -n1; }
app_version=$(toml_value Version)
app_build=$(toml_value Build)
app_id=$(toml_value ID)
if [ -z "$app_version" ] || [ -z "$app_build" ] || [ -z "$app_id" ]; then
  echo "packaging/version.sh: FyneApp.toml lacks Details.Version, Details.Build or Details.ID" >&2
  exit 1
fi

# pkg_version turns a `git describe` VERSION into one dpkg and rpm both order
# correctly: v1.2.3 → 1.2.3; v1.2.3-4-gabc → 1.2.3+git4.gabc (after the
# release); v1.2.3-rc1 → 1.2.3~rc1 (before it); an untagged abc1234-dirty →
# APPVERSION~git.abc1234.dirty, before the version FyneApp.toml is heading for.
sanitize() { printf %s "$1" | tr -c 'A-Za-z0-9.' '.' | tr -s '.' | sed 's/^\.//; s/\.$//'; }
pkg_version() {
  local v=${1#v}
  if [[ $v =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)(.*)$ ]]; then
    local base="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}" rest=${BASH_REMATCH[4]}
    if [ -z "$rest" ]; then
      echo "$base"
    elif [[ $rest =~ ^-([0-9]+)-g([0-9a-f]+)(-dirty)?$ ]]; then
      echo "$base+git${BASH_REMATCH[1]}.g${BASH_REMATCH[2]}${BASH_REMATCH[3]:+.dirty}"
    elif [ "$rest" = -dirty ]; then
      echo "$base+dirty"
    else
      echo "$base~$(sanitize "${rest#[-+~]}")"
    fi
  else
    echo "$app_version~git.$(sanitize "$v")"
  fi
}
