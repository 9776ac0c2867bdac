
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
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
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
            cand refresh 'Trade a token and its secret key for a new pair (also after it expired, within its refresh window)'
            cand verify 'Check a presented token; the exit status says whether it is good'
            cand log 'Show the event log: created, rotated, refreshed, revoked, edited, failed verifications'
            cand policy 'Show the vault''s policy, change it, or check the tokens against it'
            cand migrate 'Copy a vault into another, e.g. from this machine''s file into a shared PostgreSQL vault'
            cand grants 'Print the SQL that gives a PostgreSQL role what one kind of user needs, and nothing more'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tokens;create'= {
            cand --app 'Who the token belongs to or acts for (a bot, app, partner or account)'
            cand --scope 'A permission; repeat it, or separate with commas: --scope read,write'
            cand --expires 'Lifetime: 30d, 12h, 2w, 1y, a date (2027-01-31), an RFC 3339 time, or never (units: s seconds, min minutes, h hours, d days, w weeks, y years of 365 days; at most 100y) [default: 30d, or the vault policy''s default lifetime]'
            cand --refresh-window 'How long after the token expires its secret key may still refresh it, e.g. 7d; never: no limit [default: the vault policy''s default-refresh-window, else its max-refresh-window, else never]'
            cand --clear-after 'Clear the clipboard this long after --copy, if it still holds the token'
            cand --note 'A free-text note kept with the token'
            cand --uses 'Let the token verify this many times, then answer used_up (exit 4); 1 makes a one-time token. Issues no secret key unless --secret-key is given'
            cand --allow-from 'Accept the token only from these addresses: CIDRs or single addresses, IPv4 or IPv6, comma separated or repeated (verify then needs --client-ip)'
            cand --meta 'Metadata returned with the token (show, list --json, verify --json); repeatable'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
            cand --replace 'Revoke the app''s other live tokens in the same step (one token per app); needs --app'
            cand --no-secret-key 'Do not issue a secret key (the token then cannot be refreshed by its holder)'
            cand --secret-key 'Issue a secret key with a --uses token too (left out by default: each refresh would hand its holder a new token with the uses left, so a one-time token would not be one-time)'
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
            cand --unused 'Only tokens that still verify and were never used, or not for this long, e.g. 90d'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
            cand --all 'Include revoked tokens'
            cand --exit-code 'Exit 8 when any token matched, 0 when none did (for cron and CI alerts: tokens list --expiring 7d --exit-code)'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'tokens;show'= {
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
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
            cand --expires 'A new expiry, counted from now: 30d, 12h, 2w, 1y, a date, an RFC 3339 time, or never (units as for create --expires)'
            cand --note 'A new note; an empty string removes it'
            cand --uses 'A new use limit, counted from now: N uses, or unlimited'
            cand --refresh-window 'How long after the token expires its secret key may still refresh it, e.g. 7d, or never'
            cand --allow-from 'Accept the token only from these addresses (replaces the ones it had): CIDRs or single addresses, comma separated or repeated'
            cand --meta 'Set a metadata key (repeatable)'
            cand --unset-meta 'Remove a metadata key (repeatable)'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
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
            cand --expires 'Lifetime of the new token [default: the old token''s lifetime, at most the vault policy''s max lifetime]'
            cand --clear-after 'Clear the clipboard this long after --copy, if it still holds the token'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
            cand --until-used 'Let the old token keep verifying until the new one is first verified (or --grace ends, if given), so a new token that was never delivered breaks no one'
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
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
            cand --all 'Revoke all live tokens of --app'
            cand --leaked 'Revoke every token and secret key found in the text on stdin whose secret matches (reason "leaked"; a secret key revokes its token''s whole lineage); prints each one found as revoked, already revoked or unknown, by id and masked form only'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'tokens;disable'= {
            cand --reason 'Why, kept in the vault and the event log'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
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
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
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
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
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
            cand --client-ip 'The client''s address, for a token bound to addresses (create --allow-from); with --batch, every line''s (a line that carries its own address is then malformed)'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
            cand --batch 'One token a line on stdin, optionally followed by whitespace and the client''s address (written by the service, never copied from the client); one JSON line a token on stdout, in order; exit 0 when all were answered'
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
            cand --limit 'Only the newest N events (still oldest first); with --after, the next N'
            cand --after 'Only events after this seq (what a collector already has), to resume without a gap'
            cand --event 'Only events of this kind: created, rotated, refreshed, revoked, edited, policy, verify_failed, ...'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
            cand --jsonl 'JSON Lines: one event a line (seq, at, token_id, name, event, detail), for a collector'
            cand --follow 'Keep printing events as they commit (within a second) until interrupted'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tokens;policy'= {
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand set 'Change the vault''s rules (the others stay as they are); logged as a `policy` event'
            cand check 'List live tokens that break the current rules; exit 8 when any do, 0 when none do'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tokens;policy;set'= {
            cand --max-lifetime 'The longest lifetime a token may be given, e.g. 90d or 1y; never (or none): no maximum'
            cand --default-lifetime 'The lifetime create gives without --expires, e.g. 30d'
            cand --scopes 'The only scopes a token may have (comma separated)'
            cand --max-refresh-window 'The longest refresh window a token may be given, e.g. 30d; none: no maximum (rotate and refresh cut longer windows to it)'
            cand --default-refresh-window 'The refresh window create gives without --refresh-window, e.g. 7d; none: the max-refresh-window, else never'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
            cand --require-app 'Every token must name an app'
            cand --no-require-app 'Tokens need not name an app'
            cand --any-scope 'Any scope is allowed'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tokens;policy;check'= {
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tokens;policy;help'= {
            cand set 'Change the vault''s rules (the others stay as they are); logged as a `policy` event'
            cand check 'List live tokens that break the current rules; exit 8 when any do, 0 when none do'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tokens;policy;help;set'= {
        }
        &'tokens;policy;help;check'= {
        }
        &'tokens;policy;help;help'= {
        }
        &'tokens;migrate'= {
            cand --from 'The vault to copy: a file or a postgres:// URL'
            cand --to 'The vault to copy into (empty or missing): a postgres:// URL or a file'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
            cand --json 'Machine-readable output: one JSON document on stdout'
            cand -q 'Print only what was asked for: no notices, warnings or verdicts'
            cand --quiet 'Print only what was asked for: no notices, warnings or verdicts'
            cand -y 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand --yes 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'tokens;grants'= {
            cand --kind 'What the role may do'
            cand --vault 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]'
            cand --color 'When to use colour (NO_COLOR in the environment turns it off)'
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
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
            cand --timeout 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min'
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
            cand refresh 'Trade a token and its secret key for a new pair (also after it expired, within its refresh window)'
            cand verify 'Check a presented token; the exit status says whether it is good'
            cand log 'Show the event log: created, rotated, refreshed, revoked, edited, failed verifications'
            cand policy 'Show the vault''s policy, change it, or check the tokens against it'
            cand migrate 'Copy a vault into another, e.g. from this machine''s file into a shared PostgreSQL vault'
            cand grants 'Print the SQL that gives a PostgreSQL role what one kind of user needs, and nothing more'
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
        &'tokens;help;policy'= {
            cand set 'Change the vault''s rules (the others stay as they are); logged as a `policy` event'
            cand check 'List live tokens that break the current rules; exit 8 when any do, 0 when none do'
        }
        &'tokens;help;policy;set'= {
        }
        &'tokens;help;policy;check'= {
        }
        &'tokens;help;migrate'= {
        }
        &'tokens;help;grants'= {
        }
        &'tokens;help;completions'= {
        }
        &'tokens;help;help'= {
        }
    ]
    $completions[$command]
}
