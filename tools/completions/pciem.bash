# SPDX-License-Identifier: MIT
# bash completion for pciemctl and PCIem's device-model programs.
#
# Subcommands, options and fault names come from the programs' own --help
# and 'pciemctl inject --list', so they follow whatever version is
# installed. Installed as .../bash-completion/completions/pciemctl, with
# each model program's name linked to it.

# _pciem_help PROG [SUBCOMMAND]: the --help text.
_pciem_help() {
	"$@" --help 2>/dev/null
}

# _pciem_options HELP: the long options it lists.
_pciem_options() {
	printf '%s\n' "$1" | grep -oE -- '(^|[ ,])--[a-z0-9][a-z0-9-]*' | sed 's/^[ ,]//' | sort -u
}

# _pciem_value HELP OPTION: what OPTION takes: "file" (a TEXT, which for
# these programs names a file or node), "other" (a number...), or
# nothing for a flag.
_pciem_value() {
	local line
	line=$(printf '%s\n' "$1" | grep -E -- "^ +(-[a-zA-Z],)?$2( |$)" | head -n 1)
	case "$line" in
	*"$2 TEXT"*) echo file ;;
	*"$2 "[A-Z]*) echo other ;;
	esac
}

_pciem() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog=${COMP_WORDS[0]}
	local -a cmd=("$prog")
	local sub="" w i npos=0
	COMPREPLY=()

	if [[ ${prog##*/} == pciemctl ]]; then
		for ((i = 1; i < COMP_CWORD; i++)); do
			w=${COMP_WORDS[i]}
			if [[ -z $sub && $w != -* ]]; then
				sub=$w
			elif [[ -n $sub && $w != -* && ${COMP_WORDS[i - 1]} != --* ]]; then
				npos=$((npos + 1))
			fi
		done
		if [[ -z $sub ]]; then
			local subs
			subs=$(_pciem_help "$prog" | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
			mapfile -t COMPREPLY < <(compgen -W "$subs --help" -- "$cur")
			return
		fi
		cmd+=("$sub")
	fi

	local help
	help=$(_pciem_help "${cmd[@]}")
	if [[ $prev == --* ]]; then
		case $(_pciem_value "$help" "$prev") in
		file) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
		other) return ;;
		esac
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_pciem_options "$help")" -- "$cur")
		return
	fi
	case $sub in
	run | check)
		# spec files: JSON, and directories on the way to them
		mapfile -t COMPREPLY < <(compgen -f -X '!*.json' -- "$cur"; compgen -d -- "$cur")
		;;
	inject)
		# the second positional is the fault's name
		if [[ $npos -eq 1 ]]; then
			local faults
			faults=$("$prog" inject --list 2>/dev/null | sed -n 's/^\([a-z0-9-]*\) (.*/\1/p')
			mapfile -t COMPREPLY < <(compgen -W "$faults" -- "$cur")
		fi
		;;
	esac
}

complete -F _pciem pciemctl pciem-nvme pciem-epf-test pciem-testdev pciem-rtl-dma pciem-fb \
	pciem-bochs pciem-proxy
