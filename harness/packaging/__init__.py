"""Compile, package and deploy: the manifest of a project's functions, the reproducible bundle, the
static checks a bundle must pass, and delivery behind the test gate (see README "Package and deploy")."""
