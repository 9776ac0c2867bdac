
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'tokens' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'tokens'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'tokens' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a token and print it (and its secret key) once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tokens (never their secrets)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show every field of one token, its lineage and its recent events')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a token''s metadata; its secret stays the same')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Issue a new secret for a token (new id, same name, app and scopes)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'End tokens at once (asks for confirmation on a terminal; --yes otherwise)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Suspend tokens without revoking them: verify and refresh answer disabled (exit 7)')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Restore tokens suspended by tokens disable')
            [CompletionResult]::new('refresh', 'refresh', [CompletionResultType]::ParameterValue, 'Trade a token and its secret key for a new pair (also after it expired, within its refresh window)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a presented token; the exit status says whether it is good')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'Show the event log: created, rotated, refreshed, revoked, edited, failed verifications')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Show the vault''s policy, change it, or check the tokens against it')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Copy a vault into another, e.g. from this machine''s file into a shared PostgreSQL vault')
            [CompletionResult]::new('grants', 'grants', [CompletionResultType]::ParameterValue, 'Print the SQL that gives a PostgreSQL role what one kind of user needs, and nothing more')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tokens;create' {
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Who the token belongs to or acts for (a bot, app, partner or account)')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'A permission; repeat it, or separate with commas: --scope read,write')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'Lifetime: 30d, 12h, 2w, 1y, a date (2027-01-31), an RFC 3339 time, or never (units: s seconds, min minutes, h hours, d days, w weeks, y years of 365 days; at most 100y) [default: 30d, or the vault policy''s default lifetime]')
            [CompletionResult]::new('--refresh-window', '--refresh-window', [CompletionResultType]::ParameterName, 'How long after the token expires its secret key may still refresh it, e.g. 7d; never: no limit [default: the vault policy''s default-refresh-window, else its max-refresh-window, else never]')
            [CompletionResult]::new('--clear-after', '--clear-after', [CompletionResultType]::ParameterName, 'Clear the clipboard this long after --copy, if it still holds the token')
            [CompletionResult]::new('--note', '--note', [CompletionResultType]::ParameterName, 'A free-text note kept with the token')
            [CompletionResult]::new('--uses', '--uses', [CompletionResultType]::ParameterName, 'Let the token verify this many times, then answer used_up (exit 4); 1 makes a one-time token. Issues no secret key unless --secret-key is given')
            [CompletionResult]::new('--allow-from', '--allow-from', [CompletionResultType]::ParameterName, 'Accept the token only from these addresses: CIDRs or single addresses, IPv4 or IPv6, comma separated or repeated (verify then needs --client-ip)')
            [CompletionResult]::new('--meta', '--meta', [CompletionResultType]::ParameterName, 'Metadata returned with the token (show, list --json, verify --json); repeatable')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--replace', '--replace', [CompletionResultType]::ParameterName, 'Revoke the app''s other live tokens in the same step (one token per app); needs --app')
            [CompletionResult]::new('--no-secret-key', '--no-secret-key', [CompletionResultType]::ParameterName, 'Do not issue a secret key (the token then cannot be refreshed by its holder)')
            [CompletionResult]::new('--secret-key', '--secret-key', [CompletionResultType]::ParameterName, 'Issue a secret key with a --uses token too (left out by default: each refresh would hand its holder a new token with the uses left, so a one-time token would not be one-time)')
            [CompletionResult]::new('--copy', '--copy', [CompletionResultType]::ParameterName, 'Also put the token on the clipboard (cleared after --clear-after unless --keep-clipboard)')
            [CompletionResult]::new('--keep-clipboard', '--keep-clipboard', [CompletionResultType]::ParameterName, 'Leave the token on the clipboard')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tokens;list' {
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Only tokens of this app')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Only tokens with this scope')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only tokens in this state')
            [CompletionResult]::new('--expiring', '--expiring', [CompletionResultType]::ParameterName, 'Only active tokens that expire within this time, e.g. 7d')
            [CompletionResult]::new('--unused', '--unused', [CompletionResultType]::ParameterName, 'Only tokens that still verify and were never used, or not for this long, e.g. 90d')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Include revoked tokens')
            [CompletionResult]::new('--exit-code', '--exit-code', [CompletionResultType]::ParameterName, 'Exit 8 when any token matched, 0 when none did (for cron and CI alerts: tokens list --expiring 7d --exit-code)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tokens;show' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tokens;edit' {
            [CompletionResult]::new('--rename', '--rename', [CompletionResultType]::ParameterName, 'A new name')
            [CompletionResult]::new('--add-scope', '--add-scope', [CompletionResultType]::ParameterName, 'Add a scope (repeatable, or comma separated)')
            [CompletionResult]::new('--remove-scope', '--remove-scope', [CompletionResultType]::ParameterName, 'Remove a scope (repeatable, or comma separated)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'A new app; an empty string removes it')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'A new expiry, counted from now: 30d, 12h, 2w, 1y, a date, an RFC 3339 time, or never (units as for create --expires)')
            [CompletionResult]::new('--note', '--note', [CompletionResultType]::ParameterName, 'A new note; an empty string removes it')
            [CompletionResult]::new('--uses', '--uses', [CompletionResultType]::ParameterName, 'A new use limit, counted from now: N uses, or unlimited')
            [CompletionResult]::new('--refresh-window', '--refresh-window', [CompletionResultType]::ParameterName, 'How long after the token expires its secret key may still refresh it, e.g. 7d, or never')
            [CompletionResult]::new('--allow-from', '--allow-from', [CompletionResultType]::ParameterName, 'Accept the token only from these addresses (replaces the ones it had): CIDRs or single addresses, comma separated or repeated')
            [CompletionResult]::new('--meta', '--meta', [CompletionResultType]::ParameterName, 'Set a metadata key (repeatable)')
            [CompletionResult]::new('--unset-meta', '--unset-meta', [CompletionResultType]::ParameterName, 'Remove a metadata key (repeatable)')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--any-address', '--any-address', [CompletionResultType]::ParameterName, 'Accept the token from any address again')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tokens;rotate' {
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'Let the old token keep verifying this long, e.g. 1h, so clients can switch over (never past its own expiry; 0s is no grace: the old token stops at once, which asks first)')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'Lifetime of the new token [default: the old token''s lifetime, at most the vault policy''s max lifetime]')
            [CompletionResult]::new('--clear-after', '--clear-after', [CompletionResultType]::ParameterName, 'Clear the clipboard this long after --copy, if it still holds the token')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--until-used', '--until-used', [CompletionResultType]::ParameterName, 'Let the old token keep verifying until the new one is first verified (or --grace ends, if given), so a new token that was never delivered breaks no one')
            [CompletionResult]::new('--copy', '--copy', [CompletionResultType]::ParameterName, 'Also put the token on the clipboard (cleared after --clear-after unless --keep-clipboard)')
            [CompletionResult]::new('--keep-clipboard', '--keep-clipboard', [CompletionResultType]::ParameterName, 'Leave the token on the clipboard')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tokens;revoke' {
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'With --all: every live token of this app')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why, kept in the vault and the event log')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Revoke all live tokens of --app')
            [CompletionResult]::new('--leaked', '--leaked', [CompletionResultType]::ParameterName, 'Revoke every token and secret key found in the text on stdin whose secret matches (reason "leaked"; a secret key revokes its token''s whole lineage); prints each one found as revoked, already revoked or unknown, by id and masked form only')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tokens;disable' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why, kept in the vault and the event log')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tokens;enable' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tokens;refresh' {
            [CompletionResult]::new('--token-env', '--token-env', [CompletionResultType]::ParameterName, 'Read the token from this environment variable')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read the token from this file')
            [CompletionResult]::new('--secret-key-env', '--secret-key-env', [CompletionResultType]::ParameterName, 'Read the secret key from this environment variable')
            [CompletionResult]::new('--secret-key-file', '--secret-key-file', [CompletionResultType]::ParameterName, 'Read the secret key from this file')
            [CompletionResult]::new('--clear-after', '--clear-after', [CompletionResultType]::ParameterName, 'Clear the clipboard this long after --copy, if it still holds the token')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--copy', '--copy', [CompletionResultType]::ParameterName, 'Also put the token on the clipboard (cleared after --clear-after unless --keep-clipboard)')
            [CompletionResult]::new('--keep-clipboard', '--keep-clipboard', [CompletionResultType]::ParameterName, 'Leave the token on the clipboard')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tokens;verify' {
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Require this scope (repeatable, or comma separated)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Require the token to belong to this app')
            [CompletionResult]::new('--token-env', '--token-env', [CompletionResultType]::ParameterName, 'Read the token from this environment variable')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read the token from this file')
            [CompletionResult]::new('--client-ip', '--client-ip', [CompletionResultType]::ParameterName, 'The client''s address, for a token bound to addresses (create --allow-from); with --batch, every line''s (a line that carries its own address is then malformed)')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'One token a line on stdin, optionally followed by whitespace and the client''s address (written by the service, never copied from the client); one JSON line a token on stdout, in order; exit 0 when all were answered')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tokens;log' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events since then: 7d, a date, or an RFC 3339 time')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Only the newest N events (still oldest first); with --after, the next N')
            [CompletionResult]::new('--after', '--after', [CompletionResultType]::ParameterName, 'Only events after this seq (what a collector already has), to resume without a gap')
            [CompletionResult]::new('--event', '--event', [CompletionResultType]::ParameterName, 'Only events of this kind: created, rotated, refreshed, revoked, edited, policy, verify_failed, ...')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'JSON Lines: one event a line (seq, at, token_id, name, event, detail), for a collector')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing events as they commit (within a second) until interrupted')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tokens;policy' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Change the vault''s rules (the others stay as they are); logged as a `policy` event')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'List live tokens that break the current rules; exit 8 when any do, 0 when none do')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tokens;policy;set' {
            [CompletionResult]::new('--max-lifetime', '--max-lifetime', [CompletionResultType]::ParameterName, 'The longest lifetime a token may be given, e.g. 90d or 1y; never (or none): no maximum')
            [CompletionResult]::new('--default-lifetime', '--default-lifetime', [CompletionResultType]::ParameterName, 'The lifetime create gives without --expires, e.g. 30d')
            [CompletionResult]::new('--scopes', '--scopes', [CompletionResultType]::ParameterName, 'The only scopes a token may have (comma separated)')
            [CompletionResult]::new('--max-refresh-window', '--max-refresh-window', [CompletionResultType]::ParameterName, 'The longest refresh window a token may be given, e.g. 30d; none: no maximum (rotate and refresh cut longer windows to it)')
            [CompletionResult]::new('--default-refresh-window', '--default-refresh-window', [CompletionResultType]::ParameterName, 'The refresh window create gives without --refresh-window, e.g. 7d; none: the max-refresh-window, else never')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--require-app', '--require-app', [CompletionResultType]::ParameterName, 'Every token must name an app')
            [CompletionResult]::new('--no-require-app', '--no-require-app', [CompletionResultType]::ParameterName, 'Tokens need not name an app')
            [CompletionResult]::new('--any-scope', '--any-scope', [CompletionResultType]::ParameterName, 'Any scope is allowed')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tokens;policy;check' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tokens;policy;help' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Change the vault''s rules (the others stay as they are); logged as a `policy` event')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'List live tokens that break the current rules; exit 8 when any do, 0 when none do')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tokens;policy;help;set' {
            break
        }
        'tokens;policy;help;check' {
            break
        }
        'tokens;policy;help;help' {
            break
        }
        'tokens;migrate' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'The vault to copy: a file or a postgres:// URL')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The vault to copy into (empty or missing): a postgres:// URL or a file')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tokens;grants' {
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'What the role may do')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'tokens;completions' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'The vault: a file, or a postgres:// URL (or libpq key=value string) for a shared vault [default: ~/.local/share/tokens/vault.db]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment turns it off)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the vault after this long, exit 1: each wait for it (connect and log in, a lock another command holds, a query). From 1s to 24h, e.g. 2s or 1min')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: one JSON document on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only what was asked for: no notices, warnings or verdicts')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (scripts need it for revoke, rotate and create --replace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tokens;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a token and print it (and its secret key) once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tokens (never their secrets)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show every field of one token, its lineage and its recent events')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a token''s metadata; its secret stays the same')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Issue a new secret for a token (new id, same name, app and scopes)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'End tokens at once (asks for confirmation on a terminal; --yes otherwise)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Suspend tokens without revoking them: verify and refresh answer disabled (exit 7)')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Restore tokens suspended by tokens disable')
            [CompletionResult]::new('refresh', 'refresh', [CompletionResultType]::ParameterValue, 'Trade a token and its secret key for a new pair (also after it expired, within its refresh window)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a presented token; the exit status says whether it is good')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'Show the event log: created, rotated, refreshed, revoked, edited, failed verifications')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Show the vault''s policy, change it, or check the tokens against it')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Copy a vault into another, e.g. from this machine''s file into a shared PostgreSQL vault')
            [CompletionResult]::new('grants', 'grants', [CompletionResultType]::ParameterValue, 'Print the SQL that gives a PostgreSQL role what one kind of user needs, and nothing more')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tokens;help;create' {
            break
        }
        'tokens;help;list' {
            break
        }
        'tokens;help;show' {
            break
        }
        'tokens;help;edit' {
            break
        }
        'tokens;help;rotate' {
            break
        }
        'tokens;help;revoke' {
            break
        }
        'tokens;help;disable' {
            break
        }
        'tokens;help;enable' {
            break
        }
        'tokens;help;refresh' {
            break
        }
        'tokens;help;verify' {
            break
        }
        'tokens;help;log' {
            break
        }
        'tokens;help;policy' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Change the vault''s rules (the others stay as they are); logged as a `policy` event')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'List live tokens that break the current rules; exit 8 when any do, 0 when none do')
            break
        }
        'tokens;help;policy;set' {
            break
        }
        'tokens;help;policy;check' {
            break
        }
        'tokens;help;migrate' {
            break
        }
        'tokens;help;grants' {
            break
        }
        'tokens;help;completions' {
            break
        }
        'tokens;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
