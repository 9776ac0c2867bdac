# Values only the vault knows. `tokens __complete` reads the command line up to the cursor; when
# the word there is a token id or name (revoke, rotate, show, edit, log), an --app or a --scope, it
# prints the live tokens, apps or scopes that fit. Otherwise it exits 1 and _tokens above answers.
_tokens_vault() {
    local output
    if ! output="$(command tokens __complete -- "${(@Q)words[1,CURRENT-1]}" "${(Q)PREFIX}" 2>/dev/null)"; then
        _tokens "$@"
        return
    fi
    local -a values displays
    local line value
    for line in "${(@f)output}"; do
        [[ -n $line ]] || continue
        value="${line%%$'\t'*}"
        values+=("$value")
        if [[ $line == *$'\t'?* ]]; then
            displays+=("$value  -- ${line#*$'\t'}")
        else
            displays+=("$value")
        fi
    done
    # Offer the value alone: `--app=` or the scopes before the last comma stay as typed.
    local kept="${(M)PREFIX##*[=,]}"
    if [[ -n $kept ]]; then
        compset -P '*[=,]'
        values=("${(@)values#$kept}")
        displays=("${(@)displays#$kept}")
    fi
    (( $#values )) || return 1
    compadd -l -d displays -a values
}

if [ "$funcstack[1]" = "_tokens" ]; then
    # Autoloaded from $fpath as _tokens: complete with _tokens_vault from now on.
    compdef _tokens_vault tokens
    _tokens_vault "$@"
else
    compdef _tokens_vault tokens
fi
