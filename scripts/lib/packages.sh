# packages.sh - sourced by the scripts that need Debian packages.
#
#   ensure_debian_packages WHO PACKAGE...
#   host_mirror: the host's Debian mirror (for debootstrap and the kernel
#   matrix's own apt lists), else deb.debian.org
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
