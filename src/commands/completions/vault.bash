
# Values only the vault knows. `tokens __complete` reads the command line up to the cursor; when
# the word there is a token id or name (revoke, rotate, show, edit, log), an --app or a --scope, it
# prints the live tokens, apps or scopes that fit. Otherwise it exits 1 and _tokens above answers.
_tokens_vault() {
    local line="${COMP_LINE:0:COMP_POINT}" output candidate current kept last
    local -a words=()
    read -r -a words <<< "$line"
    if [[ -z $line || $line == *[[:space:]] ]]; then
        words+=("")
    fi
    if ! output="$(command tokens __complete -- "${words[@]}" 2>/dev/null)"; then
        _tokens "$@"
        return
    fi
    # A vault value: offer no file names, even when the vault has nothing to offer.
    compopt +o default +o bashdefault 2>/dev/null || true
    # Bash replaces only the part of the word after its last = or : (COMP_WORDBREAKS), passed as
    # $2, so leave out of each candidate what comes before that part.
    last="${words[${#words[@]}-1]}"
    current="$2"
    kept=""
    if [[ $last == *"$current" ]]; then
        kept="${last%"$current"}"
    fi
    COMPREPLY=()
    while IFS= read -r candidate; do
        candidate="${candidate%%$'\t'*}"
        if [[ -n $candidate && $candidate == "$kept"* ]]; then
            candidate="${candidate#"$kept"}"
            # Bash puts a candidate on the command line as it is, unquoted: offer only the
            # characters of names, apps and scopes, which mean nothing to the shell.
            if [[ $candidate =~ ^[A-Za-z0-9._:,=-]+$ ]]; then
                COMPREPLY+=("$candidate")
            fi
        fi
    done <<< "$output"
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _tokens_vault -o nosort -o bashdefault -o default tokens
else
    complete -F _tokens_vault -o bashdefault -o default tokens
fi
