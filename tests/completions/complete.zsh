# Runs zsh's own completion for `tokens` on one command line, as pressing TAB at its end would:
# an interactive zsh on a pseudo-terminal (zsh/zpty) with compinit, the completion script
# installed on $fpath as `_tokens` (as a package installs it) or sourced, and the line typed.
#
#   zsh -f tests/completions/complete.zsh fpath|source SCRIPT LINE
#
# Prints every match zsh's completion offers the second time, one a line (with the part of the word it keeps,
# such as `--app=`), then exits 0; exits 2 when the completion did not run.
emulate -R zsh
zmodload zsh/zpty || { print -u2 "complete.zsh: zsh/zpty is not available"; exit 2 }

mode=$1 script=$2 line=$3
dir=$(mktemp -d) || exit 2
matches=$dir/matches
: > $matches

if [[ $mode == fpath ]]; then
    mkdir $dir/functions && cp -- $script $dir/functions/_tokens || exit 2
    load="fpath=(${(q)dir}/functions \$fpath); autoload -U compinit; compinit -u -D"
else
    load="autoload -U compinit; compinit -u -D; source ${(q)script}"
fi

zpty shell zsh -f -i
zpty -w shell "PROMPT= RPROMPT= PS2=; unsetopt beep; bindkey -e"
zpty -w shell $load
# The line is completed twice in the same shell, and the second completion is the one recorded:
# the first loads the function from $fpath, and later ones must still reach the vault.
# Every compadd that adds matches in the second completion also writes them to $matches; after
# each, the shell leaves a file `completed-N`, and it exits after the second.
zpty -w shell "integer completed=0
__completed() {
    : > ${(q)dir}/completed-\$(( ++completed ))
    (( completed == 2 )) && exit
    comppostfuncs+=(__completed)
}
comppostfuncs=(__completed)
compadd() {
    if (( \${argv[(I)-[OAD]]} )); then builtin compadd \"\$@\"; return; fi
    local -a offered
    builtin compadd -O offered \"\$@\"
    (( completed == 1 && \$#offered )) && print -rl -- \"\$IPREFIX\"\${^offered} >> ${(q)matches}
    builtin compadd \"\$@\"
}"

typeset -F SECONDS
deadline=$(( SECONDS + 10 ))
# Waits for the shell to leave file $1, keeping its terminal drained meanwhile.
await() {
    while [[ ! -e $1 ]] && (( SECONDS < deadline )); do
        zpty -rt shell output 2>/dev/null || sleep 0.05
    done
    [[ -e $1 ]]
}
# zle drops what is typed ahead of a completion, so type the second line after the first is done.
zpty -w -n shell "$line"$'\t'
await $dir/completed-1 && zpty -w -n shell $'\C-u'"$line"$'\t' && await $dir/completed-2
result=$?
zpty -d shell
if (( result == 0 )); then
    cat -- $matches
else
    print -u2 "complete.zsh: zsh did not finish completing ${(qq)line} within 10s"
    result=2
fi
rm -rf -- $dir # (not in an EXIT trap: zpty's forked child would run that too)
exit $result
