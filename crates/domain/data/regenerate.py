#!/usr/bin/env python3
"""Rebuilds common-passwords.txt (see README.md next to this file).

Usage: python3 regenerate.py ZXCVBN_TS_PASSWORDS_JSON ZXCVBN_FREQUENCY_LISTS_COFFEE > common-passwords.txt

The inputs are files of two npm packages (MIT):
  @zxcvbn-ts/language-common  package/src/passwords.json
  zxcvbn                      package/src/frequency_lists.coffee  (its `passwords:` line)
"""

import json
import re
import sys

MIN_LEN = 8

# Obvious patterns that the sources lack in their exact spelling (mostly a word followed by
# digits and a symbol, as composition rules push people to type).
BASES = [
    "password", "passw0rd", "p@ssword", "p@ssw0rd", "welcome", "qwerty", "qwertyuiop",
    "letmein", "admin", "administrator", "changeme", "iloveyou", "monkey", "dragon",
    "sunshine", "football", "baseball", "princess", "trustno1", "abc123", "1q2w3e4r",
    "qazwsx", "1qaz2wsx", "zaq12wsx", "asdfgh", "asdfghjkl", "zxcvbnm", "master", "secret",
    "summer", "winter", "spring", "autumn", "hello", "login", "test", "guest", "root",
    "default", "computer", "internet", "starwars", "superman", "batman", "pokemon",
]
SUFFIXES = [
    "", "1", "12", "123", "1234", "12345", "123456", "!", "1!", "12!", "123!", "1234!",
    "12345!", "!!", "@123", "#1", "123#", "2023", "2024", "2025", "2026", "2023!",
    "2024!", "2025!", "2026!", "01", "007", "69", "99", "00",
]


def supplement():
    for base in BASES:
        for suffix in SUFFIXES:
            yield base + suffix


def main(ts_json, coffee):
    words = set()
    with open(ts_json, encoding="utf-8") as f:
        words.update(json.load(f))
    with open(coffee, encoding="utf-8") as f:
        for line in f:
            m = re.match(r'\s*passwords:\s*"([^"]*)"', line)
            if m:
                words.update(m.group(1).split(","))
    words.update(supplement())
    kept = sorted({w.strip().lower() for w in words if len(w.strip()) >= MIN_LEN})
    sys.stdout.write("".join(w + "\n" for w in kept))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
