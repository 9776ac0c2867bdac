
# Values only the vault knows. `tokens __complete` reads the command line up to the cursor; when
# the word there is a token id or name (revoke, rotate, show, edit, log), an --app or a --scope, it
# prints the live tokens, apps or scopes that fit (value, tab, description). Otherwise it prints
# nothing and the completions above answer.
function __tokens_vault
    set -l current (commandline -ct)
    set -q current[1]; or set current ''
    # fish completes the value of --app=VALUE itself: print the value without the option.
    command tokens __complete -- (commandline -opc) $current 2>/dev/null | string replace -r -- '^--?[^=\t]*=' ''
end
