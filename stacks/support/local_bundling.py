"""Docker-free Lambda asset bundling: copy the function's directory plus shared, stdlib-only modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parents[2]


@jsii.implements(ILocalBundling)
class _CopyFiles:
    def __init__(self, source: Path, extra_files: dict[str, Path]) -> None:
        self._source = source
        self._extra_files = extra_files

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:
        out = Path(output_dir)
        shutil.copytree(self._source, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for relative, source in self._extra_files.items():
            target = out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_file():
                shutil.copy2(source, target)
            else:
                target.write_text("")  # an empty __init__.py makes the copied modules a package
        return True


def function_code(name: str, *, shared_modules: tuple[str, ...] = ()) -> lambda_.Code:
    """`lambdas/<name>/` plus the given repo-relative modules (e.g. `training_code/catalog.py`).

    Sharing the container's stdlib-only catalog keeps one source of truth for algorithms and metrics.
    The asset hash covers the copied files, so a catalog change redeploys the function.
    """
    source = REPO_ROOT / "lambdas" / name
    extra = {module: REPO_ROOT / module for module in shared_modules}
    for package in {Path(module).parent for module in shared_modules}:
        extra.setdefault(str(package / "__init__.py"), Path("/nonexistent"))
    return lambda_.Code.from_asset(
        str(source),
        asset_hash_type=AssetHashType.OUTPUT,  # the bundle's bytes: shared modules included
        bundling=BundlingOptions(
            image=DockerImage.from_registry("docker-is-never-used"),
            local=_CopyFiles(source, extra),
        ),
    )
