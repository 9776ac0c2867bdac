
use builtin;
use str;

set edit:completion:arg-completer[tokens] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'tokens'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'tokens'= {
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a token and print it (and its secret key) once'
            cand list 'List tokens (never their secrets)'
            cand show 'Show every field of one token, its lineage and its recent events'
            cand edit 'Change a token''s metadata; its secret stays the same'
            cand rotate 'Issue a new secret for a token (new id, same name, app and scopes)'
            cand revoke 'End tokens at once (asks for confirmation on a terminal; --yes otherwise)'
            cand disable 'Suspend tokens without revoking them: verify and refresh answer disabled (exit 7)'
            cand enable 'Restore tokens suspended by tokens disable'
            cand refresh 'Trade a token and its secret key for a new pair (works after the token expired)'
            cand verify 'Check a presented token; the exit status says whether it is good'
            cand log 'Show the event log: created, rotated, refreshed, revoked, edited, failed verifications'
            cand migrate 'Copy a vault into another, e.g. from this machine''s file into a shared PostgreSQL vault'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tokens;create'= {
            cand --app 'Who the token belongs to or acts for (a bot, app, partner or account)'
            cand --scope 'A permission; repeat it, or separate with commas: --scope read,write'
            cand --expires 'Lifetime: 30d, 12h, 2w, 1y, a date (2027-01-31), an RFC 3339 time, or never'
            cand --clear-after 'Clear the clipboard this long after --copy, if it still holds the token'
            cand --note 'A free-text note kept with the token'
            cand --uses 'Let the token verify this many times, then answer used_up (exit 4); 1 makes a one-time token'
            cand --allow-from 'Accept the token only from these addresses: CIDRs or single addresses, IPv4 or IPv6, comma separated or repeated (verify then needs --client-ip)'
            cand --meta 'Metadata returned with the token (show, list --json, verify --json); repeatable'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --replace 'Revoke the app''s other live tokens in the same step (one token per app); needs --app'
            cand --no-secret-key 'Do not issue a secret key (the token then cannot be refreshed by its holder)'
            cand --copy 'Also put the token on the clipboard (cleared after --clear-after unless --keep-clipboard)'
            cand --keep-clipboard 'Leave the token on the clipboard'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'tokens;list'= {
            cand --app 'Only tokens of this app'
            cand --scope 'Only tokens with this scope'
            cand --status 'Only tokens in this state'
            cand --expiring 'Only active tokens that expire within this time, e.g. 7d'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --all 'Include revoked tokens'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tokens;show'= {
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tokens;edit'= {
            cand --rename 'A new name'
            cand --add-scope 'Add a scope (repeatable, or comma separated)'
            cand --remove-scope 'Remove a scope (repeatable, or comma separated)'
            cand --app 'A new app; an empty string removes it'
            cand --expires 'A new expiry, counted from now: 30d, a date, an RFC 3339 time, or never'
            cand --note 'A new note; an empty string removes it'
            cand --uses 'A new use limit, counted from now: N uses, or unlimited'
            cand --allow-from 'Accept the token only from these addresses (replaces the ones it had): CIDRs or single addresses, comma separated or repeated'
            cand --meta 'Set a metadata key (repeatable)'
            cand --unset-meta 'Remove a metadata key (repeatable)'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --any-address 'Accept the token from any address again'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tokens;rotate'= {
            cand --grace 'Let the old token keep verifying this long, e.g. 1h, so clients can switch over (never past its own expiry; 0s is no grace: the old token stops at once, which asks first)'
            cand --expires 'Lifetime of the new token [default: the old token''s lifetime]'
            cand --clear-after 'Clear the clipboard this long after --copy, if it still holds the token'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --copy 'Also put the token on the clipboard (cleared after --clear-after unless --keep-clipboard)'
            cand --keep-clipboard 'Leave the token on the clipboard'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'tokens;revoke'= {
            cand --app 'With --all: every live token of this app'
            cand --reason 'Why, kept in the vault and the event log'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --all 'Revoke all live tokens of --app'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tokens;disable'= {
            cand --reason 'Why, kept in the vault and the event log'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'tokens;enable'= {
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tokens;refresh'= {
            cand --token-env 'Read the token from this environment variable'
            cand --token-file 'Read the token from this file'
            cand --secret-key-env 'Read the secret key from this environment variable'
            cand --secret-key-file 'Read the secret key from this file'
            cand --clear-after 'Clear the clipboard this long after --copy, if it still holds the token'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --copy 'Also put the token on the clipboard (cleared after --clear-after unless --keep-clipboard)'
            cand --keep-clipboard 'Leave the token on the clipboard'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'tokens;verify'= {
            cand --scope 'Require this scope (repeatable, or comma separated)'
            cand --app 'Require the token to belong to this app'
            cand --token-env 'Read the token from this environment variable'
            cand --token-file 'Read the token from this file'
            cand --client-ip 'The client''s address, for a token bound to addresses (create --allow-from)'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --batch 'One token a line on stdin, optionally followed by whitespace and the client''s address; one JSON line a token on stdout, in order; exit 0 when all were answered'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'tokens;log'= {
            cand --since 'Only events since then: 7d, a date, or an RFC 3339 time'
            cand --limit 'Only the newest N events (still oldest first)'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tokens;migrate'= {
            cand --from 'The vault to copy: a file or a postgres:// URL'
            cand --to 'The vault to copy into (empty or missing): a postgres:// URL or a file'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'tokens;completions'= {
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1m'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tokens;help'= {
            cand create 'Create a token and print it (and its secret key) once'
            cand list 'List tokens (never their secrets)'
            cand show 'Show every field of one token, its lineage and its recent events'
            cand edit 'Change a token''s metadata; its secret stays the same'
            cand rotate 'Issue a new secret for a token (new id, same name, app and scopes)'
            cand revoke 'End tokens at once (asks for confirmation on a terminal; --yes otherwise)'
            cand disable 'Suspend tokens without revoking them: verify and refresh answer disabled (exit 7)'
            cand enable 'Restore tokens suspended by tokens disable'
            cand refresh 'Trade a token and its secret key for a new pair (works after the token expired)'
            cand verify 'Check a presented token; the exit status says whether it is good'
            cand log 'Show the event log: created, rotated, refreshed, revoked, edited, failed verifications'
            cand migrate 'Copy a vault into another, e.g. from this machine''s file into a shared PostgreSQL vault'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tokens;help;create'= {
        }
        &'tokens;help;list'= {
        }
        &'tokens;help;show'= {
        }
        &'tokens;help;edit'= {
        }
        &'tokens;help;rotate'= {
        }
        &'tokens;help;revoke'= {
        }
        &'tokens;help;disable'= {
        }
        &'tokens;help;enable'= {
        }
        &'tokens;help;refresh'= {
        }
        &'tokens;help;verify'= {
        }
        &'tokens;help;log'= {
        }
        &'tokens;help;migrate'= {
        }
        &'tokens;help;completions'= {
        }
        &'tokens;help;help'= {
        }
    ]
    $completions[$command]
}
