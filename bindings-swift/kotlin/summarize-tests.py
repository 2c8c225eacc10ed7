"""Prints the Kotlin tests' totals from Surefire's reports as one closing line
(`Kotlin: N passed, N failed, N skipped`), since `mvn -q` keeps Surefire quiet."""

import glob
import sys
import xml.etree.ElementTree as ElementTree

suites = [ElementTree.parse(path).getroot() for path in glob.glob("target/surefire-reports/TEST-*.xml")]


def total(attribute: str) -> int:
    return sum(int(suite.get(attribute, "0")) for suite in suites)


failed = total("failures") + total("errors")
skipped = total("skipped")
passed = total("tests") - failed - skipped
print(f"Kotlin: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or not suites else 0)
