"""Print a renewals report's count line and its certificates that are not ok (bench/renewals.sh)."""
import json
import sys

report = json.load(open(sys.argv[1]))
print(f"  exit {sys.argv[2]}: {report['summary']['line']}")
bad = [c for c in report["certificates"] if c["verdict"] != "ok"]
for c in bad[:5]:
    f = c.get("firstFinding") or {}
    print(f"    {c['namespace']}/{c['name']} {c['verdict']} {f.get('code')} {f.get('name')}: {f.get('summary', '')[:400]}")
    for fd in c["findings"][:1]:
        for e in fd.get("evidence", [])[:6]:
            print(f"      {e[:200]}")
if len(bad) > 5:
    print(f"    ... and {len(bad) - 5} more")
