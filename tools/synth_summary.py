"""Print what `cdk synth` produced: each stack's resources by type and the policy gates' outcome."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path


def stacks(outdir: Path) -> list[tuple[str, Path, dict]]:
    """(stack name, its directory, its artifact) of every stack, inside the stages' nested assemblies too:
    each environment is a Stage, whose stacks its own assembly's manifest lists, not the top-level one."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    found = []
    for name, artifact in sorted(manifest["artifacts"].items()):
        if artifact["type"] == "cdk:cloud-assembly":
            found += stacks(outdir / artifact["properties"]["directoryName"])
        elif artifact["type"] == "aws:cloudformation:stack":
            found.append((artifact.get("properties", {}).get("stackName", name), outdir, artifact))
    return found


def summarize(outdir: Path) -> str:
    lines = []
    for name, directory, artifact in stacks(outdir):
        template = json.loads((directory / artifact["properties"]["templateFile"]).read_text())
        types = Counter(r["Type"] for r in template.get("Resources", {}).values() if r["Type"] != "AWS::CDK::Metadata")
        protected = artifact["properties"].get("terminationProtection", False)
        lines.append(f"{name}: {sum(types.values())} resources{'  [termination protection]' if protected else ''}")
        lines += [f"  {count:3d}  {rtype}" for rtype, count in sorted(types.items())]
    report = json.loads((outdir / "validation-report.json").read_text())
    violations = sum(len(r.get("violations", [])) for r in report.get("pluginReports", []))
    lines.append(
        "cdk-nag (AwsSolutions, NIST 800-53 rev 5): "
        + ("passed: no unacknowledged finding" if violations == 0 else f"FAILED: {violations} findings")
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outdir", type=Path, default=Path("cdk.out"))
    print(summarize(parser.parse_args().outdir))


if __name__ == "__main__":
    main()
