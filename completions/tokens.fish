# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tokens_global_optspecs
    string join \n vault= json q/quiet color= y/yes timeout= h/help V/version
end

function __fish_tokens_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tokens_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tokens_using_subcommand
    set -l cmd (__fish_tokens_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tokens -n "__fish_tokens_needs_command" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_needs_command" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_needs_command" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_needs_command" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_needs_command" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_needs_command" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_needs_command" -s h -l help -d 'Print help'
complete -c tokens -n "__fish_tokens_needs_command" -s V -l version -d 'Print version'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "create" -d 'Create a token and print it (and its secret key) once'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "list" -d 'List tokens (never their secrets)'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "show" -d 'Show every field of one token, its lineage and its recent events'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "edit" -d 'Change a token\'s metadata; its secret stays the same'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "rotate" -d 'Issue a new secret for a token (new id, same name, app and scopes)'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "revoke" -d 'End tokens at once (asks for confirmation on a terminal; --yes otherwise)'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "disable" -d 'Suspend tokens without revoking them: verify and refresh answer disabled (exit 7)'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "enable" -d 'Restore tokens suspended by tokens disable'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "refresh" -d 'Trade a token and its secret key for a new pair (also after it expired, within its refresh window)'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "verify" -d 'Check a presented token; the exit status says whether it is good'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "log" -d 'Show the event log: created, rotated, refreshed, revoked, edited, failed verifications'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "policy" -d 'Show the vault\'s policy, change it, or check the tokens against it'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "migrate" -d 'Copy a vault into another, e.g. from this machine\'s file into a shared PostgreSQL vault'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "grants" -d 'Print the SQL that gives a PostgreSQL role what one kind of user needs, and nothing more'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c tokens -n "__fish_tokens_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tokens -n "__fish_tokens_using_subcommand create" -l app -d 'Who the token belongs to or acts for (a bot, app, partner or account)' -r -f -a "(__tokens_vault)"
complete -c tokens -n "__fish_tokens_using_subcommand create" -l scope -d 'A permission; repeat it, or separate with commas: --scope read,write' -r -f -a "(__tokens_vault)"
complete -c tokens -n "__fish_tokens_using_subcommand create" -l expires -d 'Lifetime: 30d, 12h, 2w, 1y, a date (2027-01-31), an RFC 3339 time, or never (units: s seconds, min minutes, h hours, d days, w weeks, y years of 365 days; at most 100y) [default: 30d, or the vault policy\'s default lifetime]' -r
complete -c tokens -n "__fish_tokens_using_subcommand create" -l refresh-window -d 'How long after the token expires its secret key may still refresh it, e.g. 7d; never: no limit [default: the vault policy\'s default-refresh-window, else its max-refresh-window, else never]' -r
complete -c tokens -n "__fish_tokens_using_subcommand create" -l clear-after -d 'Clear the clipboard this long after --copy, if it still holds the token' -r
complete -c tokens -n "__fish_tokens_using_subcommand create" -l note -d 'A free-text note kept with the token' -r
complete -c tokens -n "__fish_tokens_using_subcommand create" -l uses -d 'Let the token verify this many times, then answer used_up (exit 4); 1 makes a one-time token. Issues no secret key unless --secret-key is given' -r
complete -c tokens -n "__fish_tokens_using_subcommand create" -l allow-from -d 'Accept the token only from these addresses: CIDRs or single addresses, IPv4 or IPv6, comma separated or repeated (verify then needs --client-ip)' -r
complete -c tokens -n "__fish_tokens_using_subcommand create" -l meta -d 'Metadata returned with the token (show, list --json, verify --json); repeatable' -r
complete -c tokens -n "__fish_tokens_using_subcommand create" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand create" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand create" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand create" -l replace -d 'Revoke the app\'s other live tokens in the same step (one token per app); needs --app'
complete -c tokens -n "__fish_tokens_using_subcommand create" -l no-secret-key -d 'Do not issue a secret key (the token then cannot be refreshed by its holder)'
complete -c tokens -n "__fish_tokens_using_subcommand create" -l secret-key -d 'Issue a secret key with a --uses token too (left out by default: each refresh would hand its holder a new token with the uses left, so a one-time token would not be one-time)'
complete -c tokens -n "__fish_tokens_using_subcommand create" -l copy -d 'Also put the token on the clipboard (cleared after --clear-after unless --keep-clipboard)'
complete -c tokens -n "__fish_tokens_using_subcommand create" -l keep-clipboard -d 'Leave the token on the clipboard'
complete -c tokens -n "__fish_tokens_using_subcommand create" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand create" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand create" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tokens -n "__fish_tokens_using_subcommand list" -l app -d 'Only tokens of this app' -r -f -a "(__tokens_vault)"
complete -c tokens -n "__fish_tokens_using_subcommand list" -l scope -d 'Only tokens with this scope' -r -f -a "(__tokens_vault)"
complete -c tokens -n "__fish_tokens_using_subcommand list" -l status -d 'Only tokens in this state' -r -f -a "active\t''
rotating\t'Rotated away, still verifying: in a grace, or until its successor is first used'
disabled\t''
used_up\t''
expired\t''
revoked\t''"
complete -c tokens -n "__fish_tokens_using_subcommand list" -l expiring -d 'Only active tokens that expire within this time, e.g. 7d' -r
complete -c tokens -n "__fish_tokens_using_subcommand list" -l unused -d 'Only tokens that still verify and were never used, or not for this long, e.g. 90d' -r
complete -c tokens -n "__fish_tokens_using_subcommand list" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand list" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand list" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand list" -l all -d 'Include revoked tokens'
complete -c tokens -n "__fish_tokens_using_subcommand list" -l exit-code -d 'Exit 8 when any token matched, 0 when none did (for cron and CI alerts: tokens list --expiring 7d --exit-code)'
complete -c tokens -n "__fish_tokens_using_subcommand list" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand list" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand list" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tokens -n "__fish_tokens_using_subcommand show" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand show" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand show" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand show" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand show" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand show" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand show" -s h -l help -d 'Print help'
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l rename -d 'A new name' -r
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l add-scope -d 'Add a scope (repeatable, or comma separated)' -r -f -a "(__tokens_vault)"
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l remove-scope -d 'Remove a scope (repeatable, or comma separated)' -r -f -a "(__tokens_vault)"
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l app -d 'A new app; an empty string removes it' -r -f -a "(__tokens_vault)"
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l expires -d 'A new expiry, counted from now: 30d, 12h, 2w, 1y, a date, an RFC 3339 time, or never (units as for create --expires)' -r
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l note -d 'A new note; an empty string removes it' -r
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l uses -d 'A new use limit, counted from now: N uses, or unlimited' -r
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l refresh-window -d 'How long after the token expires its secret key may still refresh it, e.g. 7d, or never' -r
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l allow-from -d 'Accept the token only from these addresses (replaces the ones it had): CIDRs or single addresses, comma separated or repeated' -r
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l meta -d 'Set a metadata key (repeatable)' -r
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l unset-meta -d 'Remove a metadata key (repeatable)' -r
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l any-address -d 'Accept the token from any address again'
complete -c tokens -n "__fish_tokens_using_subcommand edit" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand edit" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand edit" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand edit" -s h -l help -d 'Print help'
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -l grace -d 'Let the old token keep verifying this long, e.g. 1h, so clients can switch over (never past its own expiry; 0s is no grace: the old token stops at once, which asks first)' -r
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -l expires -d 'Lifetime of the new token [default: the old token\'s lifetime, at most the vault policy\'s max lifetime]' -r
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -l clear-after -d 'Clear the clipboard this long after --copy, if it still holds the token' -r
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -l until-used -d 'Let the old token keep verifying until the new one is first verified (or --grace ends, if given), so a new token that was never delivered breaks no one'
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -l copy -d 'Also put the token on the clipboard (cleared after --clear-after unless --keep-clipboard)'
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -l keep-clipboard -d 'Leave the token on the clipboard'
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tokens -n "__fish_tokens_using_subcommand revoke" -l app -d 'With --all: every live token of this app' -r -f -a "(__tokens_vault)"
complete -c tokens -n "__fish_tokens_using_subcommand revoke" -l reason -d 'Why, kept in the vault and the event log' -r
complete -c tokens -n "__fish_tokens_using_subcommand revoke" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand revoke" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand revoke" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand revoke" -l all -d 'Revoke all live tokens of --app'
complete -c tokens -n "__fish_tokens_using_subcommand revoke" -l leaked -d 'Revoke every token and secret key found in the text on stdin whose secret matches (reason "leaked"; a secret key revokes its token\'s whole lineage); prints each one found as revoked, already revoked or unknown, by id and masked form only'
complete -c tokens -n "__fish_tokens_using_subcommand revoke" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand revoke" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand revoke" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tokens -n "__fish_tokens_using_subcommand disable" -l reason -d 'Why, kept in the vault and the event log' -r
complete -c tokens -n "__fish_tokens_using_subcommand disable" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand disable" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand disable" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand disable" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand disable" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand disable" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand disable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tokens -n "__fish_tokens_using_subcommand enable" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand enable" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand enable" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand enable" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand enable" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand enable" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand enable" -s h -l help -d 'Print help'
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -l token-env -d 'Read the token from this environment variable' -r
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -l token-file -d 'Read the token from this file' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -l secret-key-env -d 'Read the secret key from this environment variable' -r
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -l secret-key-file -d 'Read the secret key from this file' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -l clear-after -d 'Clear the clipboard this long after --copy, if it still holds the token' -r
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -l copy -d 'Also put the token on the clipboard (cleared after --clear-after unless --keep-clipboard)'
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -l keep-clipboard -d 'Leave the token on the clipboard'
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand refresh" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tokens -n "__fish_tokens_using_subcommand verify" -l scope -d 'Require this scope (repeatable, or comma separated)' -r -f -a "(__tokens_vault)"
complete -c tokens -n "__fish_tokens_using_subcommand verify" -l app -d 'Require the token to belong to this app' -r -f -a "(__tokens_vault)"
complete -c tokens -n "__fish_tokens_using_subcommand verify" -l token-env -d 'Read the token from this environment variable' -r
complete -c tokens -n "__fish_tokens_using_subcommand verify" -l token-file -d 'Read the token from this file' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand verify" -l client-ip -d 'The client\'s address, for a token bound to addresses (create --allow-from); with --batch, every line\'s (a line that carries its own address is then malformed)' -r
complete -c tokens -n "__fish_tokens_using_subcommand verify" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand verify" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand verify" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand verify" -l batch -d 'One token a line on stdin, optionally followed by whitespace and the client\'s address (written by the service, never copied from the client); one JSON line a token on stdout, in order; exit 0 when all were answered'
complete -c tokens -n "__fish_tokens_using_subcommand verify" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand verify" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand verify" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tokens -n "__fish_tokens_using_subcommand log" -l since -d 'Only events since then: 7d, a date, or an RFC 3339 time' -r
complete -c tokens -n "__fish_tokens_using_subcommand log" -l limit -d 'Only the newest N events (still oldest first); with --after, the next N' -r
complete -c tokens -n "__fish_tokens_using_subcommand log" -l after -d 'Only events after this seq (what a collector already has), to resume without a gap' -r
complete -c tokens -n "__fish_tokens_using_subcommand log" -l event -d 'Only events of this kind: created, rotated, refreshed, revoked, edited, policy, verify_failed, ...' -r
complete -c tokens -n "__fish_tokens_using_subcommand log" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand log" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand log" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand log" -l jsonl -d 'JSON Lines: one event a line (seq, at, token_id, name, event, detail), for a collector'
complete -c tokens -n "__fish_tokens_using_subcommand log" -l follow -d 'Keep printing events as they commit (within a second) until interrupted'
complete -c tokens -n "__fish_tokens_using_subcommand log" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand log" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand log" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand log" -s h -l help -d 'Print help'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and not __fish_seen_subcommand_from set check help" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand policy; and not __fish_seen_subcommand_from set check help" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand policy; and not __fish_seen_subcommand_from set check help" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand policy; and not __fish_seen_subcommand_from set check help" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and not __fish_seen_subcommand_from set check help" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and not __fish_seen_subcommand_from set check help" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and not __fish_seen_subcommand_from set check help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and not __fish_seen_subcommand_from set check help" -f -a "set" -d 'Change the vault\'s rules (the others stay as they are); logged as a `policy` event'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and not __fish_seen_subcommand_from set check help" -f -a "check" -d 'List live tokens that break the current rules; exit 8 when any do, 0 when none do'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and not __fish_seen_subcommand_from set check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -l max-lifetime -d 'The longest lifetime a token may be given, e.g. 90d or 1y; never (or none): no maximum' -r
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -l default-lifetime -d 'The lifetime create gives without --expires, e.g. 30d' -r
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -l scopes -d 'The only scopes a token may have (comma separated)' -r
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -l max-refresh-window -d 'The longest refresh window a token may be given, e.g. 30d; none: no maximum (rotate and refresh cut longer windows to it)' -r
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -l default-refresh-window -d 'The refresh window create gives without --refresh-window, e.g. 7d; none: the max-refresh-window, else never' -r
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -l require-app -d 'Every token must name an app'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -l no-require-app -d 'Tokens need not name an app'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -l any-scope -d 'Any scope is allowed'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from check" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from check" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from check" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from check" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from check" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "set" -d 'Change the vault\'s rules (the others stay as they are); logged as a `policy` event'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "check" -d 'List live tokens that break the current rules; exit 8 when any do, 0 when none do'
complete -c tokens -n "__fish_tokens_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tokens -n "__fish_tokens_using_subcommand migrate" -l from -d 'The vault to copy: a file or a postgres:// URL' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand migrate" -l to -d 'The vault to copy into (empty or missing): a postgres:// URL or a file' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand migrate" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand migrate" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand migrate" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand migrate" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand migrate" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand migrate" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tokens -n "__fish_tokens_using_subcommand grants" -l kind -d 'What the role may do' -r -f -a "admin\t'Changes tokens (create, edit, rotate, revoke, refresh, migrate into the vault), and all a verifier and a reader do'
verifier\t'Verifies tokens through the vault\'s functions, which record last use and failed verifications; reads no hash, writes no table, cannot change tokens'
reader\t'Reads tokens and the event log (list, show, log), no hashes; cannot verify or change'
refresher\t'Refreshes tokens (a holder\'s token and secret key for a new pair) through the vault\'s refresh function, which applies every refresh rule; nothing else'"
complete -c tokens -n "__fish_tokens_using_subcommand grants" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand grants" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand grants" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand grants" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand grants" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand grants" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand grants" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tokens -n "__fish_tokens_using_subcommand completions" -l vault -d 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]' -r -F
complete -c tokens -n "__fish_tokens_using_subcommand completions" -l color -d 'When to use colour (NO_COLOR in the environment turns it off)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c tokens -n "__fish_tokens_using_subcommand completions" -l timeout -d 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min' -r
complete -c tokens -n "__fish_tokens_using_subcommand completions" -l json -d 'Machine-readable output: one JSON document on stdout'
complete -c tokens -n "__fish_tokens_using_subcommand completions" -s q -l quiet -d 'Print only what was asked for: no notices, warnings or verdicts'
complete -c tokens -n "__fish_tokens_using_subcommand completions" -s y -l yes -d 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
complete -c tokens -n "__fish_tokens_using_subcommand completions" -s h -l help -d 'Print help'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "create" -d 'Create a token and print it (and its secret key) once'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "list" -d 'List tokens (never their secrets)'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "show" -d 'Show every field of one token, its lineage and its recent events'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "edit" -d 'Change a token\'s metadata; its secret stays the same'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "rotate" -d 'Issue a new secret for a token (new id, same name, app and scopes)'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "revoke" -d 'End tokens at once (asks for confirmation on a terminal; --yes otherwise)'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "disable" -d 'Suspend tokens without revoking them: verify and refresh answer disabled (exit 7)'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "enable" -d 'Restore tokens suspended by tokens disable'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "refresh" -d 'Trade a token and its secret key for a new pair (also after it expired, within its refresh window)'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "verify" -d 'Check a presented token; the exit status says whether it is good'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "log" -d 'Show the event log: created, rotated, refreshed, revoked, edited, failed verifications'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "policy" -d 'Show the vault\'s policy, change it, or check the tokens against it'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "migrate" -d 'Copy a vault into another, e.g. from this machine\'s file into a shared PostgreSQL vault'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "grants" -d 'Print the SQL that gives a PostgreSQL role what one kind of user needs, and nothing more'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c tokens -n "__fish_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show edit rotate revoke disable enable refresh verify log policy migrate grants completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tokens -n "__fish_tokens_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "set" -d 'Change the vault\'s rules (the others stay as they are); logged as a `policy` event'
complete -c tokens -n "__fish_tokens_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "check" -d 'List live tokens that break the current rules; exit 8 when any do, 0 when none do'

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
complete -c tokens -n "__fish_tokens_using_subcommand show edit rotate revoke disable enable log" -f -a "(__tokens_vault)"
