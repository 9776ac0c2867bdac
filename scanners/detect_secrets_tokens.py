"""detect-secrets plugins for tokens' credentials (README, "Secret scanning").

    detect-secrets scan --plugin scanners/detect_secrets_tokens.py > .secrets.baseline
    python scanners/detect_secrets_tokens.py .secrets.baseline | tokens revoke --leaked

A baseline keeps a hash of each secret, never the secret; `detect-secrets audit --report` prints
them, but fails on a baseline made with a plugin of one's own (detect-secrets 1.5.0 never loads
the baseline's plugins there: Yelp/detect-secrets#611). Run as a program, this file prints that
same report, made by detect-secrets' own code once the baseline's plugins are loaded.

A token is tk_<id>_<secret><check> and its secret key tks_<id>_<secret><check>: a 12-character
base62 id, a 32-character base62 secret and a check of 6 base62 digits, the CRC-32 (zlib's) of
everything before it, most significant digit first. These plugins check the CRC-32, so a
mistyped, truncated or made-up credential is not reported.
"""
import re
import zlib

from detect_secrets.plugins.base import RegexBasedDetector

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_LEN = 12
_SECRET_LEN = 32
_CHECK_LEN = 6


def _pattern(prefix):
    # Not inside a longer run of letters and digits; the check's first digit is 0 to 4
    # (62^5 > 2^32 / 5).
    return re.compile(
        r"(?<![A-Za-z0-9_])(%s[A-Za-z0-9]{%d}_[A-Za-z0-9]{%d}[0-4][A-Za-z0-9]{%d})(?![A-Za-z0-9_])"
        % (prefix, _ID_LEN, _SECRET_LEN, _CHECK_LEN - 1)
    )


def _check(text):
    """The CRC-32 of `text` as six base62 digits, as tokens computes it."""
    value = zlib.crc32(text.encode("ascii"))
    digits = []
    for _ in range(_CHECK_LEN):
        value, digit = divmod(value, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits))


def has_valid_check(credential):
    """True when the last six characters of `credential` are the check of the rest."""
    body, check = credential[:-_CHECK_LEN], credential[-_CHECK_LEN:]
    return _check(body) == check


class _TokensDetector(RegexBasedDetector):
    def analyze_string(self, string):
        for match in super().analyze_string(string):
            if has_valid_check(match):
                yield match


class TokensApiTokenDetector(_TokensDetector):
    """A tokens API token: tk_<id>_<secret><check>."""

    secret_type = "tokens API token"
    denylist = (_pattern("tk_"),)


class TokensSecretKeyDetector(_TokensDetector):
    """A tokens secret key, which refreshes its token: tks_<id>_<secret><check>."""

    secret_type = "tokens secret key"
    denylist = (_pattern("tks_"),)


def _report(baseline_file):
    """`detect-secrets audit --report BASELINE`, with the baseline's plugins loaded."""
    import json

    from detect_secrets.audit.report import generate_report
    from detect_secrets.core.baseline import load_from_file
    from detect_secrets.settings import configure_settings_from_baseline

    configure_settings_from_baseline(load_from_file(baseline_file), baseline_file)
    print(json.dumps(generate_report(baseline_file), indent=4, sort_keys=True))


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python detect_secrets_tokens.py BASELINE (prints its audit report)")
    _report(sys.argv[1])
