"""From a synced, resolved workspace to a running unikernel: origin archives, build, run, up, demo.

- :mod:`ukws.build.targets`: which application, core, libraries and targets a build uses;
- :mod:`ukws.build.origins`: the content-addressed origin cache and ``ukws fetch``'s origin stage;
- :mod:`ukws.build.wget_hook`: the program make runs as ``$(WGET)``;
- :mod:`ukws.build.make`: ``ukws build``; :mod:`ukws.build.run`: ``ukws run``; :mod:`ukws.build.up`: ``ukws up``;
- :mod:`ukws.build.demo`: a small local ecosystem (core, libraries, application) for the demo and the tests.

This package stays light to import: the wget hook runs once per download.
"""
