"""The store layer: the only package that talks to the database (SQLAlchemy).

``core`` (Store, sessions, migrations, gazetteer and district metadata),
``schema`` (ORM tables), ``frames`` (tables → data frames for the analysis),
``summary`` (counts per town, category and type), ``migrations`` (Alembic).
"""
