"""User files -> store: readers, column names, value parsers, ID numbers, the
registers, geocoding, district set-up and visit sheets."""
