"""Which files the wheel holds; everything else about the package is in pyproject.toml.

The templates, CSS and fonts live in the repository's top-level `templates/` (the design's
layout) and are needed at run time, so the wheel carries them as package data of
`report.templates` (report/outputs/shipped.py finds them there, or in a checkout). A
mapping of one folder onto a package name is the one thing pyproject.toml's setuptools
table cannot combine with finding the packages, hence this file.
"""

from setuptools import find_namespace_packages, setup

# Every folder of the two packages (namespace discovery, so that data folders such as
# report/words/locale/zh/LC_MESSAGES count as what they are), and the templates mapped in.
PACKAGES = find_namespace_packages(
    include=["experiments", "experiments.*", "report", "report.*"], exclude=["*.__pycache__"]
)
TEMPLATES = ["report.templates", "report.templates.sections", "report.templates.fonts"]

setup(
    packages=[*PACKAGES, *TEMPLATES],
    package_dir={"report.templates": "templates"},
    package_data={"": ["*.j2", "*.css", "*.otf", "*.woff2", "OFL.txt", "*.po"]},
)
