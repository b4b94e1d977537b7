#!/usr/bin/env bash
# Fails, naming them, on tracked files that do not belong in git: anything
# over 2 MB outside data/sample/ (the bundled borough), and any executable
# binary (ELF, Mach-O, PE, WebAssembly) or executable-mode file that is not
# a script. Build outputs go to bin/, which is ignored. It reads the index
# (what a commit would hold), not the working tree. Run by `make lint`,
# after --self-test has shown on a throwaway repository that it catches both.
#
#   scripts/check-files.sh             # this repository
#   scripts/check-files.sh DIR         # the git repository at DIR
#   scripts/check-files.sh --self-test
#   MAX_BYTES=1000000 scripts/check-files.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
max=${MAX_BYTES:-2097152}

check() {
	local bad=0 mode blob path size magic kind
	while read -r mode blob _ path; do
		size=$(git cat-file -s "$blob")
		if ((size > max)) && [[ $path != data/sample/* ]]; then
			echo "check-files: $path is $size bytes (over $max outside data/sample/): keep large files out of git" >&2
			bad=1
		fi
		# The first four bytes say whether a file is a compiled program.
		# (head stops reading early, so git may die of SIGPIPE: not an error.)
		magic=$( (git cat-file blob "$blob" || true) | head -c 4 | od -An -tx1 | tr -d ' \n')
		case $magic in
		7f454c46) kind="an ELF executable" ;;
		feedface | feedfacf | cefaedfe | cffaedfe | cafebabe) kind="a Mach-O executable" ;;
		4d5a*) kind="a Windows (PE) executable" ;;
		0061736d) kind="a WebAssembly module" ;;
		*) kind="" ;;
		esac
		if [[ -z $kind && $mode == 100755 && $magic != 2321* ]]; then
			kind="an executable-mode file that is not a #! script"
		fi
		if [[ -n $kind ]]; then
			echo "check-files: $path is $kind: build outputs belong in bin/ (ignored), not in git" >&2
			bad=1
		fi
	done < <(git ls-files -s)
	return $bad
}

if [[ ${1:-} == --self-test ]]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	git -C "$tmp" init -q
	mkdir -p "$tmp/data/sample"
	printf '\177ELF\002\001\001' >"$tmp/nbhd"
	head -c $((max + 1)) /dev/zero >"$tmp/big.csv"
	head -c $((max + 1)) /dev/zero >"$tmp/data/sample/big.csv"
	printf '#!/bin/sh\necho ok\n' >"$tmp/run.sh"
	chmod +x "$tmp/run.sh"
	git -C "$tmp" add -A
	if out=$(cd "$tmp" && check 2>&1); then
		echo "check-files: --self-test: a repository with a binary and a big file passed" >&2
		exit 1
	fi
	for want in "nbhd is an ELF executable" "big.csv is $((max + 1)) bytes"; do
		if ! grep -qF "$want" <<<"$out"; then
			printf 'check-files: --self-test: want "%s" in:\n%s\n' "$want" "$out" >&2
			exit 1
		fi
	done
	if grep -qF -e "data/sample/big.csv" -e "run.sh" <<<"$out"; then
		printf 'check-files: --self-test: the sample or a script was refused:\n%s\n' "$out" >&2
		exit 1
	fi
	echo "check-files: --self-test: a tracked binary and a big file are refused"
	exit 0
fi

cd "${1:-$here}"
if ! check; then
	exit 1
fi
echo "check-files: no binaries, nothing over $max bytes outside data/sample/"
