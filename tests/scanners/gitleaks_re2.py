"""gitleaks' matching of scanners/gitleaks.toml, run by RE2 (tests/scanners.rs).

gitleaks is a Go binary that no registry the project can reach ships (not PyPI, not npm, not
Debian bookworm), so this runs the rules as gitleaks runs them on a folder (`gitleaks dir`):
each file's whole text, a rule only when one of its keywords is in the lower-cased text, every
match of its regex, the secret its secretGroup (or the whole match); and prints a report in
gitleaks' JSON format. The regexes are compiled by RE2 (google-re2), the engine whose syntax and
semantics Go's regexp package implements, so a regex that Go would read differently fails here.

usage: python gitleaks_re2.py CONFIG FOLDER
"""
import json
import os
import sys
import tomllib

import re2


def main(config_path, folder):
    with open(config_path, "rb") as config_file:
        config = tomllib.load(config_file)
    rules = [
        (rule, re2.compile(rule["regex"]), [k.lower() for k in rule.get("keywords", [])])
        for rule in config["rules"]
    ]
    findings = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            with open(path, encoding="utf-8", errors="replace") as source:
                text = source.read()
            lowered = text.lower()
            for rule, regex, keywords in rules:
                if keywords and not any(keyword in lowered for keyword in keywords):
                    continue
                for match in regex.finditer(text):
                    group = rule.get("secretGroup", 0)
                    line = text.count("\n", 0, match.start()) + 1
                    findings.append(
                        {
                            "RuleID": rule["id"],
                            "Description": rule["description"],
                            "StartLine": line,
                            "EndLine": line,
                            "Match": match.group(0),
                            "Secret": match.group(group),
                            "File": path,
                            "Tags": rule.get("tags", []),
                        }
                    )
    json.dump(findings, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(*sys.argv[1:])
