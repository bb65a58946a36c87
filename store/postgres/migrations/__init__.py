"""PostgreSQL schema migrations, ``NNNN_name.sql``, applied in order by ``PgDatabase.migrate``
(store/postgres/db.py).

Never edit a file once it has been released: the store records each file's checksum and refuses a
database whose applied migrations no longer match. Add a new file instead.
"""
