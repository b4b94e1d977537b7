#!/usr/bin/env bash
# Fails, naming them, on tracked files that do not belong in git: anything
# over 2 MB outside data/sample/ (the bundled borough), and any executable
# binary (ELF, Mach-O, PE, WebAssembly) or executable-mode file that is not
# a script. Build outputs go to bin/, which is ignored. It reads the index
# (what a commit would hold), not the working tree. Run by `make lint`.
#
#   scripts/check-files.sh           # the repository's index
#   MAX_BYTES=1000000 scripts/check-files.sh
set -euo pipefail
cd "$(dirname "$0")/.."
max=${MAX_BYTES:-2097152}
bad=0

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

if ((bad)); then
	exit 1
fi
echo "check-files: no binaries, nothing over $max bytes outside data/sample/"
