#!/usr/bin/env python3
"""Summarises a Stryker JSON report: counts per file and every mutant that was not detected.

    bench/mutation/survivors.py bench/results/mutation/CORE[/PART]/reports/mutation-report.json

Killed and Timeout count as detected; Survived and NoCoverage as not; CompileError and Ignored are not tested.
docs/testing.md lists which of the undetected mutants are equivalent.
"""
import json
import sys
from collections import Counter

report = json.load(open(sys.argv[1], encoding="utf-8"))
total = Counter()
for path, entry in sorted(report["files"].items()):
    mutants = entry["mutants"]
    counts = Counter(m["status"] for m in mutants)
    if not counts.keys() - {"Ignored", "CompileError"}:
        continue
    total.update(counts)
    print(f"{path}: {dict(sorted(counts.items()))}")
    lines = entry["source"].split("\n")
    for m in sorted(mutants, key=lambda m: m["location"]["start"]["line"]):
        if m["status"] in ("Survived", "NoCoverage"):
            line = m["location"]["start"]["line"]
            print(f"  {m['status']:10} line {line:4} {m['mutatorName']}: {lines[line - 1].strip()[:100]}")
            print(f"  {'':10} {'':9} => {m.get('replacement', '')[:100]}")
detected = total["Killed"] + total["Timeout"]
tested = detected + total["Survived"] + total["NoCoverage"]
print(f"tested {tested}: killed {total['Killed']}, timeout {total['Timeout']}, survived {total['Survived']}, "
      f"no coverage {total['NoCoverage']}; score {100 * detected / tested:.1f} %" if tested else "nothing tested")
