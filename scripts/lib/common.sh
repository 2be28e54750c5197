# common.sh - sourced by the setup and check scripts.
#
#   ensure_debian_packages WHO PACKAGE...
#   host_mirror: the host's Debian mirror (for debootstrap and the kernel
#   matrix's own apt lists), else deb.debian.org
#   binary_under_test WHO REPO: the dist/ior a check runs ($IOR_BINARY, else
#   one built now by scripts/build-binary.sh)
#
# Installs the PACKAGEs that are not installed yet (apt-get, as root; one
# `apt-get update` first), or exits 1 naming them when not root. WHO
# prefixes the messages (the calling script's name).
ensure_debian_packages() {
	local who="$1" p
	shift
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	if [[ $(id -u) -ne 0 ]]; then
		echo "$who: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "$who: installing ${missing[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

host_mirror() {
	local uri
	uri="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
	[ -n "$uri" ] || uri="$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
	case "$uri" in
	*debian-security* | "") echo http://deb.debian.org/debian ;;
	*) echo "$uri" ;;
	esac
}

binary_under_test() {
	if [ -n "${IOR_BINARY:-}" ]; then
		echo "$IOR_BINARY"
		return
	fi
	printf '%s: building dist/ior (scripts/build-binary.sh; quick when up to date)\n' "$1" >&2
	bash "$2/scripts/build-binary.sh" >&2 || { printf '%s: FAIL: scripts/build-binary.sh failed\n' "$1" >&2; exit 1; }
	echo "$2/dist/ior"
}
