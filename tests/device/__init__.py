"""The device protocol tests (a package, so that its conftest.py does not
shadow tests/python's, which those tests import as `conftest`)."""
