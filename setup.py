"""Build step the pyproject.toml metadata cannot express: the pytest front end stays out of the wheel.

bench/conftest.py and bench/test_query_cases.py are how a checkout runs `pytest bench -k ...`; an installed
harness has no use for them, and a conftest.py inside site-packages would be a pytest plugin nobody asked for.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CHECKOUT_ONLY = {("bench", "conftest"), ("bench", "test_query_cases")}


class BuildPyWithoutPytestFrontEnd(build_py):
    def run(self) -> None:
        # pip builds in the checkout and bdist_wheel packs all of build/lib: a copy left by an older build would ship.
        for package, module in CHECKOUT_ONLY:
            Path(self.build_lib, *package.split("."), f"{module}.py").unlink(missing_ok=True)
        super().run()

    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        modules = super().find_package_modules(package, package_dir)
        return [(pkg, module, path) for pkg, module, path in modules if (pkg, module) not in CHECKOUT_ONLY]


setup(cmdclass={"build_py": BuildPyWithoutPytestFrontEnd})
