"""The store layer: the only package that talks to the database (SQLAlchemy).

``core`` (Store, sessions, migrations, gazetteer and district metadata),
``schema`` (ORM tables), ``frames`` (tables → data frames for the analysis),
``summary`` (counts per town, category and type), ``migrations`` (Alembic);
the writers of the user actions: ``batches`` (an import's batch, problems and
audit entry), ``registers`` (register rows, upsert by natural key),
``visits`` (home visits and their effects), ``district`` (``init``),
``corrections`` (manual geocoding corrections).
"""
