"""User files → validated rows and problems (pure: nothing here touches the store).

``readers`` (CSV/XLSX/GIS → rows of cells), ``columns`` (header names per kind),
``normalize`` (value parsers), ``idnumber`` (ID numbers); the files of the user
actions: ``registers`` with ``register_context``, ``register_rows`` and
``register_villages`` (``coverplan import``), ``geocoding`` (``coverplan
geocode``), ``district`` and ``district_merge`` (``coverplan init``),
``visits`` (filled-in route sheets). The rows are written by :mod:`planner.store`;
:mod:`planner.services` composes the two.
"""
