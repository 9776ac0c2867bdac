# Runs bash's completion for `tokens` on one command line, as pressing TAB at its end would.
#
#   bash tests/completions/complete.bash SCRIPT LINE
#
# Sources the completion SCRIPT, splits LINE into COMP_WORDS the way bash's readline does
# (blanks separate words; = and : from COMP_WORDBREAKS are words of their own), calls the
# function SCRIPT registered for `tokens` with the arguments bash passes (the command, the part
# of the word at the cursor after its last break, the word before), and prints COMPREPLY, one
# candidate a line.
set -euo pipefail

script=$1
line=$2

# shellcheck source=/dev/null
source "$script"

function=$(complete -p tokens | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
if [[ -z $function ]]; then
    echo "complete.bash: $script registers no completion function for tokens" >&2
    exit 2
fi

COMP_WORDS=()
word=""
breaks=""
for (( i = 0; i < ${#line}; i++ )); do
    char=${line:i:1}
    case $char in
        ' ' | $'\t')
            [[ -n $word ]] && COMP_WORDS+=("$word")
            [[ -n $breaks ]] && COMP_WORDS+=("$breaks")
            word="" breaks=""
            ;;
        '=' | ':')
            [[ -n $word ]] && COMP_WORDS+=("$word")
            word=""
            breaks+=$char
            ;;
        *)
            [[ -n $breaks ]] && COMP_WORDS+=("$breaks")
            breaks=""
            word+=$char
            ;;
    esac
done
if [[ -n $breaks ]]; then
    # Right after = or :, the break is the last word, and bash completes an empty word after it.
    COMP_WORDS+=("$breaks")
    current="" previous=${COMP_WORDS[${#COMP_WORDS[@]}-2]}
else
    COMP_WORDS+=("$word") # the word at the cursor, maybe empty
    current=$word previous=${COMP_WORDS[${#COMP_WORDS[@]}-2]}
fi
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE=$line
COMP_POINT=${#line}
COMPREPLY=()

set +eu # as in an interactive shell
"$function" tokens "$current" "$previous"

(( ${#COMPREPLY[@]} == 0 )) || printf '%s\n' "${COMPREPLY[@]}"
